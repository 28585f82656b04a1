"""prepare and start against the simulator over real HTTP: connection tests, objects, the
pre-check gate, starting each task exactly once, and re-runs that resume where rows stand."""

from __future__ import annotations

import subprocess
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from test_submit import PROJECT, TOKEN, make_book, options, read_rows, task_row

from bulkimport import ledger as L
from bulkimport.cli import main
from bulkimport.drs import RetryPolicy
from bulkimport.ledger import Ledger
from bulkimport.prepare import prepare_workbook
from bulkimport.simulator import FaultConfig, Simulator
from bulkimport.simulator.testing import (
    alarm_precheck,
    drop_next_start_answers,
    fail_connection,
    fail_precheck,
    fast_launch_faults,
    refuse_start,
    set_precheck_duration,
)
from bulkimport.start import execute_start, plan_start
from bulkimport.submit import submit_workbook
from bulkimport.target import Target, cloud_target

TARGET_PW = "Tgt-Pa55-" + "q4Rz" * 3
FAST = RetryPolicy(attempts=3, base_delay=0.001, max_delay=0.01)


@pytest.fixture
def sim():
    with Simulator(token=TOKEN, faults=FaultConfig(**fast_launch_faults(retry_after=0))) as server:
        yield server


def env(sim: Simulator, **extra: str) -> dict[str, str]:
    return {"OS_AUTH_TOKEN": sim.token, "TGT_PW": TARGET_PW, **extra}


def launch_row(name: str, host: int, **changes: object) -> dict[str, object]:
    return task_row(name, **{"source_endpoint.ip": f"10.0.0.{host}", "target_endpoint.ip": f"10.1.0.{host}",
                             "target_endpoint.db_port": 3306, "target_endpoint.db_user": "root",
                             "target_endpoint.db_password": "env:TGT_PW", **changes})


def campaign(sim: Simulator, tmp_path: Path, rows: list[dict[str, object]]) -> Path:
    """The workbook, submitted: every row created on the simulator, in CONFIGURATION."""
    book = make_book(tmp_path / "wave.xlsx", rows)
    outcome = submit_workbook(book, options(sim, tmp_path), env=env(sim))
    assert outcome.exit_code == 0, outcome.rows
    return book


def target(sim: Simulator, tmp_path: Path, **extra: str) -> Target:
    return cloud_target(endpoint=sim.base_url, region=None, project_id=PROJECT, env=env(sim, **extra),
                        ledger_path=tmp_path / "ledger.sqlite")


def prepare(sim: Simulator, tmp_path: Path, book: Path, run: str = "1", **kwargs: Any):
    extra = kwargs.pop("env_extra", {})
    return prepare_workbook(book, target(sim, tmp_path, **extra), out_path=tmp_path / f"prepare-{run}.xlsx",
                            report_dir=tmp_path / "reports", env=env(sim, **extra), retry=FAST,
                            **{"timeout": 30, "interval": 0.05, **kwargs})


def start(sim: Simulator, tmp_path: Path, book: Path, run: str = "1", at: str | None = None,
          doubt_grace: float = 60.0):
    tgt = target(sim, tmp_path)
    plan = plan_start(book, tgt, at=at, retry=FAST, doubt_grace=doubt_grace)
    return execute_start(plan, tgt, out_path=tmp_path / f"start-{run}.xlsx", report_dir=tmp_path / "reports",
                         retry=FAST)


def calls(sim: Simulator, endpoint: str) -> list[dict]:
    return [r for r in sim.requests() if r["endpoint"] == endpoint]


def rows_by_name(path: Path) -> dict[str, dict[str, object]]:
    return {str(r["name"]): r for r in read_rows(path)}


# -- prepare ------------------------------------------------------------------------------------

def test_prepare_passes_every_task_and_writes_the_stage_columns(sim: Simulator, tmp_path: Path) -> None:
    rows = [launch_row(f"wave-{i:02d}", 10 + i) for i in range(12)]
    rows[3]["objects"] = "billing;crm.customers"
    book = campaign(sim, tmp_path, rows)

    outcome = prepare(sim, tmp_path, book)

    assert outcome.exit_code == 0
    assert outcome.counts["passed"] == 12
    by_name = rows_by_name(outcome.results_path)
    for row in by_name.values():
        # the pass rate is a number a DBA can sort and filter on (the server sends "100%")
        assert (row["connection"], row["precheck"], row["precheck_passed_rate"]) == ("OK", "PASSED", 100)
        assert row["task_id"] and row["result"] == "CREATED"
    # at most 10 tasks a request; sources and destinations in separate requests
    assert sorted(r["jobs"] for r in calls(sim, "connect")) == [2, 2, 10, 10]
    objects = [j for r in calls(sim, "objects") for j in r["body"]["jobs"]]
    assert len(objects) == 12
    selected = [j for j in objects if j["selected"]]
    assert len(selected) == 1 and {i["id"] for i in selected[0]["job"]} == {"billing", "crm", "crm-*-*-customers"}
    with Ledger(tmp_path / "ledger.sqlite") as led:
        stages = led.stages(sim.base_url, PROJECT)
    assert {s[L.STAGE_PRECHECK].state for s in stages.values()} == {L.PRECHECK_PASSED}
    assert {s[L.STAGE_CONNECTION].state for s in stages.values()} == {L.STAGE_OK}

    # a re-run repeats nothing that passed
    before = len(sim.requests())
    again = prepare(sim, tmp_path, book, run="2")
    assert again.exit_code == 0
    assert {r["endpoint"] for r in sim.requests()[before:]} <= {"status"}
    # --force pre-checks again
    forced = prepare(sim, tmp_path, book, run="3", force=True)
    assert forced.exit_code == 0 and len(calls(sim, "precheck")) == 4


def test_a_failing_endpoint_is_named_with_its_reason(sim: Simulator, tmp_path: Path) -> None:
    book = campaign(sim, tmp_path, [launch_row("conn-ok", 21), launch_row("conn-src-down", 22),
                                    launch_row("conn-bad-pw", 23)])
    fail_connection(sim, host="10.0.0.22")
    # the destination password of one task differs from the one it was created with
    rows = [launch_row("conn-ok", 21), launch_row("conn-src-down", 22),
            launch_row("conn-bad-pw", 23, **{"target_endpoint.db_password": "env:OTHER_PW"})]
    book2 = make_book(tmp_path / "wave-fixed.xlsx", rows)

    outcome = prepare(sim, tmp_path, book2, env_extra={"OTHER_PW": "not-the-password"})

    assert outcome.exit_code == 1
    by_name = rows_by_name(outcome.results_path)
    assert by_name["conn-ok"]["precheck"] == "PASSED"
    down = by_name["conn-src-down"]
    assert down["connection"] == "FAILED" and down["precheck"] is None
    assert "source database 10.0.0.22:3306 could not connect" in str(down["error_msg"])
    assert "destination" not in str(down["error_msg"])
    bad = by_name["conn-bad-pw"]
    assert bad["connection"] == "FAILED" and str(bad["error_msg"]).startswith("destination database")
    assert bad["error_code"]
    # nothing after a failed connection: no objects, no pre-check for those tasks
    checked = {j["job_id"] for r in calls(sim, "precheck") for j in r["body"]["jobs"]}
    assert checked == {by_name["conn-ok"]["task_id"]}
    assert book.exists()


def test_failing_and_alarming_precheck_items(sim: Simulator, tmp_path: Path) -> None:
    book = campaign(sim, tmp_path, [launch_row("pc-fail", 31), launch_row("pc-alarm", 32),
                                    launch_row("pc-ok", 33)])
    fail_precheck(sim, "pc-fail", "srcDbPrivilegesIsEnough")
    alarm_precheck(sim, "pc-alarm", "dbParamConsistency")

    outcome = prepare(sim, tmp_path, book)

    assert outcome.exit_code == 1
    by_name = rows_by_name(outcome.results_path)
    failed = by_name["pc-fail"]
    assert (failed["connection"], failed["precheck"]) == ("OK", "FAILED")
    assert "srcDbPrivilegesIsEnough" in str(failed["error_msg"]) and failed["error_code"] == "srcDbPrivilegesIsEnough"
    alarmed = by_name["pc-alarm"]
    assert alarmed["precheck"] == "PASSED" and alarmed["error_code"] is None
    assert str(alarmed["error_msg"]).startswith("warnings:") and "dbParamConsistency" in str(alarmed["error_msg"])
    assert by_name["pc-ok"]["error_msg"] is None

    # start sends only the tasks whose pre-check passed
    started = start(sim, tmp_path, book)
    assert started.exit_code == 1
    result = {r.name: r for r in started.rows}
    assert result["pc-fail"].start == "SKIPPED" and "pre-check not passed" in str(result["pc-fail"].error_msg)
    assert result["pc-alarm"].start == result["pc-ok"].start == "STARTED"
    sent = {j["job_id"] for r in calls(sim, "start") for j in r["body"]["jobs"]}
    assert sent == {result["pc-alarm"].task_id, result["pc-ok"].task_id}


def test_a_precheck_still_running_at_the_timeout_exits_3_and_a_rerun_finishes_it(
        sim: Simulator, tmp_path: Path) -> None:
    book = campaign(sim, tmp_path, [launch_row("slow-1", 41), launch_row("slow-2", 42)])
    set_precheck_duration(sim, 3.0)

    first = prepare(sim, tmp_path, book, timeout=0)

    assert first.exit_code == 3 and first.timed_out
    assert {r["precheck"] for r in rows_by_name(first.results_path).values()} == {"PENDING"}
    prechecks = len(calls(sim, "precheck"))

    second = prepare(sim, tmp_path, book, run="2", timeout=60, interval=0.2)

    assert second.exit_code == 0
    assert {r["precheck"] for r in rows_by_name(second.results_path).values()} == {"PASSED"}
    assert len(calls(sim, "precheck")) == prechecks  # polled, not pre-checked again
    assert not calls(sim, "connect")[2:]  # the connections were tested once, by the first run


def test_a_row_missing_connection_fields_fails_before_any_request(sim: Simulator, tmp_path: Path) -> None:
    book = campaign(sim, tmp_path, [launch_row("no-ip", 55, **{"target_endpoint.ip": None}), launch_row("fine-56", 56)])
    outcome = prepare(sim, tmp_path, book)
    assert outcome.exit_code == 1
    row = rows_by_name(outcome.results_path)["no-ip"]
    assert row["connection"] == "FAILED" and "destination database" in str(row["error_msg"])
    assert "ip" in str(row["error_msg"])
    tested = {j["id"] for r in calls(sim, "connect") for j in r["body"]["jobs"]}
    assert tested == {rows_by_name(outcome.results_path)["fine-56"]["task_id"]}


def test_a_dr_task_is_prepared_without_object_selection(sim: Simulator, tmp_path: Path) -> None:
    dr = {"db_use_type": "cloudDataGuard", "engine_type": "cloudDataGuard-mysql", "multi_write": False,
          "is_target_readonly": True}
    book = campaign(sim, tmp_path, [launch_row("dr-standby", 57, **dr), launch_row("mig-57", 58)])
    outcome = prepare(sim, tmp_path, book)
    assert outcome.exit_code == 0
    by_name = rows_by_name(outcome.results_path)
    assert by_name["dr-standby"]["precheck"] == "PASSED"
    selected = {j["job_id"] for r in calls(sim, "objects") for j in r["body"]["jobs"]}
    assert selected == {by_name["mig-57"]["task_id"]}


def test_rows_not_created_are_untouched(sim: Simulator, tmp_path: Path) -> None:
    book = campaign(sim, tmp_path, [launch_row("made-1", 51)])
    bigger = make_book(tmp_path / "bigger.xlsx", [launch_row("made-1", 51), launch_row("never-sent", 52)])
    outcome = prepare(sim, tmp_path, bigger)
    assert outcome.exit_code == 0
    by_name = rows_by_name(outcome.results_path)
    assert by_name["never-sent"]["precheck"] == "NOT_CREATED" and by_name["never-sent"]["task_id"] is None
    assert book.exists()



def test_rows_never_created_keep_their_result_and_reason_through_prepare_start_and_status(
        sim: Simulator, tmp_path: Path) -> None:
    """A row validate found INVALID or the server REJECTED has no task: prepare and start do
    nothing with it, but their workbooks still say what it is and why (they showed a blank
    result and lost the reason), and status keeps validation's red cell, comment and Findings
    line on it (they were lost)."""
    import openpyxl
    import requests
    from test_submit import _wire_job

    from bulkimport.results_book import ERROR_FILL
    from bulkimport.rollback import execute_rollback, plan_rollback
    from bulkimport.status import refresh_status

    requests.post(f"{sim.base_url}/v3/{PROJECT}/jobs/batch-creation", headers={"X-Auth-Token": sim.token},
                  json={"jobs": [_wire_job("taken-name")]}, timeout=10).raise_for_status()
    book = make_book(tmp_path / "wave.xlsx", [launch_row("made-1", 81),
                                              launch_row("bad-port", 82, **{"source_endpoint.db_port": 70000}),
                                              launch_row("taken-name", 83)])
    submitted = submit_workbook(book, options(sim, tmp_path), env=env(sim))
    assert submitted.exit_code == 1

    prepared = prepare(sim, tmp_path, book)
    started = start(sim, tmp_path, prepared.results_path)
    for path in (prepared.results_path, started.results_path):
        rows = rows_by_name(path)
        assert rows["made-1"]["result"] == "CREATED"
        bad, taken = rows["bad-port"], rows["taken-name"]
        assert bad["result"] == "INVALID" and "range" in str(bad["error_code"]).split(","), path.name
        assert "65535" in str(bad["error_msg"]), path.name
        assert taken["result"] == "REJECTED" and taken["error_code"] == "DRS.M00277", path.name
        assert "taken" in str(taken["error_msg"]).lower() or "exist" in str(taken["error_msg"]).lower(), path.name
    assert rows_by_name(prepared.results_path)["bad-port"]["precheck"] == "NOT_CREATED"

    status = refresh_status(submitted.results_path, target(sim, tmp_path), out_path=tmp_path / "status.xlsx",
                            report_dir=tmp_path / "reports", retry=FAST)
    rolled = execute_rollback(plan_rollback(status.results_path, target(sim, tmp_path), retry=FAST),
                              target(sim, tmp_path), out_path=tmp_path / "rollback.xlsx",
                              report_dir=tmp_path / "reports", release_timeout=30, interval=0.05, retry=FAST)
    assert rows_by_name(rolled.results_path)["bad-port"]["result"] == "INVALID"
    for path in (status.results_path, prepared.results_path, started.results_path, rolled.results_path):
        wb = openpyxl.load_workbook(path)
        ws = wb["Jobs"]
        keys = [c.value for c in ws[2]]
        row = next(r for r in range(3, ws.max_row + 1) if ws.cell(r, keys.index("name") + 1).value == "bad-port")
        port = ws.cell(row, keys.index("source_endpoint.db_port") + 1)
        assert port.fill.fgColor.rgb.endswith(ERROR_FILL.lstrip("#")), path.name
        assert port.comment is not None and "65535" in port.comment.text, path.name
        assert ws.cell(row, keys.index("result") + 1).value == "INVALID", path.name
        findings = [[c.value for c in line] for line in wb["Findings"].iter_rows(min_row=2)]
        assert any(line[0] == port.coordinate and line[4] == "range" for line in findings), path.name


# -- start --------------------------------------------------------------------------------------

def test_start_starts_each_task_once_and_a_second_start_sends_nothing(sim: Simulator, tmp_path: Path) -> None:
    book = campaign(sim, tmp_path, [launch_row(f"go-{i}", 60 + i) for i in range(3)])
    assert prepare(sim, tmp_path, book).exit_code == 0

    first = start(sim, tmp_path, book)

    assert first.exit_code == 0
    assert [r.start for r in first.rows] == ["STARTED"] * 3
    assert Counter(j["job_id"] for r in calls(sim, "start") for j in r["body"]["jobs"]) == Counter(
        {r.task_id: 1 for r in first.rows})
    assert all(r["start"] == "STARTED" for r in read_rows(first.results_path))

    second = start(sim, tmp_path, book, run="2")

    assert second.exit_code == 0
    assert [r.start for r in second.rows] == ["STARTED"] * 3
    assert all("already started" in str(r.error_msg) for r in second.rows)
    assert len(calls(sim, "start")) == 1
    with Ledger(tmp_path / "ledger.sqlite") as led:
        assert {s[L.STAGE_START].state for s in led.stages(sim.base_url, PROJECT).values()} == {L.START_STARTED}


def test_a_start_refused_by_the_server_is_start_failed_with_its_code(sim: Simulator, tmp_path: Path) -> None:
    book = campaign(sim, tmp_path, [launch_row("refused", 71), launch_row("accepted", 72)])
    assert prepare(sim, tmp_path, book).exit_code == 0
    refuse_start(sim, "refused")

    outcome = start(sim, tmp_path, book)

    assert outcome.exit_code == 1
    by_name = {r.name: r for r in outcome.rows}
    assert by_name["refused"].start == "START_FAILED" and by_name["refused"].error_code == "DRS.M01504"
    assert by_name["accepted"].start == "STARTED"
    row = rows_by_name(outcome.results_path)["refused"]
    assert row["start"] == "START_FAILED" and row["error_code"] == "DRS.M01504" and row["error_msg"]


def test_a_lost_start_answer_never_leads_to_a_second_start_request(sim: Simulator, tmp_path: Path) -> None:
    book = campaign(sim, tmp_path, [launch_row(f"lost-{i}", 80 + i) for i in range(3)])
    assert prepare(sim, tmp_path, book).exit_code == 0
    drop_next_start_answers(sim, 1)

    outcome = start(sim, tmp_path, book)

    # the answer was lost, the status was asked: every task is past CONFIGURATION, so STARTED
    assert [r.start for r in outcome.rows] == ["STARTED"] * 3
    assert outcome.exit_code == 0
    again = start(sim, tmp_path, book, run="2")
    assert again.exit_code == 0
    per_task = Counter(j["job_id"] for r in calls(sim, "start") for j in r["body"]["jobs"])
    assert set(per_task.values()) == {1} and len(per_task) == 3


def test_a_start_left_in_doubt_by_a_kill_asks_the_server_before_sending(sim: Simulator, tmp_path: Path) -> None:
    """The ledger says a start was on its way (a kill after record, before or after the send):
    the next run asks the status; a task past CONFIGURATION is not sent again."""
    book = campaign(sim, tmp_path, [launch_row("killed-1", 91), launch_row("killed-2", 92)])
    assert prepare(sim, tmp_path, book).exit_code == 0
    tgt = target(sim, tmp_path)
    plan = plan_start(book, tgt, retry=FAST)
    first, second = plan.to_start
    # killed-1 was really sent and started; killed-2 was recorded but the process died first
    from bulkimport.drs import DrsClient, TokenAuth
    with DrsClient(sim.base_url, PROJECT, TokenAuth(sim.token), retry=FAST) as client:
        assert client.send_start([{"job_id": first.task_id}]).results[0]["status"] == "success"
    with Ledger(tmp_path / "ledger.sqlite") as led:
        for row in (first, second):
            led.record_stage(sim.base_url, PROJECT, row.name, L.STAGE_START, L.START_SENDING, task_id=row.task_id)

    # within the grace period the task still in CONFIGURATION is UNKNOWN, not sent again
    soon = start(sim, tmp_path, book)
    assert [r.start for r in soon.rows] == ["STARTED", "UNKNOWN"] and soon.exit_code == 3
    assert len(calls(sim, "start")) == 1

    outcome = start(sim, tmp_path, book, run="2", doubt_grace=0)

    assert [r.start for r in outcome.rows] == ["STARTED", "STARTED"]
    per_task = Counter(j["job_id"] for r in calls(sim, "start") for j in r["body"]["jobs"])
    assert per_task == Counter({first.task_id: 1, second.task_id: 1})


def test_start_without_yes_and_without_a_terminal_starts_nothing(sim: Simulator, tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch,
                                                                  capsys: pytest.CaptureFixture[str]) -> None:
    book = campaign(sim, tmp_path, [launch_row("ask-1", 95)])
    assert prepare(sim, tmp_path, book).exit_code == 0
    monkeypatch.setattr("bulkimport.cli.start.stdin_is_terminal", lambda: False)
    for name, value in env(sim).items():
        monkeypatch.setenv(name, value)
    args = ["start", str(book), "--endpoint", sim.base_url, "--project-id", PROJECT,
            "--ledger", str(tmp_path / "ledger.sqlite"), "--report-dir", str(tmp_path / "reports"),
            "--out", str(tmp_path / "start.xlsx")]
    with pytest.raises(SystemExit) as stopped:
        main(args)
    assert stopped.value.code == 2
    err = capsys.readouterr().err
    assert "ask-1" in err  # the plan was listed
    assert "bulkimport: error: start starts replication: nothing was started" in err and "--yes" in err
    assert not calls(sim, "start") and not (tmp_path / "start.xlsx").exists()

    with pytest.raises(SystemExit) as stopped:
        main([*args, "--yes", "--json"])
    assert stopped.value.code == 0
    assert '"STARTED"' in capsys.readouterr().out
    assert len(calls(sim, "start")) == 1


def test_at_schedules_the_start_in_utc_ms(sim: Simulator, tmp_path: Path) -> None:
    from datetime import UTC, datetime

    from bulkimport.errors import InputError
    from bulkimport.start import parse_start_time

    now = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)
    assert parse_start_time("2026-12-01T22:00", now) == ("1796162400000", "2026-12-01T22:00:00+00:00")
    assert parse_start_time("2026-12-01T23:00+01:00", now)[0] == "1796162400000"
    assert parse_start_time("2026-12-01T22:00Z", now)[0] == "1796162400000"
    with pytest.raises(InputError, match="in the past"):
        parse_start_time("2026-11-28T22:00", now)
    with pytest.raises(InputError, match="ISO 8601"):
        parse_start_time("tomorrow", now)



# -- status follows started tasks ---------------------------------------------------------------

def test_status_shows_the_progress_of_started_tasks(sim: Simulator, tmp_path: Path) -> None:
    from bulkimport.simulator.testing import fail_transfer
    from bulkimport.status import refresh_status

    book = campaign(sim, tmp_path, [launch_row("run-ok", 101), launch_row("run-broken", 102),
                                    launch_row("run-later", 103)])
    assert prepare(sim, tmp_path, book).exit_code == 0
    fail_transfer(sim, "run-broken")
    started = start(sim, tmp_path, book)
    assert started.exit_code == 0

    outcome = refresh_status(started.results_path, target(sim, tmp_path), out_path=tmp_path / "status.xlsx",
                             report_dir=tmp_path / "reports", watch=True, interval=0.05, max_interval=0.2,
                             timeout=30, retry=FAST)

    rows = rows_by_name(outcome.results_path)
    assert rows["run-ok"]["task_status"] == "INCRE_TRANSFER_STARTED"
    assert rows["run-ok"]["transfer_status"] == "INCRE_TRANSFER_STARTED"
    # progress, remaining time and delay are numbers in the workbook (the server sends text)
    assert rows["run-ok"]["progress"] == 100
    assert isinstance(rows["run-ok"]["remaining_time"], int)
    assert rows["run-ok"]["incre_trans_delay"] is None or isinstance(rows["run-ok"]["incre_trans_delay"], int)
    assert str(rows["run-broken"]["task_status"]).endswith("_FAILED")
    assert outcome.exit_code == 1  # a failed transfer is a failed task
    assert calls(sim, "progress")


# -- the report and a LibreOffice-saved workbook --------------------------------------------------

def test_the_report_tells_the_launch(sim: Simulator, tmp_path: Path) -> None:
    import json

    book = campaign(sim, tmp_path, [launch_row("rep-ok", 111), launch_row("rep-bad", 112)])
    fail_precheck(sim, "rep-bad", "dstDbDiskSize")
    prepared = prepare(sim, tmp_path, book)
    report = json.loads(prepared.report.json.read_text())
    assert report["counts"]["by_precheck"] == {"FAILED": 1, "PASSED": 1}
    assert report["counts"]["by_connection"] == {"OK": 2}
    launch = {r["name"]: r for r in report["launch"]}
    assert launch["rep-bad"]["precheck"] == "FAILED" and "dstDbDiskSize" in launch["rep-bad"]["note"]
    html = prepared.report.html.read_text()
    assert "Launch (2 tasks)" in html and "dstDbDiskSize" in html and "Start time" not in html

    started = start(sim, tmp_path, book)
    report = json.loads(started.report.json.read_text())
    assert report["counts"]["by_start"] == {"SKIPPED": 1, "STARTED": 1}


def test_the_wave_from_a_workbook_saved_by_libreoffice(sim: Simulator, tmp_path: Path, soffice: str) -> None:
    """The template filled by a script and saved by LibreOffice (as an operator's file would be):
    submit, prepare, start and status work on it unchanged."""
    from bulkimport.status import refresh_status

    source = make_book(tmp_path / "in" / "lo-wave.xlsx",
                       [launch_row("lo-one", 121, objects="sales;crm.customers"), launch_row("lo-two", 122)])
    subprocess.run([soffice, "--headless", f"-env:UserInstallation=file://{tmp_path}/profile",
                    "--convert-to", "xlsx", "--outdir", str(tmp_path / "lo"), str(source)],
                   check=True, capture_output=True, timeout=180)
    book = tmp_path / "lo" / "lo-wave.xlsx"
    assert submit_workbook(book, options(sim, tmp_path), env=env(sim)).exit_code == 0
    prepared = prepare(sim, tmp_path, book)
    assert prepared.exit_code == 0
    selected = [j for r in calls(sim, "objects") for j in r["body"]["jobs"] if j["selected"]]
    assert len(selected) == 1
    started = start(sim, tmp_path, prepared.results_path)
    assert started.exit_code == 0 and {r.start for r in started.rows} == {"STARTED"}
    status = refresh_status(started.results_path, target(sim, tmp_path), out_path=tmp_path / "lo-status.xlsx",
                            report_dir=tmp_path / "reports", watch=True, interval=0.05, max_interval=0.2,
                            timeout=30, retry=FAST)
    assert status.exit_code == 0
    assert {r["transfer_status"] for r in rows_by_name(status.results_path).values()} == {"INCRE_TRANSFER_STARTED"}


def test_start_killed_while_its_request_is_in_flight_never_sends_a_second_one(sim: Simulator,
                                                                                tmp_path: Path) -> None:
    """`kill -9` of a real `bulkimport start` process once the ledger says the start is on its
    way: the next runs ask the server, wait out the grace period, and never send it twice."""
    import os
    import signal
    import sqlite3
    import sys
    import time

    book = campaign(sim, tmp_path, [launch_row("killed-proc", 131)])
    assert prepare(sim, tmp_path, book).exit_code == 0
    sim.set_faults(latency=1.5)  # every request takes 1.5 s: the kill lands while the start is in flight
    ledger_path = tmp_path / "ledger.sqlite"
    args = [sys.executable, "-m", "bulkimport", "start", str(book), "--endpoint", sim.base_url, "--project-id",
            PROJECT, "--ledger", str(ledger_path), "--yes", "--out", str(tmp_path / "killed.xlsx"),
            "--report-dir", str(tmp_path / "reports")]
    process_env = {k: v for k, v in os.environ.items() if not k.startswith(("OS_", "HUAWEICLOUD_"))}
    process = subprocess.Popen(args, env={**process_env, **env(sim)}, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    try:
        while time.monotonic() < deadline and process.poll() is None:
            with sqlite3.connect(ledger_path) as db:
                row = db.execute("SELECT state FROM stages WHERE stage = 'start'").fetchone()
            if row is not None and row[0] == L.START_SENDING:
                break
            time.sleep(0.02)
        assert process.poll() is None, "start finished before it could be killed"
        os.kill(process.pid, signal.SIGKILL)
    finally:
        process.wait(timeout=30)

    soon = start(sim, tmp_path, book, run="soon")  # the killed request may still be in the service
    assert soon.rows[0].start in ("STARTED", "UNKNOWN")
    sim.set_faults(latency=0)
    with Ledger(ledger_path) as led:
        task_id = led.entries(sim.base_url, PROJECT)[0].task_id
    # The service finishes the killed request, if it reached it: its connection closes after that.
    assert sim.wait_idle(timeout=60), "the simulator still holds the killed start's connection"
    later = start(sim, tmp_path, book, run="later", doubt_grace=0)

    assert later.rows[0].start == "STARTED"
    assert len([j for r in calls(sim, "start") for j in r["body"]["jobs"] if j["job_id"] == task_id]) == 1


def test_start_at_a_time_schedules_the_task(sim: Simulator, tmp_path: Path) -> None:
    from datetime import UTC, datetime, timedelta

    book = campaign(sim, tmp_path, [launch_row("window-1", 141)])
    assert prepare(sim, tmp_path, book).exit_code == 0
    when = (datetime.now(UTC) + timedelta(days=2)).replace(microsecond=0)

    outcome = start(sim, tmp_path, book, at=when.strftime("%Y-%m-%dT%H:%M:%S"))

    assert outcome.exit_code == 0
    (sent,) = [j for r in calls(sim, "start") for j in r["body"]["jobs"]]
    assert sent["start_time"] == str(int(when.timestamp() * 1000))
    row = rows_by_name(outcome.results_path)["window-1"]
    assert row["start"] == "STARTED" and row["start_time"] == when.isoformat()
    assert row["task_status"] == "WAITING_FOR_START"


def test_prepare_and_start_workbooks_carry_every_contract_column(sim: Simulator, tmp_path: Path) -> None:
    """result, task_id, child_ids, task_status, error_code, error_msg (the contract's first six)
    are in every workbook that names tasks, even one made from the operator's own workbook."""
    import openpyxl

    book = campaign(sim, tmp_path, [launch_row(f"cols-{i}", 70 + i) for i in range(2)])
    prepared = prepare(sim, tmp_path, book)
    started = start(sim, tmp_path, book)
    for path in (prepared.results_path, started.results_path):
        ws = openpyxl.load_workbook(path)["Jobs"]
        keys = [c.value for c in ws[2]]
        labels = [c.value for c in ws[1]]
        for column in ("result", "task_id", "child_ids", "task_status", "error_code", "error_msg"):
            assert column in keys and column in labels, (path.name, column)


def test_a_connection_incomplete_row_is_created_then_prepared_once_its_password_is_typed(
    sim: Simulator, tmp_path: Path
) -> None:
    """Validation warns (connection_incomplete) on the row prepare cannot test; the task is still
    created; prepare names the blank column; with the password typed in, prepare again passes
    (docs/launch.md: a re-run starts again from the connection test)."""
    from bulkimport.validate import validate_workbook

    rows = [launch_row("no-password", 57, **{"source_endpoint.db_password": None}), launch_row("fine-58", 58)]
    book = campaign(sim, tmp_path, rows)  # exit 0: both created
    warned = [(f.code, f.column, f.row) for f in validate_workbook(book).findings]
    assert warned == [("connection_incomplete", "source_endpoint.db_password", 3)]

    first = prepare(sim, tmp_path, book)
    assert first.exit_code == 1
    row = rows_by_name(first.results_path)["no-password"]
    assert row["connection"] == "FAILED" and "source_endpoint.db_password" in str(row["error_msg"])

    rows[0]["source_endpoint.db_password"] = "env:SRC_PW"  # the operator fills the cell in
    make_book(book, rows)
    second = prepare(sim, tmp_path, book, run="2", env_extra={"SRC_PW": "Src-Pa55-typed"})
    assert second.exit_code == 0, [(t.name, t.error_msg) for t in second.tasks]
    assert {r["precheck"] for r in rows_by_name(second.results_path).values()} == {"PASSED"}
    assert validate_workbook(book).findings == []
