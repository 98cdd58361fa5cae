"""Output files: checked before any work is done, written atomically.

Every file the package writes for the user goes through :func:`atomic_write`: the content goes
to a temporary file in the same folder, which then replaces the target in one rename, so an
interrupted write never leaves half a file. :func:`check_output_file` and
:func:`check_output_folder` say, before a long fit starts, whether a path can be written.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path

from .errors import MultilevelError


def _permissions_as_open(path: str) -> None:
    """mkstemp makes files private (0600); give the result the mode a plain ``open`` would have."""
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(path, 0o666 & ~umask)


def check_output_file(path, option: str = "output") -> Path:
    """Raise :class:`MultilevelError` naming ``option`` unless a file can be written at ``path``."""
    target = Path(path)
    if str(path).strip() == "":
        raise MultilevelError(f"{option}: the file name is empty")
    if target.is_dir():
        raise MultilevelError(f"{option} '{path}' is a folder: give a file name, e.g. {target / 'out'}")
    folder = target.parent if str(target.parent) else Path(".")
    if not folder.exists():
        raise MultilevelError(f"{option} '{path}': the folder '{folder}' does not exist; create it first")
    if not folder.is_dir():
        raise MultilevelError(f"{option} '{path}': '{folder}' is a file, not a folder")
    if (target.exists() and not os.access(target, os.W_OK)) or not _can_create_in(folder):
        raise MultilevelError(f"{option} '{path}': cannot write files in '{folder}' (no permission, or not an "
                              f"ordinary folder); choose another place")
    return target


def _can_create_in(folder: Path) -> bool:
    """Whether a file can really be made in ``folder`` (permissions alone do not tell: /proc, read-only mounts)."""
    try:
        descriptor, temporary = tempfile.mkstemp(prefix=".multilevel-check.", dir=folder)
    except OSError:
        return False
    os.close(descriptor)
    with contextlib.suppress(OSError):
        os.unlink(temporary)
    return True


def check_output_folder(path, option: str = "output folder") -> Path:
    """Raise :class:`MultilevelError` naming ``option`` unless ``path`` is, or can be made, a writable folder."""
    folder = Path(path)
    if str(path).strip() == "":
        raise MultilevelError(f"{option}: the folder name is empty")
    existing = folder
    while not existing.exists():
        if existing.parent == existing:
            break
        existing = existing.parent
    if existing.exists() and not existing.is_dir():
        raise MultilevelError(f"{option} '{path}': '{existing}' is a file, not a folder")
    if not _can_create_in(existing):
        raise MultilevelError(f"{option} '{path}': cannot write files in '{existing}' (no permission, or not an "
                              f"ordinary folder); choose another place")
    return folder


@contextlib.contextmanager
def atomic_path(path):
    """For writers that take a file name (matplotlib, pandas): yields a temporary path, renamed to ``path``
    on success."""
    target = Path(path)
    descriptor, temporary = tempfile.mkstemp(prefix=f".{target.stem}.", suffix=target.suffix or ".partial",
                                             dir=target.parent or ".")
    os.close(descriptor)
    try:
        yield Path(temporary)
        _permissions_as_open(temporary)
        os.replace(temporary, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise


@contextlib.contextmanager
def atomic_write(path, mode: str = "w", **open_options):
    """``with atomic_write(path, "wb") as handle: ...``: the target appears whole or not at all."""
    with atomic_path(path) as temporary:
        with open(temporary, mode, **open_options) as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
