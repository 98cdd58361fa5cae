"""``python -m multilevel``: the ``multilevel`` command."""

from .cli import entry

if __name__ == "__main__":
    entry()
