"""Undoing a campaign: deleting the tasks it created (`bulkimport rollback`).

Deleting is the one irreversible thing this tool does, so it is narrow on purpose: a task is
touched only when its row says CREATED / ALREADY_CREATED (or DELETE_FAILED from an earlier
rollback) *and* the ledger shows this tool created that very task ID under the same endpoint
and project. A task adopted as "name already taken by task X" is REJECTED and never touched.

The API deletes only tasks in CREATE_FAILED, RELEASE_RESOURCE_COMPLETE or
RELEASE_CHILD_TRANSFER_COMPLETE; any other task is force-terminated first, then polled
(bounded) until its resources are released, then deleted. The plan is built and shown
before anything changes; `execute_rollback` runs only after the operator agreed.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from bulkimport import ledger as ledger_states
from bulkimport.book_read import WorkbookData, read_workbook, require_results_workbook
from bulkimport.campaign import Campaign
from bulkimport.drs import DrsClient, DrsError, RetryPolicy
from bulkimport.drs.client import MAX_DELETE
from bulkimport.errors import InputError
from bulkimport.findings import EN, note
from bulkimport.outcomes import ExitCode, Result, exit_code_for
from bulkimport.progress import NullProgress, Progress, in_language
from bulkimport.report import ReportFiles
from bulkimport.status import (
    TaskState,
    campaign_tasks,
    check_follow_up_outputs,
    follow_up_campaign,
    follow_up_language,
    open_ledger,
    query_states,
    watch_states,
    write_follow_up,
)
from bulkimport.target import Target, make_client, scrubber, summary_facts
from bulkimport.terminal import MIN_WIDTH, clip, plural, row_label, rows_word, say, tasks_word

#: Statuses in which the API accepts `delete` (OTC: stopping or deleting tasks in batches).
DELETABLE = frozenset({"CREATE_FAILED", "RELEASE_RESOURCE_COMPLETE", "RELEASE_CHILD_TRANSFER_COMPLETE"})
#: A terminate is already under way: wait for it, do not send another.
RELEASING = frozenset({"RELEASE_RESOURCE_STARTED", "RELEASE_CHILD_TRANSFER_STARTED"})
GONE = "DELETED"

#: What the plan will do with one task.
DELETE = "delete"
TERMINATE_THEN_DELETE = "force_terminate, wait, delete"
WAIT_THEN_DELETE = "wait for release, delete"
ALREADY_GONE = "none (already deleted)"


@dataclass(frozen=True)
class RollbackItem:
    """One task the rollback will delete."""

    excel_row: int
    source_row: int
    name: str
    task_id: str
    status: str | None
    action: str


@dataclass(frozen=True)
class Skipped:
    """A row with a task ID that the rollback leaves alone, and why."""

    source_row: int
    name: str
    task_id: str
    reason: str


@dataclass
class RollbackPlan:
    results_path: Path
    book: WorkbookData
    items: list[RollbackItem]
    skipped: list[Skipped]
    #: The workbook is a failed-rows workbook: it lists some of the campaign's rows on purpose,
    #: so the campaign's other tasks staying on the server is expected, not a failure.
    failed_rows: bool = False
    #: The language the plan and the prompt are written in (`status.follow_up_language`).
    language: str = "en-us"
    #: The campaign facts of the workbook's Summary sheet (None: it has none), read once with
    #: the plan and carried into the rollback workbook and report.
    facts: Campaign | None = None


def is_failed_rows_workbook(book: WorkbookData) -> bool:
    """A failed-rows workbook (`submit`'s or `status`'s `...-failed.xlsx`) is a template with
    result columns: it has the template's Instructions sheet, which results workbooks lack.
    Rolling one back is the documented way to free the names of failed tasks."""
    from bulkimport.template import INSTRUCTIONS_SHEET

    return INSTRUCTIONS_SHEET in book.sheet_names


@dataclass
class RowOutcome:
    result: str
    task_status: str | None
    error_code: str | None = None
    error_msg: str | None = None


@dataclass
class RollbackOutcome:
    results_path: Path
    report: ReportFiles
    outcomes: dict[int, RowOutcome]
    exit_code: int
    message: str | None = None
    counts: dict[str, int] = field(default_factory=dict)
    #: The language the outputs and the terminal lines are written in.
    language: str = "en-us"


def _action(status: str | None) -> str:
    if status == GONE:
        return ALREADY_GONE
    if status in DELETABLE:
        return DELETE
    if status in RELEASING:
        return WAIT_THEN_DELETE
    return TERMINATE_THEN_DELETE


def plan_rollback(results_path: str | Path, target: Target, *, retry: RetryPolicy | None = None,
                  sleep: Callable[[float], None] = time.sleep) -> RollbackPlan:
    """Which tasks would be deleted, and how (reads only: the workbook, the ledger, batch-status).

    Raises InputError when there is no ledger: without it the tool cannot prove it created
    anything, and deleting on the workbook's word alone is not safe.
    """
    results_path = Path(results_path)
    book = read_workbook(results_path)
    require_results_workbook(book)
    facts = summary_facts(target, results_path)
    language = follow_up_language(facts, book, target)
    with open_ledger(target) as ledger:
        if ledger is None:
            raise InputError("no ledger at {path}: rollback deletes only tasks the ledger shows this tool created "
                             "(give --ledger PATH)", path=target.ledger_path)
        mine = campaign_tasks(book, ledger, target.ledger_endpoint, target.project_id)
        entries = {e.name.lower(): e for e in ledger.entries(target.ledger_endpoint, target.project_id)}
    claimed = [t for t in mine if not t.from_ledger]
    if claimed and not any((e := entries.get(t.name.lower())) is not None and e.task_id == t.task_id
                           for t in claimed):
        # Not "nothing to roll back": this ledger is another campaign's (or another project's).
        raise InputError("the ledger {path} knows none of the {tasks} of {name} for project {project} at "
                         "{endpoint}: it belongs to another campaign; give the campaign's --ledger",
                         path=target.ledger_path, tasks=plural(len(claimed), "created task"), name=results_path.name,
                         project=target.project_id, endpoint=target.ledger_endpoint)
    eligible = []
    skipped = []
    for task in mine:
        entry = entries.get(task.name.lower())
        if task.from_ledger:
            skipped.append(Skipped(task.source_row, task.name, task.task_id, note(language, "note:skip_not_created")))
        elif entry is None:
            skipped.append(Skipped(task.source_row, task.name, task.task_id, note(language, "note:skip_no_ledger")))
        elif entry.state not in ledger_states.EXISTING_STATES:
            skipped.append(Skipped(task.source_row, task.name, task.task_id,
                                   note(language, "note:skip_ledger_state", state=entry.state)))
        elif entry.task_id != task.task_id:
            skipped.append(Skipped(task.source_row, task.name, task.task_id,
                                   note(language, "note:skip_other_task", task_id=entry.task_id)))
        else:
            eligible.append(task)
    mine_rows = {t.excel_row for t in mine}
    for excel_row, cells in book.cells.items():
        task_id = str(cells.get("task_id") or "").strip()
        if task_id and excel_row not in mine_rows:
            result = str(cells.get("result") or "").strip() or "blank"
            skipped.append(Skipped(book.source_row(excel_row), str(cells.get("name") or ""), task_id,
                                   note(language, "note:skip_not_ours", result=result)))
    states: dict[str, TaskState] = {}
    if eligible:
        with contextlib.closing(make_client(target, retry, sleep)) as client:
            states = query_states(client, [t.task_id for t in eligible], language)
    items = [RollbackItem(t.excel_row, t.source_row, t.name, t.task_id, states[t.task_id].status,
                          _action(states[t.task_id].status)) for t in eligible]
    skipped.sort(key=lambda s: s.source_row)
    return RollbackPlan(results_path, book, items, skipped, failed_rows=is_failed_rows_workbook(book),
                        language=language, facts=facts)


def _delete(client: DrsClient, ids: list[str], kind: str,
            language: str = EN) -> dict[str, tuple[bool, str | None, str | None]]:
    """One batch-delete call per 10 tasks: id -> (ok, error_code, error_msg; a note of ours in `language`)."""
    answers: dict[str, tuple[bool, str | None, str | None]] = {}
    for start in range(0, len(ids), MAX_DELETE):
        chunk = ids[start:start + MAX_DELETE]
        for item in client.batch_delete([(i, kind) for i in chunk]):
            task_id = str(item.get("id") or "")
            ok = str(item.get("status") or "").lower() == "success"
            answers[task_id] = (ok, item.get("error_code"), item.get("error_msg"))
        for task_id in chunk:
            answers.setdefault(task_id, (False, None, note(language, "note:answer_missing_task")))
    return answers


def execute_rollback(plan: RollbackPlan, target: Target, *, out_path: Path | None = None,
                     report_dir: Path = Path("reports"), release_timeout: float = 600.0, interval: float = 5.0,
                     max_interval: float = 30.0, retry: RetryPolicy | None = None,
                     progress: Progress | None = None, sleep: Callable[[float], None] = time.sleep,
                     clock: Callable[[], float] = time.monotonic, force: bool = False) -> RollbackOutcome:
    """Terminate where needed, wait (at most `release_timeout` s), delete; record every row's
    outcome (DELETED / DELETE_FAILED) in the ledger and in `<stem>-rollback.xlsx`.

    A DRS call that fails for good part-way stops the rollback: what was learnt so far is
    recorded and written, and the exit code is 3 (run rollback again to finish).
    """
    out_path = check_follow_up_outputs(plan.results_path, "rollback", out_path, report_dir, target.ledger_path,
                                       force=force)  # checked before anything is deleted
    progress = in_language(progress or NullProgress(), plan.language)
    scrub = scrubber(target.secrets)
    outcomes: dict[int, RowOutcome] = {}
    by_id = {item.task_id: item for item in plan.items}
    message = None
    language = plan.language
    releasing: dict[int, tuple[str | None, str]] = {}

    def done(task_id: str, ok: bool, status: str | None, code: object = None, msg: object = None) -> None:
        outcomes[by_id[task_id].excel_row] = RowOutcome(Result.DELETED if ok else Result.DELETE_FAILED, status,
                                                        scrub(str(code)) if code else None,
                                                        scrub(str(msg)) if msg else None)

    with open_ledger(target) as ledger, contextlib.closing(make_client(target, retry, sleep)) as client:
        try:
            for item in plan.items:
                if item.action == ALREADY_GONE:
                    done(item.task_id, True, GONE, msg=note(language, "note:already_deleted"))
            ready = [i.task_id for i in plan.items if i.action == DELETE]
            to_stop = [i.task_id for i in plan.items if i.action == TERMINATE_THEN_DELETE]
            waiting = [i.task_id for i in plan.items if i.action == WAIT_THEN_DELETE]
            refused: dict[str, tuple[object, object]] = {}
            if to_stop:
                progress.note(say(plan.language, "force-terminating {tasks}",
                                  tasks=tasks_word(plan.language, len(to_stop))))
                for task_id, (ok, code, msg) in _delete(client, to_stop, "force_terminate", language).items():
                    if not ok:
                        refused[task_id] = (code, msg)
                waiting += to_stop
            if waiting:
                # A refused terminate may only mean the task moved on (e.g. CREATING -> CREATE_FAILED):
                # one look at its status decides; the others are waited for until released.
                states = watch_states(client, waiting, watch=True, interval=interval,
                                            max_interval=max_interval, timeout=release_timeout, progress=progress,
                                            sleep=sleep, clock=clock,
                                            settled=lambda s: s.task_id in refused or s.status in DELETABLE
                                            or s.status == GONE or s.status is None, language=language).states
                for task_id in waiting:
                    state = states[task_id]
                    if state.status in DELETABLE:
                        ready.append(task_id)
                    elif state.status == GONE:
                        done(task_id, True, GONE, msg=note(language, "note:already_deleted"))
                    elif task_id in refused:
                        done(task_id, False, state.status, *refused[task_id])
                    elif state.status is None:
                        done(task_id, False, None, state.error_code, state.error_msg)
                    else:
                        # Still being released: not a failure, just not finished (exit 3).
                        releasing[by_id[task_id].excel_row] = (
                            state.status, note(language, "note:still_releasing", status=state.status,
                                               seconds=f"{release_timeout:g}"))
            if ready:
                progress.note(say(plan.language, "deleting {tasks}", tasks=tasks_word(plan.language, len(ready))))
                for task_id, (ok, code, msg) in _delete(client, ready, "delete", language).items():
                    done(task_id, ok, GONE if ok else None, code, msg)
                failed = [i for i in ready if outcomes[by_id[i].excel_row].result == Result.DELETE_FAILED]
                if failed:
                    for task_id, state in query_states(client, failed, language).items():
                        outcomes[by_id[task_id].excel_row].task_status = state.status
        except DrsError as exc:
            message = note(language, "note:rollback_stopped", error=scrub(exc.said(language)))
        left: list[str] = []
        if ledger is not None:
            for item in plan.items:
                outcome = outcomes.get(item.excel_row)
                if outcome is not None:
                    ledger.record_deleted(target.ledger_endpoint, target.project_id, item.name,
                                          outcome.result == Result.DELETED, outcome.error_code, outcome.error_msg)
            left = [e.name for e in ledger.entries(target.ledger_endpoint, target.project_id) if e.exists]

    appended: dict[int, dict[str, object]] = {
        row: {"result": o.result, "task_status": o.task_status, "error_code": o.error_code, "error_msg": o.error_msg}
        for row, o in outcomes.items()
    }
    unfinished = [i for i in plan.items if i.excel_row not in outcomes]
    for item in unfinished:
        status, text = releasing.get(item.excel_row, (None, message))
        appended[item.excel_row] = {"error_msg": text, **({"task_status": status} if status else {})}
    campaign = follow_up_campaign(plan.results_path, "rollback", plan.book, target, plan.facts)
    files = write_follow_up(plan.book, appended, campaign, out_path, report_dir,
                            ledger_path=None if ledger is None else target.ledger_path,
                            rebuild="run rollback again to write them (deleted tasks are found deleted)")
    results = [o.result for o in outcomes.values()]
    exit_code = ExitCode.INCOMPLETE if unfinished else exit_code_for(results)
    if exit_code == ExitCode.OK and left:
        shown = ", ".join(left[:5]) + (", ..." if len(left) > 5 else "")
        lang = campaign.language
        message = (say(lang, "{tasks} of this campaign is still on the server and not in this workbook's rollback: "
                             "{names}", tasks=tasks_word(lang, 1), names=shown) if len(left) == 1 else
                   say(lang, "{tasks} of this campaign are still on the server and not in this workbook's rollback: "
                             "{names}", tasks=tasks_word(lang, len(left)), names=shown))
        if plan.failed_rows:
            # The failed-rows workbook names just the rows to create again: the rest stay, as meant.
            message += say(lang, " (this failed-rows workbook rolls back only its own rows)")
        else:
            # Exit 0 means the campaign is gone: tasks the ledger still shows created are not.
            exit_code = ExitCode.SOME_FAILED
    counts = {str(r): results.count(r) for r in (Result.DELETED, Result.DELETE_FAILED)}
    counts["unfinished"] = len(unfinished)
    counts["left"] = len(left)
    return RollbackOutcome(out_path, files, outcomes, exit_code, message, counts, language=campaign.language)


def plan_lines(plan: RollbackPlan, width: int = 100) -> Iterable[str]:
    """The plan as the operator reads it before confirming: every task to delete, grouped by
    what will be done to it, then every row left alone. Lines fit `width` columns (80-130):
    below 110 each task takes two lines (row and name; then ID and status)."""
    width = max(MIN_WIDTH, width)
    if plan.items:
        yield say(plan.language, "{tasks} created by this campaign will be DELETED:",
                  tasks=tasks_word(plan.language, len(plan.items)))
        by_action: dict[str, list[RollbackItem]] = {}
        for item in plan.items:
            by_action.setdefault(item.action, []).append(item)
        for action, items in by_action.items():
            yield f" {len(items)} \u00d7 {action}:"
            for item in items:
                status = clip(item.status or "?", 26)
                if width >= 110:
                    name_w = width - 2 - 9 - 2 - 36 - 2 - 26 - 2
                    name = clip(item.name, name_w)
                    row = row_label(plan.language, item.source_row)
                    yield f"  {row}  {name:<{name_w}}  {item.task_id:<36}  {status}"
                else:
                    yield f"  {row_label(plan.language, item.source_row)}  {clip(item.name, width - 13)}"
                    yield f"             {item.task_id}  {clip(item.status or '?', width - 15 - len(item.task_id))}"
    if plan.skipped:
        yield say(plan.language, "{rows} with a task ID left alone:", rows=rows_word(plan.language, len(plan.skipped)))
        for skip in plan.skipped:
            yield f"  {row_label(plan.language, skip.source_row)}  {clip(skip.name, width - 13)}"
            yield f"             {clip(skip.task_id + '  (' + skip.reason + ')', width - 13)}"


def confirm_question(plan: RollbackPlan, target: Target) -> str:
    """The prompt repeats where the tasks will be deleted: the endpoint and the project."""
    return say(plan.language, "Delete the {tasks} listed above, in project {project} at {endpoint}?",
               tasks=tasks_word(plan.language, len(plan.items)), project=target.project_id, endpoint=target.display)
