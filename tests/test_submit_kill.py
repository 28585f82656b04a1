"""A real `bulkimport submit` process, killed mid-campaign (SIGKILL) or interrupted (SIGINT),
then run again: every task ends up created exactly once.

The simulator runs in this test's process with its state in a file and an added latency,
so requests are reliably in flight when the signal arrives; the submit runs as a
subprocess talking to it over HTTP with OS_AUTH_TOKEN, like an operator's shell would.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import pytest
from test_submit import PROJECT, TOKEN, make_book, names, read_rows, server_tasks, task_row

from bulkimport.simulator import FaultConfig, Simulator

REPO = Path(__file__).resolve().parent.parent
ROWS = 30


class InLatency:
    """Counts the DRS requests inside the simulator's added latency: they have reached the
    server and will be processed (a creation will create) even if their client dies now.

    A kill timed by the ledger alone ("created" >= 4, "sending" >= 1) may land, on a loaded
    machine, between the ledger marking a batch `sending` and its request reaching the
    server; then no request is in flight and the test proves less than it says.
    """

    def __init__(self, sleep: Callable[[float], None]) -> None:
        self.count = 0
        self._sleep = sleep
        self._lock = threading.Lock()

    def __call__(self, seconds: float) -> None:
        with self._lock:
            self.count += 1
        try:
            self._sleep(seconds)
        finally:
            with self._lock:
                self.count -= 1


@pytest.fixture
def sim(tmp_path: Path):
    faults = FaultConfig(transition_delay=0, latency=0.25)
    with Simulator(token=TOKEN, faults=faults, state_path=tmp_path / "sim-state.sqlite") as server:
        server.app.sleep = InLatency(server.app.sleep)
        yield server


def in_flight(sim: Simulator) -> int:
    """Requests the server is holding right now (see InLatency)."""
    counter = sim.app.sleep
    assert isinstance(counter, InLatency)
    return counter.count


def start_submit(sim: Simulator, tmp_path: Path, book: Path, out: str) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OS_", "HUAWEICLOUD_"))}
    env.update(OS_AUTH_TOKEN=sim.token, PYTHONPATH=str(REPO))
    args = [sys.executable, "-m", "bulkimport", "submit", str(book), "--endpoint", sim.base_url,
            "--project-id", PROJECT, "--ledger", str(tmp_path / "ledger.sqlite"), "--out", str(tmp_path / out),
            "--batch-size", "2", "--concurrency", "2", "--yes", "--retry-delay", "0.01"]
    return subprocess.Popen(args, cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def ledger_states(path: Path) -> Counter[str]:
    if not path.exists():
        return Counter()
    try:
        db = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=5)
        try:
            return Counter(state for (state,) in db.execute("SELECT state FROM entries"))
        finally:
            db.close()
    except sqlite3.OperationalError:  # schema not there yet
        return Counter()


def wait_for(condition, what: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.02)


def created_requests_names(sim: Simulator, since: int) -> list[str]:
    return [job["name"].lower() for r in sim.requests(since) if r["endpoint"] == "create"
            for job in (r["body"] or {}).get("jobs", [])]


def test_sigkill_mid_campaign_then_rerun_creates_every_task_exactly_once(sim: Simulator, tmp_path: Path) -> None:
    wanted = names(ROWS)
    book = make_book(tmp_path / "in.xlsx", [task_row(n) for n in wanted])
    ledger = tmp_path / "ledger.sqlite"
    process = start_submit(sim, tmp_path, book, "first.xlsx")
    try:
        # Some rows answered, and a request inside the server right now.
        wait_for(lambda: ledger_states(ledger)["created"] >= 4 and ledger_states(ledger)["sending"] >= 1
                 and in_flight(sim) >= 1,
                 "the ledger to show rows created and rows being sent, with a request at the server")
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == -signal.SIGKILL
    # The requests the dead client had in flight finish on the server, then their connections close.
    assert sim.wait_idle(timeout=60), "the simulator still holds the dead client's connections"

    left = ledger_states(ledger)
    assert left["sending"] >= 1 and sum(left.values()) < ROWS
    on_server = {t["name"].lower() for t in server_tasks(sim)}
    assert 0 < len(on_server) < ROWS
    # The kill hit requests in flight: the server created tasks the ledger only knows as `sending`.
    assert len(on_server) > left["created"]
    seq_before = max(r["seq"] for r in sim.requests())

    process = start_submit(sim, tmp_path, book, "second.xlsx")
    stdout, stderr = process.communicate(timeout=120)
    assert process.returncode == 0, stderr

    counts = Counter(t["name"].lower() for t in server_tasks(sim))
    assert set(counts) == {n.lower() for n in wanted} and set(counts.values()) == {1}
    resent = created_requests_names(sim, seq_before)
    assert not set(resent) & on_server  # nothing that already existed was sent again
    assert len(resent) == len(set(resent))

    rows = read_rows(tmp_path / "second.xlsx")
    ids = {t["name"]: t["id"] for t in server_tasks(sim)}
    assert {r["name"]: r["task_id"] for r in rows} == ids
    results = Counter(r["result"] for r in rows)
    assert results["ALREADY_CREATED"] == len(on_server) and results["CREATED"] == ROWS - len(on_server)
    assert ledger_states(ledger) == Counter({"created": ROWS})


def test_sigint_finishes_in_flight_requests_records_them_and_exits_3(sim: Simulator, tmp_path: Path) -> None:
    wanted = names(ROWS)
    book = make_book(tmp_path / "in.xlsx", [task_row(n) for n in wanted])
    ledger = tmp_path / "ledger.sqlite"
    process = start_submit(sim, tmp_path, book, "first.xlsx")
    try:
        wait_for(lambda: ledger_states(ledger)["created"] >= 4 and ledger_states(ledger)["sending"] >= 1,
                 "the ledger to show rows created and rows being sent")
        process.send_signal(signal.SIGINT)
        stdout, stderr = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 3, stderr
    assert "interrupted" in stderr and "Traceback" not in stderr

    rows = read_rows(tmp_path / "first.xlsx")
    results = Counter(r["result"] for r in rows)
    assert set(results) == {"CREATED", "NOT_SENT"} and results["NOT_SENT"] > 0
    on_server = {t["name"]: t["id"] for t in server_tasks(sim)}
    # Every request that was in flight was answered and recorded: nothing is left in doubt.
    assert {r["name"]: r["task_id"] for r in rows if r["result"] == "CREATED"} == on_server
    assert set(ledger_states(ledger)) <= {"created"}
    failed = read_rows(tmp_path / "first-failed.xlsx")
    assert {r["name"] for r in failed} == {r["name"] for r in rows if r["result"] == "NOT_SENT"}

    process = start_submit(sim, tmp_path, book, "second.xlsx")
    _, stderr = process.communicate(timeout=120)
    assert process.returncode == 0, stderr
    counts = Counter(t["name"] for t in server_tasks(sim))
    assert set(counts) == set(wanted) and set(counts.values()) == {1}
