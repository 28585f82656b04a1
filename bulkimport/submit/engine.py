"""The exactly-once engine: sends the batches of one run through a DRS client, records every
request in the ledger before it leaves and every answer after, reconciles rows in doubt by
name, and produces one RowOutcome per row (see the package docstring)."""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

from bulkimport import fields
from bulkimport.campaign import now_iso
from bulkimport.drs.client import NAME_EXISTS, BatchReply
from bulkimport.errors import BulkImportError, InputError
from bulkimport.findings import EN, note
from bulkimport.ledger import (
    CREATED,
    IN_DOUBT,
    NOT_CREATED,
    REJECTED,
    Ledger,
    LedgerEntry,
    Reply,
)
from bulkimport.outcomes import Result
from bulkimport.progress import Progress
from bulkimport.submit.model import RowOutcome, SubmitOptions, Timings
from bulkimport.target import (
    Target,
)
from bulkimport.terminal import say, tasks_word

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


def _bodies(items: Sequence[_Item]) -> list[dict[str, Any]]:
    """The request bodies of a batch; every item has one before the run (secrets resolved)."""
    bodies = [i.wire for i in items if i.wire is not None]
    if len(bodies) != len(items):  # never drop a row silently
        raise RuntimeError("a row reached the engine without its request body")
    return bodies


class SubmitClient(Protocol):
    """What the engine needs from a DRS client: one classified batch-creation attempt, and the
    look-ups that reconcile rows in doubt. `DrsClient` is the real one; a test can pass a fake
    and drive every branch of the exactly-once loop without a server."""

    def send_batch(self, jobs: list[dict]) -> BatchReply: ...

    def find_tasks_by_name(self, name: str, db_use_types: Iterable[str]) -> list[dict]: ...

    def batch_detail(self, ids: list[str]) -> list[dict]: ...


class Engine:
    """Sends the items of one run and produces their outcomes; one instance per run."""

    def __init__(self, client: SubmitClient, ledger: Ledger, target: Target, options: SubmitOptions,
                 stop: threading.Event, progress: Progress, scrub: Callable[[str | None], str | None],
                 timings: Timings) -> None:
        self.client = client
        self.ledger = ledger
        self.endpoint = target.ledger_endpoint
        self.project_id = target.project_id
        self.options = options
        self.stop = stop
        self.progress = progress
        self.scrub = scrub
        self.timings = timings
        self.policy = options.retry_policy()
        self.outcomes: dict[int, RowOutcome] = {}
        self.fatal: str | None = None
        self._lock = threading.Lock()
        self._counts: Counter[str] = Counter()

    # -- bookkeeping -----------------------------------------------------------------------

    def _note(self, message_id: str, **args: object) -> str:
        """A note of ours for a row's error_msg, in the run's language (findings.MESSAGES)."""
        return note(self.options.language or EN, message_id, **args)

    def _said(self, error: BulkImportError) -> str:
        """A failed call's own words (e.g. a DrsError) in the run's language, for a note that quotes it."""
        return error.said(self.options.language or EN)

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
            return self._note("note:created_after", when=when)
        differs = _differences(sent, task, TOP_LEVEL_MATCH)
        if not differs and any(isinstance(sent.get(side), Mapping) and any(
                sent[side].get(k) not in (None, "") for k in ENDPOINT_MATCH) for side in ENDPOINT_SIDES):
            try:
                details = self.client.batch_detail([str(task.get("id"))])
            except DrsError as exc:
                return self._note("note:details_unreadable_because", error=self._said(exc))
            detail = next((d for d in details if str(d.get("id")) == str(task.get("id"))), None)
            if detail is None:
                return self._note("note:details_unreadable")
            for side in ENDPOINT_SIDES:
                mine, theirs = sent.get(side), detail.get(side)
                if isinstance(mine, Mapping) and isinstance(theirs, Mapping):
                    differs += [f"{side}.{k}" for k in _differences(mine, theirs, ENDPOINT_MATCH)]
        if differs:
            return self._note("note:not_what_was_sent", fields=", ".join(differs))
        return None

    def _foreign(self, item: _Item, task: Mapping[str, Any], reason: str, code: str | None,
                 request_id: str | None, submitted_at: str | None) -> None:
        """REJECTED: the name is someone else's task; it is recorded without its ID, so no
        later command (rollback included) ever touches it."""
        text = self._note("note:name_taken_by", task_id=task.get("id"), reason=reason)
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
                           error_msg=self._note("note:doubt_lookup_failed", error=self._said(exc)))
                continue
            if not tasks:
                absent.append(item)
                continue
            if len(tasks) > 1:
                ids = ", ".join(str(t.get("id")) for t in tasks)
                self._done(item, Result.UNKNOWN, error_code="AMBIGUOUS",
                           error_msg=self._note("note:doubt_ambiguous", n=len(tasks), ids=ids))
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
                    self._done(item, Result.UNKNOWN, error_code=code,
                               error_msg=self._note("note:lookup_failed", message=message, error=self._said(exc)),
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
                text = self._note("note:name_taken", ids=ids)
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
                reason = self.fatal or self._note("note:interrupted_before")
                self._give_up(pending, Result.NOT_SENT, None, reason, submitted_at, None)
                return
            attempt += 1
            self.ledger.record_sending(self.endpoint, self.project_id, [i.masked for i in pending])
            submitted_at = now_iso()
            self.timings.sent()
            try:
                reply = self.client.send_batch(_bodies(pending))
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
                                  self._note("note:still_refused", attempts=attempt,
                                             seconds=f"{time.monotonic() - started:.0f}", reason=message or code),
                                  submitted_at, request_id)
                    return
                language = self.options.language or "en-us"
                self.progress.note(say(language, "retrying {tasks}: {reason}", tasks=tasks_word(language, len(pending)),
                                       reason=f"{code or reply.http_status or ''} {message or ''}".strip()))
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
                                  self._note("note:kept_failing", seconds=f"{self.policy.total_time:g}",
                                             reason=message or code),
                                  submitted_at, request_id)
                    return
            else:  # REJECTED
                pending = self._rejected(pending, reply, submitted_at)
                if pending and exhausted:
                    self._give_up(pending, Result.NOT_SENT, code,
                                  self._note("note:not_created_after", attempts=attempt), submitted_at, request_id)
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
                error_msg = self.scrub(result.error_msg) or (self._note("note:no_task_id") if not result.error_code
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
                                      error_code="NO_RESULT_ITEM", error_msg=self._note("note:not_mentioned"),
                                      request_id=reply.request_id)
            return self.reconcile(missing, earlier_run=False)
        return []

    def _auth_failed(self, pending: list[_Item], code: str | None, reason: str, request_id: str | None,
                     submitted_at: str | None) -> None:
        """Credentials or permissions refused: every later request would fail the same way,
        so the run stops; nothing was created for these rows."""
        with self._lock:
            if self.fatal is None:
                self.fatal = self._note("note:credentials_stop", reason=reason)
        self.stop.set()
        self._not_created(pending, code, reason, request_id)
        self._give_up(pending, Result.NOT_SENT, code, self.fatal or reason, submitted_at, request_id)

    def _rejected(self, pending: list[_Item], reply: Any, submitted_at: str) -> list[_Item]:
        """A whole-request 4xx: nothing was created. Returns rows worth sending again."""
        code, message = reply.error_code, self.scrub(reply.error_msg)
        status = reply.http_status
        if status in (401, 403) and code != NAME_EXISTS:
            detail = f"HTTP {status}{' ' + code if code else ''}{': ' + message if message else ''}"
            self._auth_failed(pending, code or f"HTTP {status}", self._note("note:credentials_refused", detail=detail),
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
        self._give_up(pending, Result.REJECTED, error_code, message or self._note("note:request_refused"), submitted_at,
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
            self.fatal = self.fatal or self._note("note:internal_error", error=text)
            self.stop.set()
            for item in batch:
                if item.row not in self.outcomes:
                    self._done(item, Result.UNKNOWN, error_code="INTERNAL_ERROR",
                               error_msg=self._note("note:internal_error_row", error=text))


