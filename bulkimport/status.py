"""Follow-up on a campaign: refresh the status of the tasks it created (`bulkimport status`).

A created task starts in CREATING and settles in CONFIGURATION (ready to configure) or
CREATE_FAILED a little later, so the results workbook `submit` writes is a snapshot of a
moving picture. This module asks the server again (`POST .../jobs/batch-status`, 100 IDs a
page), optionally until nothing is CREATING any more, and writes the refreshed picture as a
new results workbook, into the ledger and into the sign-off report.

Task IDs come from the results workbook; the ledger only fills gaps (a row whose ID the
workbook lacks but whose name the ledger knows as created by this tool).
"""

from __future__ import annotations

import contextlib
import re
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from bulkimport import ledger as ledger_states
from bulkimport.book_read import WorkbookData, read_findings_sheet, read_workbook
from bulkimport.campaign import Campaign, cloud_identity, now_iso, operator_name
from bulkimport.drs import (
    DrsClient,
    RetryPolicy,
)
from bulkimport.errors import InputError, OutputWriteError
from bulkimport.findings import EN, Finding, language_of, note, row_errors
from bulkimport.ledger import Ledger, LedgerEntry
from bulkimport.outcomes import ExitCode, Result
from bulkimport.outputs import FILE, FOLDER, LEDGER, WORKBOOK, Output, check_outputs, write_failed
from bulkimport.progress import NullProgress, Progress, in_language
from bulkimport.report import (
    FAILED,
    GONE,
    HEALTHY,
    PENDING,
    ReportFiles,
    drift_from_sheet,
    summarise,
    summary_sheet_rows,
    task_health,
    write_report,
)
from bulkimport.results_book import write_failed_rows, write_results
from bulkimport.target import SIMULATOR_ENDPOINT, Target, campaign_target, make_client, scrubber, summary_facts
from bulkimport.terminal import row_lines, say, screenful, tasks_word

#: Results whose row names a task this tool created and that may still exist.
TRACKED_RESULTS = frozenset({Result.CREATED, Result.ALREADY_CREATED, Result.DELETE_FAILED})
#: Results a ledger-known task may fill in (the row's outcome was never learnt in the workbook).
FILLABLE_RESULTS = frozenset({"", Result.UNKNOWN, Result.NOT_SENT})


@dataclass(frozen=True)
class CampaignTask:
    """One task of the campaign, tied to its row of the results workbook."""

    excel_row: int
    source_row: int
    name: str
    task_id: str
    result: str
    #: The workbook had no ID for this row; the ledger supplied it.
    from_ledger: bool = False


@dataclass(frozen=True)
class TaskState:
    """What the server said about one task (status None: the server does not know the ID)."""

    task_id: str
    status: str | None
    error_code: str | None = None
    error_msg: str | None = None

    @property
    def health(self) -> str:
        return task_health(self.status) or FAILED


@dataclass
class StatusOutcome:
    results_path: Path
    report: ReportFiles
    tasks: list[CampaignTask]
    states: dict[str, TaskState]
    rounds: int
    timed_out: bool
    exit_code: int
    counts: dict[str, int] = field(default_factory=dict)
    ledger_path: Path | None = None
    interrupted: bool = False
    #: task id -> the progress columns of a started task (batch-progress).
    progress: dict[str, dict[str, object]] = field(default_factory=dict)
    #: The failed-rows workbook: the rows whose task failed, ready to fix and resubmit once
    #: their failed tasks are deleted (None when no task failed).
    failed_path: Path | None = None
    #: The language the outputs and the terminal lines are written in.
    language: str = "en-us"

    def failed_tasks(self) -> list[tuple[CampaignTask, TaskState]]:
        """The tasks whose current status is a failure, in workbook order."""
        return [(t, self.states[t.task_id]) for t in self.tasks if self.states[t.task_id].health == FAILED]


# -- reading the campaign ----------------------------------------------------------------------

def _cell_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


#: Where a follow-up command finds the campaign's tasks: one function, in target.py.
follow_up_target = campaign_target


@contextlib.contextmanager
def open_ledger(target: Target, *, create: bool = False) -> Iterator[Ledger | None]:
    """The campaign's ledger, or None when there is none and `create` is False (a follow-up
    command must not leave an empty ledger behind in a directory that never had one)."""
    path = target.ledger_path
    if path is None or (not create and not path.exists()):
        yield None
        return
    with contextlib.closing(Ledger(path)) as ledger:
        yield ledger


def _created_here(entry: LedgerEntry | None) -> bool:
    """The ledger shows this tool created the task (and knows its ID)."""
    return entry is not None and entry.state in ledger_states.EXISTING_STATES and bool(entry.task_id)


def campaign_tasks(book: WorkbookData, ledger: Ledger | None, endpoint: str, project_id: str) -> list[CampaignTask]:
    """The tasks the campaign created, in workbook order.

    A row counts when its result says a task exists (CREATED, ALREADY_CREATED, DELETE_FAILED)
    and it carries a task ID, or when the workbook never learnt the row's outcome and the
    ledger knows the name as created by this tool. REJECTED rows are never included, even
    with an ID: such a task belongs to someone else ("name already taken by task X").
    """
    known = {}
    if ledger is not None:
        known = {e.name.lower(): e for e in ledger.entries(endpoint, project_id)}
    tasks = []
    for excel_row, cells in book.cells.items():
        name = _cell_text(cells.get("name"))
        result = _cell_text(cells.get("result")).upper()
        task_id = _cell_text(cells.get("task_id"))
        entry = known.get(name.lower()) if name else None
        if result in TRACKED_RESULTS and task_id:
            tasks.append(CampaignTask(excel_row, book.source_row(excel_row), name, task_id, result))
        elif (result in TRACKED_RESULTS or result in FILLABLE_RESULTS) and entry is not None and entry.task_id \
                and _created_here(entry):
            filled = result if result in TRACKED_RESULTS else Result.CREATED
            tasks.append(CampaignTask(excel_row, book.source_row(excel_row), name, entry.task_id, filled,
                                      from_ledger=True))
    return tasks


# -- asking the server ---------------------------------------------------------------------------

def query_states(client: DrsClient, task_ids: Iterable[str], language: str = EN) -> dict[str, TaskState]:
    """One batch-status sweep (the client pages by 100). An ID the server leaves out of its
    answer gets a state without status, so it counts as failed rather than vanishing (its note
    in `language`)."""
    ids = list(dict.fromkeys(task_ids))
    states: dict[str, TaskState] = {}
    for item in client.batch_status(ids):
        task_id = _cell_text(item.get("id"))
        if not task_id:
            continue
        status = _cell_text(item.get("status")).upper() or None
        states[task_id] = TaskState(task_id, status, _cell_text(item.get("error_code")) or None,
                                    _cell_text(item.get("error_message") or item.get("error_msg")) or None)
    for task_id in ids:
        if task_id not in states:
            states[task_id] = TaskState(task_id, None, None, note(language, "note:status_not_in_answer"))
    return states


def health_counts(states: Iterable[TaskState]) -> dict[str, int]:
    counts = Counter(s.health for s in states)
    return {h: counts[h] for h in (HEALTHY, PENDING, FAILED, GONE)}


def _status_counts(states: Iterable[TaskState]) -> dict[str, int]:
    return dict(sorted(Counter(s.status or "NOT_FOUND" for s in states).items()))


def exit_code_for_states(states: Iterable[TaskState]) -> int:
    """3 when a task is still CREATING, else 1 when one failed, else 0 (the precedence of
    docs/decisions.md "Exit codes and their precedence")."""
    healths = {s.health for s in states}
    if PENDING in healths:
        return ExitCode.INCOMPLETE
    if FAILED in healths or GONE in healths:
        return ExitCode.SOME_FAILED
    return ExitCode.OK


@dataclass
class Watch:
    """How a round of polling ended."""

    states: dict[str, TaskState]
    rounds: int
    timed_out: bool = False
    interrupted: bool = False


def watch_states(client: DrsClient, task_ids: list[str], *, watch: bool, interval: float, max_interval: float,
                 timeout: float, backoff: float = 1.5, progress: Progress | None = None,
                 sleep: Callable[[float], None] = time.sleep,
                 clock: Callable[[], float] = time.monotonic,
                 settled: Callable[[TaskState], bool] = lambda s: s.health != PENDING,
                 interruptible: bool = False, language: str = EN) -> Watch:
    """Query until every task is settled (by default: not CREATING) or `timeout` seconds pass.

    Only unsettled tasks are asked again, and the wait between rounds grows by `backoff` up
    to `max_interval`, so a large campaign does not hammer the API while tasks settle. With
    `interruptible`, Ctrl-C while waiting ends the watch with what is known so far (the
    caller still writes it) instead of losing every answer already received.
    """
    progress = progress or NullProgress()
    deadline = clock() + max(0.0, timeout)
    states = query_states(client, task_ids, language)
    rounds = 1
    progress.start(len(task_ids), "task status")
    wait = max(0.0, interval)
    try:
        while True:
            waiting = [i for i in task_ids if not settled(states[i])]
            progress.update(len(task_ids) - len(waiting), _status_counts(states.values()))
            if not watch or not waiting:
                return Watch(states, rounds)
            remaining = deadline - clock()
            if remaining <= 0:
                return Watch(states, rounds, timed_out=True)
            try:
                sleep(min(wait, remaining))
                answers = query_states(client, waiting, language)
            except KeyboardInterrupt:
                if not interruptible:
                    raise
                progress.note("interrupted: keeping the statuses received so far")
                return Watch(states, rounds, interrupted=True)
            wait = min(max_interval, wait * backoff) if wait > 0 else 0.0
            states.update(answers)
            rounds += 1
    finally:
        progress.finish()


# -- writing the refreshed picture ---------------------------------------------------------------

def report_rows(book: WorkbookData, appended: Mapping[int, Mapping[str, object]]) -> list[dict[str, Any]]:
    """The rows as the new results workbook will hold them (workbook cells overlaid by updates)."""
    rows = []
    for excel_row, cells in book.cells.items():
        row: dict[str, Any] = {**cells, **appended.get(excel_row, {})}
        row["source_row"] = book.source_row(excel_row)
        rows.append(row)
    return rows


def target_identity(target: Target) -> str:
    """Who acts in the cloud for this target (the simulator says so)."""
    if target.simulator is not None or target.ledger_endpoint == SIMULATOR_ENDPOINT:
        return note(EN, "note:identity_simulator")
    return cloud_identity(target.auth)


def follow_up_language(facts: Campaign | None, book: WorkbookData, target: Target) -> str:
    """The language a follow-up writes and prompts in: --language, else the campaign's
    (`facts`, the Summary sheet's, from `target.summary_facts`), else the template's."""
    return language_of(target.language or (facts.language if facts is not None else "") or book.language)


def follow_up_campaign(results_path: Path, command: str, book: WorkbookData, target: Target,
                       facts: Campaign | None) -> Campaign:
    """The campaign facts to carry forward: the original ones from the Summary sheet (`facts`,
    from `target.summary_facts`: campaign_target reads the sheet once for the whole command),
    with the follow-up command noted; made up from the workbook itself when it has no
    Summary sheet (None)."""
    ledger = "" if target.ledger_temporary or target.ledger_path is None or not target.ledger_path.exists() \
        else str(target.ledger_path.resolve())
    step = {"step": command, "step_at": now_iso(), "step_by": operator_name(), "cloud_user": target_identity(target)}
    # The language this follow-up writes in: --language, else the campaign's, else the template's.
    language = follow_up_language(facts, book, target)
    if facts is None:
        return Campaign(command=command, input_file=results_path.name, input_sha256=book.sha256,
                        template_version=book.template_version or "", endpoint=target.ledger_endpoint,
                        region=target.region, project_id=target.project_id, campaign_id=target.campaign_id,
                        ledger=ledger, language=language, **step)
    steps = [s.strip() for s in facts.command.split(",") if s.strip()]
    if not steps or steps[-1] != command:
        steps.append(command)
    return replace(facts, command=", ".join(steps), endpoint=facts.endpoint or target.ledger_endpoint,
                   project_id=facts.project_id or target.project_id, region=facts.region or target.region,
                   campaign_id=facts.campaign_id or target.campaign_id, ledger=ledger or facts.ledger,
                   language=language, **step)


def carried_findings(book: WorkbookData) -> list[Finding]:
    """The findings a follow-up copy of `book` shows: what reading it found, and the markers
    its Findings sheet carries from validate and submit (each once), so an INVALID row keeps
    its red cells, comments and Findings lines through status, rollback and start.

    What reading finds again (an unknown column, a stale template, a hidden row) is taken
    fresh, not from the sheet: the sheet's line says the same of the same cell, but in the
    words of its own copy (another column letter, the campaign's language), so keeping both
    would list it twice."""
    fresh = {(f.row, f.column, f.code) for f in book.findings}
    seen: set[tuple[int | None, str | None, str, str]] = set()
    found: list[Finding] = list(book.findings)
    for finding in read_findings_sheet(book):
        key = (finding.row, finding.column, finding.code, finding.sentence)
        if key not in seen and key[:3] not in fresh:
            seen.add(key)
            found.append(finding)
    return found


#: Results of a row whose task was created: not a reason why a row has no task.
_CREATED_RESULTS = frozenset({Result.CREATED, Result.ALREADY_CREATED})
#: The ledger's word on a name it holds but whose task does not exist, as a row's result.
_LEDGER_RESULTS = {ledger_states.REJECTED: Result.REJECTED, ledger_states.SENDING: Result.UNKNOWN,
                   ledger_states.IN_DOUBT: Result.UNKNOWN, ledger_states.NOT_CREATED: Result.NOT_SENT,
                   ledger_states.DELETED: Result.DELETED}


def never_created_columns(book: WorkbookData, excel_row: int, entry: LedgerEntry | None,
                          findings: Iterable[Finding] = (), language: str = EN) -> dict[str, object]:
    """`result`, `error_code` and `error_msg` of a row whose task was never created (prepare
    and start do nothing with it), so the row still says why: validation's errors when
    `findings` (prepare validates its input) make it INVALID; else what the workbook it starts
    from says (INVALID, REJECTED, ... with the reason); else the ledger's word (REJECTED with
    the server's reason, UNKNOWN in doubt, DELETED); else NOT_SENT: never sent."""
    errors = row_errors((f for f in findings if f.row == excel_row), language)
    if excel_row in errors:
        code, text = errors[excel_row]
        return {"result": Result.INVALID, "error_code": code, "error_msg": text}
    result = _cell_text(book.cells.value(excel_row, "result")).upper()
    if result and result not in _CREATED_RESULTS:
        return {"result": result, "error_code": book.cells.value(excel_row, "error_code"),
                "error_msg": book.cells.value(excel_row, "error_msg") or note(language, "note:no_task")}
    if entry is not None and entry.state in _LEDGER_RESULTS:
        return {"result": _LEDGER_RESULTS[entry.state], "error_code": entry.error_code,
                "error_msg": entry.error_msg or note(language, "note:no_task")}
    return {"result": Result.NOT_SENT, "error_code": None, "error_msg": note(language, "note:no_task")}


def write_follow_up(book: WorkbookData, appended: Mapping[int, Mapping[str, object]], campaign: Campaign,
                    out_path: Path, report_dir: Path, *, failed_rows: Iterable[int] = (),
                    failed_path: Path | None = None, ledger_path: Path | None = None,
                    rebuild: str = "run the same command again to write them",
                    findings: Sequence[Finding] | None = None) -> ReportFiles:
    """The new results workbook (with its Summary sheet) and the sign-off report beside it;
    with `failed_rows`, also the failed-rows workbook holding just those rows. `findings`
    (default: `carried_findings(book)`) mark the cells.

    Called after the server was asked: a write that fails now (a full disk) is exit 3 with
    one line saying what the ledger holds, never exit 2 ("nothing was sent")."""
    summary = summarise(campaign, report_rows(book, appended),
                        drift=drift_from_sheet(book.findings_sheet, language_of(campaign.language)))
    sheet = summary_sheet_rows(summary)
    marks = carried_findings(book) if findings is None else findings
    try:
        write_results(out_path, book, appended, marks, extra_sheets={"Summary": sheet},
                      language=summary.language)
        failed_rows = list(failed_rows)
        if failed_rows and failed_path is not None:
            write_failed_rows(failed_path, book, appended, marks, failed_rows,
                              extra_sheets={"Summary": sheet}, language=summary.language)
        return write_report(summary, out_path.stem, report_dir, results_path=out_path)
    except (OSError, InputError) as exc:
        error = exc if isinstance(exc, OSError) else OSError(str(exc))
        raise OutputWriteError(write_failed("results workbook and report", error, ledger=ledger_path,
                                            rebuild=rebuild)) from None


def failed_path_for(out: Path) -> Path:
    """Where the failed-rows workbook beside a results workbook goes."""
    return out.with_name(f"{out.stem}-failed.xlsx")


def default_out_path(results_path: Path, suffix: str, out_dir: Path = Path("reports")) -> Path:
    return out_dir / f"{results_path.stem}-{suffix}.xlsx"


#: Statuses in which a task has not been started (docs/launch-api.md).
NOT_STARTED = frozenset({"CREATING", "CREATE_FAILED", "CONFIGURATION"})
#: Started states a task passes through on its way to its steady state; `--watch` waits
#: while any task is in one (WAITING_FOR_START is not: a scheduled start may be days away).
TRANSITIONAL = frozenset({"STARTJOBING", "FULL_TRANSFER_STARTED", "CHILD_TRANSFER_STARTING"})
#: The columns `status` appends for started tasks (from batch-progress).
PROGRESS_COLUMNS = ("progress", "transfer_status", "remaining_time", "incre_trans_delay")
#: Of those, the ones the server gives as numbers in text (percent, seconds).
NUMBER_COLUMNS = frozenset({"progress", "remaining_time", "incre_trans_delay"})
_NUMBER_TEXT = re.compile(r"-?\d{1,15}(?:\.\d{1,15})?")


def number_or_text(value: object, *, percent: bool = False) -> object:
    """A number the server sends as text ("100", "5", "97.5"; with `percent`, "100%") as a
    number, so a DBA can sort, filter and sum the workbook's column; anything else stays its
    text (written as text, never a formula). None for blank."""
    text = _cell_text(value)
    if percent and text.endswith("%"):
        text = text[:-1].rstrip()
    if not _NUMBER_TEXT.fullmatch(text):
        return _cell_text(value) or None
    number = float(text)
    return int(number) if number.is_integer() else number


def is_started(status: str | None) -> bool:
    """Past CONFIGURATION: started, running, finished, stopped (not deleted, not unknown)."""
    return bool(status) and status not in NOT_STARTED and status != "DELETED"


def settled_for_watch(state: TaskState) -> bool:
    """What `--watch` waits for: no task CREATING, and every started task in its steady state
    (INCRE_TRANSFER_STARTED, FULL_TRANSFER_COMPLETE), failed, or stopped."""
    return state.health != PENDING and state.status not in TRANSITIONAL


def query_progress(client: DrsClient, task_ids: list[str],
                   scrub: Callable[[str | None], str | None]) -> dict[str, dict[str, object]]:
    """batch-progress for started tasks (10 a request): the appended progress columns per task
    id. A failed query leaves the columns blank rather than failing the status refresh."""
    from bulkimport.drs import DrsError

    try:
        items = client.progress(task_ids)
    except DrsError:
        return {}
    found: dict[str, dict[str, object]] = {}
    for item in items:
        task_id = _cell_text(item.get("job_id") or item.get("id"))
        if not task_id:
            continue
        values: dict[str, object] = {c: number_or_text(item.get(c)) if c in NUMBER_COLUMNS
                                     else _cell_text(item.get(c)) or None for c in PROGRESS_COLUMNS}
        if values["incre_trans_delay"] == -1:
            values["incre_trans_delay"] = None  # not in the incremental phase yet
        if item.get("error_code") and not item.get("progress"):
            values["transfer_status"] = None
        found[task_id] = values
    return found


def check_follow_up_outputs(results_path: Path, suffix: str, out_path: Path | None, report_dir: Path,
                            ledger_path: Path | None, *, force: bool = False) -> Path:
    """Prove the outputs of a follow-up command (status, rollback) writable before its first
    request: the new results workbook, the report folder and files, and the ledger when it
    exists (a follow-up command never creates one). Returns the results workbook's path."""
    chosen = out_path is not None
    out = Path(out_path) if out_path is not None else default_out_path(Path(results_path), suffix)
    outputs = [Output(out, "--out" if chosen else f"{suffix} workbook", WORKBOOK, suffixes=(".xlsx",)),
               Output(failed_path_for(out), "failed-rows workbook", WORKBOOK),
               Output(Path(report_dir), "--report-dir", FOLDER),
               Output(Path(report_dir) / f"{out.stem}-report.html", "sign-off report", FILE),
               Output(Path(report_dir) / f"{out.stem}-report.json", "sign-off report (JSON)", FILE)]
    if ledger_path is not None:
        outputs.append(Output(Path(ledger_path), "--ledger", LEDGER, create=False))
    check_outputs(outputs, inputs=[results_path], force=force)
    return out


def refresh_status(results_path: str | Path, target: Target, *, out_path: Path | None = None,
                   report_dir: Path = Path("reports"), watch: bool = False, interval: float = 5.0,
                   max_interval: float = 60.0, timeout: float = 1800.0, retry: RetryPolicy | None = None,
                   progress: Progress | None = None, sleep: Callable[[float], None] = time.sleep,
                   clock: Callable[[], float] = time.monotonic, force: bool = False) -> StatusOutcome:
    """The `status` command's work: query, (watch,) record in the ledger, write workbook + report.

    Raises InputError (exit 2) when the workbook names no created task: status of a workbook
    that `submit` never wrote is a mistake worth stopping on.
    """
    results_path = Path(results_path)
    out_path = check_follow_up_outputs(results_path, "status", out_path, report_dir, target.ledger_path, force=force)
    book = read_workbook(results_path)
    # The campaign's language (--language, else the campaign's, else the template's): notes and progress.
    facts = summary_facts(target, results_path)
    language = follow_up_language(facts, book, target)
    progress = in_language(progress or NullProgress(), language)
    scrub = scrubber(target.secrets)
    with open_ledger(target) as ledger, contextlib.closing(make_client(target, retry, sleep)) as client:
        tasks = campaign_tasks(book, ledger, target.ledger_endpoint, target.project_id)
        if not tasks:
            raise InputError("{path}: no created task (a CREATED row with a task_id) in this workbook",
                             path=results_path)
        ids = list(dict.fromkeys(t.task_id for t in tasks))
        watched = watch_states(client, ids, watch=watch, interval=interval, max_interval=max_interval,
                               timeout=timeout, progress=progress, sleep=sleep, clock=clock, interruptible=True,
                               settled=settled_for_watch, language=language)
        states = {i: replace(s, error_code=scrub(s.error_code), error_msg=scrub(s.error_msg))
                  for i, s in watched.states.items()}
        running = [i for i in ids if is_started(states[i].status)]
        progresses = query_progress(client, running, scrub) if running else {}
        appended: dict[int, dict[str, object]] = {}
        for task in tasks:
            state = states[task.task_id]
            values: dict[str, object] = {"task_status": state.status, "error_code": state.error_code,
                                         "error_msg": state.error_msg}
            if task.from_ledger:
                values.update(task_id=task.task_id, result=task.result)
            values.update(progresses.get(task.task_id, {}))
            appended[task.excel_row] = values
            if ledger is not None and task.name:
                ledger.record_status(target.ledger_endpoint, target.project_id, task.name, state.status or "",
                                     state.error_code, state.error_msg)
        # Rows without a task still say why (the workbook's result, else the ledger's word), so
        # status of the operator's own workbook shows no blank results either.
        entries = {e.name.lower(): e for e in ledger.entries(target.ledger_endpoint, target.project_id)} \
            if ledger is not None else {}
        tracked = {t.excel_row for t in tasks}
        for excel_row, cells in book.cells.items():
            name = _cell_text(cells.get("name"))
            if name and excel_row not in tracked:
                appended[excel_row] = never_created_columns(book, excel_row, entries.get(name.lower()),
                                                            language=language)
        ledger_path = target.ledger_path if ledger is not None else None
    campaign = follow_up_campaign(results_path, "status", book, target, facts)
    failed_rows = [t.excel_row for t in tasks if states[t.task_id].health == FAILED]
    failed_path = failed_path_for(out_path) if failed_rows else None
    files = write_follow_up(book, appended, campaign, out_path, report_dir, failed_rows=failed_rows,
                            failed_path=failed_path, ledger_path=ledger_path,
                            rebuild="run the same status command again to write them")
    task_states = [states[i] for i in ids]
    exit_code = exit_code_for_states(task_states)
    if watched.interrupted:
        exit_code = ExitCode.INCOMPLETE
    return StatusOutcome(results_path=out_path, report=files, tasks=tasks, states=states, rounds=watched.rounds,
                         timed_out=watched.timed_out, exit_code=exit_code, counts=health_counts(task_states),
                         ledger_path=ledger_path, interrupted=watched.interrupted, progress=progresses,
                         failed_path=failed_path, language=campaign.language)


def failed_lines(outcome: StatusOutcome, width: int = 100) -> list[str]:
    """The terminal's account of the failed tasks: each one named (a screenful, then "and N
    more"), then what resubmitting them takes. A failed task keeps its name until it is
    deleted, so the failed-rows workbook is rolled back first, then fixed and submitted."""
    failed = outcome.failed_tasks()
    if not failed:
        return []
    language = outcome.language
    lines = [say(language, "{tasks} failed after creation:", tasks=tasks_word(language, len(failed)))]
    lines += screenful(row_lines(((t.source_row, t.name, " ".join(x for x in (s.status or "NOT_FOUND", s.error_code,
                                                                              s.error_msg) if x))
                                  for t, s in failed), width, language), language=language)
    if outcome.failed_path is not None:
        lines += [
            say(language, "failed rows: {path}", path=outcome.failed_path),
            say(language, "to create them again (a failed task keeps its name until it is deleted):"),
            say(language, "  1. bulkimport rollback {path}   # deletes just these failed tasks",
                path=outcome.failed_path),
            say(language, "  2. fix the rows in {name} (retype the passwords shown as ****** or use env:NAME)",
                name=outcome.failed_path.name),
            f"  3. bulkimport submit {outcome.failed_path} ...",
        ]
    return lines
