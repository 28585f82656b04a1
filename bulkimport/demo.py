"""`make demo`: the main job end to end on the embedded simulator: template, validate,
submit, status, then the launch (prepare, start, status of the running tasks) and the report.

Runs the same commands an operator would, in order, against a simulator whose state lives
in `reports/demo/` (fresh every run), and stops at the first command that does not exit 0.
"""

from __future__ import annotations

import shlex
import sys
from pathlib import Path

from bulkimport.cli import cli

EXAMPLE = Path("templates/examples/campaign-example.xlsx")
OUT = Path("reports/demo")


def run(args: list[str]) -> int:
    print(f"\n$ bulkimport {shlex.join(args)}", flush=True)
    code = cli.main(args=args, prog_name="bulkimport", standalone_mode=False)
    return code if isinstance(code, int) else 0


def steps() -> list[list[str]]:
    state = str(OUT / "simulator.sqlite")
    results = str(OUT / "campaign-results.xlsx")
    status = str(OUT / "campaign-status.xlsx")
    prepared = str(OUT / "campaign-prepare.xlsx")
    started = str(OUT / "campaign-start.xlsx")
    running = str(OUT / "campaign-running.xlsx")
    sim = ["--simulate", "--simulator-state", state, "--report-dir", str(OUT)]
    return [
        ["template", str(OUT / "drs-jobs-template.xlsx")],
        ["validate", str(EXAMPLE), "--out", str(OUT / "campaign-validated.xlsx")],
        ["submit", str(EXAMPLE), "--simulate", "--simulator-state", state, "--yes", "--out", results,
         "--report-dir", str(OUT)],
        ["status", results, "--simulate", "--simulator-state", state, "--watch", "--interval", "0.2",
         "--timeout", "60", "--out", status, "--report-dir", str(OUT)],
        # the launch: connections, objects and pre-check (the go/no-go gate), start, progress
        ["prepare", str(EXAMPLE), *sim, "--interval", "0.2", "--timeout", "60", "--out", prepared],
        ["start", prepared, *sim, "--yes", "--out", started],
        ["status", started, *sim, "--watch", "--interval", "0.2", "--max-interval", "1", "--timeout", "60",
         "--out", running],
        ["report", running, "--out-dir", str(OUT)],
    ]


def main() -> int:
    OUT.mkdir(parents=True, exist_ok=True)
    for stale in OUT.glob("simulator.sqlite*"):
        stale.unlink()  # a fresh simulated cloud each run (its ledger sits beside it)
    for args in steps():
        code = run(args)
        if code != 0:
            print(f"\ndemo: 'bulkimport {args[0]}' exited {code}", file=sys.stderr)
            return code
    print(f"\ndemo: done. Everything it wrote is in {OUT}/:")
    for path in sorted(OUT.iterdir()):
        if path.suffix in (".xlsx", ".html", ".json"):
            print(f"  {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
