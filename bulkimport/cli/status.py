"""`bulkimport status RESULTS_WORKBOOK`: refresh the status of the tasks a campaign created."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from bulkimport.cli.options import json_option, out_option, seconds_option, target_options

__all__ = ["command", "target_options"]


@click.command("status")
@click.argument("results_workbook", type=click.Path(path_type=Path, dir_okay=False))
@target_options
@out_option("reports/<stem>-status.xlsx")
@click.option("--watch", is_flag=True,
              help="Poll until no task is CREATING and every started task is in its steady state "
                   "(INCRE_TRANSFER_STARTED, FULL_TRANSFER_COMPLETE), failed or stopped, or --timeout passes.")
@seconds_option("--interval", 5.0, "Wait before the first re-poll with --watch (grows 1.5x per round)",
                maximum=3600)
@seconds_option("--max-interval", 60.0, "Longest wait between polls", maximum=3600)
@seconds_option("--timeout", 1800.0, "How long --watch waits at most")
@json_option
def command(results_workbook: Path, endpoint: str | None, region: str | None, project_id: str | None,
            simulate: bool, simulator_state: Path | None, ledger_path: Path | None, ca_bundle: str | None,
            insecure: bool, force: bool, report_dir: Path, quiet: bool,
            language: str | None, out: Path | None, watch: bool,
            interval: float, max_interval: float, timeout: float, as_json: bool) -> int:
    """Ask the server for the status of every task RESULTS_WORKBOOK created and write a
    refreshed results workbook, the ledger and the sign-off report.

    Exit 0 when every task is healthy (CONFIGURATION or later), 1 when some task failed or
    is gone (deleted or released),
    3 when some task is still CREATING (at the end of --timeout with --watch), 2 when the
    input cannot be used.
    """
    from bulkimport.progress import for_stream
    from bulkimport.status import failed_lines, follow_up_target, refresh_status
    from bulkimport.terminal import labelled, say, tasks_word

    with follow_up_target(results_workbook, endpoint=endpoint, region=region, project_id=project_id,
                          simulate=simulate, simulator_state=simulator_state, ledger_path=ledger_path,
                          ca_bundle=ca_bundle, insecure=insecure, force=force,
                          language=language) as target:
        outcome = refresh_status(results_workbook, target, out_path=out, report_dir=report_dir, watch=watch,
                                 interval=interval, max_interval=max_interval, timeout=timeout,
                                 progress=for_stream(sys.stderr, quiet=quiet), force=force)
    counts = outcome.counts
    lang = outcome.language
    line = say(lang, "{tasks}: {healthy} healthy, {pending} still creating, {failed} failed",
               tasks=tasks_word(lang, len(outcome.states)), healthy=counts["healthy"], pending=counts["pending"],
               failed=counts["failed"])
    if counts.get("gone"):
        line += say(lang, ", {gone} gone (deleted or released)", gone=counts["gone"])
    if outcome.timed_out:
        line += say(lang, " (gave up waiting after {timeout}s)", timeout=f"{timeout:g}")
    if outcome.interrupted:
        line += say(lang, " (interrupted: the statuses received so far are written)")
    click.echo(line, err=True)
    for text in failed_lines(outcome):
        click.echo(text, err=True)
    click.echo(labelled(lang, 'results', outcome.results_path), err=True)
    click.echo(say(lang, "report: {path}", path=outcome.report.html), err=True)
    if as_json:
        document = {
            "exit_code": outcome.exit_code,
            "counts": counts,
            "timed_out": outcome.timed_out,
            "interrupted": outcome.interrupted,
            "results_workbook": str(outcome.results_path),
            "failed_workbook": str(outcome.failed_path) if outcome.failed_path else None,
            "report": {"html": str(outcome.report.html), "json": str(outcome.report.json)},
            "tasks": [
                {"source_row": t.source_row, "name": t.name, "task_id": t.task_id,
                 "task_status": outcome.states[t.task_id].status, "health": outcome.states[t.task_id].health,
                 "error_code": outcome.states[t.task_id].error_code,
                 "error_msg": outcome.states[t.task_id].error_msg, **outcome.progress.get(t.task_id, {})}
                for t in outcome.tasks
            ],
        }
        click.echo(json.dumps(document, indent=2, ensure_ascii=False))
    return outcome.exit_code
