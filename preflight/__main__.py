"""`python -m preflight` and the `preflight` command."""

import gc
from typing import NoReturn


def main(argv: list[str] | None = None) -> NoReturn:
    # Importing the SDKs creates some 200,000 long-lived objects and next to no garbage, and the collector's
    # passes over them cost about a sixth of the import time: off from the start. `cli.run` turns it back on
    # (after freezing what the recording made) once the program is recorded.
    gc.disable()
    from preflight.cli import entry

    entry(argv)


if __name__ == "__main__":
    main()
