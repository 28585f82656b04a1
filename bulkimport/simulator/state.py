"""The simulator's memory: tasks, issued tokens and the request log, in SQLite.

One code path for both modes: ``path=None`` uses a private in-memory database, a file path
makes the state survive a restart. All access goes through one re-entrant lock, which the
DRS logic also holds while it checks a name and inserts the task, so two concurrent
requests can never both create the same name.

Nothing secret is stored: job payloads are redacted before they get here and tokens are
kept as SHA-256 digests.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bulkimport.simulator import timeline, wire_schema

if TYPE_CHECKING:
    from bulkimport.simulator.faults import FaultPlan

#: Bumped whenever _SCHEMA changes; a state file of another version is refused, not half-used.
SCHEMA_VERSION = 1

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS tasks (
    id TEXT PRIMARY KEY,
    project_id TEXT NOT NULL,
    name TEXT NOT NULL,
    name_key TEXT NOT NULL,
    created_ms INTEGER NOT NULL,
    ready_ms INTEGER NOT NULL,
    fate TEXT NOT NULL,
    error_code TEXT,
    error_message TEXT,
    release_ms INTEGER,
    released_ms INTEGER,
    deleted_ms INTEGER,
    job TEXT NOT NULL,
    launch TEXT
);
CREATE UNIQUE INDEX IF NOT EXISTS tasks_live_name ON tasks (project_id, name_key) WHERE deleted_ms IS NULL;
CREATE TABLE IF NOT EXISTS requests (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    at_ms INTEGER NOT NULL,
    method TEXT NOT NULL,
    path TEXT NOT NULL,
    endpoint TEXT,
    project_id TEXT,
    headers TEXT NOT NULL,
    body TEXT,
    status INTEGER,
    jobs INTEGER,
    fault TEXT,
    auth TEXT
);
CREATE TABLE IF NOT EXISTS tokens (
    digest TEXT PRIMARY KEY,
    project_id TEXT,
    issued_ms INTEGER NOT NULL,
    expires_ms INTEGER,
    uses INTEGER NOT NULL DEFAULT 0,
    expired INTEGER NOT NULL DEFAULT 0,
    static INTEGER NOT NULL DEFAULT 0
);
"""

#: Statuses in which a task can be deleted (OTC doc on stopping or deleting tasks).
DELETABLE = frozenset({"CREATE_FAILED", "RELEASE_RESOURCE_COMPLETE", "RELEASE_CHILD_TRANSFER_COMPLETE"})


@dataclass
class Task:
    """One DRS task. Its status is derived from timestamps, so no timer thread is needed."""

    id: str
    project_id: str
    name: str
    created_ms: int
    ready_ms: int
    fate: str  # CONFIGURATION or CREATE_FAILED: what CREATING turns into at ready_ms
    job: dict[str, Any]  # the job as sent, passwords redacted
    error_code: str | None = None
    error_message: str | None = None
    release_ms: int | None = None  # when a terminate started
    released_ms: int | None = None  # when the release completes
    deleted_ms: int | None = None
    #: what the launch calls did to the task: password digests ("pw"), connection tests ("conn"),
    #: object selection ("objects"), the latest pre-check ("precheck") and the start ("start")
    launch: dict[str, Any] = field(default_factory=dict)

    @property
    def deleted(self) -> bool:
        return self.deleted_ms is not None

    def status(self, now_ms: int) -> str:
        if self.deleted_ms is not None:
            return "DELETED"
        if self.release_ms is not None:
            done = self.released_ms if self.released_ms is not None else self.release_ms
            return "RELEASE_RESOURCE_COMPLETE" if now_ms >= done else "RELEASE_RESOURCE_STARTED"
        if now_ms < self.ready_ms:
            return "CREATING"
        start = self.launch.get("start")
        if self.fate == "CONFIGURATION" and start is not None:
            return timeline.started_status(start, self.task_type, now_ms)
        return self.fate

    @property
    def task_type(self) -> str:
        return str(self.job.get("task_type") or "FULL_INCR_TRANS")

    def failure(self, now_ms: int) -> tuple[str | None, str | None]:
        """(error_code, error_message) when the task is in a failed state, else (None, None)."""
        status = self.status(now_ms)
        if status == "CREATE_FAILED":
            return self.error_code, self.error_message
        return timeline.FAILED_STATES.get(status, (None, None))


@dataclass
class TokenRecord:
    digest: str
    project_id: str | None
    issued_ms: int
    expires_ms: int | None
    uses: int
    expired: bool


def _task_from_row(row: sqlite3.Row) -> Task:
    return Task(
        id=row["id"], project_id=row["project_id"], name=row["name"], created_ms=row["created_ms"],
        ready_ms=row["ready_ms"], fate=row["fate"], job=json.loads(row["job"]), error_code=row["error_code"],
        error_message=row["error_message"], release_ms=row["release_ms"], released_ms=row["released_ms"],
        deleted_ms=row["deleted_ms"], launch=json.loads(row["launch"]) if row["launch"] else {},
    )


class Store:
    """SQLite-backed state shared by all request threads."""

    def __init__(self, path: str | Path | None = None) -> None:
        self.path = None if path is None else Path(path)
        target = ":memory:" if self.path is None else str(self.path)
        if self.path is not None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        self._conn = sqlite3.connect(target, check_same_thread=False, isolation_level=None)
        self._conn.row_factory = sqlite3.Row
        self.lock = threading.RLock()
        with self.lock:
            if self.path is not None:
                self._conn.execute("PRAGMA journal_mode=WAL")
                self._conn.execute("PRAGMA synchronous=NORMAL")  # a simulator need not survive power loss
            version = self._conn.execute("PRAGMA user_version").fetchone()[0]
            has_tables = self._conn.execute("SELECT count(*) FROM sqlite_master WHERE type = 'table'").fetchone()[0]
            if has_tables and version != SCHEMA_VERSION:
                self._conn.close()
                raise ValueError(f"{self.path} is not a simulator state file of version {SCHEMA_VERSION}")
            self._conn.executescript(_SCHEMA)
            columns = {r["name"] for r in self._conn.execute("PRAGMA table_info(tasks)")}
            if "launch" not in columns:  # a state file written before the launch calls existed
                self._conn.execute("ALTER TABLE tasks ADD COLUMN launch TEXT")
            self._conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")

    def close(self) -> None:
        with self.lock:
            self._conn.close()

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """Hold the lock and one SQLite transaction (commit on success, roll back on error)."""
        with self.lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                yield
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            self._conn.execute("COMMIT")

    # -- meta ------------------------------------------------------------------------------

    def bump_counter(self, key: str) -> int:
        """Increment and return a persistent counter (used to vary the seed across restarts)."""
        with self.lock:
            row = self._conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
            value = (int(row["value"]) if row else 0) + 1
            self._conn.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", (key, str(value)))
            return value

    # -- tasks -----------------------------------------------------------------------------

    def live_task_by_name(self, project_id: str, name: str) -> Task | None:
        with self.lock:
            row = self._conn.execute(
                "SELECT * FROM tasks WHERE project_id = ? AND name_key = ? AND deleted_ms IS NULL",
                (project_id, name.lower()),
            ).fetchone()
        return _task_from_row(row) if row else None

    def insert_task(self, task: Task) -> None:
        with self.lock:
            self._conn.execute(
                "INSERT INTO tasks (id, project_id, name, name_key, created_ms, ready_ms, fate, error_code,"
                " error_message, release_ms, released_ms, deleted_ms, job, launch)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (task.id, task.project_id, task.name, task.name.lower(), task.created_ms, task.ready_ms, task.fate,
                 task.error_code, task.error_message, task.release_ms, task.released_ms, task.deleted_ms,
                 json.dumps(task.job), json.dumps(task.launch)),
            )


    def get_task(self, project_id: str, task_id: str) -> Task | None:
        with self.lock:
            row = self._conn.execute(
                "SELECT * FROM tasks WHERE project_id = ? AND id = ?", (project_id, task_id)).fetchone()
        return _task_from_row(row) if row else None

    def tasks_by_id(self, project_id: str, task_ids: list[str]) -> dict[str, Task]:
        """The project's tasks among ``task_ids`` (deleted ones included), by ID: one query per batch."""
        unique = list(dict.fromkeys(task_ids))
        if not unique:
            return {}
        marks = ",".join("?" * len(unique))
        with self.lock:
            rows = self._conn.execute(f"SELECT * FROM tasks WHERE project_id = ? AND id IN ({marks})",
                                      (project_id, *unique)).fetchall()
        return {row["id"]: _task_from_row(row) for row in rows}

    def set_launches(self, launches: dict[str, dict[str, Any]]) -> None:
        """Replace several tasks' launch records at once (callers hold a transaction)."""
        with self.lock:
            self._conn.executemany("UPDATE tasks SET launch = ? WHERE id = ?",
                                   [(json.dumps(launch), task_id) for task_id, launch in launches.items()])

    def tasks(self, project_id: str | None = None) -> list[Task]:
        """All tasks (deleted included), oldest first."""
        with self.lock:
            if project_id is None:
                rows = self._conn.execute("SELECT * FROM tasks ORDER BY created_ms, rowid").fetchall()
            else:
                rows = self._conn.execute(
                    "SELECT * FROM tasks WHERE project_id = ? ORDER BY created_ms, rowid", (project_id,)).fetchall()
        return [_task_from_row(r) for r in rows]

    def mark_released(self, task_id: str, release_ms: int, released_ms: int) -> None:
        with self.lock:
            self._conn.execute("UPDATE tasks SET release_ms = ?, released_ms = ? WHERE id = ?",
                               (release_ms, released_ms, task_id))

    def mark_deleted(self, task_id: str, deleted_ms: int) -> None:
        with self.lock:
            self._conn.execute("UPDATE tasks SET deleted_ms = ? WHERE id = ?", (deleted_ms, task_id))

    # -- tokens ----------------------------------------------------------------------------

    def add_token(self, digest: str, project_id: str | None, issued_ms: int, expires_ms: int | None,
                  static: bool = False) -> None:
        with self.lock:
            self._conn.execute(
                "INSERT OR REPLACE INTO tokens (digest, project_id, issued_ms, expires_ms, uses, expired, static)"
                " VALUES (?, ?, ?, ?, 0, 0, ?)", (digest, project_id, issued_ms, expires_ms, int(static)))

    def replace_static_token(self, digest: str, issued_ms: int) -> None:
        """The configured token of this run is the only static one; an earlier run's stops working."""
        with self.lock:
            self._conn.execute("DELETE FROM tokens WHERE static = 1")
            self.add_token(digest, None, issued_ms, None, static=True)

    def token(self, digest: str) -> TokenRecord | None:
        with self.lock:
            row = self._conn.execute("SELECT * FROM tokens WHERE digest = ?", (digest,)).fetchone()
        if row is None:
            return None
        return TokenRecord(row["digest"], row["project_id"], row["issued_ms"], row["expires_ms"], row["uses"],
                           bool(row["expired"]))

    def count_token_use(self, digest: str) -> None:
        with self.lock:
            self._conn.execute("UPDATE tokens SET uses = uses + 1 WHERE digest = ?", (digest,))

    def expire_token(self, digest: str) -> None:
        with self.lock:
            self._conn.execute("UPDATE tokens SET expired = 1 WHERE digest = ?", (digest,))

    # -- request log -------------------------------------------------------------------------

    def log_request(self, entry: dict[str, Any]) -> None:
        with self.lock:
            self._conn.execute(
                "INSERT INTO requests (at_ms, method, path, endpoint, project_id, headers, body, status, jobs, fault,"
                " auth) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (entry["at_ms"], entry["method"], entry["path"], entry.get("endpoint"), entry.get("project_id"),
                 json.dumps(entry["headers"]), json.dumps(entry.get("body")), entry.get("status"),
                 entry.get("jobs"), entry.get("fault"), entry.get("auth")),
            )

    def requests(self, since: int = 0) -> list[dict[str, Any]]:
        with self.lock:
            rows = self._conn.execute("SELECT * FROM requests WHERE seq > ? ORDER BY seq", (since,)).fetchall()
        return [
            {"seq": r["seq"], "at_ms": r["at_ms"], "method": r["method"], "path": r["path"],
             "endpoint": r["endpoint"], "project_id": r["project_id"], "headers": json.loads(r["headers"]),
             "body": json.loads(r["body"]) if r["body"] is not None else None, "status": r["status"],
             "jobs": r["jobs"], "fault": r["fault"], "auth": r["auth"]}
            for r in rows
        ]

    # -- admin -----------------------------------------------------------------------------

    def reset(self) -> None:
        """Forget every task, token and logged request (the start counter is kept)."""
        with self.lock:
            self._conn.executescript("DELETE FROM tasks; DELETE FROM requests; DELETE FROM tokens;")


class Service:
    """What each simulated API (batch creation and its companions, the launch calls) holds:
    the one Store they share, the fault plan, the batch limit and the clock (a test moves it).
    A subclass compiles its own schema checkers in its constructor."""

    def __init__(self, store: Store, plan: FaultPlan, max_jobs: int = wire_schema.DEFAULT_MAX_JOBS,
                 clock: Callable[[], float] = time.time) -> None:
        self.store = store
        self.plan = plan
        self.max_jobs = max_jobs
        self.clock = clock

    def now_ms(self) -> int:
        return int(self.clock() * 1000)
