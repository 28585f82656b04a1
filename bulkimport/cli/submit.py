"""`bulkimport submit WORKBOOK`: create the workbook's tasks exactly once, annotate the rows."""

from __future__ import annotations

import json
import signal
import sys
import threading
from pathlib import Path

import click

from bulkimport import fields
from bulkimport.cli.options import (
    MAX_SECONDS,
    Seconds,
    connection_options,
    force_option,
    json_option,
    language_option,
    out_option,
    report_dir_option,
    seconds_option,
    sheet_option,
)

#: The API's own limit; repeated here only as the option's range (fields.py is the source).


def _is_terminal() -> bool:
    return sys.stdin.isatty() and sys.stderr.isatty()


def _confirm(plan) -> bool:
    """Ask on the terminal; Ctrl-C at the prompt aborts as usual (the graceful handler is for sending)."""
    if threading.current_thread() is threading.main_thread():
        previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        return click.confirm(plan.question(), default=False, err=True)
    finally:
        if threading.current_thread() is threading.main_thread():
            signal.signal(signal.SIGINT, previous)


@click.command("submit")
@click.argument("workbook", type=click.Path(path_type=Path, dir_okay=False))
@connection_options
@sheet_option
@click.option("--batch-size", type=click.IntRange(1, fields.MAX_JOBS_PER_REQUEST),
              default=fields.MAX_JOBS_PER_REQUEST, show_default=True,
              help=f"Tasks per batch-creation request (the API allows at most {fields.MAX_JOBS_PER_REQUEST}).")
@click.option("--concurrency", type=click.IntRange(1, fields.MAX_CONCURRENCY), default=4, show_default=True,
              help=f"Requests in flight at once (1 to {fields.MAX_CONCURRENCY}).")
@click.option("--dry-run", is_flag=True,
              help="Send nothing: write the request bodies (secrets masked) and the results workbook.")
@out_option("reports/<stem>-submit-<time>.xlsx")
@force_option
@report_dir_option
@json_option
@click.option("-y", "--yes", is_flag=True, help="Do not ask for confirmation on a terminal.")
@language_option
@seconds_option("--timeout", 120.0, "Wait for a reply before its rows count as in doubt", positive=True)
@click.option("--max-attempts", type=click.IntRange(1, 100), default=None,
              help="Requests per batch at most, retries included (1 to 100; default: no count, only --retry-for).")
@click.option("--retry-for", "--max-retry-time", "max_retry_time", type=Seconds(0.0, MAX_SECONDS), default=300.0,
              show_default=True,
              help="Seconds during which throttling and transient errors are retried (per batch and per look-up); "
                   f"a row is UNKNOWN only when this deadline passes ({Seconds(0.0, MAX_SECONDS).describe()}).")
@seconds_option("--retry-delay", 0.5, "First backoff delay (doubles per retry, with jitter, at most 20 s)",
                maximum=3600)
def command(workbook: Path, endpoint: str | None, region: str | None, project_id: str | None, simulate: bool,
            simulator_state: Path | None, ledger_path: Path | None, ca_bundle: str | None, insecure: bool,
            sheet: str | None, batch_size: int, concurrency: int, dry_run: bool, out: Path | None, force: bool,
            report_dir: Path, as_json: bool, yes: bool, language: str | None, timeout: float, max_attempts: int | None,
            max_retry_time: float, retry_delay: float) -> int:
    """Create the DRS tasks of WORKBOOK's valid rows, each exactly once.

    Rows are validated first; invalid rows are never sent. Re-running with the same ledger
    skips rows already created and looks up rows left in doubt before sending them.
    Exit 0 all created, 1 some row invalid or rejected, 2 unusable input (nothing sent),
    3 interrupted or some outcome unknown.
    """
    from bulkimport import progress as progress_mod
    from bulkimport.submit import SubmitOptions, not_created_lines, stop_on_interrupt, submit_workbook

    options = SubmitOptions(
        project_id=project_id, endpoint=endpoint, region=region, simulate=simulate, simulator_state=simulator_state,
        sheet=sheet, batch_size=batch_size, concurrency=concurrency, dry_run=dry_run, out=out, ledger=ledger_path,
        language=language, ca_bundle=str(ca_bundle) if ca_bundle else None, insecure=insecure, timeout=timeout,
        max_attempts=max_attempts, max_retry_time=max_retry_time, base_delay=retry_delay, report_dir=report_dir,
        force=force,
    )
    from bulkimport.book_read import recorded_language
    from bulkimport.terminal import labelled, say, translate

    if insecure and not simulate:
        said_in = language or recorded_language(workbook) or "en-us"
        click.echo("bulkimport: " + say(said_in, "WARNING: --insecure: TLS certificates are NOT verified; anyone on "
                                                 "the network path can impersonate the endpoint and read the token "
                                                 "and database passwords."), err=True)
    progress = progress_mod.for_stream(sys.stderr)
    confirm = None if (yes or dry_run or not _is_terminal()) else _confirm

    def announce() -> None:  # the first Ctrl-C: the workbook's language is looked up only now
        said_in = language or recorded_language(workbook) or "en-us"
        click.echo("\nbulkimport: " + say(said_in, "interrupted: finishing the requests in flight (Ctrl-C again "
                                                    "to abort)"), err=True)

    with stop_on_interrupt(announce) as stop:
        outcome = submit_workbook(workbook, options, progress=progress, confirm=confirm, stop=stop)

    language = outcome.campaign.language
    counts = ", ".join(f"{name} {n}" for name, n in outcome.counts().items()) or say(language, "no rows")
    click.echo(f"bulkimport: {counts}", err=True)
    for line in not_created_lines(outcome):
        click.echo(f"bulkimport: {line}" if not line.startswith(" ") else line, err=True)
    if outcome.message:
        click.echo(f"bulkimport: {translate(language, outcome.message)}", err=True)
    for label, path in (("results", outcome.results_path), ("failed rows", outcome.failed_path),
                        ("request bodies", outcome.dry_run_path), ("ledger", outcome.ledger_path),
                        ("sign-off report", outcome.report_html)):
        if path is not None:
            click.echo(f"bulkimport: {labelled(language, label, path)}", err=True)
    if as_json:
        click.echo(json.dumps(outcome.to_json(), indent=2, ensure_ascii=False))
    return outcome.exit_code
