"""Campaign integrity (issue 12): one run per ledger, the results workbook as the campaign's
handle, credentials only where the operator said - against the simulator over real HTTP."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from test_submit import PROJECT, TOKEN, create_requests, env, make_book, names, options, task_row

from bulkimport.simulator import FaultConfig, Simulator
from bulkimport.submit import submit_workbook

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture
def sim():
    with Simulator(token=TOKEN, faults=FaultConfig(transition_delay=0, retry_after=0)) as server:
        yield server


def cli_env(token: str) -> dict[str, str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("OS_", "HUAWEICLOUD_"))}
    return {**clean, "OS_AUTH_TOKEN": token, "PYTHONPATH": str(REPO)}


def run_cli(tmp_path: Path, token: str, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "bulkimport", *args], cwd=tmp_path, env=cli_env(token),
                          capture_output=True, text=True, timeout=120)


# -- 12.1 one campaign, one run at a time -------------------------------------------------------

def test_a_second_run_on_the_same_ledger_stops_in_one_line_and_sends_nothing(sim: Simulator,
                                                                              tmp_path: Path) -> None:
    book = make_book(tmp_path / "in.xlsx", [task_row(n) for n in names(12)])
    holding, release = threading.Event(), threading.Event()

    def confirm(plan: object) -> bool:  # the first run holds the ledger at its confirmation prompt
        holding.set()
        assert release.wait(60)
        return True

    first: dict[str, object] = {}
    thread = threading.Thread(target=lambda: first.update(outcome=submit_workbook(
        book, options(sim, tmp_path), env=env(sim), confirm=confirm)))
    thread.start()
    try:
        assert holding.wait(60)
        second = run_cli(tmp_path, sim.token, "submit", str(book), "--endpoint", sim.base_url, "--project-id",
                         PROJECT, "--ledger", str(tmp_path / "ledger.sqlite"), "--out", str(tmp_path / "two.xlsx"),
                         "--yes")
        assert not create_requests(sim)  # nothing sent by either run yet
    finally:
        release.set()
        thread.join(60)
    assert second.returncode == 2, second.stderr
    lines = second.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("bulkimport: error: ledger in use by another bulkimport run (pid ")
    assert f"(pid {os.getpid()})" in lines[0]
    assert first["outcome"].exit_code == 0  # the first run went on undisturbed
    assert sum(r["jobs"] for r in create_requests(sim)) == 12


def test_status_and_rollback_wait_for_no_one_they_stop_when_the_ledger_is_held(sim: Simulator,
                                                                                 tmp_path: Path) -> None:
    from bulkimport.ledger import ledger_lock

    book = make_book(tmp_path / "in.xlsx", [task_row(n) for n in names(3)])
    outcome = submit_workbook(book, options(sim, tmp_path), env=env(sim))
    assert outcome.exit_code == 0
    before = len(sim.requests())
    with ledger_lock(tmp_path / "ledger.sqlite"):
        for command in (["status"], ["rollback", "--yes"]):
            done = run_cli(tmp_path, sim.token, *command, str(outcome.results_path), "--endpoint", sim.base_url,
                           "--project-id", PROJECT, "--ledger", str(tmp_path / "ledger.sqlite"))
            assert done.returncode == 2, done.stderr
            assert done.stderr.strip().splitlines() == [
                f"bulkimport: error: ledger in use by another bulkimport run (pid {os.getpid()}): "
                f"{tmp_path / 'ledger.sqlite'}"]
    assert len(sim.requests()) == before  # nothing sent
