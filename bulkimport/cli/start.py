"""`bulkimport start WORKBOOK`: start the tasks whose pre-check passed, each exactly once."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from bulkimport.cli.options import target_options
from bulkimport.errors import InputError
from bulkimport.outcomes import ExitCode


def stdin_is_terminal() -> bool:
    """A prompt makes sense only when someone can answer it (tests replace this)."""
    return sys.stdin.isatty()


@click.command("start")
@click.argument("workbook", type=click.Path(path_type=Path, dir_okay=False))
@target_options
@click.option("--at", "at", default=None,
              help="Schedule the start: ISO 8601, e.g. 2026-12-01T22:00 (UTC when no offset is given) or "
                   "2026-12-01T23:00+01:00. Default: start now.")
@click.option("--out", type=click.Path(path_type=Path, dir_okay=False), default=None,
              help="Results workbook (default: reports/<stem>-start.xlsx).")
@click.option("--doubt-grace", type=click.FloatRange(min=0), default=60.0, show_default=True,
              help="Seconds after a start request left in doubt (a kill, a lost answer) before a task still in "
                   "CONFIGURATION is sent again.")
@click.option("--yes", "-y", is_flag=True, help="Do not ask for confirmation (needed when stdin is not a terminal).")
@click.option("--json", "as_json", is_flag=True, help="Print the per-row outcome as JSON on stdout.")
def command(workbook: Path, endpoint: str | None, region: str | None, project_id: str | None, simulate: bool,
            simulator_state: Path | None, ledger_path: Path | None, ca_bundle: str | None, insecure: bool,
            force: bool, report_dir: Path, quiet: bool,
            language: str | None, at: str | None, out: Path | None, doubt_grace: float,
            yes: bool, as_json: bool) -> int:
    """Start the tasks of WORKBOOK whose latest pre-check passed, after listing them and
    asking for confirmation. A task is never started twice: its status is asked first and a
    task past CONFIGURATION is reported STARTED without a request.

    Exit 0 when every row's task is started, 1 when some row was skipped or refused (or the
    operator declined), 3 when the outcome of some start is unknown (run start again), 2 when
    the input cannot be used.
    """
    from bulkimport.progress import for_stream
    from bulkimport.start import confirm_question, execute_start, plan_lines, plan_start
    from bulkimport.status import check_follow_up_outputs, follow_up_target
    from bulkimport.terminal import labelled, row_label, say

    with follow_up_target(workbook, endpoint=endpoint, region=region, project_id=project_id,
                          simulate=simulate, simulator_state=simulator_state, ledger_path=ledger_path,
                          ca_bundle=ca_bundle, insecure=insecure, force=force,
                          language=language) as target:
        out = check_follow_up_outputs(workbook, "start", out, report_dir, target.ledger_path,
                                      force=force)  # before any request
        plan = plan_start(workbook, target, at=at, doubt_grace=doubt_grace)
        for line in plan_lines(plan):
            click.echo(line, err=True)
        if plan.to_start and not yes:
            if not stdin_is_terminal():
                raise InputError("start starts replication: nothing was started; confirm with --yes when stdin is "
                                 "not a terminal")
            if not click.confirm(confirm_question(plan), default=False, err=True):
                click.echo(say(plan.language, "start cancelled: nothing was started"), err=True)
                return ExitCode.SOME_FAILED
        outcome = execute_start(plan, target, out_path=out, report_dir=report_dir, replace_outputs=force,
                                progress=for_stream(sys.stderr, quiet=quiet))
    c = outcome.counts
    lang = outcome.language
    click.echo(say(lang, "{started} started, {refused} refused, {skipped} skipped", started=c["STARTED"],
                   refused=c["START_FAILED"], skipped=c["SKIPPED"])
               + (say(lang, ", {unknown} unknown (run start again)", unknown=c["UNKNOWN"]) if c["UNKNOWN"] else ""),
               err=True)
    for row in outcome.rows:
        if row.start in ("START_FAILED", "UNKNOWN"):
            click.echo(f"  {row_label(lang, row.source_row)}  {row.name}: {row.start} {row.error_code or ''} "
                       f"{row.error_msg or ''}".rstrip(), err=True)
    click.echo(labelled(lang, 'results', outcome.results_path), err=True)
    click.echo(say(lang, "report: {path}", path=outcome.report.html), err=True)
    if as_json:
        click.echo(json.dumps(outcome.to_json(), indent=2, ensure_ascii=False))
    return outcome.exit_code
