"""ledger.py: durable memory of what was sent and what came back."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from bulkimport import ledger as L
from bulkimport.ledger import Ledger, LedgerError, Reply

EP = "https://DRS.eu-de.otc.t-systems.com/"
PROJECT = "054ba152d480d55b2f5dc0069e7ddef0"


def job(name: str, password: str = "******") -> dict:
    return {"name": name, "db_use_type": "migration",
            "source_endpoint": {"db_password": password}, "target_endpoint": {}}


@pytest.fixture
def ledger(tmp_path: Path) -> Ledger:
    with Ledger(tmp_path / "sub" / "ledger.sqlite") as led:
        yield led


def test_creates_parent_directory_wal_and_schema_version(tmp_path: Path) -> None:
    path = tmp_path / "a" / "b" / "ledger.sqlite"
    Ledger(path).close()
    db = sqlite3.connect(path)
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert db.execute("SELECT version FROM schema_version").fetchall() == [(L.SCHEMA_VERSION,)]
    Ledger(path).close()  # reopening keeps one version row
    assert db.execute("SELECT count(*) FROM schema_version").fetchone()[0] == 1


def test_key_is_case_insensitive_in_name_and_host_and_ignores_trailing_slash(ledger: Ledger) -> None:
    ledger.record_sending(EP, PROJECT, [job("Task-One")])
    entry = ledger.get("https://drs.eu-de.otc.t-systems.com", PROJECT, "TASK-one")
    assert entry is not None and entry.name == "Task-One" and entry.state == L.SENDING
    assert ledger.get(EP, "other-project", "Task-One") is None
    assert ledger.get("https://other.example.com", PROJECT, "Task-One") is None


def test_lifecycle_sending_reply_status_delete(ledger: Ledger) -> None:
    ledger.record_sending(EP, PROJECT, [job("task-a"), job("task-b")])
    ledger.record_reply(EP, PROJECT, [
        Reply("task-a", L.CREATED, task_id="id-a", child_ids=["c1", "c2"], task_status="CREATING"),
        Reply("TASK-B", L.REJECTED, error_code="DRS.M05066", error_msg="Failed to create instance!"),
    ], request_id="req-1")
    a = ledger.get(EP, PROJECT, "task-a")
    assert (a.state, a.task_id, a.child_ids, a.task_status, a.request_id, a.attempts) == (
        L.CREATED, "id-a", ("c1", "c2"), "CREATING", "req-1", 1)
    assert a.exists and not a.doubtful and a.sent_at and a.updated_at
    assert a.payload_masked == job("task-a")
    b = ledger.get(EP, PROJECT, "task-b")
    assert (b.state, b.error_code, b.task_id) == (L.REJECTED, "DRS.M05066", None)

    assert ledger.record_status(EP, PROJECT, "task-a", "CONFIGURATION")
    assert ledger.get(EP, PROJECT, "task-a").task_status == "CONFIGURATION"
    assert not ledger.record_status(EP, PROJECT, "never-sent", "CONFIGURATION")

    assert ledger.record_deleted(EP, PROJECT, "task-a", ok=False, error_code="DRS.M00304", error_msg="busy")
    assert ledger.get(EP, PROJECT, "task-a").state == L.DELETE_FAILED
    assert ledger.get(EP, PROJECT, "task-a").exists
    assert ledger.record_deleted(EP, PROJECT, "task-a", ok=True)
    assert ledger.get(EP, PROJECT, "task-a").state == L.DELETED
    events = [e["event"] for e in ledger.history(EP, PROJECT, "task-a")]
    assert events == ["sending", "reply", "status", "delete_failed", "deleted"]


def test_resending_counts_attempts_and_clears_old_error(ledger: Ledger) -> None:
    ledger.record_sending(EP, PROJECT, [job("task-a")])
    ledger.mark_in_doubt(EP, PROJECT, ["task-a"], error_code="HTTP 500")
    entry = ledger.get(EP, PROJECT, "task-a")
    assert entry.state == L.IN_DOUBT and entry.doubtful and entry.error_code == "HTTP 500"
    ledger.record_sending(EP, PROJECT, [job("task-a")])
    entry = ledger.get(EP, PROJECT, "task-a")
    assert (entry.state, entry.attempts, entry.error_code) == (L.SENDING, 2, None)


def test_adopt_records_the_found_task(ledger: Ledger) -> None:
    ledger.record_sending(EP, PROJECT, [job("task-a")])
    ledger.mark_in_doubt(EP, PROJECT, ["task-a"])
    ledger.adopt(EP, PROJECT, "task-a", "found-id", task_status="CONFIGURATION")
    entry = ledger.get(EP, PROJECT, "task-a")
    assert (entry.state, entry.task_id, entry.task_status) == (L.CREATED, "found-id", "CONFIGURATION")
    assert [e["event"] for e in ledger.history(EP, PROJECT, "task-a")][-1] == "adopted"


def test_refuses_unmasked_secrets_and_writes_nothing(ledger: Ledger, tmp_path: Path) -> None:
    with pytest.raises(LedgerError):
        ledger.record_sending(EP, PROJECT, [job("task-a"), job("task-b", password="hunter2-real")])
    assert ledger.entries(EP, PROJECT) == []
    ledger.record_sending(EP, PROJECT, [job("task-c", password="env:DB_PW")])  # a reference is fine
    assert b"hunter2-real" not in ledger.path.read_bytes()


def test_entries_and_lookup(ledger: Ledger) -> None:
    ledger.record_sending(EP, PROJECT, [job("b-task"), job("A-task")])
    ledger.record_sending(EP, "p2", [job("c-task")])
    assert [e.name for e in ledger.entries(EP, PROJECT)] == ["b-task", "A-task"]
    assert set(ledger.lookup(EP, PROJECT, ["a-TASK", "zzzz"])) == {"a-task"}


def test_threads_can_share_one_ledger(ledger: Ledger) -> None:
    def work(i: int) -> None:
        names = [f"task-{i}-{k}" for k in range(10)]
        ledger.record_sending(EP, PROJECT, [job(n) for n in names])
        ledger.record_reply(EP, PROJECT, [Reply(n, L.CREATED, task_id=n.upper()) for n in names])

    threads = [threading.Thread(target=work, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    entries = ledger.entries(EP, PROJECT)
    assert len(entries) == 80 and all(e.state == L.CREATED and e.task_id == e.name.upper() for e in entries)


def test_not_a_ledger_is_reported(tmp_path: Path) -> None:
    bad = tmp_path / "ledger.sqlite"
    bad.write_bytes(b"this is not sqlite at all" * 100)
    with pytest.raises(LedgerError):
        Ledger(bad)


def test_a_commit_survives_a_killed_process(tmp_path: Path) -> None:
    path = tmp_path / "ledger.sqlite"
    code = (
        "import os, sys\n"
        "from bulkimport.ledger import Ledger\n"
        f"led = Ledger({str(path)!r})\n"
        f"led.record_sending({EP!r}, {PROJECT!r}, [{{'name': 'task-kill'}}])\n"
        "os.kill(os.getpid(), 9)\n"
    )
    subprocess.run([sys.executable, "-c", code], check=False)
    with Ledger(path) as led:
        assert led.get(EP, PROJECT, "task-kill").state == L.SENDING


def test_created_never_goes_back_to_anything_but_deleted(ledger: Ledger) -> None:
    ledger.record_sending(EP, PROJECT, [job("kept")])
    ledger.record_reply(EP, PROJECT, [Reply("kept", L.CREATED, task_id="t-1")])
    # A late or foreign answer about the name cannot demote it ...
    ledger.record_reply(EP, PROJECT, [Reply("KEPT", L.REJECTED, error_code="DRS.M00277",
                                            error_msg="name already taken by task t-1")])
    ledger.mark_in_doubt(EP, PROJECT, ["kept"])
    with pytest.raises(LedgerError, match="created"):
        ledger.record_sending(EP, PROJECT, [job("kept")])
    with pytest.raises(LedgerError, match="t-1"):
        ledger.adopt(EP, PROJECT, "kept", "t-other")
    entry = ledger.get(EP, PROJECT, "kept")
    assert (entry.state, entry.task_id) == (L.CREATED, "t-1")
    # ... only rollback's delete does.
    ledger.record_deleted(EP, PROJECT, "kept", ok=True)
    assert ledger.get(EP, PROJECT, "kept").state == L.DELETED
