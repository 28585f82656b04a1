"""Getting created tasks ready to start (`bulkimport prepare`): connection tests, object
selection and the pre-check, in bulk, from the workbook that was submitted.

A created task waits in CONFIGURATION. For every row the ledger shows created and whose task
the server says is still in CONFIGURATION, this module tests the source and destination
connections (`batch-connection`, passwords from the workbook, literal or `env:NAME`), selects
the objects of the row's `objects` cell (`batch-select-objects`, not for DR tasks), starts a
pre-check (`batch-precheck`) and polls its result (`batch-precheck-result`) until it is done or
`--timeout` passes. Every call carries at most 10 tasks; chunks of tasks run through the stages
in parallel (`--concurrency`).

Stage outcomes are row states (docs/launch-api.md): the ledger records each stage per task,
so a re-run resumes each row where it stands: a passed pre-check is not repeated (unless
`force`), a running one is only polled, anything else is prepared again from the start.

Passwords exist only in the connection items built just before their request; the ledger,
the results workbook, the report and every message get masked or scrubbed text.
"""

from __future__ import annotations

import contextlib
import os
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bulkimport import fields, payload
from bulkimport import ledger as L
from bulkimport.drs import DrsClient, DrsError, RetryPolicy
from bulkimport.errors import InputError
from bulkimport.findings import EN, ZH, Finding, Message, Severity, joined, msg, note
from bulkimport.outcomes import ExitCode
from bulkimport.progress import NullProgress, Progress, in_language
from bulkimport.report import ReportFiles
from bulkimport.status import (
    TaskState,
    check_follow_up_outputs,
    follow_up_campaign,
    follow_up_language,
    never_created_columns,
    number_or_text,
    open_ledger,
    query_states,
    write_follow_up,
)
from bulkimport.target import Target, make_client, scrubber, summary_facts
from bulkimport.terminal import say, tasks_word

if TYPE_CHECKING:  # validate (pandas, pandera) is imported when prepare runs, not when it is imported
    from bulkimport.validate import Validation

#: Values of the appended `connection` and `precheck` columns.
OK = "OK"
FAILED = "FAILED"
PASSED = "PASSED"
PENDING = "PENDING"
NOT_CREATED = "NOT_CREATED"
#: The only status in which a task can be prepared.
CONFIGURATION = "CONFIGURATION"
#: The DR scenario: no object selection (the whole instance is replicated).
DR = "cloudDataGuard"
#: Columns `prepare` appends (besides result/task_id/task_status/error_code/error_msg).
PREPARE_COLUMNS = ("connection", "precheck", "precheck_passed_rate")
_SIDES = {"source_endpoint": "source", "target_endpoint": "destination"}
#: What the connection test needs of each endpoint (the page marks them mandatory); the
#: catalogue's list, which validation's `connection_incomplete` warning reads too.
CONNECTION_NEEDS = fields.CONNECTION_FIELDS


@dataclass
class TaskRow:
    """One created task of the workbook and what prepare learnt about it.

    Its first fields look like `start.StartRow`'s, but the two are kept apart on purpose: a
    TaskRow always has a task (`task_id` is required) and carries the stage results, a
    StartRow is any row of the workbook, with or without a task."""

    excel_row: int
    source_row: int
    name: str
    task_id: str
    typed: Mapping[str, object]
    status: str | None = None
    connection: str | None = None
    precheck: str | None = None
    passed_rate: str | None = None
    error_code: str | None = None
    error_msg: str | None = None
    precheck_id: str | None = None
    #: Why this task is not prepared in this run (None: it is).
    skip: str | None = None
    #: The row's `result` cell in the workbook (kept when it says the task exists).
    result: str | None = None
    #: The task's subtasks, as the ledger recorded them at creation (dual-active DR).
    child_ids: tuple[str, ...] = ()
    #: The verdict for the exit code: passed, failed, pending (still running / not settled) or unknown.
    verdict: str = "pending"

    def fail(self, code: str | None, message: str | None, verdict: str = "failed") -> None:
        if self.error_msg is None:
            self.error_code, self.error_msg = code, message
        self.verdict = verdict


@dataclass
class PrepareOutcome:
    results_path: Path
    report: ReportFiles
    tasks: list[TaskRow]
    not_created: list[int]
    exit_code: int
    timed_out: bool = False
    counts: dict[str, int] = field(default_factory=dict)
    requests: int = 0
    #: Seconds from the first request (the status query) to the last answer: the launch phase
    #: the benchmark compares with its ideal (validation and writing the results are not in it).
    phase_seconds: float = 0.0
    #: The language the outputs and the terminal lines are written in.
    language: str = "en-us"

    def to_json(self) -> dict[str, Any]:
        return {
            "exit_code": self.exit_code,
            "counts": self.counts,
            "timed_out": self.timed_out,
            "results_workbook": str(self.results_path),
            "report": {"html": str(self.report.html), "json": str(self.report.json)},
            "not_created_rows": len(self.not_created),
            "tasks": [{"source_row": t.source_row, "name": t.name, "task_id": t.task_id, "task_status": t.status,
                       "connection": t.connection, "precheck": t.precheck, "precheck_passed_rate": t.passed_rate,
                       "error_code": t.error_code, "error_msg": t.error_msg} for t in self.tasks],
        }


# -- reading the campaign -----------------------------------------------------------------------

def _text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


def _row_errors(findings: Iterable[Finding], excel_row: int, language: str = "en-us") -> str | None:
    errors = [f for f in findings if f.row == excel_row and f.severity == Severity.ERROR]
    if not errors:
        return None
    return joined(language, (f.sentence_for(language) for f in errors))


def created_tasks(validation: Validation, ledger: L.Ledger, target: Target) -> tuple[list[TaskRow], list[int]]:
    """The workbook's rows whose task the ledger shows this tool created (the ledger is the
    authority for the task ID: a workbook cell cannot point prepare at someone else's task),
    and the Excel rows of the others."""
    entries = {e.name.lower(): e for e in ledger.entries(target.ledger_endpoint, target.project_id)}
    book = validation.book
    tasks: list[TaskRow] = []
    not_created: list[int] = []
    for excel_row in book.cells:
        typed = validation.rows[excel_row]
        name = _text(typed.get("name")) or _text(book.cells[excel_row].get("name"))
        entry = entries.get(name.lower()) if name else None
        if entry is None or not entry.exists or not entry.task_id:
            not_created.append(excel_row)
            continue
        result = _text(book.cells[excel_row].get("result")).upper()
        tasks.append(TaskRow(excel_row, book.source_row(excel_row), entry.name, entry.task_id, typed,
                             result=result if result in ("CREATED", "ALREADY_CREATED") else None,
                             child_ids=tuple(entry.child_ids)))
    return tasks, not_created


# -- the stages ---------------------------------------------------------------------------------

def _side(endpoint: str) -> Message:
    return msg(f"side.{_SIDES[endpoint]}")


def _endpoint_text(row: Mapping[str, object], endpoint: str, language: str = EN) -> str:
    ip, port, inst = (row.get(f"{endpoint}.{a}") for a in ("ip", "db_port", "inst_id"))
    where = f"{ip}:{port}" if ip and port else str(ip or inst or "")
    return note(language, "note:endpoint", side=_side(endpoint), where=where).strip()


def _missing_connection_fields(row: Mapping[str, object], language: str = EN) -> str | None:
    """Why an endpoint cannot be tested from this row (blank ip, user or password), or None."""
    problems = []
    for endpoint in _SIDES:
        blank = [a for a in CONNECTION_NEEDS if payload._blank(row.get(f"{endpoint}.{a}"))]
        if blank:
            problems.append(note(language, "note:connection_needs", side=_side(endpoint),
                                 keys=", ".join(f"{endpoint}.{a}" for a in blank)))
    return joined(language, problems)


def _by_id(items: Sequence[Mapping[str, Any]], ids: Sequence[str], key: str = "id") -> dict[str, Mapping[str, Any]]:
    """Reply items keyed by task id; an item without a known id is matched by its position."""
    found: dict[str, Mapping[str, Any]] = {}
    for position, item in enumerate(items):
        task_id = _text(item.get(key))
        if task_id not in ids and position < len(ids):
            task_id = ids[position]
        found.setdefault(task_id, item)
    return found


def _failure(item: Mapping[str, Any] | None, language: str = EN) -> tuple[str | None, str]:
    if item is None:
        return None, note(language, "note:answer_missing_task")
    return (_text(item.get("error_code")) or None,
            _text(item.get("error_msg") or item.get("error_message")) or note(language, "note:no_reason"))


def _connected(item: Mapping[str, Any] | None) -> bool:
    if item is None:
        return False
    success = item.get("success")
    if isinstance(success, bool):
        return success
    return _text(item.get("status")).lower() == "success"


def _percent(text: object) -> float:
    try:
        return float(_text(text).rstrip("%") or 0)
    except ValueError:
        return 0.0


def precheck_verdict(item: Mapping[str, Any], language: str = EN) -> tuple[str, str | None, str | None, str | None]:
    """(PASSED | FAILED | PENDING, passed rate, error_code, message) of one pre-check result:
    pending below 100%; FAILED items are the failure, ALARM items are listed as warnings (the
    message's own words in `language`, the server's items as sent)."""
    code = _text(item.get("error_code")) or None
    if code and not item.get("precheck_result") and item.get("result") is None:
        return FAILED, None, code, _text(item.get("error_msg")) or note(language, "note:precheck_unreadable")
    if _percent(item.get("process")) < 100:
        return PENDING, None, None, None
    rate = _text(item.get("total_passed_rate")) or None
    items = [i for i in item.get("precheck_result") or [] if isinstance(i, Mapping)]

    def described(i: Mapping[str, Any]) -> str:
        group = _text(i.get("group"))
        reason = _text(i.get("failed_reason")) or _text(i.get("raw_error_msg")) or note(language, "note:no_reason")
        return f"{_text(i.get('item'))}{f' ({group})' if group else ''}: {reason}"

    failed = [i for i in items if _text(i.get("result")).upper() == "FAILED"]
    alarms = [i for i in items if _text(i.get("result")).upper() == "ALARM"]
    warnings = note(language, "note:precheck_warnings", items=joined(language, map(described, alarms))) \
        if alarms else None
    if item.get("result") is True and not failed:
        return PASSED, rate, None, warnings
    parts = [note(language, "note:precheck_failed",
                  items=joined(language, map(described, failed)) or msg("note:no_item_named"))]
    if warnings:
        parts.append(warnings)
    first = _text(failed[0].get("item")) if failed else None
    return FAILED, rate, first or code, ("。" if language == ZH else ". ").join(parts)


class _Stages:
    """Runs the stages for chunks of tasks, recording each in the ledger.

    Its constructor holds what `submit.engine.Engine`'s does (client, ledger, the target's
    endpoint and project, scrubber, a lock); no common base: the engine is the exactly-once
    creation loop (retry policy, stop, outcomes), this the launch stages, and a base for six
    assignments would tie the two together."""

    def __init__(self, client: DrsClient, ledger: L.Ledger, target: Target, env: Mapping[str, str],
                 scrub: Callable[[str | None], str | None], language: str = EN) -> None:
        self.client = client
        self.language = language
        self.ledger = ledger
        self.endpoint = target.ledger_endpoint
        self.project = target.project_id
        self.env = env
        self.scrub = scrub
        self.requests = 0
        self._lock = threading.Lock()

    def _count(self, n: int = 1) -> None:
        with self._lock:
            self.requests += n

    def _record(self, stage: str, state: str, tasks: Sequence[TaskRow], detail: Callable[[TaskRow], dict] | None
                = None, errors: Mapping[str, tuple[str | None, str | None]] | None = None) -> None:
        if not tasks:
            return
        errors = errors or {}
        self.ledger.record_stages(self.endpoint, self.project, [
            (t.name, t.task_id, detail(t) if detail else {}, *errors.get(t.task_id, (None, None))) for t in tasks
        ], stage, state)

    def connect(self, tasks: list[TaskRow]) -> list[TaskRow]:
        """Test both endpoints of each task (sources in one request, destinations in another:
        a task's two items share its id). Returns the tasks whose both endpoints passed."""
        verdicts: dict[str, dict[str, tuple[bool, str | None, str]]] = {t.task_id: {} for t in tasks}
        for endpoint in payload.END_POINT_TYPES:
            items = [payload.connection_item(t.typed, endpoint, t.task_id, secrets=payload.Secrets.RESOLVE,
                                             env=self.env, where=f"row {t.source_row}") for t in tasks]
            self._count()
            replies = _by_id(self.client.test_connections(items), [t.task_id for t in tasks])
            del items  # the passwords go out of scope with the request
            for task in tasks:
                reply = replies.get(task.task_id)
                code, message = _failure(reply, self.language)
                verdicts[task.task_id][endpoint] = (_connected(reply), code, message)
        passed, failed = [], []
        errors: dict[str, tuple[str | None, str | None]] = {}
        for task in tasks:
            results = verdicts[task.task_id]
            problems = [(code, note(self.language, "note:could_not_connect",
                                    endpoint=_endpoint_text(task.typed, ep, self.language),
                                    reason=f"{(code + ' ') if code else ''}{self.scrub(message)}"))
                        for ep, (ok, code, message) in results.items() if not ok]
            if problems:
                task.connection = FAILED
                code = next((c for c, _ in problems if c), None)
                task.fail(code, joined(self.language, (text for _, text in problems)))
                errors[task.task_id] = (code, task.error_msg)
                failed.append(task)
            else:
                task.connection = OK
                passed.append(task)

        def detail(t: TaskRow) -> dict:
            return {_SIDES[ep]: "ok" if ok else "failed" for ep, (ok, _, _) in verdicts[t.task_id].items()}

        self._record(L.STAGE_CONNECTION, L.STAGE_OK, passed, detail)
        self._record(L.STAGE_CONNECTION, L.STAGE_FAILED, failed, detail, errors)
        return passed

    def select(self, tasks: list[TaskRow]) -> list[TaskRow]:
        """Select each task's objects (DR tasks replicate the whole instance: nothing sent)."""
        todo = [t for t in tasks if t.typed.get("db_use_type") != DR]
        if not todo:
            return tasks
        items = [payload.select_objects_item(t.task_id, t.typed.get("objects"), _text(t.typed.get("engine_type")))
                 for t in todo]
        self._count()
        replies = _by_id(self.client.select_objects(items), [t.task_id for t in todo], key="job_id")
        ok, failed = [], []
        errors: dict[str, tuple[str | None, str | None]] = {}
        for task in todo:
            reply = replies.get(task.task_id)
            status = reply.get("status") if reply is not None else None
            if status is True or _text(status).lower() in ("true", "success"):
                ok.append(task)
                continue
            code, message = _failure(reply, self.language)
            task.fail(code, note(self.language, "note:objects_refused",
                                 reason=f"{(code + ' ') if code else ''}{self.scrub(message)}"))
            errors[task.task_id] = (code, task.error_msg)
            failed.append(task)

        def detail(t: TaskRow) -> dict:
            entries = payload.database_info(t.typed.get("objects"), _text(t.typed.get("engine_type")))
            return {"selected": bool(entries), "objects": _text(t.typed.get("objects"))}

        self._record(L.STAGE_OBJECTS, L.STAGE_OK, ok, detail)
        self._record(L.STAGE_OBJECTS, L.STAGE_FAILED, failed, detail, errors)
        dr = [t for t in tasks if t.typed.get("db_use_type") == DR]
        return dr + ok

    def precheck(self, tasks: list[TaskRow]) -> list[TaskRow]:
        """Start a pre-check for each task (recorded as requested first). Returns those running."""
        if not tasks:
            return []
        self._record(L.STAGE_PRECHECK, L.PRECHECK_REQUESTED, tasks)
        self._count()
        replies = _by_id(self.client.start_prechecks([t.task_id for t in tasks]), [t.task_id for t in tasks])
        running, failed = [], []
        errors: dict[str, tuple[str | None, str | None]] = {}
        for task in tasks:
            reply = replies.get(task.task_id)
            if reply is not None and _text(reply.get("status")).lower() == "success":
                task.precheck_id = _text(reply.get("precheck_id")) or task.task_id
                task.precheck = PENDING
                running.append(task)
                continue
            code, message = _failure(reply, self.language)
            task.precheck = FAILED
            task.fail(code, note(self.language, "note:precheck_not_started",
                                 reason=f"{(code + ' ') if code else ''}{self.scrub(message)}"))
            errors[task.task_id] = (code, task.error_msg)
            failed.append(task)
        self._record(L.STAGE_PRECHECK, L.PRECHECK_RUNNING, running, lambda t: {"precheck_id": t.precheck_id})
        self._record(L.STAGE_PRECHECK, L.PRECHECK_FAILED, failed, errors=errors)
        return running

    def results(self, tasks: list[TaskRow]) -> list[TaskRow]:
        """One look at the pre-check results of some running tasks; records the settled ones.
        Returns the tasks still running."""
        self._count()
        ids = [t.task_id for t in tasks]
        answers = self.client.precheck_results(ids)
        by_precheck = {_text(a.get("precheck_id")): a for a in answers if _text(a.get("precheck_id"))}
        still = []
        settled: dict[str, list[TaskRow]] = {PASSED: [], FAILED: []}
        for position, task in enumerate(tasks):
            answer = by_precheck.get(task.precheck_id or task.task_id) or by_precheck.get(task.task_id)
            if answer is None and position < len(answers) and not _text(answers[position].get("precheck_id")):
                answer = answers[position]
            if answer is None:
                still.append(task)
                continue
            verdict, rate, code, message = precheck_verdict(answer, self.language)
            if verdict == PENDING:
                still.append(task)
                continue
            task.precheck, task.passed_rate = verdict, rate
            if verdict == PASSED:
                task.verdict = "passed"
                task.error_msg = self.scrub(message)  # warnings (ALARM items), not an error
                task.error_code = None
            else:
                task.fail(code, self.scrub(message))
            settled[verdict].append(task)
        self._record(L.STAGE_PRECHECK, L.PRECHECK_PASSED, settled[PASSED],
                     lambda t: {"precheck_id": t.precheck_id, "passed_rate": t.passed_rate, "warnings": t.error_msg})
        self._record(L.STAGE_PRECHECK, L.PRECHECK_FAILED, settled[FAILED],
                     lambda t: {"precheck_id": t.precheck_id, "passed_rate": t.passed_rate},
                     {t.task_id: (t.error_code, t.error_msg) for t in settled[FAILED]})
        return still


# -- the command's work ---------------------------------------------------------------------------

def _chunks(items: Sequence[TaskRow], size: int = payload.fields.MAX_JOBS_PER_REQUEST) -> list[list[TaskRow]]:
    return [list(items[i:i + size]) for i in range(0, len(items), size)]


def _resume(task: TaskRow, records: Mapping[str, L.StageRecord], force: bool) -> str:
    """Where a task in CONFIGURATION stands: "done" (pre-check passed), "poll" (running) or "run"."""
    precheck = records.get(L.STAGE_PRECHECK)
    connection = records.get(L.STAGE_CONNECTION)
    if precheck is None or force:
        return "run"
    if precheck.state == L.PRECHECK_PASSED:
        task.connection = OK if connection is None or connection.state == L.STAGE_OK else None
        task.precheck, task.passed_rate = PASSED, precheck.detail.get("passed_rate")
        task.error_msg = precheck.detail.get("warnings")
        task.verdict = "passed"
        return "done"
    if precheck.state == L.PRECHECK_RUNNING:
        task.connection = OK
        task.precheck = PENDING
        task.precheck_id = precheck.detail.get("precheck_id") or task.task_id
        return "poll"
    return "run"


def _settle_not_in_configuration(task: TaskRow, state: TaskState, records: Mapping[str, L.StageRecord],
                                 language: str = EN) -> None:
    """A task that is not in CONFIGURATION is left alone; its row says why (in `language`)."""
    from bulkimport.report import task_health

    status = state.status
    precheck = records.get(L.STAGE_PRECHECK)
    connection = records.get(L.STAGE_CONNECTION)
    task.connection = {L.STAGE_OK: OK, L.STAGE_FAILED: FAILED}.get(connection.state) if connection else None
    if precheck is not None:
        task.precheck = {L.PRECHECK_PASSED: PASSED, L.PRECHECK_FAILED: FAILED}.get(precheck.state, PENDING)
        task.passed_rate = precheck.detail.get("passed_rate")
    if status == "CREATING":
        task.skip = note(language, "note:still_creating")
        task.fail(None, task.skip, "pending")
    elif status is None:
        task.skip = state.error_msg or note(language, "note:server_unknown_task")
        task.fail(state.error_code, task.skip)
    elif task_health(status) == "failed" or status == "CREATE_FAILED":
        task.skip = note(language, "note:cannot_prepare", status=status)
        why = (f"（{state.error_msg}）" if language == ZH else f" ({state.error_msg})") if state.error_msg else ""
        task.fail(state.error_code, task.skip + why)
    else:  # started (or stopped) already: prepare has nothing left to do
        task.skip = note(language, "note:past_configuration", status=status)
        task.verdict = "passed"
        task.error_msg = task.skip


def prepare_workbook(path: str | Path, target: Target, *, out_path: Path | None = None,
                     report_dir: Path = Path("reports"), timeout: float = 600.0, interval: float = 5.0,
                     force: bool = False, concurrency: int = 4, env: Mapping[str, str] = os.environ,
                     retry: RetryPolicy | None = None, progress: Progress | None = None,
                     sleep: Callable[[float], None] = time.sleep,
                     clock: Callable[[], float] = time.monotonic, replace_outputs: bool = False) -> PrepareOutcome:
    """The `prepare` command's work (see the module docstring). Raises InputError (exit 2) for
    unusable input: no ledger, no created task, an `env:` variable that is not set, an output
    that cannot be written (`replace_outputs`: --force, replace an operator's --out file)."""
    from bulkimport.submit.run import _SimulatedEnv
    from bulkimport.validate import validate_workbook

    path = Path(path)
    progress = progress or NullProgress()
    out_path = check_follow_up_outputs(path, "prepare", out_path, report_dir, target.ledger_path,
                                       force=replace_outputs)
    if not 1 <= concurrency <= 32:
        raise InputError("concurrency must be between 1 and {most}, not {n}", most=32, n=concurrency)
    validation = validate_workbook(path, language=target.language or None)
    # --language, else the campaign's, else the template's: the notes and the progress lines.
    facts = summary_facts(target, path)
    language = follow_up_language(facts, validation.book, target)
    progress = in_language(progress, language)
    timed_out = False
    with open_ledger(target) as ledger:
        if ledger is None:
            raise InputError("no ledger at {path}: prepare works on the tasks the ledger shows this tool created "
                             "(give --ledger PATH, the one submit used)", path=target.ledger_path)
        tasks, not_created = created_tasks(validation, ledger, target)
        if not tasks:
            raise InputError("{path}: the ledger shows no task created for any row of this workbook", path=path)
        never = _never_created(validation, ledger, target, not_created, language)
        stage_records = ledger.stages(target.ledger_endpoint, target.project_id)
        resolve_env = _SimulatedEnv(env) if target.simulator is not None else env
        with contextlib.closing(make_client(target, retry, sleep, pool_size=concurrency + 2)) as client:
            phase_started = time.monotonic()
            states = _states_in_parallel(client, [t.task_id for t in tasks], concurrency, language)
            to_run: list[TaskRow] = []
            to_poll: list[TaskRow] = []
            for task in tasks:
                state = states[task.task_id]
                task.status = state.status
                records = stage_records.get(task.name.lower(), {})
                if state.status != CONFIGURATION:
                    _settle_not_in_configuration(task, state, records, language)
                    continue
                where = _resume(task, records, force)
                if where == "poll":
                    to_poll.append(task)
                elif where == "run":
                    problems = _row_errors(validation.findings, task.excel_row, language)
                    missing = _missing_connection_fields(task.typed, language)
                    if problems:
                        task.fail(None, note(language, "note:row_has_errors", problems=problems))
                    elif missing:
                        task.connection = FAILED
                        task.fail(None, missing)
                        ledger.record_stage(target.ledger_endpoint, target.project_id, task.name,
                                            L.STAGE_CONNECTION, L.STAGE_FAILED, task_id=task.task_id,
                                            error_msg=missing)
                    else:
                        to_run.append(task)
            # Every password is resolved before the first request, so an unset env: variable
            # stops the run with nothing sent; the values are kept only to scrub server text.
            secrets: list[str] = []
            for task in to_run:
                for endpoint in payload.END_POINT_TYPES:
                    item = payload.connection_item(task.typed, endpoint, task.task_id,
                                                   secrets=payload.Secrets.RESOLVE, env=resolve_env,
                                                   where=say(language, "row {row}", row=task.source_row))
                    secrets += [str(item[k]) for k in ("db_password", "ssl_cert_key", "ssl_cert_password")
                                if item.get(k)]
            if isinstance(resolve_env, _SimulatedEnv) and resolve_env.missing:
                progress.note(say(language, "simulate: {names} not set; the simulator gets a placeholder instead",
                                  names=", ".join(sorted(resolve_env.missing))))
            scrub = scrubber([*secrets, *target.secrets])
            del secrets
            stages = _Stages(client, ledger, target, resolve_env, scrub, language)
            progress.start(len(tasks), "preparing")

            def report(still: int) -> None:
                verdicts = Counter(t.verdict for t in tasks)
                verdicts["pending"] = still + sum(1 for t in tasks if t.verdict == "pending" and t.skip)
                progress.update(len(tasks) - verdicts["pending"], dict(verdicts))

            def run_chunk(chunk: list[TaskRow]) -> list[TaskRow]:
                try:
                    connected = stages.connect(chunk)
                    selected = stages.select(connected) if connected else []
                    return stages.precheck(selected) if selected else []
                except DrsError as exc:
                    for task in chunk:
                        if task.verdict == "pending" and task.error_msg is None:
                            task.fail(exc.error_code, scrub(note(language, "note:stopped", error=exc.said(language))),
                                      "unknown")
                    return []

            with ThreadPoolExecutor(max_workers=concurrency) as pool:
                running = [t for chunk in pool.map(run_chunk, _chunks(to_run)) for t in chunk]
                pending = to_poll + running
                if pending:
                    progress.note(say(language, "pre-check running for {tasks}; results every {interval}s for up "
                                      "to {timeout}s", tasks=tasks_word(language, len(pending)),
                                      interval=f"{interval:g}", timeout=f"{timeout:g}"))
                deadline = clock() + max(0.0, timeout)
                first = True
                while pending:
                    if not first:
                        remaining = deadline - clock()
                        if remaining <= 0:
                            timed_out = True
                            break
                        sleep(min(interval, remaining))
                    first = False

                    def poll(chunk: list[TaskRow]) -> list[TaskRow]:
                        try:
                            return stages.results(chunk)
                        except DrsError:
                            return chunk  # asked again next round; unknown if the deadline passes

                    pending = [t for chunk in pool.map(poll, _chunks(pending)) for t in chunk]
                    report(len(pending))
            for task in pending:
                task.precheck = PENDING
                task.fail(None, note(language, "note:precheck_still_running"), "pending")
            progress.finish()
            requests = stages.requests
            phase_seconds = time.monotonic() - phase_started
    appended = _appended(tasks, never)
    campaign = follow_up_campaign(path, "prepare", validation.book, target, facts)
    files = write_follow_up(validation.book, appended, campaign, out_path, report_dir, ledger_path=target.ledger_path,
                            findings=validation.findings)
    counts = _counts(tasks, not_created)
    return PrepareOutcome(out_path, files, tasks, not_created, exit_code_for_prepare(tasks), timed_out, counts,
                          requests, phase_seconds, language=campaign.language)


def _states_in_parallel(client: DrsClient, ids: list[str], concurrency: int,
                        language: str = EN) -> dict[str, TaskState]:
    """batch-status for every task, its pages of 100 in flight together (a wave of 1,000 tasks
    would otherwise wait ten round trips before its first connection test)."""
    pages = [ids[i:i + 100] for i in range(0, len(ids), 100)]
    if len(pages) <= 1:
        return query_states(client, ids, language)
    states: dict[str, TaskState] = {}
    with ThreadPoolExecutor(max_workers=min(concurrency, len(pages))) as pool:
        for found in pool.map(lambda page: query_states(client, page, language), pages):
            states.update(found)
    return states


def exit_code_for_prepare(tasks: Iterable[TaskRow]) -> int:
    """3 some pre-check still running or some outcome unknown > 1 some task failed > 0."""
    verdicts = {t.verdict for t in tasks}
    if verdicts & {"pending", "unknown"}:
        return ExitCode.INCOMPLETE
    if "failed" in verdicts:
        return ExitCode.SOME_FAILED
    return ExitCode.OK


def _counts(tasks: Sequence[TaskRow], not_created: Sequence[int]) -> dict[str, int]:
    counts = {"passed": 0, "failed": 0, "pending": 0, "unknown": 0}
    for task in tasks:
        counts[task.verdict] = counts.get(task.verdict, 0) + 1
    counts["not_created"] = len(not_created)
    return counts


def _never_created(validation: Validation, ledger: L.Ledger, target: Target, rows: Sequence[int],
                   language: str = EN) -> dict[int, dict[str, object]]:
    """The rows without a task keep why: validation's errors, the workbook's result, the ledger's
    word (in `language`, the follow-up's, like every other note of the run)."""
    book = validation.book
    names = {r: _text(validation.rows[r].get("name")) or _text(book.cells.value(r, "name")) for r in rows}
    entries = ledger.lookup(target.ledger_endpoint, target.project_id, [n for n in names.values() if n])
    return {r: never_created_columns(book, r, entries.get(names[r].lower()), validation.findings, language)
            for r in rows}


def _appended(tasks: Sequence[TaskRow], never: Mapping[int, Mapping[str, object]]) -> dict[int, dict[str, object]]:
    appended: dict[int, dict[str, object]] = {}
    for task in tasks:
        appended[task.excel_row] = {
            "result": task.result or "CREATED", "task_id": task.task_id, "child_ids": ",".join(task.child_ids) or None,
            "task_status": task.status, "connection": task.connection,
            "precheck": task.precheck, "precheck_passed_rate": number_or_text(task.passed_rate, percent=True),
            "error_code": task.error_code,
            "error_msg": task.error_msg,
        }
    for excel_row, columns in never.items():
        appended[excel_row] = {"precheck": NOT_CREATED, **columns}
    return appended
