"""`bulkimport rollback RESULTS_WORKBOOK`: delete the tasks a campaign created, after confirmation."""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

import click

from bulkimport.cli.options import json_option, out_option, seconds_option, target_options
from bulkimport.errors import InputError
from bulkimport.outcomes import ExitCode


def stdin_is_terminal() -> bool:
    """A prompt makes sense only when someone can answer it (tests replace this)."""
    return sys.stdin.isatty()


@click.command("rollback")
@click.argument("results_workbook", type=click.Path(path_type=Path, dir_okay=False))
@target_options
@out_option("reports/<stem>-rollback.xlsx")
@click.option("--yes", "-y", is_flag=True, help="Do not ask for confirmation (needed when stdin is not a terminal).")
@seconds_option("--release-timeout", 600.0, "Wait for terminated tasks to release their resources before deleting")
@seconds_option("--interval", 5.0, "Wait between status polls while waiting (grows 1.5x per round)", maximum=3600)
@seconds_option("--max-interval", 30.0, "Longest wait between polls", maximum=3600)
@json_option
def command(results_workbook: Path, endpoint: str | None, region: str | None, project_id: str | None,
            simulate: bool, simulator_state: Path | None, ledger_path: Path | None, ca_bundle: str | None,
            insecure: bool, force: bool, report_dir: Path, quiet: bool,
            language: str | None, out: Path | None, yes: bool,
            release_timeout: float, interval: float, max_interval: float, as_json: bool) -> int:
    """Delete the tasks RESULTS_WORKBOOK's campaign created (only those the ledger shows this
    tool created), after listing them and asking for confirmation.

    Tasks that are not yet deletable are force-terminated first and deleted once their
    resources are released. Exit 0 when every task was deleted (or there was nothing to
    delete), 1 when some deletion failed or the operator declined, 3 when the rollback
    stopped part-way, 2 when the input cannot be used.
    """
    from bulkimport.progress import for_stream
    from bulkimport.rollback import confirm_question, execute_rollback, plan_lines, plan_rollback
    from bulkimport.status import check_follow_up_outputs, follow_up_target
    from bulkimport.terminal import labelled, say, tasks_word

    with follow_up_target(results_workbook, endpoint=endpoint, region=region, project_id=project_id,
                          simulate=simulate, simulator_state=simulator_state, ledger_path=ledger_path,
                          ca_bundle=ca_bundle, insecure=insecure, force=force,
                          language=language) as target:
        out = check_follow_up_outputs(results_workbook, "rollback", out, report_dir, target.ledger_path, force=force)
        plan = plan_rollback(results_workbook, target)
        width = min(max(shutil.get_terminal_size((100, 24)).columns, 80), 130)
        for line in plan_lines(plan, width):
            click.echo(line, err=True)
        if not plan.items:
            click.echo(say(plan.language, "nothing to roll back: no task this tool created is listed in the workbook"),
                       err=True)
            return ExitCode.OK
        if not yes:
            if not stdin_is_terminal():
                raise InputError("rollback deletes tasks: confirm with --yes when stdin is not a terminal")
            if not click.confirm(confirm_question(plan, target), default=False, err=True):
                click.echo(say(plan.language, "rollback cancelled: nothing was deleted"), err=True)
                return ExitCode.SOME_FAILED
        outcome = execute_rollback(plan, target, out_path=out, report_dir=report_dir,
                                   release_timeout=release_timeout, interval=interval, max_interval=max_interval,
                                   progress=for_stream(sys.stderr, quiet=quiet), force=force)
    if outcome.message:
        click.echo(outcome.message, err=True)
    counts = outcome.counts
    lang = outcome.language
    click.echo(say(lang, "{tasks} deleted, {failed} failed to delete", tasks=tasks_word(lang, counts["DELETED"]),
                   failed=counts["DELETE_FAILED"])
               + (say(lang, ", {unfinished} unfinished", unfinished=counts["unfinished"])
                  if counts["unfinished"] else ""), err=True)
    click.echo(labelled(lang, 'results', outcome.results_path), err=True)
    click.echo(say(lang, "report: {path}", path=outcome.report.html), err=True)
    if as_json:
        by_row = {item.excel_row: item for item in plan.items}
        document = {
            "exit_code": outcome.exit_code,
            "counts": counts,
            "results_workbook": str(outcome.results_path),
            "tasks": [
                {"source_row": by_row[row].source_row, "name": by_row[row].name, "task_id": by_row[row].task_id,
                 "result": str(o.result), "task_status": o.task_status, "error_code": o.error_code,
                 "error_msg": o.error_msg}
                for row, o in sorted(outcome.outcomes.items(), key=lambda kv: by_row[kv[0]].source_row)
            ],
            "skipped": [{"source_row": s.source_row, "name": s.name, "task_id": s.task_id, "reason": s.reason}
                        for s in plan.skipped],
        }
        click.echo(json.dumps(document, indent=2, ensure_ascii=False))
    return outcome.exit_code
