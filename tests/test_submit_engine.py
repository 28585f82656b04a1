"""The exactly-once engine on its own, driven by a fake client (no server, no HTTP): each kind
of reply a batch-creation attempt can get leads to the outcome docs/decisions.md "Exactly once"
promises, and nothing is ever sent twice for a row the server already has."""

from __future__ import annotations

import threading
from collections.abc import Iterable
from pathlib import Path

from bulkimport.drs.client import BatchReply, JobResult, ReplyKind
from bulkimport.ledger import Ledger
from bulkimport.outcomes import Result
from bulkimport.progress import NullProgress
from bulkimport.submit import Engine, SubmitOptions, Timings
from bulkimport.submit.engine import SubmitClient, _Item
from bulkimport.target import Target

ENDPOINT = "https://drs.example.test"
PROJECT = "054ba152d480d55b2f5dc0069e7ddef0"


def accepted(jobs: list[dict]) -> BatchReply:
    return BatchReply(ReplyKind.ACCEPTED, 202, [
        JobResult(name=j["name"], id=f"id-{j['name']}", child_ids=[], status="CREATING",
                  create_time=None, error_code=None, error_msg=None) for j in jobs])


class FakeClient:
    """Answers each send_batch with the next scripted reply kind; keeps what the 'server' has."""

    def __init__(self, script: list[ReplyKind]) -> None:
        self.script = list(script)
        self.sent: list[list[str]] = []
        self.server: dict[str, dict] = {}

    def send_batch(self, jobs: list[dict]) -> BatchReply:
        self.sent.append([j["name"] for j in jobs])
        kind = self.script.pop(0) if self.script else ReplyKind.ACCEPTED
        if kind is ReplyKind.RETRY_SAFE:
            return BatchReply(kind, 429, error_code="DRS.M01503", error_msg="too frequent")
        reply = accepted(jobs)
        for result in reply.results:  # the server did create them, whatever reached us
            self.server[str(result.name).lower()] = {"id": result.id, "name": result.name, "status": "CREATING"}
        if kind is ReplyKind.IN_DOUBT:
            return BatchReply(kind, 504, error_msg="gateway time-out")
        return reply

    def find_tasks_by_name(self, name: str, db_use_types: Iterable[str]) -> list[dict]:
        task = self.server.get(name.lower())
        return [task] if task else []

    def batch_detail(self, ids: list[str]) -> list[dict]:
        return [t for t in self.server.values() if t["id"] in ids]


def run(tmp_path: Path, client: SubmitClient, names: list[str]) -> tuple[Engine, Ledger]:
    ledger = Ledger(tmp_path / "ledger.sqlite")
    target = Target(endpoint=ENDPOINT, ledger_endpoint=ENDPOINT, project_id=PROJECT, auth=None,
                    ledger_path=tmp_path / "ledger.sqlite")
    options = SubmitOptions(base_delay=0, max_delay=0, jitter=0, max_retry_time=5)
    engine = Engine(client, ledger, target, options, threading.Event(), NullProgress(), lambda t: t, Timings())
    items = []
    for row, name in enumerate(names, start=3):
        job = {"name": name, "db_use_type": "migration"}
        items.append(_Item(row=row, typed={"name": name}, masked=dict(job), wire=dict(job),
                           use_types=("migration",)))
    engine.run([items])
    return engine, ledger


def test_an_accepted_batch_creates_each_row_once(tmp_path: Path) -> None:
    client = FakeClient([ReplyKind.ACCEPTED])
    engine, ledger = run(tmp_path, client, ["task-a", "task-b"])
    assert {o.name: o.result for o in engine.outcomes.values()} == {"task-a": Result.CREATED, "task-b": Result.CREATED}
    assert client.sent == [["task-a", "task-b"]]
    assert ledger.get(ENDPOINT, PROJECT, "task-a").task_id == "id-task-a"


def test_throttling_is_retried_and_creates_once(tmp_path: Path) -> None:
    client = FakeClient([ReplyKind.RETRY_SAFE, ReplyKind.RETRY_SAFE, ReplyKind.ACCEPTED])
    engine, _ = run(tmp_path, client, ["task-a"])
    assert [o.result for o in engine.outcomes.values()] == [Result.CREATED]
    assert client.sent == [["task-a"]] * 3


def test_a_batch_in_doubt_is_looked_up_not_sent_again(tmp_path: Path) -> None:
    client = FakeClient([ReplyKind.IN_DOUBT])
    engine, ledger = run(tmp_path, client, ["task-a", "task-b"])
    assert client.sent == [["task-a", "task-b"]]  # found by name: never sent a second time
    assert {o.result for o in engine.outcomes.values()} == {Result.CREATED}
    assert ledger.get(ENDPOINT, PROJECT, "task-b").task_id == "id-task-b"
