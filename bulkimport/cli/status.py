"""`bulkimport status RESULTS_WORKBOOK`: refresh the status of the tasks a campaign created."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from bulkimport.errors import InputError


def target_options(func: Callable[..., Any]) -> Callable[..., Any]:
    """Where the tasks live: the options `status` and `rollback` share with `submit`."""
    options = [
        click.option("--endpoint", default=None,
                     help="DRS base URL (default: the endpoint the campaign's ledger has sent to; the workbook's "
                          "recorded endpoint is only compared with it)."),
        click.option("--region", default=None, help="Region, to look the DRS endpoint up (--endpoint wins)."),
        click.option("--project-id", default=None,
                     help="Project ID (default: the campaign ledger's, then OS_PROJECT_ID)."),
        click.option("--simulate", is_flag=True, help="Talk to the in-process simulator instead of a cloud."),
        click.option("--simulator-state", type=click.Path(path_type=Path, dir_okay=False), default=None,
                     help="With --simulate: the simulator's state file (the one submit used)."),
        click.option("--ledger", "ledger_path", type=click.Path(path_type=Path, dir_okay=False), default=None,
                     help="The campaign ledger (default: the one the workbook records, else "
                          "reports/ledger.sqlite; with --simulate, beside the simulator state)."),
        click.option("--ca-bundle", default=None, help="CA bundle to verify the endpoint's certificate."),
        click.option("--insecure", is_flag=True,
                     help="Do not verify the endpoint's certificate, allow plain http:// (testing only)."),
        click.option("--force", is_flag=True,
                     help="Go on although the workbook records another endpoint or project than this run uses."),
        click.option("--report-dir", type=click.Path(path_type=Path, file_okay=False), default=Path("reports"),
                     show_default=True, help="Where the sign-off report goes."),
        click.option("--quiet", "-q", is_flag=True, help="No progress on stderr."),
    ]
    for option in reversed(options):
        func = option(func)
    return func


def check_delays(**delays: float) -> None:
    for name, value in delays.items():
        if value < 0:
            raise InputError(f"--{name.replace('_', '-')} must not be negative")


@click.command("status")
@click.argument("results_workbook", type=click.Path(path_type=Path, dir_okay=False))
@target_options
@click.option("--out", type=click.Path(path_type=Path, dir_okay=False), default=None,
              help="Refreshed results workbook (default: reports/<stem>-status.xlsx).")
@click.option("--watch", is_flag=True,
              help="Poll until no task is CREATING and every started task is in its steady state "
                   "(INCRE_TRANSFER_STARTED, FULL_TRANSFER_COMPLETE), failed or stopped, or --timeout passes.")
@click.option("--interval", type=float, default=5.0, show_default=True,
              help="Seconds before the first re-poll with --watch (grows 1.5x per round).")
@click.option("--max-interval", type=float, default=60.0, show_default=True, help="Longest wait between polls.")
@click.option("--timeout", type=float, default=1800.0, show_default=True, help="Seconds --watch waits at most.")
@click.option("--json", "as_json", is_flag=True, help="Print the statuses as JSON on stdout.")
def command(results_workbook: Path, endpoint: str | None, region: str | None, project_id: str | None,
            simulate: bool, simulator_state: Path | None, ledger_path: Path | None, ca_bundle: str | None,
            insecure: bool, force: bool, report_dir: Path, quiet: bool, out: Path | None, watch: bool, interval: float,
            max_interval: float, timeout: float, as_json: bool) -> int:
    """Ask the server for the status of every task RESULTS_WORKBOOK created and write a
    refreshed results workbook, the ledger and the sign-off report.

    Exit 0 when every task is healthy (CONFIGURATION or later), 1 when some task failed,
    3 when some task is still CREATING (at the end of --timeout with --watch), 2 when the
    input cannot be used.
    """
    from bulkimport.progress import for_stream
    from bulkimport.status import failed_lines, follow_up_target, refresh_status
    from bulkimport.terminal import plural

    check_delays(interval=interval, max_interval=max_interval, timeout=timeout)
    with follow_up_target(results_workbook, endpoint=endpoint, region=region, project_id=project_id,
                          simulate=simulate, simulator_state=simulator_state, ledger_path=ledger_path,
                          ca_bundle=ca_bundle, insecure=insecure, force=force) as target:
        outcome = refresh_status(results_workbook, target, out_path=out, report_dir=report_dir, watch=watch,
                                 interval=interval, max_interval=max_interval, timeout=timeout,
                                 progress=for_stream(sys.stderr, quiet=quiet))
    counts = outcome.counts
    line = (f"{plural(len(outcome.states), 'task')}: {counts['healthy']} healthy, {counts['pending']} still creating, "
            f"{counts['failed']} failed")
    if outcome.timed_out:
        line += f" (gave up waiting after {timeout:g}s)"
    if outcome.interrupted:
        line += " (interrupted: the statuses received so far are written)"
    click.echo(line, err=True)
    for text in failed_lines(outcome):
        click.echo(text, err=True)
    click.echo(f"results: {outcome.results_path}", err=True)
    click.echo(f"report: {outcome.report.html}", err=True)
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
