"""The SQLite ledger: the tool's memory of what it sent and what came back.

The batch-creation API has no idempotency key, so the only way to never create a task twice
is to remember, durably and *before* a request leaves, which task names are on their way,
and to record the answer as soon as it arrives. A process killed between the two leaves
rows in state `sending`; the next run treats them as in doubt and looks them up on the
server by name before anything is sent again.

One row per (normalised endpoint, project, lower-cased task name), because the task name is
the campaign's natural key and is case-insensitive on the server. An `events` table keeps
the history of every change for audits. Secrets never get here: callers store payloads with
secret fields masked, and `record_sending` refuses a payload that still carries one.
"""

from __future__ import annotations

import fcntl
import json
import os
import sqlite3
import threading
import uuid
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bulkimport import fields
from bulkimport.drs.endpoints import normalise_endpoint
from bulkimport.errors import InputError
from bulkimport.payload import MASK, is_env_reference

SCHEMA_VERSION = 1

#: A request carrying the row is (or was, when the process died) on its way.
SENDING = "sending"
#: A request carrying the row may have reached the server, with no answer about it.
IN_DOUBT = "in_doubt"
#: The server created the task (from its answer, or found by name after a doubt).
CREATED = "created"
#: The server refused the row, or it was never created; sending it again is safe.
REJECTED = "rejected"
#: The server answered "nothing created" (429, DRS.M01503) and the tool gave up retrying.
NOT_CREATED = "not_created"
#: `rollback` deleted the task.
DELETED = "deleted"
#: `rollback` tried to delete the task and failed; the task still exists.
DELETE_FAILED = "delete_failed"

STATES = (SENDING, IN_DOUBT, CREATED, REJECTED, NOT_CREATED, DELETED, DELETE_FAILED)
#: States in which the task exists on the server as far as the ledger knows.
EXISTING_STATES = frozenset({CREATED, DELETE_FAILED})
#: States whose outcome must be looked up on the server before the row is sent again.
DOUBTFUL_STATES = frozenset({SENDING, IN_DOUBT})

_SCHEMA = """
CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS entries (
    endpoint TEXT NOT NULL,
    project_id TEXT NOT NULL,
    name_key TEXT NOT NULL,
    name TEXT NOT NULL,
    state TEXT NOT NULL,
    task_id TEXT,
    child_ids TEXT NOT NULL DEFAULT '[]',
    task_status TEXT,
    error_code TEXT,
    error_msg TEXT,
    request_id TEXT,
    sent_at TEXT,
    updated_at TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    payload_masked TEXT,
    PRIMARY KEY (endpoint, project_id, name_key)
);
CREATE TABLE IF NOT EXISTS stages (
    endpoint TEXT NOT NULL,
    project_id TEXT NOT NULL,
    name_key TEXT NOT NULL,
    stage TEXT NOT NULL,
    state TEXT NOT NULL,
    task_id TEXT,
    detail TEXT NOT NULL DEFAULT '{}',
    error_code TEXT,
    error_msg TEXT,
    request_id TEXT,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (endpoint, project_id, name_key, stage)
);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS events (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    at TEXT NOT NULL,
    endpoint TEXT NOT NULL,
    project_id TEXT NOT NULL,
    name_key TEXT NOT NULL,
    event TEXT NOT NULL,
    state TEXT NOT NULL,
    task_id TEXT,
    error_code TEXT,
    request_id TEXT
);
"""

#: Launch stages (prepare, start) and their states; one record per (task name, stage).
STAGE_CONNECTION = "connection"
STAGE_OBJECTS = "objects"
STAGE_PRECHECK = "precheck"
STAGE_START = "start"
STAGES = (STAGE_CONNECTION, STAGE_OBJECTS, STAGE_PRECHECK, STAGE_START)
#: connection / objects: the last attempt's verdict.
STAGE_OK = "ok"
STAGE_FAILED = "failed"
#: precheck: asked for (`requested`, before the request), running, and its verdict.
PRECHECK_REQUESTED = "requested"
PRECHECK_RUNNING = "running"
PRECHECK_PASSED = "passed"
PRECHECK_FAILED = "failed"
#: start: the request is on its way (or was, when the process died), its answer, or no answer.
START_SENDING = "sending"
START_STARTED = "started"
START_FAILED = "start_failed"
START_IN_DOUBT = "in_doubt"
#: Keys a stage's `detail` may never hold (connection items carry passwords on the wire).
_SECRET_DETAIL_KEYS = frozenset({"db_password", "ssl_cert_key", "ssl_cert_password"})

_COLUMNS = ("name", "state", "task_id", "child_ids", "task_status", "error_code", "error_msg",
            "request_id", "sent_at", "updated_at", "attempts", "payload_masked")


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


@dataclass(frozen=True)
class LedgerEntry:
    """What the ledger knows about one task name."""

    name: str
    state: str
    task_id: str | None = None
    child_ids: tuple[str, ...] = ()
    task_status: str | None = None
    error_code: str | None = None
    error_msg: str | None = None
    request_id: str | None = None
    sent_at: str | None = None
    updated_at: str | None = None
    attempts: int = 0
    payload_masked: dict[str, Any] | None = None

    @property
    def exists(self) -> bool:
        """The task exists on the server as far as the ledger knows."""
        return self.state in EXISTING_STATES

    @property
    def doubtful(self) -> bool:
        """A request for this name may have created it: look it up before sending again."""
        return self.state in DOUBTFUL_STATES


@dataclass(frozen=True)
class Reply:
    """The server's definitive word on one job, as `record_reply` stores it."""

    name: str
    state: str
    task_id: str | None = None
    child_ids: Sequence[str] = field(default_factory=tuple)
    task_status: str | None = None
    error_code: str | None = None
    error_msg: str | None = None


@dataclass(frozen=True)
class StageRecord:
    """The latest word on one launch stage of one task."""

    stage: str
    state: str
    task_id: str | None = None
    detail: dict[str, Any] = field(default_factory=dict)
    error_code: str | None = None
    error_msg: str | None = None
    request_id: str | None = None
    updated_at: str | None = None


class LedgerError(InputError):
    """The ledger cannot be used (not a ledger, newer schema, secret in a payload): exit 2."""


def _has_secret(job: Mapping[str, Any]) -> bool:
    for key in fields.SECRET_KEYS:
        head, _, attribute = key.partition(".")
        holder = job.get(head) if attribute else job
        value = holder.get(attribute) if isinstance(holder, Mapping) else None
        if value not in (None, "", MASK) and not is_env_reference(value):
            return True
    return False


class LedgerBusy(InputError):
    """Another bulkimport run holds the ledger: this one stops before sending anything (exit 2)."""


#: Locks this process holds, by (lock file, thread): a command that opens its ledger twice
#: (rollback plans, then executes) re-enters its own lock; another thread or process is refused.
_HELD: dict[tuple[str, int], tuple[int, int]] = {}
_HELD_LOCK = threading.Lock()


def lock_path_for(ledger_path: str | Path) -> Path:
    """The lock file beside the ledger (`ledger.sqlite.lock`); it holds the owner's pid."""
    path = Path(ledger_path)
    return path.with_name(path.name + ".lock")


@contextmanager
def ledger_lock(ledger_path: str | Path) -> Iterator[None]:
    """Hold the campaign's ledger exclusively for a whole command run.

    Every command that writes the ledger (`submit`, `status`, `rollback`, `prepare`,
    `start`) wraps its run in this, before its first request: two runs sharing a ledger
    would otherwise both send, and the loser would overwrite the winner's `created` entries.
    The lock is an advisory `flock` on `<ledger>.lock`, released by the kernel when the
    process ends however it ends (kill -9 included), so a crashed run never leaves the
    campaign locked. A second run raises LedgerBusy naming the holder's pid (exit 2).
    Re-entrant within one thread of one process.
    """
    path = lock_path_for(ledger_path)
    path.parent.mkdir(parents=True, exist_ok=True)
    key = (str(path.resolve()), threading.get_ident())
    with _HELD_LOCK:
        held = _HELD.get(key)
        if held is not None:
            _HELD[key] = (held[0], held[1] + 1)
    if held is not None:
        try:
            yield
        finally:
            with _HELD_LOCK:
                fd, depth = _HELD[key]
                _HELD[key] = (fd, depth - 1)
        return
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 32, 0).decode("ascii", "replace").strip() or "unknown"
            raise LedgerBusy("ledger in use by another bulkimport run (pid {pid}): {path}", pid=holder,
                             path=ledger_path) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode("ascii"), 0)
        with _HELD_LOCK:
            _HELD[key] = (fd, 1)
        try:
            yield
        finally:
            with _HELD_LOCK:
                del _HELD[key]
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


def _all_keys(value: Any) -> Iterator[str]:
    """Every dict key at any depth of a JSON-like value."""
    if isinstance(value, Mapping):
        for key, inner in value.items():
            yield str(key)
            yield from _all_keys(inner)
    elif isinstance(value, list | tuple):
        for inner in value:
            yield from _all_keys(inner)


class Ledger:
    """One SQLite file, safe to share between the submit engine's threads.

    Every method is one transaction, committed before it returns: when `record_sending`
    returns, a kill at any later instant leaves the rows findable as `sending`.
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.RLock()
        try:
            self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None, timeout=30)
            self._db.execute("PRAGMA journal_mode=WAL")
            # FULL: a commit survives a power cut too, not only a killed process; a handful
            # of fsyncs per request is noise next to a network round trip.
            self._db.execute("PRAGMA synchronous=FULL")
            with self._transaction() as db:
                for statement in _SCHEMA.strip().split(";"):
                    if statement.strip():
                        db.execute(statement)
                row = db.execute("SELECT version FROM schema_version").fetchone()
                if row is None:
                    db.execute("INSERT INTO schema_version (version) VALUES (?)", (SCHEMA_VERSION,))
                elif row[0] > SCHEMA_VERSION:
                    raise LedgerError("{path}: ledger schema {schema} is newer than this tool ({ours})", path=self.path,
                                      schema=row[0], ours=SCHEMA_VERSION)
        except sqlite3.DatabaseError as exc:
            raise LedgerError("{path}: not a usable ledger ({reason})", path=self.path, reason=exc) from exc

    # -- plumbing -------------------------------------------------------------------------

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    @staticmethod
    def key(endpoint: str, project_id: str, name: str) -> tuple[str, str, str]:
        """The ledger key: normalised endpoint, project, lower-cased name."""
        return normalise_endpoint(endpoint), project_id, name.strip().lower()

    def _event(self, db: sqlite3.Connection, key: tuple[str, str, str], event: str, state: str,
               task_id: str | None = None, error_code: str | None = None, request_id: str | None = None,
               at: str | None = None) -> None:
        db.execute(
            "INSERT INTO events (at, endpoint, project_id, name_key, event, state, task_id, error_code, request_id)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (at or _now(), *key, event, state, task_id, error_code, request_id),
        )

    @staticmethod
    def _state(db: sqlite3.Connection, key: tuple[str, str, str]) -> str | None:
        row = db.execute("SELECT state FROM entries WHERE endpoint = ? AND project_id = ? AND name_key = ?",
                         key).fetchone()
        return None if row is None else str(row[0])

    def _update(self, db: sqlite3.Connection, key: tuple[str, str, str], values: Mapping[str, Any]) -> bool:
        assignments = ", ".join(f"{column} = ?" for column in values)
        cursor = db.execute(
            f"UPDATE entries SET {assignments} WHERE endpoint = ? AND project_id = ? AND name_key = ?",
            (*values.values(), *key),
        )
        return cursor.rowcount > 0

    # -- writes by submit -----------------------------------------------------------------

    def record_sending(self, endpoint: str, project_id: str, jobs: Iterable[Mapping[str, Any]]) -> None:
        """Before a request leaves: its jobs (secrets masked) are on their way.

        Raises LedgerError, before writing anything, if a job still carries a secret.
        """
        jobs = list(jobs)
        for job in jobs:
            if _has_secret(job):
                raise LedgerError(f"refusing to store an unmasked secret for task {job.get('name')!r}")
        at = _now()
        with self._transaction() as db:
            for job in jobs:
                name = str(job["name"])
                key = self.key(endpoint, project_id, name)
                if self._state(db, key) in EXISTING_STATES:
                    raise LedgerError(f"refusing to send task {name!r} again: the ledger shows it created")
                db.execute(
                    "INSERT INTO entries (endpoint, project_id, name_key, name, state, sent_at, updated_at,"
                    " attempts, payload_masked, error_code, error_msg)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?, 1, ?, NULL, NULL)"
                    " ON CONFLICT (endpoint, project_id, name_key) DO UPDATE SET"
                    " name = excluded.name, state = excluded.state, sent_at = excluded.sent_at,"
                    " updated_at = excluded.updated_at, attempts = entries.attempts + 1,"
                    " payload_masked = excluded.payload_masked, error_code = NULL, error_msg = NULL",
                    (*key, name, SENDING, at, at, json.dumps(job, ensure_ascii=False, sort_keys=True)),
                )
                self._event(db, key, "sending", SENDING, at=at)

    def record_reply(self, endpoint: str, project_id: str, replies: Iterable[Reply],
                     *, request_id: str | None = None) -> None:
        """After an answer: each job's definitive outcome (created, rejected, not created)."""
        at = _now()
        with self._transaction() as db:
            for reply in replies:
                if reply.state not in STATES:
                    raise ValueError(f"unknown ledger state {reply.state!r}")
                key = self.key(endpoint, project_id, reply.name)
                values: dict[str, Any] = {
                    "state": reply.state, "error_code": reply.error_code, "error_msg": reply.error_msg,
                    "request_id": request_id, "updated_at": at,
                }
                if reply.state == CREATED:
                    values.update(task_id=reply.task_id, child_ids=json.dumps(list(reply.child_ids)),
                                  task_status=reply.task_status)
                if self._state(db, key) in EXISTING_STATES:
                    # Created stays created: only rollback's delete changes that. A late or foreign
                    # answer about the name (e.g. "name already taken") is kept as an event only.
                    self._event(db, key, "ignored_reply", reply.state, reply.task_id, reply.error_code,
                                request_id, at)
                    continue
                if not self._update(db, key, values):
                    db.execute(
                        "INSERT INTO entries (endpoint, project_id, name_key, name, state, updated_at)"
                        " VALUES (?, ?, ?, ?, ?, ?)", (*key, reply.name, reply.state, at))
                    self._update(db, key, values)
                self._event(db, key, "reply", reply.state, reply.task_id, reply.error_code, request_id, at)

    def mark_in_doubt(self, endpoint: str, project_id: str, names: Iterable[str], *,
                      error_code: str | None = None, error_msg: str | None = None,
                      request_id: str | None = None) -> None:
        """The request may have reached the server and its answer is lost or unusable."""
        at = _now()
        with self._transaction() as db:
            for name in names:
                key = self.key(endpoint, project_id, name)
                if self._state(db, key) in EXISTING_STATES:
                    continue
                self._update(db, key, {"state": IN_DOUBT, "error_code": error_code, "error_msg": error_msg,
                                       "request_id": request_id, "updated_at": at})
                self._event(db, key, "in_doubt", IN_DOUBT, None, error_code, request_id, at)

    def adopt(self, endpoint: str, project_id: str, name: str, task_id: str, *,
              child_ids: Sequence[str] = (), task_status: str | None = None) -> None:
        """A task found on the server by name is the one this tool's own request created."""
        at = _now()
        key = self.key(endpoint, project_id, name)
        values = {"state": CREATED, "task_id": task_id, "child_ids": json.dumps(list(child_ids)),
                  "task_status": task_status, "error_code": None, "error_msg": None, "updated_at": at}
        with self._transaction() as db:
            current = db.execute("SELECT state, task_id FROM entries WHERE endpoint = ? AND project_id = ?"
                                 " AND name_key = ?", key).fetchone()
            if current is not None and current[0] in EXISTING_STATES and current[1] != task_id:
                raise LedgerError(f"refusing to adopt task {task_id} for {name!r}: the ledger records task "
                                  f"{current[1]} for this name")
            if not self._update(db, key, values):
                db.execute("INSERT INTO entries (endpoint, project_id, name_key, name, state, updated_at)"
                           " VALUES (?, ?, ?, ?, ?, ?)", (*key, name, CREATED, at))
                self._update(db, key, values)
            self._event(db, key, "adopted", CREATED, task_id, at=at)

    # -- writes by status and rollback ----------------------------------------------------

    def record_status(self, endpoint: str, project_id: str, name: str, task_status: str,
                      error_code: str | None = None, error_msg: str | None = None) -> bool:
        """The task's latest status from the server; False when the ledger has no such name."""
        key = self.key(endpoint, project_id, name)
        at = _now()
        with self._transaction() as db:
            found = self._update(db, key, {"task_status": task_status, "error_code": error_code,
                                           "error_msg": error_msg, "updated_at": at})
            if found:
                self._event(db, key, "status", task_status, error_code=error_code, at=at)
            return found

    def record_deleted(self, endpoint: str, project_id: str, name: str, ok: bool,
                       error_code: str | None = None, error_msg: str | None = None) -> bool:
        """Outcome of a delete: `deleted`, or `delete_failed` (the task still exists)."""
        key = self.key(endpoint, project_id, name)
        state = DELETED if ok else DELETE_FAILED
        at = _now()
        with self._transaction() as db:
            found = self._update(db, key, {"state": state, "error_code": error_code, "error_msg": error_msg,
                                           "updated_at": at})
            if found:
                self._event(db, key, "deleted" if ok else "delete_failed", state, error_code=error_code, at=at)
            return found

    # -- launch stages (prepare, start) ----------------------------------------------------

    def record_stage(self, endpoint: str, project_id: str, name: str, stage: str, state: str, *,
                     task_id: str | None = None, detail: Mapping[str, Any] | None = None,
                     error_code: str | None = None, error_msg: str | None = None,
                     request_id: str | None = None) -> None:
        """One stage's new state for one task, committed before returning (so a start is on
        record before its request leaves). Refuses a detail that names a secret field."""
        self.record_stages(endpoint, project_id, [(name, task_id, detail or {}, error_code, error_msg)], stage,
                           state, request_id=request_id)

    def record_stages(self, endpoint: str, project_id: str,
                      items: Iterable[tuple[str, str | None, Mapping[str, Any], str | None, str | None]],
                      stage: str, state: str, *, request_id: str | None = None) -> None:
        """Many tasks' new state of one stage in one transaction: items are
        (name, task_id, detail, error_code, error_msg)."""
        if stage not in STAGES:
            raise ValueError(f"unknown launch stage {stage!r}")
        items = list(items)
        for name, _, detail, _, _ in items:
            if _SECRET_DETAIL_KEYS & set(_all_keys(detail)):
                raise LedgerError(f"refusing to store a secret field in the {stage} record of {name!r}")
        at = _now()
        with self._transaction() as db:
            for name, task_id, detail, error_code, error_msg in items:
                key = self.key(endpoint, project_id, name)
                db.execute(
                    "INSERT INTO stages (endpoint, project_id, name_key, stage, state, task_id, detail, error_code,"
                    " error_msg, request_id, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
                    " ON CONFLICT (endpoint, project_id, name_key, stage) DO UPDATE SET state = excluded.state,"
                    " task_id = COALESCE(excluded.task_id, stages.task_id), detail = excluded.detail,"
                    " error_code = excluded.error_code, error_msg = excluded.error_msg,"
                    " request_id = excluded.request_id, updated_at = excluded.updated_at",
                    (*key, stage, state, task_id, json.dumps(dict(detail), ensure_ascii=False, sort_keys=True),
                     error_code, error_msg, request_id, at))
                self._event(db, key, f"{stage}:{state}", state, task_id, error_code, request_id, at)

    def stages(self, endpoint: str, project_id: str) -> dict[str, dict[str, StageRecord]]:
        """Every stage record for this endpoint and project: lower-cased name -> stage -> record."""
        endpoint_key = normalise_endpoint(endpoint)
        with self._lock:
            rows = self._db.execute(
                "SELECT name_key, stage, state, task_id, detail, error_code, error_msg, request_id, updated_at"
                " FROM stages WHERE endpoint = ? AND project_id = ?", (endpoint_key, project_id)).fetchall()
        found: dict[str, dict[str, StageRecord]] = {}
        for name_key, stage, state, task_id, detail, code, msg, request_id, at in rows:
            found.setdefault(name_key, {})[stage] = StageRecord(stage, state, task_id, json.loads(detail or "{}"),
                                                                code, msg, request_id, at)
        return found

    # -- the campaign's identity -----------------------------------------------------------

    def campaign_id(self) -> str:
        """This ledger's campaign ID, made on first use. The results workbooks of the campaign
        record it, so a later command can tell its own ledger from another campaign's."""
        with self._transaction() as db:
            row = db.execute("SELECT value FROM meta WHERE key = 'campaign_id'").fetchone()
            if row is not None:
                return str(row[0])
            value = uuid.uuid4().hex
            db.execute("INSERT INTO meta (key, value) VALUES ('campaign_id', ?)", (value,))
            return value

    def recorded_campaign_id(self) -> str | None:
        """The campaign ID if one was ever made (a ledger of an older version has none)."""
        with self._lock:
            row = self._db.execute("SELECT value FROM meta WHERE key = 'campaign_id'").fetchone()
        return None if row is None else str(row[0])

    def targets(self) -> list[tuple[str, str]]:
        """Every (normalised endpoint, project) this ledger has sent to, oldest first: the only
        places a follow-up command sends credentials to without being told on the command line."""
        with self._lock:
            rows = self._db.execute("SELECT endpoint, project_id FROM entries GROUP BY endpoint, project_id"
                                    " ORDER BY min(rowid)").fetchall()
        return [(str(e), str(p)) for e, p in rows]

    # -- reads ----------------------------------------------------------------------------

    @staticmethod
    def _entry(row: Sequence[Any]) -> LedgerEntry:
        values = dict(zip(_COLUMNS, row, strict=True))
        values["child_ids"] = tuple(json.loads(values["child_ids"] or "[]"))
        values["payload_masked"] = json.loads(values["payload_masked"]) if values["payload_masked"] else None
        return LedgerEntry(**values)

    def get(self, endpoint: str, project_id: str, name: str) -> LedgerEntry | None:
        key = self.key(endpoint, project_id, name)
        with self._lock:
            row = self._db.execute(
                f"SELECT {', '.join(_COLUMNS)} FROM entries WHERE endpoint = ? AND project_id = ? AND name_key = ?",
                key).fetchone()
        return None if row is None else self._entry(row)

    def entries(self, endpoint: str, project_id: str) -> list[LedgerEntry]:
        """Every name recorded for this endpoint and project, oldest first."""
        endpoint_key = normalise_endpoint(endpoint)
        with self._lock:
            rows = self._db.execute(
                f"SELECT {', '.join(_COLUMNS)} FROM entries WHERE endpoint = ? AND project_id = ?"
                " ORDER BY rowid", (endpoint_key, project_id)).fetchall()
        return [self._entry(row) for row in rows]

    def lookup(self, endpoint: str, project_id: str, names: Iterable[str]) -> dict[str, LedgerEntry]:
        """Entries for many names at once, keyed by lower-cased name (missing names absent)."""
        wanted = {name.strip().lower() for name in names}
        return {e.name.lower(): e for e in self.entries(endpoint, project_id) if e.name.lower() in wanted}

    def history(self, endpoint: str, project_id: str, name: str) -> list[dict[str, Any]]:
        """Every recorded event for one name, oldest first (for audits and tests)."""
        key = self.key(endpoint, project_id, name)
        with self._lock:
            cursor = self._db.execute(
                "SELECT at, event, state, task_id, error_code, request_id FROM events"
                " WHERE endpoint = ? AND project_id = ? AND name_key = ? ORDER BY seq", key)
            columns = [c[0] for c in cursor.description]
            return [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def __enter__(self) -> Ledger:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
