"""`rollback`: deleting exactly the tasks a campaign created, against the simulator."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from click.testing import CliRunner
from fixtures.campaign import FAST, PROJECT, create_tasks, record_created, write_results_workbook
from fixtures.clock import ManualClock

from bulkimport.book_read import read_workbook
from bulkimport.cli import rollback as rollback_cli
from bulkimport.drs import DrsClient, TokenAuth
from bulkimport.errors import InputError
from bulkimport.ledger import CREATED, DELETED, Ledger
from bulkimport.rollback import (
    ALREADY_GONE,
    DELETE,
    TERMINATE_THEN_DELETE,
    execute_rollback,
    plan_rollback,
)
from bulkimport.simulator import FaultConfig, Simulator
from bulkimport.target import SIMULATOR_ENDPOINT, Target

TOKEN = "rollback-test-token-456"
QUICK = {"interval": 0.02, "max_interval": 0.05, "retry": FAST}


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def sim(request: pytest.FixtureRequest):
    """The simulator on the real clock, or on the test's `ManualClock` when the test asks for `clock`."""
    clock = request.getfixturevalue("clock") if "clock" in request.fixturenames else time.time
    with Simulator(token=TOKEN, faults=FaultConfig(transition_delay=0), clock=clock) as simulator:
        yield simulator
    simulator.close()


def target_for(sim: Simulator, tmp_path: Path) -> Target:
    """The simulator addressed as a real endpoint (the --simulate path has its own test)."""
    return Target(endpoint=sim.base_url, ledger_endpoint=sim.base_url, project_id=PROJECT,
                  auth=TokenAuth(TOKEN), ledger_path=tmp_path / "ledger.sqlite", secrets=(TOKEN,))


def by_name(path: Path) -> dict[str, dict]:
    return {str(c["name"]): c for c in read_workbook(path).cells.values()}


def server_tasks(sim: Simulator) -> dict[str, dict]:
    return {t["id"]: t for t in sim.tasks(PROJECT)}


def delete_requests(sim: Simulator) -> list[tuple[str, str]]:
    """(job_id, delete_type) of every batch-delete item the simulator received."""
    return [(j["job_id"], j["delete_type"]) for r in sim.requests() if r["path"].endswith("/jobs/batch-jobs")
            for j in r["body"]["jobs"]]


@pytest.fixture
def campaign(sim: Simulator, tmp_path: Path) -> dict:
    """A campaign with every kind of row rollback must tell apart."""
    target = target_for(sim, tmp_path)
    ready = create_tasks(sim, ["mine-ready-1", "mine-ready-2"])  # CONFIGURATION: terminate first
    failed = create_tasks(sim, ["mine-failed"], fail=True)  # CREATE_FAILED: delete at once
    foreign = create_tasks(sim, ["not-mine"])  # someone else's task, same name as a row
    unledgered = create_tasks(sim, ["no-ledger"])  # CREATED in the workbook, unknown to the ledger
    record_created(target, {**ready, **failed})
    rows = [
        {"name": "mine-ready-1", "result": "CREATED", "task_id": ready["mine-ready-1"]},
        {"name": "broken-row", "result": "INVALID", "error_msg": "bad port"},
        {"name": "not-mine", "result": "REJECTED", "task_id": foreign["not-mine"], "error_code": "DRS.M00277",
         "error_msg": f"name already taken by task {foreign['not-mine']}"},
        {"name": "mine-failed", "result": "ALREADY_CREATED", "task_id": failed["mine-failed"]},
        {"name": "no-ledger", "result": "CREATED", "task_id": unledgered["no-ledger"]},
        {"name": "mine-ready-2", "result": "CREATED", "task_id": ready["mine-ready-2"]},
    ]
    return {"target": target, "results": write_results_workbook(tmp_path, rows, target),
            "mine": {**ready, **failed}, "others": {**foreign, **unledgered}, "ready": ready, "failed": failed}


# -- the library ----------------------------------------------------------------------------------

def test_plan_lists_only_the_campaigns_own_tasks(sim: Simulator, campaign: dict) -> None:
    plan = plan_rollback(campaign["results"], campaign["target"], retry=FAST)
    assert {i.task_id: i.action for i in plan.items} == {
        campaign["ready"]["mine-ready-1"]: TERMINATE_THEN_DELETE,
        campaign["ready"]["mine-ready-2"]: TERMINATE_THEN_DELETE,
        campaign["failed"]["mine-failed"]: DELETE,
    }
    assert {s.name for s in plan.skipped} == {"not-mine", "no-ledger"}
    assert delete_requests(sim) == []  # planning changes nothing


def test_rollback_deletes_exactly_the_campaigns_tasks(sim: Simulator, campaign: dict, tmp_path: Path) -> None:
    sim.set_faults(transition_delay=0.1)
    target = campaign["target"]
    plan = plan_rollback(campaign["results"], target, retry=FAST)
    outcome = execute_rollback(plan, target, out_path=tmp_path / "rb.xlsx", report_dir=tmp_path / "rep",
                               release_timeout=10, **QUICK)
    assert outcome.exit_code == 0 and outcome.counts["DELETED"] == 3

    tasks = server_tasks(sim)
    assert {i for i, t in tasks.items() if t["deleted"]} == set(campaign["mine"].values())
    assert not any(tasks[i]["deleted"] for i in campaign["others"].values())
    touched = {job_id for job_id, _ in delete_requests(sim)}
    assert touched == set(campaign["mine"].values())
    kinds: dict[str, list[str]] = {}
    for job_id, kind in delete_requests(sim):
        kinds.setdefault(job_id, []).append(kind)
    assert kinds[campaign["failed"]["mine-failed"]] == ["delete"]
    assert kinds[campaign["ready"]["mine-ready-1"]] == ["force_terminate", "delete"]

    rows = by_name(tmp_path / "rb.xlsx")
    assert [rows[n]["result"] for n in ("mine-ready-1", "mine-failed", "mine-ready-2")] == ["DELETED"] * 3
    assert rows["not-mine"]["result"] == "REJECTED" and rows["no-ledger"]["result"] == "CREATED"
    assert rows["broken-row"]["result"] == "INVALID"
    with Ledger(target.ledger_path) as ledger:
        assert {ledger.get(target.ledger_endpoint, PROJECT, n).state for n in campaign["mine"]} == {DELETED}
    report = json.loads(outcome.report.json.read_text(encoding="utf-8"))
    assert report["counts"]["by_result"]["DELETED"] == 3
    assert report["campaign"]["command"] == "submit, rollback"


def test_a_release_still_running_at_the_timeout_is_unfinished_not_failed(sim: Simulator, campaign: dict,
                                                                         tmp_path: Path, clock: ManualClock) -> None:
    """The simulator and rollback's waits share a clock the test moves, so the release is
    still running at the timeout and done afterwards, however loaded the machine is."""
    sim.set_faults(transition_delay=0.4)
    target = campaign["target"]
    waits = {"sleep": clock.sleep, "clock": clock}
    plan = plan_rollback(campaign["results"], target, retry=FAST)
    first = execute_rollback(plan, target, out_path=tmp_path / "rb1.xlsx", report_dir=tmp_path,
                             release_timeout=0.05, **QUICK, **waits)
    assert first.exit_code == 3  # not finished, not failed: run it again
    assert first.counts["unfinished"] == 2 and first.counts["DELETE_FAILED"] == 0
    rows = by_name(tmp_path / "rb1.xlsx")
    assert rows["mine-ready-1"]["result"] == "CREATED"  # the task still exists, being released
    assert rows["mine-ready-1"]["task_status"] == "RELEASE_RESOURCE_STARTED"
    assert "RELEASE_RESOURCE_STARTED" in rows["mine-ready-1"]["error_msg"]
    assert rows["mine-failed"]["result"] == "DELETED"
    with Ledger(target.ledger_path) as ledger:
        assert ledger.get(target.ledger_endpoint, PROJECT, "mine-ready-1").state == CREATED

    clock.advance(0.45)  # the release completes on the server
    again = plan_rollback(tmp_path / "rb1.xlsx", target, retry=FAST)
    assert sorted(i.name for i in again.items) == ["mine-ready-1", "mine-ready-2"]
    assert {i.action for i in again.items} == {DELETE}
    second = execute_rollback(again, target, out_path=tmp_path / "rb2.xlsx", report_dir=tmp_path,
                              release_timeout=1, **QUICK, **waits)
    assert second.exit_code == 0
    assert {t["deleted"] for i, t in server_tasks(sim).items() if i in campaign["mine"].values()} == {True}


def test_a_task_deleted_elsewhere_counts_as_deleted(sim: Simulator, campaign: dict, tmp_path: Path) -> None:
    target = campaign["target"]
    with DrsClient(sim.base_url, PROJECT, TokenAuth(TOKEN), retry=FAST) as client:
        client.batch_delete([(campaign["failed"]["mine-failed"], "delete")])
    plan = plan_rollback(campaign["results"], target, retry=FAST)
    assert {i.name: i.action for i in plan.items}["mine-failed"] == ALREADY_GONE
    outcome = execute_rollback(plan, target, out_path=tmp_path / "rb.xlsx", report_dir=tmp_path,
                               release_timeout=5, **QUICK)
    assert outcome.exit_code == 0 and by_name(tmp_path / "rb.xlsx")["mine-failed"]["result"] == "DELETED"


def test_a_failing_api_stops_the_rollback_with_exit_3(sim: Simulator, campaign: dict, tmp_path: Path) -> None:
    target = campaign["target"]
    plan = plan_rollback(campaign["results"], target, retry=FAST)
    sim.set_faults(next=["delete:500", "delete:500"])  # the first batch-delete fails for good
    outcome = execute_rollback(plan, target, out_path=tmp_path / "rb.xlsx", report_dir=tmp_path,
                               release_timeout=5, **QUICK)
    assert outcome.exit_code == 3 and "rollback stopped" in (outcome.message or "")
    assert TOKEN not in (outcome.message or "")
    assert not any(t["deleted"] for t in server_tasks(sim).values())
    rows = by_name(tmp_path / "rb.xlsx")
    assert rows["mine-ready-1"]["result"] == "CREATED" and "rollback stopped" in rows["mine-ready-1"]["error_msg"]


def test_output_over_the_input_is_refused_before_deleting(sim: Simulator, campaign: dict) -> None:
    plan = plan_rollback(campaign["results"], campaign["target"], retry=FAST)
    with pytest.raises(InputError, match="overwrite"):
        execute_rollback(plan, campaign["target"], out_path=campaign["results"], **QUICK)
    assert delete_requests(sim) == []


def test_without_a_ledger_nothing_can_be_rolled_back(sim: Simulator, campaign: dict, tmp_path: Path) -> None:
    target = campaign["target"]
    target.ledger_path = tmp_path / "elsewhere.sqlite"
    with pytest.raises(InputError, match="no ledger"):
        plan_rollback(campaign["results"], target, retry=FAST)
    assert not target.ledger_path.exists()


# -- the command ----------------------------------------------------------------------------------------

def cli_args(campaign: dict, tmp_path: Path, *extra: str) -> list[str]:
    target = campaign["target"]
    return [str(campaign["results"]), "--endpoint", target.endpoint, "--ledger", str(target.ledger_path),
            "--report-dir", str(tmp_path / "rep"), "--out", str(tmp_path / "rb.xlsx"), "--interval", "0.02",
            "--release-timeout", "10", "-q", *extra]


def run(args: list[str], **kwargs: object):
    return CliRunner().invoke(rollback_cli.command, args, standalone_mode=False, env={"OS_AUTH_TOKEN": TOKEN},
                              **kwargs)


def test_command_needs_yes_without_a_terminal(sim: Simulator, campaign: dict, tmp_path: Path) -> None:
    result = run(cli_args(campaign, tmp_path))
    assert isinstance(result.exception, InputError) and "--yes" in str(result.exception)
    assert campaign["ready"]["mine-ready-1"] in result.stderr  # the list was shown
    assert delete_requests(sim) == []


def test_command_declined_deletes_nothing(sim: Simulator, campaign: dict, tmp_path: Path,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(rollback_cli, "stdin_is_terminal", lambda: True)
    result = run(cli_args(campaign, tmp_path), input="n\n")
    assert result.exception is None and result.return_value == 1
    assert delete_requests(sim) == [] and not (tmp_path / "rb.xlsx").exists()


def test_command_confirmed_deletes(sim: Simulator, campaign: dict, tmp_path: Path,
                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(rollback_cli, "stdin_is_terminal", lambda: True)
    result = run(cli_args(campaign, tmp_path, "--json"), input="y\n")
    assert result.exception is None, result.output
    assert result.return_value == 0
    document = json.loads(result.stdout)
    assert {t["name"]: t["result"] for t in document["tasks"]} == dict.fromkeys(campaign["mine"], "DELETED")
    assert {s["name"] for s in document["skipped"]} == {"not-mine", "no-ledger"}
    assert TOKEN not in result.output

    # The same workbook again: the ledger says deleted, so there is nothing left to do.
    again = run(cli_args(campaign, tmp_path, "--yes"))
    assert again.return_value == 0 and "nothing to roll back" in again.stderr
    assert len(delete_requests(sim)) == 5  # 2 terminates + 3 deletes, none from the re-run


def test_command_simulate_with_persisted_state(tmp_path: Path) -> None:
    state = tmp_path / "sim.sqlite"
    with Simulator(token=TOKEN, state_path=state, faults=FaultConfig(transition_delay=0)) as first:
        ids = create_tasks(first, ["kept-a", "kept-b"])
    first.close()
    target = Target(endpoint="unused", ledger_endpoint=SIMULATOR_ENDPOINT, project_id=PROJECT, auth=None,
                    ledger_path=state.with_name(state.name + ".ledger.sqlite"))
    record_created(target, ids)
    rows = [{"name": n, "result": "CREATED", "task_id": i} for n, i in ids.items()]
    results = write_results_workbook(tmp_path, rows, target)
    # The in-process simulator keeps tasks RELEASE_RESOURCE_STARTED for 0.5 s after a terminate.
    args = [str(results), "--simulate", "--simulator-state", str(state), "--yes", "--interval", "0.1",
            "--release-timeout", "10", "--out", str(tmp_path / "rb.xlsx"), "--report-dir", str(tmp_path), "-q"]
    result = CliRunner().invoke(rollback_cli.command, args, standalone_mode=False)
    assert result.exception is None, result.output
    assert result.return_value == 0
    with Simulator(token=TOKEN, state_path=state) as later:
        assert all(t["deleted"] for t in later.tasks(PROJECT))
    later.close()


def test_exit_0_only_when_no_task_of_the_campaign_is_left(sim: Simulator, campaign: dict, tmp_path: Path) -> None:
    target = campaign["target"]
    rows = [{"name": "mine-failed", "result": "ALREADY_CREATED", "task_id": campaign["failed"]["mine-failed"]}]
    partial = write_results_workbook(tmp_path, rows, target, stem="part")  # the other two are not listed
    outcome = execute_rollback(plan_rollback(partial, target, retry=FAST), target, out_path=tmp_path / "rb.xlsx",
                               report_dir=tmp_path, release_timeout=5, **QUICK)
    assert outcome.counts["DELETED"] == 1 and outcome.counts["left"] == 2
    assert outcome.exit_code == 1
    assert "2 tasks of this campaign are still on the server" in (outcome.message or "")
    assert "mine-ready-1" in (outcome.message or "")


def test_a_ledger_that_knows_none_of_the_created_rows_is_refused(sim: Simulator, campaign: dict,
                                                                tmp_path: Path) -> None:
    target = campaign["target"]
    other = Target(endpoint=target.endpoint, ledger_endpoint=target.ledger_endpoint, project_id=PROJECT,
                   auth=target.auth, ledger_path=tmp_path / "other-campaign.sqlite")
    record_created(other, {"someone-else": "0000-other"})
    with pytest.raises(InputError, match="knows none of the 4 created task"):
        plan_rollback(campaign["results"], other, retry=FAST)
    assert delete_requests(sim) == []
