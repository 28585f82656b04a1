"""`make demo`: the main job end to end on the embedded simulator.

Grows with the project: it runs every stage that exists and says which ones do not yet.
"""

from __future__ import annotations

import sys
from pathlib import Path

from bulkimport.cli import cli

EXAMPLE = Path("templates/examples/campaign-example.xlsx")


def run(args: list[str]) -> int:
    print(f"$ bulkimport {' '.join(args)}", flush=True)
    code = cli.main(args=args, prog_name="bulkimport", standalone_mode=False)
    return code if isinstance(code, int) else 0


def main() -> int:
    code = run(["template", "templates/drs-jobs-template.xlsx"])
    return code


if __name__ == "__main__":
    sys.exit(main())
