"""Data files: files that are not tables, or not text, and missing-value codes that look like real values."""

from __future__ import annotations

from pathlib import Path

from .cases import Case, api_error, cli_error
from multilevel.data_files import read_data_file


def write(tmp: Path, name: str, content: bytes | str) -> str:
    path = tmp / name
    path.write_bytes(content.encode("utf-8") if isinstance(content, str) else content)
    return str(path)


LIKERT = "y,item\n" + "".join(f"{0.5 * k:.1f},{k % 6}\n" for k in range(30))
PROSE = ("The password for the server is hunter2, keep it safe.\n"
         "Nobody else should read this note about the server.\n")

CASES = [
    Case("file-ragged-csv", "data files", "y,x\n1,2\n3,4,5   (a row with more fields than the header)",
         lambda tmp: api_error(lambda: read_data_file(write(tmp, "ragged.csv", "y,x\n1,2\n3,4,5\n"))),
         ("ragged.csv", "line 3 has 3 field(s)", "header (line 1) has 2")),
    Case("file-binary-csv", "data files", "data.csv holding binary bytes (an image renamed .csv)",
         lambda tmp: api_error(lambda: read_data_file(write(tmp, "data.csv", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"))),
         ("data.csv", "binary")),
    Case("file-latin-1", "data files", "a CSV saved as Latin-1 (café with byte 0xE9)",
         lambda tmp: api_error(lambda: read_data_file(write(tmp, "latin.csv",
                                                            "y,name\n1,caf\u00e9\n".encode("latin-1")))),
         ("latin.csv", "not UTF-8", "line 2", "Save it as UTF-8")),
    Case("file-empty", "data files", "an empty data.csv",
         lambda tmp: api_error(lambda: read_data_file(write(tmp, "data.csv", ""))), ("data.csv", "empty")),
    Case("file-header-only", "data files", "y,x   (a header and no rows)",
         lambda tmp: api_error(lambda: read_data_file(write(tmp, "data.csv", "y,x\n"))), ("no data rows",)),
    Case("file-missing", "data files", "multilevel fit --data nosuch.csv --model \"y ~ x\"",
         lambda tmp: cli_error(["fit", "--data", str(tmp / "nosuch.csv"), "--model", "y ~ x"]),
         ("nosuch.csv", "does not exist")),
    Case("file-directory-cli", "data files", "multilevel fit --data /etc --model \"y ~ x\"",
         lambda tmp: cli_error(["fit", "--data", "/etc", "--model", "y ~ x"]), ("'/etc' is a directory",)),
    Case("file-prose-txt", "data files",
         "multilevel fit --data secret.txt --model \"y ~ nosuch\"  (a text file, not a table)",
         lambda tmp: cli_error(["fit", "--data", write(tmp, "secret.txt", PROSE), "--model", "y ~ nosuch"]),
         ("secret.txt", "is not a table")),
    Case("file-one-column-prose", "data files", "notes.csv: one line of prose per line, no commas",
         lambda tmp: api_error(lambda: read_data_file(write(tmp, "notes.csv", "Dear Bob the meeting is at noon\n"
                                                                                "Bring the report\n"))),
         ("does not look like a table",)),
    Case("file-missing-code-likert", "data files", "multilevel fit --data likert.csv --missing-code 0  (item is 0-5)",
         lambda tmp: cli_error(["fit", "--data", write(tmp, "likert.csv", LIKERT), "--model", "y ~ item",
                                "--missing-code", "0"]),
         ("code 0 appears 5 time(s) in column 'item'", "1 to 5", "-99 or 999")),
    Case("file-parquet-missing-code", "data files", "read_data_file('data.parquet', missing_code='-99')",
         lambda tmp: api_error(lambda: read_data_file(write(tmp, "data.parquet", b"PAR1"), "-99")),
         ("Parquet",)),
]
