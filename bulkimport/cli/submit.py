"""`bulkimport submit WORKBOOK`: create the workbook's tasks exactly once, annotate the rows."""

from __future__ import annotations

import json
import signal
import sys
import threading
from pathlib import Path

import click

#: The API's own limit; repeated here only as the option's range (fields.py is the source).
_LANGUAGES = ("en-us", "zh-cn")


def _is_terminal() -> bool:
    return sys.stdin.isatty() and sys.stderr.isatty()


def _confirm(plan) -> bool:
    """Ask on the terminal; Ctrl-C at the prompt aborts as usual (the graceful handler is for sending)."""
    if threading.current_thread() is threading.main_thread():
        previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        return click.confirm("Send these requests?", default=False, err=True)
    finally:
        if threading.current_thread() is threading.main_thread():
            signal.signal(signal.SIGINT, previous)


@click.command("submit")
@click.argument("workbook", type=click.Path(path_type=Path, dir_okay=False))
@click.option("--project-id", default=None, help="Project ID (default: $OS_PROJECT_ID; with --simulate a demo id).")
@click.option("--endpoint", default=None, help="DRS base URL; the tool appends /v3/{project_id}/... (beats --region).")
@click.option("--region", default=None, help="Region id (eu-de, ap-southeast-1, ...) to derive the endpoint from.")
@click.option("--simulate", is_flag=True, help="Send to an in-process simulator (no credentials needed).")
@click.option("--simulator-state", type=click.Path(path_type=Path, dir_okay=False), default=None,
              help="With --simulate: keep the simulator's tasks in this file across runs.")
@click.option("--sheet", default=None, help="The task sheet (default: the only visible sheet with a key row).")
@click.option("--batch-size", type=click.IntRange(1, 10), default=10, show_default=True,
              help="Tasks per batch-creation request (the API allows at most 10).")
@click.option("--concurrency", type=click.IntRange(1, 32), default=4, show_default=True,
              help="Requests in flight at once.")
@click.option("--dry-run", is_flag=True,
              help="Send nothing: write the request bodies (secrets masked) and the results workbook.")
@click.option("--out", type=click.Path(path_type=Path, dir_okay=False), default=None,
              help="Results workbook (default: reports/<stem>-submit-<time>.xlsx).")
@click.option("--ledger", type=click.Path(path_type=Path, dir_okay=False), default=None,
              help="The campaign ledger (default: reports/ledger.sqlite; with --simulate beside the state).")
@click.option("--report-dir", type=click.Path(path_type=Path, file_okay=False), default=Path("reports"),
              show_default=True, help="Where the sign-off report (HTML and JSON) goes.")
@click.option("--json", "as_json", is_flag=True, help="Print a machine-readable summary on stdout.")
@click.option("-y", "--yes", is_flag=True, help="Do not ask for confirmation on a terminal.")
@click.option("--language", type=click.Choice(_LANGUAGES), default="en-us", show_default=True,
              help="X-Language of the requests (language of the server's messages).")
@click.option("--ca-bundle", type=click.Path(path_type=Path, dir_okay=False), default=None,
              help="CA certificates (PEM) to verify the endpoint's TLS certificate with.")
@click.option("--insecure", is_flag=True, help="Do not verify TLS certificates (dangerous; warns).")
@click.option("--timeout", type=click.FloatRange(min=0.1), default=120.0, show_default=True,
              help="Seconds to wait for a reply before its rows count as in doubt.")
@click.option("--max-attempts", type=click.IntRange(1, 100), default=None,
              help="Requests per batch at most, retries included (default: no count, only --retry-for).")
@click.option("--retry-for", "--max-retry-time", "max_retry_time", type=click.FloatRange(min=0), default=300.0,
              show_default=True,
              help="Seconds during which throttling and transient errors are retried (per batch and per look-up); "
                   "a row is UNKNOWN only when this deadline passes.")
@click.option("--retry-delay", type=click.FloatRange(min=0), default=0.5, show_default=True,
              help="First backoff delay in seconds (doubles per retry, with jitter, at most 20 s).")
def command(workbook: Path, project_id: str | None, endpoint: str | None, region: str | None, simulate: bool,
            simulator_state: Path | None, sheet: str | None, batch_size: int, concurrency: int, dry_run: bool,
            out: Path | None, ledger: Path | None, report_dir: Path, as_json: bool, yes: bool, language: str,
            ca_bundle: Path | None, insecure: bool, timeout: float, max_attempts: int | None, max_retry_time: float,
            retry_delay: float) -> int:
    """Create the DRS tasks of WORKBOOK's valid rows, each exactly once.

    Rows are validated first; invalid rows are never sent. Re-running with the same ledger
    skips rows already created and looks up rows left in doubt before sending them.
    Exit 0 all created, 1 some row invalid or rejected, 2 unusable input (nothing sent),
    3 interrupted or some outcome unknown.
    """
    from bulkimport import progress as progress_mod
    from bulkimport.submit import SubmitOptions, stop_on_interrupt, submit_workbook

    options = SubmitOptions(
        project_id=project_id, endpoint=endpoint, region=region, simulate=simulate, simulator_state=simulator_state,
        sheet=sheet, batch_size=batch_size, concurrency=concurrency, dry_run=dry_run, out=out, ledger=ledger,
        language=language, ca_bundle=str(ca_bundle) if ca_bundle else None, insecure=insecure, timeout=timeout,
        max_attempts=max_attempts, max_retry_time=max_retry_time, base_delay=retry_delay, report_dir=report_dir,
    )
    if insecure and not simulate:
        click.echo("bulkimport: WARNING: --insecure: TLS certificates are NOT verified; anyone on the network "
                   "path can impersonate the endpoint and read the token and database passwords.", err=True)
    progress = progress_mod.for_stream(sys.stderr)
    confirm = None if (yes or dry_run or not _is_terminal()) else _confirm

    def announce() -> None:
        click.echo("\nbulkimport: interrupted: finishing the requests in flight (Ctrl-C again to abort)", err=True)

    with stop_on_interrupt(announce) as stop:
        outcome = submit_workbook(workbook, options, progress=progress, confirm=confirm, stop=stop)

    counts = ", ".join(f"{name} {n}" for name, n in outcome.counts().items()) or "no rows"
    click.echo(f"bulkimport: {counts}", err=True)
    if outcome.message:
        click.echo(f"bulkimport: {outcome.message}", err=True)
    for label, path in (("results", outcome.results_path), ("failed rows", outcome.failed_path),
                        ("request bodies", outcome.dry_run_path), ("ledger", outcome.ledger_path),
                        ("sign-off report", outcome.report_html)):
        if path is not None:
            click.echo(f"bulkimport: {label}: {path}", err=True)
    if as_json:
        click.echo(json.dumps(outcome.to_json(), indent=2, ensure_ascii=False))
    return outcome.exit_code
