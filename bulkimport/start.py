"""Starting the prepared tasks, each exactly once (`bulkimport start`).

`batch-starting` has no idempotency key and starting a task twice is at best refused, so this
module is careful in the way `submit` is (docs/launch-api.md, "Start"):

* only tasks whose latest pre-check passed (the ledger's `precheck` stage) and that the server
  says are still in CONFIGURATION are sent; a task past CONFIGURATION was started already and
  is reported STARTED without a request;
* the ledger records every start request (`sending`) before it leaves and its answer after;
* after a doubtful failure (5xx, timeout, reset, a lost reply) the task's status is asked at
  once: past CONFIGURATION means it started; otherwise the row is UNKNOWN and the ledger keeps
  it `in_doubt`, and the next run asks the server again before sending anything;
* 429 / DRS.M01503 mean nothing was started: the request is sent again after a backoff.

The plan (what will be started, what is skipped and why) is built and shown before anything
is sent; `execute_start` runs only after the operator agreed.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bulkimport import fields
from bulkimport import ledger as L
from bulkimport.book_read import WorkbookData, read_workbook
from bulkimport.campaign import Campaign
from bulkimport.drs import DrsClient, ReplyKind, RetryPolicy
from bulkimport.errors import InputError
from bulkimport.findings import EN, msg, note
from bulkimport.outcomes import ExitCode
from bulkimport.progress import NullProgress, Progress, in_language
from bulkimport.report import ReportFiles
from bulkimport.status import (
    check_follow_up_outputs,
    follow_up_campaign,
    follow_up_language,
    never_created_columns,
    open_ledger,
    query_states,
    write_follow_up,
)
from bulkimport.target import Target, make_client, scrubber, summary_facts
from bulkimport.terminal import row_label, rows_word, say, tasks_word

STARTED = "STARTED"
START_FAILED = "START_FAILED"
SKIPPED = "SKIPPED"
UNKNOWN = "UNKNOWN"
CONFIGURATION = "CONFIGURATION"
#: Seconds a start request left in doubt (a kill, a lost answer) may still be on its way
#: through the service: until then a task still in CONFIGURATION is UNKNOWN, not sent again.
DOUBT_GRACE = 60.0
#: Statuses from which a task has not been started (docs/launch-api.md: anything else has).
NOT_STARTED = frozenset({"CREATING", "CREATE_FAILED", CONFIGURATION})


@dataclass
class StartRow:
    """One row of the workbook and what `start` does (or did) with it: any row, with or
    without a task (unlike `prepare.TaskRow`, which is always a created task)."""

    excel_row: int
    source_row: int
    name: str
    task_id: str | None = None
    status: str | None = None
    start: str | None = None
    error_code: str | None = None
    error_msg: str | None = None
    result: str | None = None
    #: A row without a task: its result columns as the workbook or the ledger explain it.
    never: dict[str, object] | None = None

    def columns(self, start_time: str | None) -> dict[str, object]:
        if self.never is not None:
            return {"start": self.start, **self.never}
        values: dict[str, object] = {"start": self.start, "error_code": self.error_code,
                                     "error_msg": self.error_msg}
        if self.task_id:
            values.update(task_id=self.task_id, task_status=self.status, result=self.result or "CREATED")
            if self.start == STARTED and start_time:
                values["start_time"] = start_time
        return values


@dataclass
class StartPlan:
    path: Path
    book: WorkbookData
    rows: list[StartRow]
    #: `start_time` on the wire (ms since the epoch, as a string) for `--at`, else None.
    start_time: str | None = None
    #: `--at` as the operator reads it (ISO 8601 UTC).
    at_text: str | None = None
    #: The language the plan and the prompt are written in (`status.follow_up_language`).
    language: str = "en-us"
    #: The campaign facts of the workbook's Summary sheet (None: it has none), read once with
    #: the plan and carried into the start workbook and report.
    facts: Campaign | None = None

    @property
    def to_start(self) -> list[StartRow]:
        return [r for r in self.rows if r.start is None]


@dataclass
class StartOutcome:
    results_path: Path
    report: ReportFiles
    rows: list[StartRow]
    exit_code: int
    counts: dict[str, int] = field(default_factory=dict)
    requests: int = 0
    #: The language the outputs and the terminal lines are written in.
    language: str = "en-us"

    def to_json(self) -> dict[str, Any]:
        return {
            "exit_code": self.exit_code,
            "counts": self.counts,
            "results_workbook": str(self.results_path),
            "report": {"html": str(self.report.html), "json": str(self.report.json)},
            "rows": [{"source_row": r.source_row, "name": r.name, "task_id": r.task_id, "task_status": r.status,
                      "start": r.start, "error_code": r.error_code, "error_msg": r.error_msg} for r in self.rows],
        }


def parse_start_time(text: str, now: datetime | None = None) -> tuple[str, str]:
    """`--at` -> (ms since the epoch as the API's string, the same instant in ISO 8601 UTC).

    ISO 8601 (`2026-12-01T22:00`, `2026-12-01 22:00`, with `+01:00` or `Z`); a time without an
    offset is UTC. A time in the past is refused (InputError): the start would be immediate,
    which is not what a maintenance window means."""
    raw = text.strip()
    try:
        moment = datetime.fromisoformat(raw[:-1] + "+00:00" if raw.endswith(("Z", "z")) else raw)
    except ValueError:
        raise InputError("--at {at}: not a time; write ISO 8601 such as 2026-12-01T22:00 (UTC) or "
                         "2026-12-01T23:00+01:00", at=repr(text)) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    now = now or datetime.now(UTC)
    if moment <= now:
        raise InputError("--at {at} is in the past ({utc}); leave --at out to start now", at=repr(text),
                         utc=moment.astimezone(UTC).isoformat(timespec="minutes"))
    return str(int(moment.timestamp() * 1000)), moment.astimezone(UTC).isoformat(timespec="seconds")


def _text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


def plan_start(path: str | Path, target: Target, *, at: str | None = None, retry: RetryPolicy | None = None,
               sleep: Callable[[float], None] = time.sleep, now: datetime | None = None,
               doubt_grace: float = DOUBT_GRACE) -> StartPlan:
    """What `start` would do (reads only: the workbook, the ledger, batch-status).

    A task whose last start request is in doubt (the ledger says `sending` or `in_doubt`)
    and that the server still shows in CONFIGURATION is sent again only once `doubt_grace`
    seconds have passed since that request: a request cut off by a kill may still be on its
    way through the service, and a second start must not overtake it."""
    path = Path(path)
    start_time, at_text = parse_start_time(at, now) if at else (None, None)
    book = read_workbook(path)
    facts = summary_facts(target, path)
    language = follow_up_language(facts, book, target)
    with open_ledger(target) as ledger:
        if ledger is None:
            raise InputError("no ledger at {path}: start works on the tasks the ledger shows this tool created and "
                             "pre-checked (give --ledger PATH)", path=target.ledger_path)
        entries = {e.name.lower(): e for e in ledger.entries(target.ledger_endpoint, target.project_id)}
        stages = ledger.stages(target.ledger_endpoint, target.project_id)
    rows: list[StartRow] = []
    for excel_row, cells in book.cells.items():
        name = _text(cells.get("name"))
        row = StartRow(excel_row, book.source_row(excel_row), name)
        result = _text(cells.get("result")).upper()
        row.result = result if result in ("CREATED", "ALREADY_CREATED") else None
        entry = entries.get(name.lower()) if name else None
        if entry is None or not entry.exists or not entry.task_id:
            row.start, row.error_msg = SKIPPED, note(language, "note:start_not_created")
            row.never = never_created_columns(book, excel_row, entry, language=language)
        else:
            row.task_id = entry.task_id
        rows.append(row)
    created = [r for r in rows if r.task_id]
    if not created:
        raise InputError("{path}: the ledger shows no task created for any row of this workbook", path=path)
    with contextlib.closing(make_client(target, retry, sleep)) as client:
        states = query_states(client, [r.task_id for r in created if r.task_id], language)
    scrub = scrubber(target.secrets)  # the server's text, as status and submit scrub it
    for row in created:
        state = states[row.task_id]  # type: ignore[index]
        row.status = state.status
        precheck = stages.get(row.name.lower(), {}).get(L.STAGE_PRECHECK)
        if state.status is None:
            row.start, row.error_code = SKIPPED, state.error_code
            row.error_msg = note(language, "note:task_unknown", reason=scrub(state.error_msg) or msg("note:no_status"))
        elif state.status not in NOT_STARTED:
            row.start = STARTED
            row.error_msg = note(language, "note:already_started", status=state.status)
        elif state.status != CONFIGURATION:
            row.start, row.error_msg = SKIPPED, note(language, "note:not_configuration", status=state.status)
        elif precheck is None or precheck.state != L.PRECHECK_PASSED:
            what: object = msg("note:precheck_never_run") if precheck is None else {
                L.PRECHECK_FAILED: "FAILED", L.PRECHECK_RUNNING: msg("note:precheck_running"),
                L.PRECHECK_REQUESTED: msg("note:precheck_not_confirmed")}.get(precheck.state, precheck.state)
            row.start = SKIPPED
            row.error_msg = note(language, "note:precheck_not_passed", what=what)
        else:
            last = stages.get(row.name.lower(), {}).get(L.STAGE_START)
            age = _age(last.updated_at, now) if last is not None else None
            if last is not None and last.state in (L.START_SENDING, L.START_IN_DOUBT) and age is not None \
                    and age < doubt_grace:
                row.start = UNKNOWN
                row.error_msg = note(language, "note:start_recent", age=f"{age:.0f}", grace=f"{doubt_grace:g}")
    return StartPlan(path, book, rows, start_time, at_text, language, facts)


def _age(at: str | None, now: datetime | None) -> float | None:
    """Seconds since an ISO time stamp of the ledger (None when unreadable)."""
    if not at:
        return None
    try:
        then = datetime.fromisoformat(at)
    except ValueError:
        return None
    return ((now or datetime.now(UTC)) - then).total_seconds()


def plan_lines(plan: StartPlan) -> Iterable[str]:
    """The plan as the operator reads it before confirming."""
    lang = plan.language
    when = say(lang, "at {at} (UTC)", at=plan.at_text) if plan.at_text else say(lang, "now")
    todo = plan.to_start
    if todo:
        yield say(lang, "{tasks} whose pre-check passed will be STARTED {when}:", tasks=tasks_word(lang, len(todo)),
                  when=when)
        for row in todo:
            yield f"  {row_label(lang, row.source_row)}  {row.name:<50}  {row.task_id}"
    others = [r for r in plan.rows if r.start is not None]
    if others:
        yield say(lang, "{rows} will not be started:", rows=rows_word(lang, len(others)))
        for row in others:
            yield f"  {row_label(lang, row.source_row)}  {row.name:<50}  {row.start}: {row.error_msg}"


def confirm_question(plan: StartPlan) -> str:
    """The prompt before anything is started."""
    return say(plan.language, "Start the {tasks} listed above?", tasks=tasks_word(plan.language, len(plan.to_start)))


def _send_chunk(client: DrsClient, ledger: L.Ledger, target: Target, rows: list[StartRow], start_time: str | None,
                policy: RetryPolicy, sleep: Callable[[float], None],
                scrub: Callable[[str | None], str | None], language: str = EN) -> int:
    """Start at most 10 tasks exactly once; returns the number of requests sent (notes in `language`)."""
    endpoint, project = target.ledger_endpoint, target.project_id
    detail = {"start_time": start_time} if start_time else {}
    items = [{"job_id": r.task_id, **({"start_time": start_time} if start_time else {})} for r in rows]
    requests = 0
    attempt = 0
    started_at = time.monotonic()
    while True:
        attempt += 1
        ledger.record_stages(endpoint, project, [(r.name, r.task_id, detail, None, None) for r in rows],
                             L.STAGE_START, L.START_SENDING)
        requests += 1
        reply = client.send_start(items)
        code, message = reply.error_code, scrub(reply.error_msg)
        if reply.kind is ReplyKind.RETRY_SAFE:
            wait = policy.delay(attempt, reply.retry_after)
            if not policy.exhausted(attempt, time.monotonic() - started_at + wait):
                sleep(wait)
                continue
            reason = " ".join(str(x) for x in (code or reply.http_status, message) if x)
            _settle(ledger, target, rows, START_FAILED, code, note(language, "note:start_kept_refusing", reason=reason),
                    reply.request_id)
            return requests
        by_id = {_text(i.get("id") or i.get("job_id")): i for i in reply.results}
        if reply.kind is ReplyKind.ACCEPTED or (reply.kind is ReplyKind.REJECTED and by_id):
            doubtful = []
            for row in rows:
                item = by_id.get(row.task_id or "")
                if item is None:
                    if reply.kind is ReplyKind.ACCEPTED:
                        doubtful.append(row)
                    else:
                        _settle(ledger, target, [row], START_FAILED, code, message, reply.request_id)
                elif _text(item.get("status")).lower() == "success":
                    _settle(ledger, target, [row], STARTED, None, None, reply.request_id)
                else:
                    _settle(ledger, target, [row], START_FAILED, _text(item.get("error_code")) or None,
                            scrub(_text(item.get("error_msg")) or note(language, "note:refused_no_reason")),
                            reply.request_id)
            if doubtful:
                _resolve_doubt(client, ledger, target, doubtful, None, note(language, "note:answer_left_out"),
                               scrub, language)
            return requests
        if reply.kind is ReplyKind.REJECTED:
            _settle(ledger, target, rows, START_FAILED, code, message or f"HTTP {reply.http_status}",
                    reply.request_id)
            return requests
        _resolve_doubt(client, ledger, target, rows, code, message or note(language, "note:no_usable_answer"), scrub,
                       language)
        return requests


def _settle(ledger: L.Ledger, target: Target, rows: list[StartRow], outcome: str, code: str | None,
            message: str | None, request_id: str | None = None) -> None:
    state = {STARTED: L.START_STARTED, START_FAILED: L.START_FAILED, UNKNOWN: L.START_IN_DOUBT}[outcome]
    for row in rows:
        row.start, row.error_code, row.error_msg = outcome, code, message
    ledger.record_stages(target.ledger_endpoint, target.project_id,
                         [(r.name, r.task_id, {}, code, message) for r in rows], L.STAGE_START, state,
                         request_id=request_id)


def _resolve_doubt(client: DrsClient, ledger: L.Ledger, target: Target, rows: list[StartRow], code: str | None,
                   message: str, scrub: Callable[[str | None], str | None], language: str = EN) -> None:
    """A start request may have reached the server: ask each task's status. Past
    CONFIGURATION it started; otherwise the row is UNKNOWN and nothing is sent again now."""
    from bulkimport.drs import DrsError

    try:
        states = query_states(client, [r.task_id for r in rows if r.task_id], language)
    except DrsError as exc:
        _settle(ledger, target, rows, UNKNOWN, code,
                note(language, "note:start_doubt_unasked", message=message, error=scrub(exc.said(language))))
        return
    for row in rows:
        state = states[row.task_id]  # type: ignore[index]
        row.status = state.status
        if state.status is not None and state.status not in NOT_STARTED:
            _settle(ledger, target, [row], STARTED, None, None)
        else:
            _settle(ledger, target, [row], UNKNOWN, code,
                    note(language, "note:start_doubt_still", message=scrub(message), status=state.status))


def execute_start(plan: StartPlan, target: Target, *, out_path: Path | None = None,
                  report_dir: Path = Path("reports"), retry: RetryPolicy | None = None,
                  progress: Progress | None = None, sleep: Callable[[float], None] = time.sleep,
                  replace_outputs: bool = False) -> StartOutcome:
    """Send the plan's starts (10 a request), record each in the ledger, write the results
    (`replace_outputs`: --force, replace an operator's --out file)."""
    from bulkimport.drs import DrsError

    out_path = check_follow_up_outputs(plan.path, "start", out_path, report_dir, target.ledger_path,
                                       force=replace_outputs)
    progress = in_language(progress or NullProgress(), plan.language)
    policy = retry or RetryPolicy()
    scrub = scrubber(target.secrets)
    todo = plan.to_start
    requests = 0
    if todo:
        with open_ledger(target) as ledger, contextlib.closing(make_client(target, policy, sleep)) as client:
            assert ledger is not None  # plan_start refused a missing ledger
            progress.start(len(todo), "starting")
            done = 0
            for start in range(0, len(todo), fields.MAX_JOBS_PER_REQUEST):
                chunk = todo[start:start + fields.MAX_JOBS_PER_REQUEST]
                try:
                    requests += _send_chunk(client, ledger, target, chunk, plan.start_time, policy, sleep, scrub,
                                            plan.language)
                except DrsError as exc:  # only the status look-up raises; keep what is known
                    for row in chunk:
                        if row.start is None:
                            _settle(ledger, target, [row], UNKNOWN, exc.error_code, scrub(exc.said(plan.language)))
                done += len(chunk)
                progress.update(done, {})
            progress.finish()
            # The rows show the status after the start, not the CONFIGURATION of the plan.
            sent = [r for r in todo if r.start == STARTED and r.task_id]
            with contextlib.suppress(DrsError):
                for task_id, state in query_states(client, [r.task_id for r in sent if r.task_id],
                                                   plan.language).items():
                    for row in sent:
                        if row.task_id == task_id and state.status:
                            row.status = state.status
    appended = {r.excel_row: r.columns(plan.at_text) for r in plan.rows}
    campaign = follow_up_campaign(plan.path, "start", plan.book, target, plan.facts)
    files = write_follow_up(plan.book, appended, campaign, out_path, report_dir, ledger_path=target.ledger_path)
    outcomes = [r.start for r in plan.rows]
    counts = {k: outcomes.count(k) for k in (STARTED, START_FAILED, SKIPPED, UNKNOWN)}
    if UNKNOWN in outcomes:
        exit_code = ExitCode.INCOMPLETE
    elif START_FAILED in outcomes or SKIPPED in outcomes:
        exit_code = ExitCode.SOME_FAILED
    else:
        exit_code = ExitCode.OK
    return StartOutcome(out_path, files, plan.rows, exit_code, counts, requests, language=campaign.language)
