"""The `submit` command's library: validate, consult the ledger, send batches, reconcile,
collect one outcome per row, write the results.

Exactly once, without an idempotency key (docs/decisions.md "Exactly once"):

* every request is recorded in the ledger (rows `sending`) before it leaves and its answer
  right after it arrives, so a kill at any instant leaves each row either answered or
  findable as `sending`;
* after 429 / DRS.M01503 nothing was created, so the batch is sent again after a backoff;
* after anything else that may have reached the server (5xx, timeout, reset, lost reply,
  a kill) the rows are *in doubt*: they are looked up by name on the server before any of
  them is sent again, and only the ones not found are resent;
* a name the server says exists (DRS.M00277) is adopted only when this tool may have
  created it itself (the row was in doubt); otherwise the row is REJECTED and the foreign
  task is never touched.

The results are matched to rows by task name, never by position.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import signal
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bulkimport import fields, payload
from bulkimport.campaign import Campaign, now_iso
from bulkimport.errors import InputError, OutputWriteError
from bulkimport.findings import Finding, Severity, row_errors
from bulkimport.ledger import (
    CREATED,
    IN_DOUBT,
    NOT_CREATED,
    REJECTED,
    Ledger,
    LedgerEntry,
    LedgerError,
    Reply,
    ledger_lock,
)
from bulkimport.outcomes import Result, exit_code_for
from bulkimport.outputs import FILE, FOLDER, LEDGER, WORKBOOK, Output, check_outputs, write_failed
from bulkimport.progress import NullProgress, Progress
from bulkimport.target import (
    DEFAULT_LEDGER,
    DEMO_PROJECT_ID,
    REPORTS_DIR,
    SIMULATOR_ENDPOINT,
    Target,
    check_tls,
    cloud_target,
    scrubber,
    simulated_target,
    simulator_ledger_path,
)
from bulkimport.terminal import plural, row_lines, screenful

#: Results that a failed-rows workbook carries (rows to fix and submit again).
FAILED_RESULTS = frozenset({Result.INVALID, Result.REJECTED, Result.UNKNOWN, Result.NOT_SENT})
#: Error code used for rows whose outcome the tool itself could not establish.
NAME_EXISTS = "DRS.M00277"
#: Finding code of the drift warnings (the sheet or the workbook's names moved since creation).
DRIFT = "drift"
LANGUAGES = ("en-us", "zh-cn")
MAX_CONCURRENCY = 32


# -- options and outcomes -------------------------------------------------------------------

@dataclass
class SubmitOptions:
    """Everything `bulkimport submit` can be told; delays are options so tests run fast."""

    project_id: str | None = None
    endpoint: str | None = None
    region: str | None = None
    simulate: bool = False
    simulator_state: Path | None = None
    sheet: str | None = None
    batch_size: int = fields.MAX_JOBS_PER_REQUEST
    concurrency: int = 4
    dry_run: bool = False
    out: Path | None = None
    ledger: Path | None = None
    language: str = "en-us"
    ca_bundle: str | None = None
    insecure: bool = False
    connect_timeout: float = 10.0
    timeout: float = 120.0
    #: The retry deadline (`--retry-for`): seconds per batch, and per lookup, during which
    #: throttling and transient errors are retried; `max_attempts` is an optional extra bound.
    max_attempts: int | None = None
    max_retry_time: float = 300.0
    base_delay: float = 0.5
    max_delay: float = 20.0
    jitter: float = 0.5
    #: Where the sign-off report (HTML + JSON) goes.
    report_dir: Path = Path("reports")
    #: Replace an existing --out file even when it is not one of this tool's outputs.
    force: bool = False

    def check(self) -> None:
        """InputError (exit 2) for option values that cannot work."""
        payload.check_batch_size(self.batch_size)
        if not 1 <= self.concurrency <= MAX_CONCURRENCY:
            raise InputError(f"concurrency must be between 1 and {MAX_CONCURRENCY}, not {self.concurrency}")
        if self.language not in LANGUAGES:
            raise InputError(f"language must be one of {', '.join(LANGUAGES)}, not {self.language!r}")
        if self.max_attempts is not None and self.max_attempts < 1:
            raise InputError("max attempts must be at least 1")
        for name, value, positive in (("--timeout", self.timeout, True),
                                      ("connect timeout", self.connect_timeout, True),
                                      ("--max-retry-time", self.max_retry_time, False),
                                      ("--retry-delay", self.base_delay, False), ("max delay", self.max_delay, False),
                                      ("jitter", self.jitter, False)):
            if not (math.isfinite(value) and (value > 0 if positive else value >= 0)):
                raise InputError(f"{name} must be a finite number of seconds {'above' if positive else 'from'} 0, "
                                 f"not {value}")
        if not self.simulate and not (self.endpoint or self.region):
            raise InputError("give --endpoint URL, --region REGION or --simulate")
        if self.simulate and (self.endpoint or self.region):
            raise InputError("--simulate sends to a local simulator: leave out --endpoint and --region")
        if self.simulator_state is not None and not self.simulate:
            raise InputError("--simulator-state needs --simulate")


@dataclass
class RowOutcome:
    """What happened to one workbook row."""

    row: int
    name: str | None
    result: Result
    task_id: str | None = None
    child_ids: tuple[str, ...] = ()
    task_status: str | None = None
    error_code: str | None = None
    error_msg: str | None = None
    submitted_at: str | None = None
    request_id: str | None = None

    def columns(self) -> dict[str, object]:
        """The appended result columns (`source_row` is added by the workbook writer)."""
        return {
            "result": str(self.result),
            "task_id": self.task_id,
            "child_ids": ",".join(self.child_ids) or None,
            "task_status": self.task_status,
            "error_code": self.error_code,
            "error_msg": self.error_msg,
            "submitted_at": self.submitted_at,
            "request_id": self.request_id,
        }

    def to_dict(self) -> dict[str, object]:
        return {"row": self.row, "name": self.name, **self.columns(), "child_ids": list(self.child_ids)}


@dataclass
class Plan:
    """What is about to happen, for the one-line plan and the confirmation."""

    endpoint: str
    project_id: str
    to_create: int
    requests: int
    already_created: int = 0
    found_in_doubt: int = 0
    unknown: int = 0
    invalid: int = 0
    batch_size: int = fields.MAX_JOBS_PER_REQUEST
    concurrency: int = 1

    def line(self) -> str:
        text = (f"{plural(self.to_create, 'task')} to create in project {self.project_id} at endpoint "
                f"{self.endpoint}, {plural(self.requests, 'request')} (batch size {self.batch_size}, "
                f"concurrency {self.concurrency})")
        extras = [f"{n} {what}" for n, what in (
            (self.already_created, "already created"), (self.found_in_doubt, "found on the server after an "
                                                        "earlier interrupted run"),
            (self.unknown, "in doubt and not checkable now"), (self.invalid, "invalid")) if n]
        return text + (f"; {', '.join(extras)}" if extras else "")


@dataclass
class Timings:
    """Monotonic clock readings for the benchmark: the submission phase is first request to
    last response, and it is compared with the whole run."""

    started: float = field(default_factory=time.monotonic)
    first_request: float | None = None
    last_response: float | None = None
    finished: float | None = None
    requests: int = 0
    #: Seconds of backoff the engine asked for (Retry-After included), summed over batches.
    backoff: float = 0.0
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def sent(self) -> None:
        with self.lock:
            self.requests += 1
            if self.first_request is None:
                self.first_request = time.monotonic()

    def answered(self) -> None:
        with self.lock:
            self.last_response = time.monotonic()

    @property
    def submission_seconds(self) -> float | None:
        if self.first_request is None or self.last_response is None:
            return None
        return self.last_response - self.first_request

    @property
    def total_seconds(self) -> float | None:
        return None if self.finished is None else self.finished - self.started


@dataclass
class SubmitOutcome:
    """Everything a caller (the CLI, a test, a script) needs after a submit."""

    rows: list[RowOutcome]
    campaign: Campaign
    exit_code: int
    results_path: Path | None = None
    failed_path: Path | None = None
    dry_run_path: Path | None = None
    ledger_path: Path | None = None
    report_html: Path | None = None
    report_json: Path | None = None
    plan: Plan | None = None
    timings: Timings = field(default_factory=Timings)
    interrupted: bool = False
    message: str | None = None

    def counts(self) -> dict[str, int]:
        counts = Counter(str(r.result) for r in self.rows)
        return {str(r): counts[str(r)] for r in Result if counts[str(r)]}

    def to_json(self) -> dict[str, Any]:
        """The `--json` summary: machine-readable, no secrets (rows carry no cell values)."""
        return {
            "exit_code": self.exit_code,
            "counts": self.counts(),
            "interrupted": self.interrupted,
            "message": self.message,
            "endpoint": self.campaign.endpoint,
            "project_id": self.campaign.project_id,
            "dry_run": self.campaign.dry_run == "true",
            "results_workbook": str(self.results_path) if self.results_path else None,
            "failed_workbook": str(self.failed_path) if self.failed_path else None,
            "dry_run_file": str(self.dry_run_path) if self.dry_run_path else None,
            "ledger": str(self.ledger_path) if self.ledger_path else None,
            "report_html": str(self.report_html) if self.report_html else None,
            "report_json": str(self.report_json) if self.report_json else None,
            "requests": self.timings.requests,
            "rows": [r.to_dict() for r in self.rows],
        }


# -- where the requests go -------------------------------------------------------------------

@contextlib.contextmanager
def _target(options: SubmitOptions, env: Mapping[str, str], *, need_auth: bool) -> Iterator[Target]:
    """The Target the options describe; starts the simulator for `--simulate` (except for a
    dry run, which sends nothing)."""
    if options.simulate:
        if not need_auth:
            ledger_path = options.ledger
            if ledger_path is None and options.simulator_state is not None:
                ledger_path = simulator_ledger_path(options.simulator_state)
            yield Target(endpoint=SIMULATOR_ENDPOINT, ledger_endpoint=SIMULATOR_ENDPOINT,
                         project_id=options.project_id or DEMO_PROJECT_ID, auth=None,
                         ledger_path=ledger_path, region="simulated")
            return
        with simulated_target(options.simulator_state, project_id=options.project_id,
                              ledger_path=options.ledger) as target:
            yield target
        return
    yield cloud_target(endpoint=options.endpoint, region=options.region, project_id=options.project_id, env=env,
                       ledger_path=options.ledger, ca_bundle=options.ca_bundle, insecure=options.insecure,
                       need_auth=need_auth)


# -- Ctrl-C ----------------------------------------------------------------------------------

@contextlib.contextmanager
def stop_on_interrupt(on_first: Callable[[], None] | None = None) -> Iterator[threading.Event]:
    """A first Ctrl-C sets the returned event (finish what is in flight, send nothing new);
    a second one raises KeyboardInterrupt as usual. Only the main thread can own SIGINT;
    elsewhere the event is returned without a handler."""
    stop = threading.Event()
    if threading.current_thread() is not threading.main_thread():
        yield stop
        return

    def handler(signum: int, frame: object) -> None:
        if stop.is_set():
            raise KeyboardInterrupt
        stop.set()
        if on_first is not None:
            on_first()

    previous = signal.signal(signal.SIGINT, handler)
    try:
        yield stop
    finally:
        signal.signal(signal.SIGINT, previous)


# -- the engine ------------------------------------------------------------------------------

@dataclass
class _Item:
    """One valid row on its way: the masked job (ledger, display) and the row to resolve from."""

    row: int
    typed: Mapping[str, object]
    masked: dict[str, Any]
    wire: dict[str, Any] | None = None
    #: A request of this tool carrying the row may have created it (earlier run or this one).
    maybe_ours: bool = False
    #: db_use_types to search when reconciling (the row's, and the one last sent if different).
    use_types: tuple[str, ...] = ()

    @property
    def name(self) -> str:
        return str(self.masked["name"])

    @property
    def key(self) -> str:
        return self.name.lower()


#: Seconds the server's clock may run ahead of ours when judging whether a task found by name
#: was created by our request (a task created later than our request's end plus this is not ours).
CLOCK_SKEW = 300.0
#: Fields of the task list compared with what the ledger says we sent, before adopting a task.
TOP_LEVEL_MATCH = ("db_use_type", "engine_type", "job_direction", "task_type", "net_type")
#: Endpoint fields compared (from the task's details) before adopting a task.
ENDPOINT_MATCH = ("db_type", "ip", "db_port", "inst_id", "region")
ENDPOINT_SIDES = ("source_endpoint", "target_endpoint")


def _epoch(value: object) -> float | None:
    """A DRS create_time as epoch seconds: milliseconds as digits (creation, details) or
    'YYYY-MM-DD HH:MM:SS' (the task list; read as UTC). None when unreadable."""
    if value in (None, ""):
        return None
    text = str(value).strip()
    if text.isdigit():
        return int(text) / 1000.0
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return (parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)).timestamp()


def _request_end(entry: LedgerEntry | None, options: SubmitOptions) -> float | None:
    """When our request that may have created the row ended at the latest: the moment it was
    marked in doubt, or (the process died while sending) its start plus the longest it could
    have lasted."""
    if entry is None:
        return None
    if entry.state == IN_DOUBT and entry.updated_at:
        return _epoch(entry.updated_at)
    started = _epoch(entry.sent_at)
    return None if started is None else started + options.connect_timeout + options.timeout


def _differences(sent: Mapping[str, Any], found: Mapping[str, Any], keys: Sequence[str]) -> list[str]:
    """Keys whose values both sides state and that differ (case and blanks ignored)."""
    def norm(value: object) -> str:
        return str(value).strip().lower()

    return [k for k in keys if sent.get(k) not in (None, "") and found.get(k) not in (None, "")
            and norm(sent[k]) != norm(found[k])]


def _child_ids(task: Mapping[str, Any]) -> tuple[str, ...]:
    children = task.get("child_ids") or task.get("children") or []
    if not isinstance(children, list):
        return ()
    ids = []
    for child in children:
        value = child.get("id") if isinstance(child, Mapping) else child
        if value:
            ids.append(str(value))
    return tuple(ids)


class _Engine:
    """Sends the items of one run and produces their outcomes; one instance per run."""

    def __init__(self, client: Any, ledger: Ledger, target: Target, options: SubmitOptions, stop: threading.Event,
                 progress: Progress, scrub: Callable[[str | None], str | None], timings: Timings) -> None:
        from bulkimport.drs import RetryPolicy

        self.client = client
        self.ledger = ledger
        self.endpoint = target.ledger_endpoint
        self.project_id = target.project_id
        self.options = options
        self.stop = stop
        self.progress = progress
        self.scrub = scrub
        self.timings = timings
        self.policy = RetryPolicy(attempts=options.max_attempts, base_delay=options.base_delay,
                                  max_delay=options.max_delay, total_time=options.max_retry_time,
                                  jitter=options.jitter)
        self.outcomes: dict[int, RowOutcome] = {}
        self.fatal: str | None = None
        self._lock = threading.Lock()
        self._counts: Counter[str] = Counter()

    # -- bookkeeping -----------------------------------------------------------------------

    def _done(self, item: _Item, result: Result, **values: Any) -> None:
        values["error_msg"] = self.scrub(values.get("error_msg"))
        outcome = RowOutcome(row=item.row, name=item.name, result=result, **values)
        with self._lock:
            self.outcomes[item.row] = outcome
            self._counts[str(result)] += 1
            done = len(self.outcomes)
            counts = dict(self._counts)
        self.progress.update(done, counts)

    def count(self, outcomes: Iterable[RowOutcome]) -> None:
        """Outcomes known before sending (from the ledger) still count in the progress figures."""
        with self._lock:
            self._counts.update(str(o.result) for o in outcomes)

    def _wait(self, seconds: float) -> None:
        """Sleep that a Ctrl-C cuts short (the loop then sends nothing more)."""
        with self.timings.lock:
            self.timings.backoff += seconds
        self.stop.wait(seconds)

    # -- lookups ---------------------------------------------------------------------------

    def _find(self, item: _Item, use_types: Sequence[str]) -> list[dict]:
        return self.client.find_tasks_by_name(item.name, list(dict.fromkeys(use_types)))

    def _not_ours(self, item: _Item, task: Mapping[str, Any]) -> str | None:
        """Why a task found by name cannot be the one our in-doubt request created, or None
        when it can be ours (DESIGN: adopt only what is ours).

        It must have been created no later than the end of our request that may have created
        it (allowing CLOCK_SKEW for the server's clock), and must match the ledger's masked
        copy of what we sent: scenario, engine, direction, task and network type (from the
        task list), and the endpoints' type, address, port, instance and region (from the
        task's details, asked only when the list matched)."""
        from bulkimport.drs import DrsError

        entry = self.ledger.get(self.endpoint, self.project_id, item.name)
        sent = (entry.payload_masked if entry else None) or item.masked
        created = _epoch(task.get("create_time"))
        ended = _request_end(entry, self.options)
        if created is not None and ended is not None and created > ended + CLOCK_SKEW:
            when = datetime.fromtimestamp(created, UTC).isoformat(timespec="seconds")
            return f"created at {when}, after our request"
        differs = _differences(sent, task, TOP_LEVEL_MATCH)
        if not differs and any(isinstance(sent.get(side), Mapping) and any(
                sent[side].get(k) not in (None, "") for k in ENDPOINT_MATCH) for side in ENDPOINT_SIDES):
            try:
                details = self.client.batch_detail([str(task.get("id"))])
            except DrsError as exc:
                return f"its details could not be read to compare ({exc})"
            detail = next((d for d in details if str(d.get("id")) == str(task.get("id"))), None)
            if detail is None:
                return "its details could not be read to compare"
            for side in ENDPOINT_SIDES:
                mine, theirs = sent.get(side), detail.get(side)
                if isinstance(mine, Mapping) and isinstance(theirs, Mapping):
                    differs += [f"{side}.{k}" for k in _differences(mine, theirs, ENDPOINT_MATCH)]
        if differs:
            return f"not what this campaign sent ({', '.join(differs)} differ)"
        return None

    def _foreign(self, item: _Item, task: Mapping[str, Any], reason: str, code: str | None,
                 request_id: str | None, submitted_at: str | None) -> None:
        """REJECTED: the name is someone else's task; it is recorded without its ID, so no
        later command (rollback included) ever touches it."""
        text = f"name taken by task {task.get('id')} ({reason})"
        self.ledger.record_reply(self.endpoint, self.project_id,
                                 [Reply(item.name, REJECTED, error_code=code or NAME_EXISTS, error_msg=text)],
                                 request_id=request_id)
        self._done(item, Result.REJECTED, error_code=code or NAME_EXISTS, error_msg=text,
                   submitted_at=submitted_at, request_id=request_id)

    def reconcile(self, items: Sequence[_Item], *, earlier_run: bool) -> list[_Item]:
        """Look in-doubt rows up by name. Found: adopted (CREATED, or ALREADY_CREATED when an
        earlier run sent it). Lookup failed or ambiguous: UNKNOWN. Returns the rows that are
        certainly not on the server, to be sent (again)."""
        from bulkimport.drs import DrsError

        absent = []
        for item in items:
            try:
                tasks = self._find(item, item.use_types)
            except DrsError as exc:
                self._done(item, Result.UNKNOWN, error_code="LOOKUP_FAILED",
                           error_msg=f"in doubt and could not be looked up: {exc}")
                continue
            if not tasks:
                absent.append(item)
                continue
            if len(tasks) > 1:
                ids = ", ".join(str(t.get("id")) for t in tasks)
                self._done(item, Result.UNKNOWN, error_code="AMBIGUOUS",
                           error_msg=f"in doubt and {len(tasks)} tasks carry this name: {ids}")
                continue
            task = tasks[0]
            task_id, status = str(task.get("id")), task.get("status")
            reason = self._not_ours(item, task)
            if reason is not None:
                entry = self.ledger.get(self.endpoint, self.project_id, item.name)
                self._foreign(item, task, reason, None, entry.request_id if entry else None,
                              entry.sent_at if entry else None)
                continue
            self.ledger.adopt(self.endpoint, self.project_id, item.name, task_id,
                              child_ids=_child_ids(task), task_status=status)
            entry = self.ledger.get(self.endpoint, self.project_id, item.name)
            self._done(item, Result.ALREADY_CREATED if earlier_run else Result.CREATED, task_id=task_id,
                       child_ids=_child_ids(task), task_status=status,
                       submitted_at=entry.sent_at if entry else None,
                       request_id=entry.request_id if entry else None)
        return absent

    def _name_taken(self, items: Sequence[_Item], code: str | None, message: str | None,
                    request_id: str | None, submitted_at: str, whole_request: bool) -> list[_Item]:
        """DRS.M00277 for these rows: adopt the task when this tool may have created it, else
        REJECTED naming the foreign task. With a whole-request 422 the clash is not attributed,
        so rows whose name is not on the server are returned to be sent again."""
        from bulkimport.drs import DrsError

        resend = []
        replies = []
        for item in items:
            try:
                tasks = self._find(item, (*item.use_types, *fields.DB_USE_TYPES))
            except DrsError as exc:
                if item.maybe_ours:
                    self._done(item, Result.UNKNOWN, error_code=code, error_msg=f"{message}; lookup failed: {exc}",
                               submitted_at=submitted_at, request_id=request_id)
                else:
                    replies.append(Reply(item.name, REJECTED, error_code=code, error_msg=self.scrub(message)))
                    self._done(item, Result.REJECTED, error_code=code, error_msg=message,
                               submitted_at=submitted_at, request_id=request_id)
                continue
            if not tasks:
                if whole_request:
                    resend.append(item)
                else:
                    replies.append(Reply(item.name, REJECTED, error_code=code, error_msg=self.scrub(message)))
                    self._done(item, Result.REJECTED, error_code=code, error_msg=message,
                               submitted_at=submitted_at, request_id=request_id)
                continue
            task = tasks[0]
            task_id, status = str(task.get("id")), task.get("status")
            reason = self._not_ours(item, task) if item.maybe_ours and len(tasks) == 1 else None
            if reason is not None:
                self._foreign(item, task, reason, code, request_id, submitted_at)
                continue
            if item.maybe_ours and len(tasks) == 1:
                self.ledger.adopt(self.endpoint, self.project_id, item.name, task_id,
                                  child_ids=_child_ids(task), task_status=status)
                self._done(item, Result.CREATED, task_id=task_id, child_ids=_child_ids(task), task_status=status,
                           submitted_at=submitted_at, request_id=request_id)
            else:
                ids = ", ".join(str(t.get("id")) for t in tasks)
                text = f"name already taken by task {ids}"
                # task_id stays empty: the task is not this campaign's, no later command touches it.
                replies.append(Reply(item.name, REJECTED, error_code=code or NAME_EXISTS, error_msg=text))
                self._done(item, Result.REJECTED, error_code=code or NAME_EXISTS, error_msg=text,
                           submitted_at=submitted_at, request_id=request_id)
        if replies:
            self.ledger.record_reply(self.endpoint, self.project_id, replies, request_id=request_id)
        return resend

    # -- one batch, to the end -------------------------------------------------------------

    def _not_created(self, items: Sequence[_Item], code: str | None, message: str | None,
                     request_id: str | None) -> None:
        """Record that a request carrying these rows created nothing. Rows that an earlier
        request may have created stay in doubt, so a later run still looks them up."""
        doubtful = [i.name for i in items if i.maybe_ours]
        clean = [Reply(i.name, NOT_CREATED, error_code=code, error_msg=self.scrub(message))
                 for i in items if not i.maybe_ours]
        if doubtful:
            self.ledger.mark_in_doubt(self.endpoint, self.project_id, doubtful, error_code=code,
                                      error_msg=self.scrub(message), request_id=request_id)
        if clean:
            self.ledger.record_reply(self.endpoint, self.project_id, clean, request_id=request_id)

    def _give_up(self, items: Sequence[_Item], result: Result, code: str | None, message: str,
                 submitted_at: str | None, request_id: str | None) -> None:
        for item in items:
            self._done(item, result, error_code=code, error_msg=message, submitted_at=submitted_at,
                       request_id=request_id)

    def run_batch(self, items: list[_Item]) -> None:
        """Send one batch until every row has an outcome, within the attempt and time bounds."""
        from bulkimport.drs import ReplyKind

        pending = list(items)
        attempt = 0
        started = time.monotonic()
        submitted_at: str | None = None
        while pending:
            if self.stop.is_set():
                reason = self.fatal or "interrupted before this row was sent"
                self._give_up(pending, Result.NOT_SENT, None, reason, submitted_at, None)
                return
            attempt += 1
            self.ledger.record_sending(self.endpoint, self.project_id, [i.masked for i in pending])
            submitted_at = now_iso()
            self.timings.sent()
            try:
                reply = self.client.send_batch([i.wire for i in pending])
            except InputError as exc:  # IAM refused a renewed login: the request never left
                self._auth_failed(pending, None, str(exc), None, submitted_at)
                return
            self.timings.answered()
            code, message, request_id = reply.error_code, self.scrub(reply.error_msg), reply.request_id
            exhausted = self.policy.exhausted(attempt, time.monotonic() - started)

            if reply.kind is ReplyKind.ACCEPTED:
                pending = self._accepted(pending, reply, submitted_at)
            elif reply.kind is ReplyKind.RETRY_SAFE:
                self._not_created(pending, code, message, request_id)
                if exhausted:
                    self._give_up(pending, Result.NOT_SENT, code,
                                  f"not created: still refused after {attempt} attempts in "
                                  f"{time.monotonic() - started:.0f}s ({message or code})", submitted_at, request_id)
                    return
                self.progress.note(f"retrying {len(pending)} tasks: {code or reply.http_status or ''} "
                                   f"{message or ''}".strip())
            elif reply.kind is ReplyKind.IN_DOUBT:
                for item in pending:
                    item.maybe_ours = True
                doubt_code = code or (f"HTTP {reply.http_status}" if reply.http_status else None)
                self.ledger.mark_in_doubt(self.endpoint, self.project_id, [i.name for i in pending],
                                          error_code=doubt_code, error_msg=message, request_id=request_id)
                pending = self.reconcile(pending, earlier_run=False)
                if pending and exhausted:
                    # The lookup just confirmed these are not on the server: not sent, not unknown.
                    # The ledger keeps them in doubt, so a re-run still looks before sending.
                    self._give_up(pending, Result.NOT_SENT, code,
                                  f"not created: the server kept failing for {self.policy.total_time:g}s "
                                  f"({message or code}); a look-up confirmed the task does not exist",
                                  submitted_at, request_id)
                    return
            else:  # REJECTED
                pending = self._rejected(pending, reply, submitted_at)
                if pending and exhausted:
                    self._give_up(pending, Result.NOT_SENT, code, f"not created after {attempt} attempts",
                                  submitted_at, request_id)
                    return
            if pending:
                self._wait(self.policy.delay(attempt, reply.retry_after))

    def _accepted(self, pending: list[_Item], reply: Any, submitted_at: str) -> list[_Item]:
        """A 2xx: each job's outcome is its result item; jobs without an item are in doubt."""
        by_name = reply.by_name()
        replies: list[Reply] = []
        taken: list[_Item] = []
        missing: list[_Item] = []
        finished: list[tuple[_Item, Result, dict[str, Any]]] = []
        for item in pending:
            result = by_name.get(item.key)
            if result is None:
                missing.append(item)
            elif result.error_code == NAME_EXISTS:
                taken.append(item)
            elif result.failed:
                error_code = result.error_code or "NO_TASK_ID"
                error_msg = self.scrub(result.error_msg) or ("the reply carried no task id" if not result.error_code
                                                             else None)
                replies.append(Reply(item.name, REJECTED, error_code=error_code, error_msg=error_msg))
                finished.append((item, Result.REJECTED, {"error_code": error_code, "error_msg": error_msg}))
            else:
                replies.append(Reply(item.name, CREATED, task_id=result.id, child_ids=tuple(result.child_ids),
                                     task_status=result.status))
                finished.append((item, Result.CREATED, {"task_id": result.id, "child_ids": tuple(result.child_ids),
                                                        "task_status": result.status}))
        if replies:
            self.ledger.record_reply(self.endpoint, self.project_id, replies, request_id=reply.request_id)
        for item, result, values in finished:
            self._done(item, result, submitted_at=submitted_at, request_id=reply.request_id, **values)
        if taken:
            messages = {r.name.lower(): r.error_msg for r in reply.results if r.name}
            for item in taken:
                self._name_taken([item], NAME_EXISTS, messages.get(item.key), reply.request_id, submitted_at,
                                 whole_request=False)
        if missing:
            for item in missing:
                item.maybe_ours = True
            self.ledger.mark_in_doubt(self.endpoint, self.project_id, [i.name for i in missing],
                                      error_code="NO_RESULT_ITEM", error_msg="the reply did not mention this task",
                                      request_id=reply.request_id)
            return self.reconcile(missing, earlier_run=False)
        return []

    def _auth_failed(self, pending: list[_Item], code: str | None, reason: str, request_id: str | None,
                     submitted_at: str | None) -> None:
        """Credentials or permissions refused: every later request would fail the same way,
        so the run stops; nothing was created for these rows."""
        with self._lock:
            if self.fatal is None:
                self.fatal = f"{reason}; nothing more was sent - fix the credentials and run again"
        self.stop.set()
        self._not_created(pending, code, reason, request_id)
        self._give_up(pending, Result.NOT_SENT, code, self.fatal or reason, submitted_at, request_id)

    def _rejected(self, pending: list[_Item], reply: Any, submitted_at: str) -> list[_Item]:
        """A whole-request 4xx: nothing was created. Returns rows worth sending again."""
        code, message = reply.error_code, self.scrub(reply.error_msg)
        status = reply.http_status
        if status in (401, 403) and code != NAME_EXISTS:
            detail = f"HTTP {status}{' ' + code if code else ''}{': ' + message if message else ''}"
            self._auth_failed(pending, code or f"HTTP {status}", f"the server refused the credentials ({detail})",
                              reply.request_id, submitted_at)
            return []
        self._not_created(pending, code, message, reply.request_id)
        if code == NAME_EXISTS:
            return self._name_taken(pending, code, message, reply.request_id, submitted_at, whole_request=True)
        named = {r.name.lower(): r for r in reply.results if r.name and r.error_code}
        culprits = [i for i in pending if i.key in named]
        if culprits:
            replies = [Reply(i.name, REJECTED, error_code=named[i.key].error_code,
                             error_msg=self.scrub(named[i.key].error_msg)) for i in culprits]
            self.ledger.record_reply(self.endpoint, self.project_id, replies, request_id=reply.request_id)
            for item in culprits:
                self._done(item, Result.REJECTED, error_code=named[item.key].error_code,
                           error_msg=named[item.key].error_msg, submitted_at=submitted_at,
                           request_id=reply.request_id)
            return [i for i in pending if i.key not in named]
        error_code = code or (f"HTTP {status}" if status else None)
        replies = [Reply(i.name, REJECTED, error_code=error_code, error_msg=message) for i in pending]
        self.ledger.record_reply(self.endpoint, self.project_id, replies, request_id=reply.request_id)
        self._give_up(pending, Result.REJECTED, error_code, message or "the request was refused", submitted_at,
                      reply.request_id)
        return []

    # -- all batches ---------------------------------------------------------------------

    def run(self, batches: list[list[_Item]]) -> None:
        """Run the batches on `concurrency` threads; a set stop event lets in-flight batches
        finish and turns the rest into NOT_SENT. The main thread only waits, so it stays free
        to take Ctrl-C."""
        if not batches:
            return
        with ThreadPoolExecutor(max_workers=self.options.concurrency, thread_name_prefix="submit") as pool:
            futures: dict[Future, list[_Item]] = {pool.submit(self._guarded, b): b for b in batches}
            remaining = set(futures)
            while remaining:
                _, remaining = wait(remaining, timeout=0.2, return_when=FIRST_COMPLETED)

    def _guarded(self, batch: list[_Item]) -> None:
        """run_batch, turning an unexpected failure (a bug, a full disk) into UNKNOWN rows
        and a stop, so one broken batch cannot lose the outcomes of the others."""
        try:
            self.run_batch(batch)
        except Exception as exc:
            text = f"{type(exc).__name__}: {exc}"
            self.fatal = self.fatal or f"stopped after an internal error: {text}"
            self.stop.set()
            for item in batch:
                if item.row not in self.outcomes:
                    self._done(item, Result.UNKNOWN, error_code="INTERNAL_ERROR",
                               error_msg=f"{text}; a re-run looks it up before sending")


# -- the library function ------------------------------------------------------------------

def _default_out(path: Path, dry_run: bool) -> Path:
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    kind = "dry-run" if dry_run else "submit"
    return REPORTS_DIR / f"{path.stem}-{kind}-{stamp}.xlsx"


def submit_outputs(options: SubmitOptions, out: Path) -> list[Output]:
    """Every path `submit` writes, for `check_outputs` before anything is sent: the results
    and failed-rows workbooks, the dry-run file, the report folder and files, the ledger and
    the simulator's state."""
    outputs = [Output(out, "--out" if options.out else "results workbook", WORKBOOK, suffixes=(".xlsx",)),
               Output(failed_path_for(out), "failed-rows workbook", WORKBOOK)]
    if options.dry_run:
        outputs.append(Output(dry_run_path_for(out), "dry-run file", FILE))
    report_dir = Path(options.report_dir)
    outputs += [Output(report_dir, "--report-dir", FOLDER),
                Output(report_dir / f"{out.stem}-report.html", "sign-off report", FILE),
                Output(report_dir / f"{out.stem}-report.json", "sign-off report (JSON)", FILE)]
    ledger = options.ledger
    if ledger is None and options.simulate and options.simulator_state is not None:
        ledger = simulator_ledger_path(options.simulator_state)
    elif ledger is None and not options.simulate:
        ledger = DEFAULT_LEDGER
    if ledger is not None:
        outputs.append(Output(Path(ledger), "--ledger" if options.ledger else "ledger", LEDGER,
                              create=not options.dry_run))
    if options.simulate and options.simulator_state is not None:
        outputs.append(Output(Path(options.simulator_state), "--simulator-state", LEDGER,
                              create=not options.dry_run))
    return outputs


def failed_path_for(out: Path) -> Path:
    return out.with_name(f"{out.stem}-failed.xlsx")


def dry_run_path_for(out: Path) -> Path:
    return out.with_name(f"{out.stem}-requests.json")


def _summary(campaign: Campaign, outcomes: Sequence[RowOutcome], book: Any,
             typed: Mapping[int, Mapping[str, object]]) -> dict[str, Any]:
    """The sign-off summary: the report's content, and (through `summary_sheet_rows`) the
    Summary sheet in the report's own layout, so `bulkimport report` reads it back."""
    from bulkimport.report import summarise

    rows = []
    for outcome in outcomes:
        row = typed.get(outcome.row, {})
        rows.append({**outcome.columns(), "name": outcome.name, "db_use_type": row.get("db_use_type"),
                     "engine_type": row.get("engine_type"), "source_row": book.source_row(outcome.row)})
    return summarise(campaign, rows)


def _announce_invalid(validation: Any, progress: Progress) -> None:
    """Before anything is planned or confirmed: the invalid rows, which will not be sent,
    each with its first problem (a screenful, then how many more)."""
    first: dict[int, str] = {}
    for f in validation.findings:
        if f.row in validation.invalid and f.severity == "error":
            first.setdefault(f.row, f.sentence)
    if not first:
        return
    book = validation.book
    progress.note(f"{plural(len(first), 'row')} invalid, not sent (see the results workbook's Findings sheet):")
    listed = [(book.source_row(r), validation.rows[r].get("name") or "(no name)", first[r]) for r in sorted(first)]
    for line in screenful(row_lines(listed, 110)):
        progress.note(line)


def not_created_lines(outcome: SubmitOutcome, width: int = 110) -> list[str]:
    """After the run: the rows the server refused or whose fate is open, with their reasons."""
    wanted = (Result.REJECTED, Result.UNKNOWN, Result.NOT_SENT)
    rows = [r for r in outcome.rows if r.result in wanted]
    if not rows:
        return []
    lines = [f"{plural(len(rows), 'row')} not created (rejected, unknown or not sent):"]
    lines += screenful(row_lines(((r.row, r.name or "(no name)",
                                   f"{r.result}: {r.error_msg or r.error_code or ''}".rstrip(": "))
                                  for r in rows), width))
    return lines


def _write_dry_run(path: Path, target: Target, batches: Sequence[Sequence[_Item]], language: str) -> Path:
    """The exact request bodies, secrets masked, one entry per request."""
    path.parent.mkdir(parents=True, exist_ok=True)
    document = {
        "method": "POST",
        "url": f"{target.endpoint.rstrip('/')}/v3/{target.project_id}/jobs/batch-creation",
        "headers": {"Content-Type": "application/json", "X-Language": language},
        "requests": [payload.batch_body([i.masked for i in batch]) for batch in batches],
    }
    path.write_text(json.dumps(document, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return path


class _SimulatedEnv(dict):
    """For `--simulate` only: an unset env: variable resolves to a placeholder (the simulator
    has no databases to log in to), so a demo workbook with references runs anywhere."""

    PLACEHOLDER = "simulated-password"

    def __init__(self, env: Mapping[str, str]) -> None:
        super().__init__(env)
        self.missing: set[str] = set()

    def __missing__(self, name: str) -> str:
        self.missing.add(name)
        return self.PLACEHOLDER

    def __getitem__(self, name: str) -> str:
        value = super().get(name)
        return value if value and value.strip() else self.__missing__(name)


def _resolve_secrets(items: Sequence[_Item], env: Mapping[str, str]) -> list[str]:
    """Build every wire body before the first request, so an unset env: variable stops the
    run with nothing sent (InputError, exit 2). Returns the secret values for scrubbing."""
    secrets: list[str] = []
    for item in items:
        item.wire = payload.build_job(item.typed, secrets=payload.Secrets.RESOLVE, env=env, where=f"row {item.row}")
        secrets.extend(payload.secret_values(item.wire))
    return secrets


def target_identity(target: Target) -> str:
    from bulkimport.status import target_identity as identity

    return identity(target)


def submit_workbook(path: str | Path, options: SubmitOptions, *, progress: Progress | None = None,
                    env: Mapping[str, str] = os.environ, confirm: Callable[[Plan], bool] | None = None,
                    stop: threading.Event | None = None) -> SubmitOutcome:
    """Validate the workbook and create its valid rows' tasks exactly once.

    `confirm` is asked with the plan before anything is sent (None: go ahead); `stop`, once
    set (Ctrl-C), lets in-flight requests finish and sends nothing more. Raises InputError
    (exit 2) for unusable input, before anything is sent.
    """
    from bulkimport.report import summary_sheet_rows, write_report
    from bulkimport.validate import validate_workbook
    from bulkimport.workbook import write_failed_rows, write_results

    options.check()
    progress = progress or NullProgress()
    stop = stop or threading.Event()
    timings = Timings()
    path = Path(path)
    out = Path(options.out) if options.out else _default_out(path, options.dry_run)
    check_outputs(submit_outputs(options, out), inputs=[path], force=options.force)
    validation = validate_workbook(path, options.sheet)
    book = validation.book
    campaign = Campaign(command="submit", input_file=str(path), input_sha256=book.sha256,
                        template_version=book.template_version or "", batch_size=str(options.batch_size),
                        concurrency=str(options.concurrency), dry_run="true" if options.dry_run else "false",
                        language=options.language)

    outcomes: dict[int, RowOutcome] = {}
    items: list[_Item] = []
    errors = row_errors(validation.findings)
    _announce_invalid(validation, progress)
    for row, typed in validation.rows.items():
        name = typed.get("name")
        if row in validation.invalid:
            code, text = errors.get(row, (None, None))
            outcomes[row] = RowOutcome(row, None if name is None else str(name), Result.INVALID,
                                       error_code=code, error_msg=text)
            continue
        masked = payload.build_job(typed)
        items.append(_Item(row=row, typed=typed, masked=masked, use_types=(str(typed.get("db_use_type")),)))

    message: str | None = None
    interrupted = False
    plan: Plan | None = None
    dry_run_path: Path | None = None
    with contextlib.ExitStack() as stack:
        target = stack.enter_context(_target(options, env, need_auth=not options.dry_run))
        if not options.dry_run and target.ledger_path is not None:
            # One run per ledger, from before the first request to the last ledger write.
            stack.enter_context(ledger_lock(target.ledger_path))
        campaign.endpoint, campaign.project_id, campaign.region = (
            target.ledger_endpoint, target.project_id, target.region)
        _record_campaign_identity(campaign, target, create=not options.dry_run)
        campaign.cloud_user = target_identity(target) if target.auth is not None or target.simulator else ""
        ledger_exists = target.ledger_path is not None and target.ledger_path.exists()
        if ledger_exists:
            _already_created_wins_over_invalid(target, outcomes)
        if options.dry_run:
            entries = _read_ledger(target, items) if ledger_exists else {}
            to_send = []
            for item in items:
                entry = entries.get(item.key)
                if entry is not None and entry.exists:
                    outcomes[item.row] = _already(item, entry)
                else:
                    to_send.append(item)
                    note = "in doubt from an earlier run: it is looked up before sending" if (
                        entry is not None and entry.doubtful) else None
                    outcomes[item.row] = RowOutcome(item.row, item.name, Result.DRY_RUN, error_msg=note)
            batches = list(payload.chunk(to_send, options.batch_size))
            plan = Plan(target.display, target.project_id, len(to_send), len(batches),
                        already_created=len(items) - len(to_send), invalid=len(validation.invalid),
                        batch_size=options.batch_size, concurrency=options.concurrency)
            progress.note("dry run: " + plan.line())
            dry_run_path = _write_dry_run(dry_run_path_for(out), target, batches, options.language)
            rows = [outcomes[r] for r in validation.rows]
            exit_code = 1 if validation.invalid else 0
            ledger_path = target.ledger_path if ledger_exists else None
        else:
            engine_outcomes, plan, message, interrupted = _run(items, target, options, env, progress, confirm,
                                                               stop, timings, len(validation.invalid))
            outcomes.update(engine_outcomes)
            rows = [outcomes[r] for r in validation.rows]
            exit_code = exit_code_for(r.result for r in rows)
            ledger_path = None if target.ledger_temporary else target.ledger_path
        drift = _drift(target, rows, validation, progress)

    campaign.finished_at = now_iso()
    timings.finished = time.monotonic()
    report_content = _summary(campaign, rows, book, validation.rows)
    if drift:
        report_content["drift"] = [(f"row {book.source_row(f.row)}: " if f.row else "") + f.message for f in drift]
    findings = [*validation.findings, *drift]
    summary = {"Summary": summary_sheet_rows(report_content)}
    appended = {o.row: o.columns() for o in rows}
    failed_rows = [o.row for o in rows if o.result in FAILED_RESULTS]
    failed_path = None
    try:
        results_path = write_results(out, book, appended, findings, extra_sheets=summary)
        if failed_rows:
            failed_path = write_failed_rows(failed_path_for(out), book, appended, findings, failed_rows,
                                            extra_sheets=summary)
        report = write_report(report_content, Path(results_path).stem, options.report_dir,
                              results_path=results_path)
    except (OSError, InputError) as exc:
        if options.dry_run:
            raise
        # Requests were sent: exit 2 ("nothing sent") would be a lie. The ledger has every answer.
        error = exc if isinstance(exc, OSError) else OSError(str(exc))
        raise OutputWriteError(write_failed(
            "results", error, ledger=ledger_path,
            rebuild="run the same command again to write the results (created rows come back as "
                    "ALREADY_CREATED; nothing is sent twice)")) from None
    return SubmitOutcome(rows=rows, campaign=campaign, exit_code=exit_code, results_path=Path(results_path),
                         failed_path=Path(failed_path) if failed_path else None, dry_run_path=dry_run_path,
                         ledger_path=ledger_path, report_html=report.html, report_json=report.json,
                         plan=plan, timings=timings,
                         interrupted=interrupted, message=message)


def _login(auth: Any) -> None:
    """Log in before planning, so refused credentials end the run with nothing sent (exit 2).
    An IAM that cannot be reached now is left to the requests, which then count as not sent."""
    from bulkimport.drs import AuthUnavailable

    login = getattr(auth, "login", None)
    if login is not None:
        with contextlib.suppress(AuthUnavailable):
            login()


def _drift(target: Target, rows: Sequence[RowOutcome], validation: Any, progress: Progress) -> list[Finding]:
    """Drift warnings for this run, also shown on the terminal (see drift_findings)."""
    path = target.ledger_path
    if path is None or not path.exists():
        return []
    try:
        with Ledger(path) as ledger:
            entries = ledger.entries(target.ledger_endpoint, target.project_id)
    except LedgerError:
        return []
    names = [str(t.get("name")) for t in validation.rows.values() if t.get("name")]
    found = drift_findings(rows, entries, names)
    for finding in found:
        where = f"row {validation.book.source_row(finding.row)}: " if finding.row else ""
        progress.note(f"drift: {where}{finding.message}")
    return found


def _record_campaign_identity(campaign: Campaign, target: Target, *, create: bool) -> None:
    """The campaign ID (made by the ledger on first use) and the ledger's absolute path go into
    the results workbook, so `status`, `rollback`, `prepare` and `start` find this ledger
    without --ledger and refuse another campaign's."""
    path = target.ledger_path
    if path is None or (not create and not path.exists()):
        return
    with Ledger(path) as ledger:  # an unusable ledger is a LedgerError: exit 2, nothing sent
        campaign.campaign_id = ledger.campaign_id() if create else (ledger.recorded_campaign_id() or "")
    target.campaign_id = campaign.campaign_id
    if not target.ledger_temporary:
        campaign.ledger = str(path.resolve())


def _read_ledger(target: Target, items: Sequence[_Item]) -> dict[str, LedgerEntry]:
    if target.ledger_path is None:
        return {}
    with Ledger(target.ledger_path) as ledger:
        return ledger.lookup(target.ledger_endpoint, target.project_id, [i.name for i in items])


def _already_created_wins_over_invalid(target: Target, outcomes: dict[int, RowOutcome]) -> None:
    """A row whose task this tool already created needs nothing sent, so what is wrong with
    it now (typically the ****** a results workbook shows for its password) does not matter:
    it is ALREADY_CREATED, which lets an operator feed a results workbook straight back."""
    invalid = {o.name.strip().lower(): o for o in outcomes.values() if o.result is Result.INVALID and o.name}
    if not invalid or target.ledger_path is None:
        return
    with Ledger(target.ledger_path) as ledger:
        entries = ledger.lookup(target.ledger_endpoint, target.project_id, list(invalid))
    for key, entry in entries.items():
        if entry.exists:
            old = invalid[key]
            outcomes[old.row] = RowOutcome(old.row, old.name, Result.ALREADY_CREATED, task_id=entry.task_id,
                                           child_ids=entry.child_ids, task_status=entry.task_status,
                                           submitted_at=entry.sent_at, request_id=entry.request_id)


def _already(item: _Item, entry: LedgerEntry) -> RowOutcome:
    drifted = _drifted_fields(item.masked, entry.payload_masked)
    note = (f"the sheet no longer matches what was sent: {', '.join(drifted)} differ (the task was not changed)"
            if drifted else None)
    return RowOutcome(item.row, item.name, Result.ALREADY_CREATED, task_id=entry.task_id, child_ids=entry.child_ids,
                      task_status=entry.task_status, submitted_at=entry.sent_at, request_id=entry.request_id,
                      error_msg=note)


def _flatten(job: Mapping[str, Any], prefix: str = "") -> dict[str, str]:
    flat: dict[str, str] = {}
    for key, value in job.items():
        if isinstance(value, Mapping):
            flat.update(_flatten(value, f"{prefix}{key}."))
        elif value not in (None, "", [], {}):
            flat[f"{prefix}{key}"] = json.dumps(value, sort_keys=True, ensure_ascii=False)
    return flat


def _drifted_fields(now: Mapping[str, Any], sent: Mapping[str, Any] | None) -> list[str]:
    """Fields whose value in the sheet differs from the ledger's masked copy of what was sent.
    Secrets are never compared (the ledger holds none), nor the name's case."""
    if not sent:
        return []
    mine, theirs = _flatten(now), _flatten(sent)
    skip = {*fields.SECRET_KEYS, "name"}
    return sorted(k for k in mine.keys() | theirs.keys() if k not in skip and mine.get(k) != theirs.get(k))


def drift_findings(outcomes: Iterable[RowOutcome], ledger_entries: Iterable[LedgerEntry],
                   workbook_names: Iterable[str]) -> list[Finding]:
    """Warnings (terminal, Findings sheet, report) about what drifted since the tasks were
    created: created rows whose cells changed, and tasks of the campaign whose names left
    the workbook (renamed or removed rows: a renamed row creates a second task)."""
    found = [Finding(o.row, None, DRIFT, f"task {o.name} ({o.task_id}): {o.error_msg}", Severity.WARNING)
             for o in outcomes if o.result is Result.ALREADY_CREATED and o.error_msg
             and o.error_msg.startswith("the sheet no longer matches")]
    present = {n.strip().lower() for n in workbook_names}
    for entry in ledger_entries:
        if entry.exists and entry.name.strip().lower() not in present:
            found.append(Finding(None, None, DRIFT, f"task {entry.name} ({entry.task_id}), created by this "
                                 "campaign, is no longer in the workbook (renamed or removed row?); it still exists",
                                 Severity.WARNING))
    return found


def _run(items: list[_Item], target: Target, options: SubmitOptions, env: Mapping[str, str], progress: Progress,
         confirm: Callable[[Plan], bool] | None, stop: threading.Event, timings: Timings,
         invalid: int) -> tuple[dict[int, RowOutcome], Plan, str | None, bool]:
    """Ledger check, reconciliation of rows left in doubt, plan, confirmation, sending."""
    from bulkimport.drs import DrsClient, RetryPolicy

    assert target.ledger_path is not None  # only a simulated dry run has none
    with contextlib.closing(Ledger(target.ledger_path)) as ledger:
        entries = ledger.lookup(target.ledger_endpoint, target.project_id, [i.name for i in items])
        outcomes: dict[int, RowOutcome] = {}
        doubtful: list[_Item] = []
        fresh: list[_Item] = []
        for item in items:
            entry = entries.get(item.key)
            if entry is not None and entry.exists:
                outcomes[item.row] = _already(item, entry)
            elif entry is not None and entry.doubtful:
                item.maybe_ours = True
                sent_type = (entry.payload_masked or {}).get("db_use_type")
                if sent_type:
                    item.use_types = tuple(dict.fromkeys((*item.use_types, str(sent_type))))
                doubtful.append(item)
            else:
                fresh.append(item)
        # Secrets first: an unset env: variable must stop the run before any request.
        if doubtful or fresh:
            check_tls(target)
            _login(target.auth)
        resolve_env = _SimulatedEnv(env) if target.simulator is not None else env
        secrets = _resolve_secrets([*doubtful, *fresh], resolve_env)
        if isinstance(resolve_env, _SimulatedEnv) and resolve_env.missing:
            progress.note(f"simulate: {', '.join(sorted(resolve_env.missing))} not set; "
                          "the simulator gets a placeholder instead")
        scrub = scrubber([*secrets, *target.secrets])
        client = DrsClient(target.endpoint, target.project_id, target.auth, language=options.language,
                           verify=target.verify, timeout=(options.connect_timeout, options.timeout),
                           pool_size=options.concurrency + 2,
                           retry=RetryPolicy(attempts=options.max_attempts, base_delay=options.base_delay,
                                             max_delay=options.max_delay, total_time=options.max_retry_time,
                                             jitter=options.jitter))
        with client:
            engine = _Engine(client, ledger, target, options, stop, progress, scrub, timings)
            engine.outcomes.update(outcomes)
            engine.count(outcomes.values())
            if doubtful:
                progress.note(f"looking up {len(doubtful)} tasks left in doubt by an earlier run")
                fresh = engine.reconcile(doubtful, earlier_run=True) + fresh
                fresh.sort(key=lambda i: i.row)
            reconciled = {o.row for o in engine.outcomes.values()} - set(outcomes)
            batches = list(payload.chunk(fresh, options.batch_size))
            plan = Plan(target.display, target.project_id, len(fresh), len(batches),
                        already_created=len(outcomes) + sum(1 for r in reconciled
                                                            if engine.outcomes[r].result is Result.ALREADY_CREATED),
                        unknown=sum(1 for r in reconciled if engine.outcomes[r].result is Result.UNKNOWN),
                        invalid=invalid, batch_size=options.batch_size, concurrency=options.concurrency)
            progress.note("plan: " + plan.line())
            if fresh and confirm is not None and not confirm(plan):
                for item in fresh:
                    engine.outcomes[item.row] = RowOutcome(item.row, item.name, Result.NOT_SENT,
                                                           error_msg="not confirmed: nothing was sent")
                return engine.outcomes, plan, "not confirmed: nothing was sent", False
            if fresh:
                progress.start(len(items), "submitting")
                engine.run(batches)
                progress.finish()
            message = engine.fatal
            interrupted = stop.is_set() and message is None  # stopped by the operator, not by a failure
            if interrupted:
                message = "interrupted: requests in flight were finished and recorded; the rest was not sent"
            return engine.outcomes, plan, message, interrupted
