"""submit under faults: every failure the simulator can produce ends with each task created
exactly once, or with an honest UNKNOWN / NOT_SENT / REJECTED that a re-run settles."""

from __future__ import annotations

import zipfile
from pathlib import Path

import openpyxl
import pytest
from test_submit import (
    PROJECT,
    TOKEN,
    assert_created_once,
    by_name,
    create_requests,
    env,
    make_book,
    names,
    options,
    read_rows,
    server_tasks,
    task_row,
)

from bulkimport import ledger as ledger_mod
from bulkimport.ledger import Ledger
from bulkimport.outcomes import Result
from bulkimport.simulator import FaultConfig, Simulator
from bulkimport.submit import submit_workbook


@pytest.fixture
def sim():
    with Simulator(token=TOKEN, faults=FaultConfig(transition_delay=0, retry_after=0)) as server:
        yield server


def lookups(sim: Simulator) -> list[dict]:
    return [r for r in sim.requests() if r["endpoint"] == "list"]


def run(sim: Simulator, tmp_path: Path, rows: list[dict], **changes):
    book = make_book(tmp_path / "in.xlsx", rows)
    return submit_workbook(book, options(sim, tmp_path, **changes), env=env(sim))


# -- one fault at a time ---------------------------------------------------------------------

@pytest.mark.parametrize("fault", ["500", "reset"])
def test_failure_before_processing_is_looked_up_then_resent(sim: Simulator, tmp_path: Path, fault: str) -> None:
    sim.set_faults(next=[fault])
    wanted = names(4)
    outcome = run(sim, tmp_path, [task_row(n) for n in wanted], concurrency=1)
    assert outcome.exit_code == 0 and outcome.counts() == {"CREATED": 4}
    assert_created_once(sim, wanted)
    assert len(create_requests(sim)) == 2
    assert {r["body"]["name"] for r in lookups(sim)} == set(wanted)  # looked up before resending


@pytest.mark.parametrize("fault", ["500_created", "lost_response"])
def test_created_but_unanswered_tasks_are_adopted_not_resent(sim: Simulator, tmp_path: Path, fault: str) -> None:
    sim.set_faults(next=[fault])
    wanted = names(4)
    outcome = run(sim, tmp_path, [task_row(n) for n in wanted], concurrency=1)
    assert outcome.exit_code == 0 and outcome.counts() == {"CREATED": 4}
    assert len(create_requests(sim)) == 1
    assert_created_once(sim, wanted)
    assert {r.name: r.task_id for r in outcome.rows} == {t["name"]: t["id"] for t in server_tasks(sim)}
    with Ledger(tmp_path / "ledger.sqlite") as led:
        history = [e["event"] for e in led.history(sim.base_url, PROJECT, wanted[0])]
    assert history == ["sending", "in_doubt", "adopted"]


@pytest.mark.parametrize("fault", ["429", "m01503"])
def test_throttling_is_retried_without_lookups(sim: Simulator, tmp_path: Path, fault: str) -> None:
    sim.set_faults(next=[fault, fault])
    wanted = names(3)
    outcome = run(sim, tmp_path, [task_row(n) for n in wanted], concurrency=1)
    assert outcome.exit_code == 0 and outcome.counts() == {"CREATED": 3}
    assert [r["status"] for r in create_requests(sim)] == ([429, 429, 202] if fault == "429" else [400, 400, 202])
    assert lookups(sim) == []
    assert_created_once(sim, wanted)


def test_retry_after_is_honoured(sim: Simulator, tmp_path: Path) -> None:
    sim.set_faults(next=["429"], retry_after=1)
    outcome = run(sim, tmp_path, [task_row("task-a")], base_delay=0.001)
    assert outcome.exit_code == 0
    assert outcome.timings.backoff >= 1.0  # the server's 1 s, not the 1 ms of the formula


def test_per_job_failure_is_rejected_and_a_rerun_creates_it(sim: Simulator, tmp_path: Path) -> None:
    sim.set_faults(next=["ok", "item_failure"])
    wanted = names(4)
    outcome = run(sim, tmp_path, [task_row(n) for n in wanted], batch_size=2, concurrency=1)
    assert outcome.exit_code == 1
    assert outcome.counts() == {"CREATED": 2, "REJECTED": 2}
    rejected = [r for r in outcome.rows if r.result is Result.REJECTED]
    assert {r.error_code for r in rejected} == {"DRS.M05066"}
    again = submit_workbook(tmp_path / "in.xlsx", options(sim, tmp_path, out=tmp_path / "again.xlsx"), env=env(sim))
    assert again.exit_code == 0 and again.counts() == {"ALREADY_CREATED": 2, "CREATED": 2}
    assert_created_once(sim, wanted)


def test_expired_token_stops_the_run_with_nothing_lost(sim: Simulator, tmp_path: Path) -> None:
    sim.set_faults(next=["ok", "token_expired"])
    wanted = names(6)
    outcome = run(sim, tmp_path, [task_row(n) for n in wanted], batch_size=2, concurrency=1)
    assert outcome.exit_code == 3
    assert outcome.counts() == {"CREATED": 2, "NOT_SENT": 4}
    assert "credentials" in outcome.message and TOKEN not in outcome.message and not outcome.interrupted
    assert len(create_requests(sim)) == 2  # nothing more was tried with a dead token

    # The operator gets a new token (IAM password login this time) and runs again.
    password_env = {"OS_AUTH_URL": sim.base_url, "OS_USERNAME": "sim-user", "OS_PASSWORD": "sim-password",
                    "OS_USER_DOMAIN_NAME": "sim-domain"}
    again = submit_workbook(tmp_path / "in.xlsx", options(sim, tmp_path, out=tmp_path / "again.xlsx"),
                            env=password_env)
    assert again.exit_code == 0 and again.counts() == {"ALREADY_CREATED": 2, "CREATED": 4}
    assert_created_once(sim, wanted)


def test_token_expiring_mid_run_is_renewed_with_iam_password(sim: Simulator, tmp_path: Path) -> None:
    sim.set_faults(token_ttl_requests=2)
    wanted = names(8)
    password_env = {"OS_AUTH_URL": sim.base_url, "OS_USERNAME": "sim-user", "OS_PASSWORD": "sim-password",
                    "OS_USER_DOMAIN_NAME": "sim-domain"}
    outcome = submit_workbook(make_book(tmp_path / "in.xlsx", [task_row(n) for n in wanted]),
                              options(sim, tmp_path, batch_size=1, concurrency=2), env=password_env)
    assert outcome.exit_code == 0 and outcome.counts() == {"CREATED": 8}
    assert any(r["status"] == 401 for r in create_requests(sim))
    assert_created_once(sim, wanted)


# -- retries run out -------------------------------------------------------------------------

def test_endless_throttling_ends_not_sent_within_the_attempt_bound(sim: Simulator, tmp_path: Path) -> None:
    sim.set_faults(rate_429=1.0)
    outcome = run(sim, tmp_path, [task_row(n) for n in names(4)], batch_size=2, max_attempts=3)
    assert outcome.exit_code == 3 and outcome.counts() == {"NOT_SENT": 4}
    assert len(create_requests(sim)) == 6
    assert all("3 attempts" in r.error_msg for r in outcome.rows)
    with Ledger(tmp_path / "ledger.sqlite") as led:
        assert {e.state for e in led.entries(sim.base_url, PROJECT)} == {ledger_mod.NOT_CREATED}
    assert server_tasks(sim) == []


def test_endless_server_errors_end_not_sent_when_absent_and_a_rerun_settles_them(sim: Simulator,
                                                                                 tmp_path: Path) -> None:
    sim.set_faults(next=["500_created", "500", "500"])
    wanted = names(2)
    outcome = run(sim, tmp_path, [task_row(n) for n in wanted], max_attempts=1, concurrency=1)
    # One attempt allowed: the 500 came after the tasks were created, the lookup finds them.
    assert outcome.counts() == {"CREATED": 2}

    sim.set_faults(next=["500", "500", "500"])
    more = names(2, prefix="more")
    outcome = run(sim, tmp_path / "b", [task_row(n) for n in more], max_attempts=2, concurrency=1)
    # Given up, but the look-up confirmed the tasks do not exist: NOT_SENT, not UNKNOWN (12.5).
    assert outcome.exit_code == 3 and outcome.counts() == {"NOT_SENT": 2}
    assert all("does not exist" in (r.error_msg or "") for r in outcome.rows)
    with Ledger(tmp_path / "b" / "ledger.sqlite") as led:
        assert {e.state for e in led.entries(sim.base_url, PROJECT)} == {ledger_mod.IN_DOUBT}
    again = submit_workbook(tmp_path / "b" / "in.xlsx", options(sim, tmp_path / "b", out=tmp_path / "b2.xlsx"),
                            env=env(sim))
    assert again.exit_code == 0 and again.counts() == {"CREATED": 2}
    assert_created_once(sim, [*wanted, *more])


def test_failed_lookup_leaves_rows_unknown_and_a_rerun_adopts_them(sim: Simulator, tmp_path: Path) -> None:
    sim.set_faults(next=["lost_response", *["list:500"] * 10], faults_on_queries=False)
    wanted = names(2)
    outcome = run(sim, tmp_path, [task_row(n) for n in wanted], max_attempts=2, concurrency=1)
    assert outcome.exit_code == 3 and outcome.counts() == {"UNKNOWN": 2}
    assert all(r.error_code == "LOOKUP_FAILED" for r in outcome.rows)
    assert len(create_requests(sim)) == 1  # never resent while in doubt
    sim.set_faults(next=[])
    again = submit_workbook(tmp_path / "in.xlsx", options(sim, tmp_path, out=tmp_path / "again.xlsx"), env=env(sim))
    assert again.counts() == {"ALREADY_CREATED": 2}
    assert len(create_requests(sim)) == 1
    assert {r.task_id for r in again.rows} == {t["id"] for t in server_tasks(sim)}


# -- everything at once ------------------------------------------------------------------------

def test_random_faults_under_concurrency_create_every_task_exactly_once(sim: Simulator, tmp_path: Path) -> None:
    # 42 % of requests fail; 20 attempts a batch make running out (0.42 ** 20) practically impossible.
    sim.set_faults(error_500_rate=0.07, error_500_created_rate=0.07, lost_response_rate=0.07, reset_rate=0.07,
                   rate_429=0.07, m01503_rate=0.07, shuffle_results=True)
    wanted = names(90)
    outcome = run(sim, tmp_path, [task_row(n) for n in wanted], batch_size=3, concurrency=4, max_attempts=20)
    assert outcome.exit_code == 0, outcome.counts()
    assert outcome.counts() == {"CREATED": 90}
    assert_created_once(sim, wanted)
    assert {r.name: r.task_id for r in outcome.rows} == {t["name"]: t["id"] for t in server_tasks(sim)}
    faults = {r["fault"] for r in create_requests(sim)} - {None}
    assert len(faults) >= 3  # the run really went through several kinds of failure


# -- server text is data -----------------------------------------------------------------------

def test_a_formula_shaped_server_message_is_written_as_text(sim: Simulator, tmp_path: Path, monkeypatch) -> None:
    import bulkimport.simulator.drs as sim_drs

    formula = '=HYPERLINK("http://evil.example/steal","click me")'
    monkeypatch.setattr(sim_drs, "ITEM_FAILURE_REASON", ("DRS.M05066", formula))
    sim.set_faults(next=["item_failure"])
    outcome = run(sim, tmp_path, [task_row("task-formula")])
    assert by_name(outcome)["task-formula"].error_msg == formula
    for path in (outcome.results_path, outcome.failed_path):
        sheet = openpyxl.load_workbook(path)["Jobs"]
        keys = [c.value for c in sheet[2]]
        cell = sheet.cell(3, keys.index("error_msg") + 1)
        assert cell.value == formula and cell.data_type == "s"
        with zipfile.ZipFile(path) as archive:
            xml = archive.read("xl/worksheets/sheet1.xml").decode()
        assert "<f>" not in xml and "<f " not in xml
    assert read_rows(outcome.results_path)[0]["result"] == "REJECTED"
