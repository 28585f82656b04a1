"""`bulkimport report RESULTS_WORKBOOK`: rebuild the sign-off report from a results workbook."""

from __future__ import annotations

import json
from pathlib import Path

import click

from bulkimport.cli.options import language_option
from bulkimport.outcomes import ExitCode


@click.command("report")
@click.argument("results_workbook", type=click.Path(path_type=Path, dir_okay=False))
@click.option("--out-dir", type=click.Path(path_type=Path, file_okay=False), default=Path("reports"),
              show_default=True, help="Directory for <stem>-report.html and <stem>-report.json.")
@click.option("--json", "as_json", is_flag=True, help="Also print the report's JSON on stdout.")
@click.option("--simulate", is_flag=True, hidden=False,
              help="Accepted for symmetry with submit/status/rollback; the report needs no server.")
@click.option("--simulator-state", type=click.Path(path_type=Path, dir_okay=False), default=None,
              help="Accepted with --simulate; unused (the report needs no server).")
@language_option
def command(results_workbook: Path, out_dir: Path, as_json: bool, simulate: bool,
            simulator_state: Path | None, language: str | None) -> int:
    """(Re)build the sign-off report (HTML for print, JSON) from RESULTS_WORKBOOK alone.

    Campaign facts come from the workbook's Summary sheet; counts and tables from its rows.
    """
    from bulkimport.report import build_report
    from bulkimport.terminal import say

    files = build_report(results_workbook, out_dir=out_dir, language=language)
    document = json.loads(files.json.read_text(encoding="utf-8"))
    if as_json:
        click.echo(json.dumps(document, indent=2, ensure_ascii=False))
    lang = str(document.get("language") or "en-us")  # the language the report was written in
    click.echo(say(lang, "report: {path}", path=files.html), err=True)
    click.echo(say(lang, "report (JSON): {path}", path=files.json), err=True)
    return ExitCode.OK
