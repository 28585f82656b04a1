"""`bulkimport prepare WORKBOOK`: connection tests, objects and pre-check of the created tasks."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from bulkimport import fields
from bulkimport.cli.options import seconds_option, target_options


@click.command("prepare")
@click.argument("workbook", type=click.Path(path_type=Path, dir_okay=False))
@target_options
@click.option("--out", type=click.Path(path_type=Path, dir_okay=False), default=None,
              help="Results workbook (default: reports/<stem>-prepare.xlsx).")
@seconds_option("--timeout", 600.0, "How long to wait for the pre-checks to finish")
@seconds_option("--interval", 5.0, "Wait between two looks at the pre-check results", maximum=3600)
@click.option("--concurrency", type=click.IntRange(1, fields.MAX_CONCURRENCY), default=4, show_default=True,
              help="Requests in flight at once (each carries at most 10 tasks).")
@click.option("--recheck", is_flag=True, help="Pre-check again tasks whose pre-check already passed.")
@click.option("--json", "as_json", is_flag=True, help="Print the per-task outcome as JSON on stdout.")
def command(workbook: Path, endpoint: str | None, region: str | None, project_id: str | None, simulate: bool,
            simulator_state: Path | None, ledger_path: Path | None, ca_bundle: str | None, insecure: bool,
            force: bool, report_dir: Path, quiet: bool,
            language: str | None, out: Path | None, timeout: float, interval: float,
            concurrency: int, recheck: bool, as_json: bool) -> int:
    """Test the connections, select the objects and run the pre-check of every task of
    WORKBOOK (the workbook you submitted: it holds the passwords or env:NAME references)
    that the ledger shows created and that is still in CONFIGURATION.

    A re-run repeats only what did not pass. Exit 0 when every created task's pre-check
    passed, 1 when some failed, 3 when some pre-check was still running at --timeout (run
    prepare again), 2 when the input cannot be used.
    """
    from bulkimport.prepare import prepare_workbook
    from bulkimport.progress import for_stream
    from bulkimport.status import follow_up_target

    with follow_up_target(workbook, endpoint=endpoint, region=region, project_id=project_id,
                          simulate=simulate, simulator_state=simulator_state, ledger_path=ledger_path,
                          ca_bundle=ca_bundle, insecure=insecure, force=force,
                          language=language) as target:
        outcome = prepare_workbook(workbook, target, out_path=out, report_dir=report_dir, timeout=timeout,
                                   interval=interval, force=recheck, concurrency=concurrency, replace_outputs=force,
                                   progress=for_stream(sys.stderr, quiet=quiet))
    from bulkimport.terminal import labelled, row_label, rows_word, say

    c = outcome.counts
    lang = outcome.language
    tasks = f"{len(outcome.tasks)} tasks" if lang == "en-us" else say(lang, "{n} tasks", n=len(outcome.tasks))
    line = say(lang, "{tasks}: {passed} pre-check passed, {failed} failed, {pending} still pending",
               tasks=tasks, passed=c["passed"], failed=c["failed"], pending=c["pending"])
    if c["unknown"]:
        line += say(lang, ", {unknown} unknown", unknown=c["unknown"])
    if c["not_created"]:
        rows = f"{c['not_created']} rows" if lang == "en-us" else rows_word(lang, c["not_created"])
        line += say(lang, "; {rows} not created (untouched)", rows=rows)
    click.echo(line, err=True)
    for task in outcome.tasks:
        if task.verdict != "passed" and task.error_msg:
            click.echo(f"  {row_label(lang, task.source_row)}  {task.name}: {task.error_msg}", err=True)
    click.echo(labelled(lang, 'results', outcome.results_path), err=True)
    click.echo(say(lang, "report: {path}", path=outcome.report.html), err=True)
    if as_json:
        click.echo(json.dumps(outcome.to_json(), indent=2, ensure_ascii=False))
    return outcome.exit_code
