"""The simulator's launch calls over real HTTP: connection tests, objects, pre-check, start, progress.

A manual clock drives every time-dependent answer (pre-check progress, start phases), so
nothing here sleeps or races the simulator's timers.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from bulkimport.simulator import FaultConfig, Simulator, cli_options, faults_from_options
from bulkimport.simulator.testing import (
    PROJECT_ID,
    alarm_precheck,
    drop_next_start_answers,
    endpoint_item,
    fail_connection,
    fail_precheck,
    fail_start,
    fail_transfer,
    make_job,
    refuse_start,
    set_precheck_duration,
)

TOKEN = "launch-token"
JOBS = f"/v3/{PROJECT_ID}/jobs"
SOURCE_PASSWORD = "src-Pa55word"
TARGET_PASSWORD = "tgt-Pa55word"
T0 = 1_800_000_000.0


class Clock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


class Api:
    """Token-auth calls to the launch endpoints (the tool's own client is tested elsewhere)."""

    def __init__(self, sim: Simulator) -> None:
        self.base = sim.base_url
        self.session = requests.Session()

    def call(self, method: str, path: str, body: Any) -> requests.Response:
        return self.session.request(method, self.base + JOBS + path, json=body,
                                    headers={"X-Auth-Token": TOKEN}, timeout=10)

    def create(self, *jobs: dict[str, Any]) -> list[str]:
        response = self.call("POST", "/batch-creation", {"jobs": list(jobs)})
        assert response.status_code == 202, response.text
        return [r["id"] for r in response.json()["results"]]

    def connect(self, *items: dict[str, Any]) -> requests.Response:
        return self.call("POST", "/batch-connection", {"jobs": list(items)})

    def objects(self, *items: dict[str, Any]) -> requests.Response:
        return self.call("PUT", "/batch-select-objects", {"jobs": list(items)})

    def precheck(self, *ids: str) -> requests.Response:
        return self.call("POST", "/batch-precheck", {"jobs": [{"job_id": i, "precheck_mode": "forStartJob"}
                                                              for i in ids]})

    def precheck_result(self, *ids: str) -> requests.Response:
        return self.call("POST", "/batch-precheck-result", {"jobs": list(ids)})

    def start(self, *items: dict[str, Any]) -> requests.Response:
        return self.call("POST", "/batch-starting", {"jobs": list(items)})

    def progress(self, *ids: str) -> requests.Response:
        return self.call("POST", "/batch-progress", {"jobs": list(ids)})

    def status(self, task_id: str) -> str:
        reply = self.call("POST", "/batch-status", {"jobs": [task_id]}).json()
        return str(reply["results"][0]["status"])


def job(name: str, **overrides: Any) -> dict[str, Any]:
    """A MySQL migration job whose endpoints carry addresses, users and passwords."""
    created = make_job(name, **overrides)
    created["source_endpoint"].update(ip="10.1.0.5", db_port=3306, db_user="repl", db_password=SOURCE_PASSWORD)
    created["target_endpoint"].update(db_user="root", db_password=TARGET_PASSWORD)
    return created


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def sim(clock: Clock) -> Iterator[Simulator]:
    faults = FaultConfig(transition_delay=0, precheck_duration=4, start_delay=2, full_duration=10)
    with Simulator(token=TOKEN, faults=faults, clock=clock) as running:
        yield running


@pytest.fixture
def api(sim: Simulator) -> Api:
    return Api(sim)


def connect_both(api: Api, task_id: str, created: dict[str, Any]) -> requests.Response:
    return api.connect(endpoint_item(task_id, created, "so"), endpoint_item(task_id, created, "ta"))


def prepared(api: Api, clock: Clock, created: dict[str, Any]) -> str:
    """Create a task, pass both connections, select everything and pass a pre-check."""
    (task_id,) = api.create(created)
    assert all(r["success"] for r in connect_both(api, task_id, created).json()["results"])
    assert api.objects({"job_id": task_id, "selected": False, "job": []}).json()["results"][0]["status"] is True
    assert api.precheck(task_id).json()["results"][0]["status"] == "success"
    clock.advance(4)
    assert api.precheck_result(task_id).json()["results"][0]["result"] is True
    return task_id


# -- the whole flow -----------------------------------------------------------------------------


def test_flow_from_configuration_to_incremental(api: Api, clock: Clock, sim: Simulator) -> None:
    created = job("wave-flow")
    (task_id,) = api.create(created)

    reply = connect_both(api, task_id, created)
    assert reply.status_code == 200
    assert reply.json() == {"results": [{"id": task_id, "status": "success", "success": True}] * 2, "count": 2}

    objects = {"job_id": task_id, "selected": True, "job": [
        {"id": "shop", "object_type": "database", "object_name": "shop", "select": "partial"},
        {"id": "shop-*-*-orders", "parent_id": "shop", "object_type": "table", "object_name": "orders",
         "select": "true"}]}
    reply = api.objects(objects)
    assert reply.status_code == 202
    assert reply.json() == {"all_counts": 1, "results": [{"job_id": task_id, "status": True}]}

    reply = api.precheck(task_id)
    assert reply.status_code == 200
    assert reply.json()["results"] == [{"id": task_id, "precheck_id": task_id, "status": "success"}]

    clock.advance(1)
    pending = api.precheck_result(task_id).json()["results"][0]
    assert pending["precheck_id"] == task_id
    assert pending["process"] == "25%" and pending["result"] is False and pending["precheck_result"] == []

    clock.advance(3)
    done = api.precheck_result(task_id).json()["results"][0]
    assert done["process"] == "100%" and done["result"] is True and done["total_passed_rate"] == "100%"
    assert {i["result"] for i in done["precheck_result"]} == {"PASSED"}
    assert {"srcDbConnection", "dstDbConnection"} <= {i["item"] for i in done["precheck_result"]}

    reply = api.start({"job_id": task_id})
    assert reply.status_code == 202
    assert reply.json() == {"results": [{"id": task_id, "status": "success"}], "count": 1}
    assert api.status(task_id) == "STARTJOBING"

    clock.advance(2 + 5)  # half-way through the 10 s full phase
    item = api.progress(task_id).json()["results"][0]
    assert item["transfer_status"] == "FULL_TRANSFER_STARTED" and item["task_mode"] == "FULL_INCR_TRANS"
    assert item["progress"] == "50" and item["remaining_time"] == "5" and item["incre_trans_delay"] == "-1"
    assert item["progress_map"]["data"]["completed"] == "50%"

    clock.advance(5)
    item = api.progress(task_id).json()["results"][0]
    assert item["transfer_status"] == "INCRE_TRANSFER_STARTED"
    assert item["progress"] == "100" and item["remaining_time"] == "0" and item["incre_trans_delay"] == "1"
    assert api.status(task_id) == "INCRE_TRANSFER_STARTED"
    view = sim.tasks()[0]
    assert view["launch"]["objects"]["job"] == objects["job"]
    assert "pw" not in view["launch"]


@pytest.mark.parametrize(("task_type", "after_start", "steady"), [
    ("FULL_TRANS", "FULL_TRANSFER_STARTED", "FULL_TRANSFER_COMPLETE"),
    ("INCR_TRANS", "INCRE_TRANSFER_STARTED", "INCRE_TRANSFER_STARTED"),
])
def test_task_mode_decides_the_states_after_start(api: Api, clock: Clock, task_type: str, after_start: str,
                                                  steady: str) -> None:
    task_id = prepared(api, clock, job(f"mode-{task_type}", task_type=task_type))
    api.start({"job_id": task_id})
    clock.advance(2)
    assert api.status(task_id) == after_start
    clock.advance(10)
    assert api.status(task_id) == steady
    assert api.progress(task_id).json()["results"][0]["task_mode"] == task_type


def test_scheduled_start_waits(api: Api, clock: Clock) -> None:
    task_id = prepared(api, clock, job("scheduled"))
    at_ms = int((clock.now + 3600) * 1000)
    assert api.start({"job_id": task_id, "start_time": str(at_ms)}).json()["results"][0]["status"] == "success"
    assert api.status(task_id) == "WAITING_FOR_START"
    assert api.progress(task_id).json()["results"][0]["progress"] == "0"
    clock.advance(3599)
    assert api.status(task_id) == "WAITING_FOR_START"
    clock.advance(1)
    assert api.status(task_id) == "STARTJOBING"


def test_progress_of_a_task_never_started(api: Api) -> None:
    (task_id,) = api.create(job("not-started"))
    item = api.progress(task_id).json()["results"][0]
    assert item["transfer_status"] == "CONFIGURATION"
    assert (item["progress"], item["remaining_time"], item["incre_trans_delay"]) == ("0", "0", "-1")


# -- connection tests -----------------------------------------------------------------------------


def test_wrong_password_or_user_fails_that_endpoint(api: Api) -> None:
    created = job("wrong-password")
    (task_id,) = api.create(created)
    reply = api.connect(endpoint_item(task_id, created, "so", db_password="not-it"),
                        endpoint_item(task_id, created, "ta", db_user="someone-else"))
    for item in reply.json()["results"]:
        assert item["success"] is False and item["status"] == "failed"
        assert item["error_code"] == "DRS.KE0002"
    assert SOURCE_PASSWORD not in reply.text


def test_endpoint_must_match_the_tasks_side_and_network(api: Api) -> None:
    created = make_job("mixed-up", engine_type="mysql-to-taurus", db_use_type="sync",
                       source_endpoint={"db_type": "mysql"},
                       target_endpoint={"db_type": "taurus", "region": "eu-de", "inst_id": "inst1"})
    (task_id,) = api.create(created)
    wrong_side = endpoint_item(task_id, created, "so", db_type="taurus")
    wrong_net = endpoint_item(task_id, created, "ta", net_type="vpn")
    results = api.connect(wrong_side, wrong_net).json()["results"]
    assert [r["error_code"] for r in results] == ["DRS.M00202", "DRS.M00202"]
    assert "db_type" in results[0]["error_msg"] and "net_type" in results[1]["error_msg"]


def test_task_created_without_password_accepts_any(api: Api) -> None:
    created = make_job("no-password")
    (task_id,) = api.create(created)
    reply = api.connect(endpoint_item(task_id, created, "so", db_password="anything"))
    assert reply.json()["results"][0]["success"] is True


@pytest.mark.parametrize(("host", "port", "fails"), [
    ("10.1.0.5", None, "so"), (None, 3306, "so"), ("10.1.0.5", 3307, None), ("192.0.2.10", None, "ta"),
])
def test_configured_hosts_and_ports_fail(api: Api, sim: Simulator, host: str | None, port: int | None,
                                         fails: str | None) -> None:
    created = job(f"unreachable-{host}-{port}".replace(".", "-"))
    (task_id,) = api.create(created)
    fail_connection(sim, host, port)
    results = connect_both(api, task_id, created).json()["results"]
    outcome = {side: r["success"] for side, r in zip(("so", "ta"), results, strict=True)}
    assert outcome == {"so": fails != "so", "ta": fails != "ta"}
    for side, result in zip(("so", "ta"), results, strict=True):
        if side == fails:
            assert result["error_code"] == "DRS.M00300" and "cannot be reached" in result["error_msg"]


def test_mongodb_hosts_come_from_ip(api: Api, sim: Simulator) -> None:
    created = make_job("mongo-hosts", engine_type="mongodb",
                       source_endpoint={"db_type": "mongodb", "ip": "10.2.0.1:8635,10.2.0.2:8635"},
                       target_endpoint={"db_type": "mongodb", "region": "eu-de", "inst_id": "inst1"})
    (task_id,) = api.create(created)
    fail_connection(sim, "10.2.0.2", 8635)
    item = endpoint_item(task_id, created, "so")
    assert item["db_port"] == 0
    result = api.connect(item).json()["results"][0]
    assert result["success"] is False and "10.2.0.2:8635" in result["error_msg"]


def test_one_failed_endpoint_blocks_objects_and_precheck(api: Api, sim: Simulator) -> None:
    created = job("half-connected")
    (task_id,) = api.create(created)
    fail_connection(sim, "192.0.2.10")
    connect_both(api, task_id, created)
    objects = api.objects({"job_id": task_id, "selected": False}).json()["results"][0]
    assert objects == {"job_id": task_id, "status": False, "error_code": "DRS.M00300",
                       "error_msg": objects["error_msg"]}
    precheck = api.precheck(task_id).json()["results"][0]
    assert precheck["status"] == "failed" and precheck["error_code"] == "DRS.M00300"


def test_a_new_connection_test_voids_the_precheck(api: Api, clock: Clock) -> None:
    created = job("retested")
    task_id = prepared(api, clock, created)
    connect_both(api, task_id, created)
    assert api.precheck_result(task_id).json()["results"][0]["error_code"] == "DRS.M00304"
    assert api.start({"job_id": task_id}).json()["results"][0]["error_code"] == "DRS.M00300"


def test_dr_tasks_take_no_object_selection(api: Api) -> None:
    created = make_job("dr-task", engine_type="cloudDataGuard-mysql", db_use_type="cloudDataGuard",
                       multi_write=False, is_target_readonly=True)
    (task_id,) = api.create(created)
    connect_both(api, task_id, created)
    result = api.objects({"job_id": task_id, "selected": False}).json()["results"][0]
    assert result["status"] is False and result["error_code"] == "DRS.M00202"
    assert api.precheck(task_id).json()["results"][0]["status"] == "success"


# -- pre-check items --------------------------------------------------------------------------------


def test_failing_and_alarming_items_for_configured_tasks(api: Api, clock: Clock, sim: Simulator) -> None:
    fail_precheck(sim, "Checked-Fail", "dstDbDiskSize")
    alarm_precheck(sim, "checked-alarm")
    ids = {}
    for name in ("checked-fail", "checked-alarm", "checked-ok"):
        created = job(name)
        (ids[name],) = api.create(created)
        connect_both(api, ids[name], created)
    api.precheck(*ids.values())
    clock.advance(4)
    results = api.precheck_result(*ids.values()).json()["results"]
    by_name = dict(zip(ids, results, strict=True))
    assert [r["precheck_id"] for r in results] == list(ids.values())

    failed = by_name["checked-fail"]
    assert failed["result"] is False and failed["total_passed_rate"] != "100%"
    (item,) = [i for i in failed["precheck_result"] if i["result"] != "PASSED"]
    assert item["item"] == "dstDbDiskSize" and item["result"] == "FAILED" and item["failed_reason"]
    assert item["group"] == "db_disk_size"

    alarmed = by_name["checked-alarm"]
    assert alarmed["result"] is True and alarmed["total_passed_rate"] == "100%"
    (item,) = [i for i in alarmed["precheck_result"] if i["result"] != "PASSED"]
    assert item["item"] == "dbParamConsistency" and item["result"] == "ALARM" and item["failed_reason"]

    assert {i["result"] for i in by_name["checked-ok"]["precheck_result"]} == {"PASSED"}
    assert api.start({"job_id": ids["checked-fail"]}).json()["results"][0]["error_code"] == "DRS.M00300"
    assert api.start({"job_id": ids["checked-alarm"]}).json()["results"][0]["status"] == "success"


def test_precheck_duration_is_switchable(api: Api, clock: Clock, sim: Simulator) -> None:
    set_precheck_duration(sim, 0)
    created = job("instant-check")
    (task_id,) = api.create(created)
    connect_both(api, task_id, created)
    api.precheck(task_id)
    assert api.precheck_result(task_id).json()["results"][0]["process"] == "100%"


def test_precheck_result_of_unknown_and_unchecked_tasks(api: Api) -> None:
    (task_id,) = api.create(job("never-checked"))
    results = api.precheck_result(task_id, "no-such-task").json()["results"]
    assert results[0]["precheck_id"] == task_id and results[0]["error_code"] == "DRS.M00304"
    assert results[1]["precheck_id"] == "no-such-task" and results[1]["error_code"] == "DRS.M00289"


# -- starts ---------------------------------------------------------------------------------------


def test_start_refused_without_passed_precheck_or_twice(api: Api, clock: Clock) -> None:
    created = job("start-rules")
    (task_id,) = api.create(created)
    assert api.start({"job_id": task_id}).json()["results"][0]["error_code"] == "DRS.M00300"
    connect_both(api, task_id, created)
    api.precheck(task_id)
    assert api.start({"job_id": task_id}).json()["results"][0]["error_code"] == "DRS.M00300"  # still running
    clock.advance(4)
    assert api.start({"job_id": task_id}).json()["results"][0]["status"] == "success"
    again = api.start({"job_id": task_id}).json()["results"][0]
    assert again["status"] == "failed" and again["error_code"] == "DRS.M00304"
    assert api.start({"job_id": "unknown-task"}).json()["results"][0]["error_code"] == "DRS.M00289"


def test_configured_refusal_leaves_the_task_in_configuration(api: Api, clock: Clock, sim: Simulator) -> None:
    task_id = prepared(api, clock, job("refused-start"))
    refuse_start(sim, "refused-start")
    result = api.start({"job_id": task_id}).json()["results"][0]
    assert result["status"] == "failed" and result["error_code"] == "DRS.M01504"
    assert api.status(task_id) == "CONFIGURATION"


def test_failed_start_and_failed_transfer(api: Api, clock: Clock, sim: Simulator) -> None:
    fail_start(sim, "bad-start")
    fail_transfer(sim, "bad-transfer")
    bad_start = prepared(api, clock, job("bad-start"))
    bad_transfer = prepared(api, clock, job("bad-transfer"))
    api.start({"job_id": bad_start}, {"job_id": bad_transfer})
    clock.advance(2)
    assert api.status(bad_start) == "START_JOB_FAILED"
    assert api.status(bad_transfer) == "FULL_TRANSFER_STARTED"
    clock.advance(5)
    assert api.status(bad_transfer) == "FULL_TRANSFER_FAILED"
    item = api.progress(bad_transfer).json()["results"][0]
    assert item["transfer_status"] == "FULL_TRANSFER_FAILED" and item["error_code"] and item["error_msg"]
    status = api.call("POST", "/batch-status", {"jobs": [bad_start]}).json()["results"][0]
    assert status["error_code"] and status["error_message"]


def test_dropped_start_answer_still_starts(api: Api, clock: Clock, sim: Simulator) -> None:
    task_id = prepared(api, clock, job("lost-start"))
    drop_next_start_answers(sim)
    with pytest.raises(requests.ConnectionError):
        api.start({"job_id": task_id})
    assert api.status(task_id) == "STARTJOBING"
    entry = sim.requests()[-2]
    assert entry["endpoint"] == "start" and entry["status"] is None and entry["fault"] == "lost_response"
    assert api.start({"job_id": task_id}).json()["results"][0]["error_code"] == "DRS.M00304"


def test_progress_of_a_stopped_task_stays_where_the_stop_found_it(api: Api, clock: Clock) -> None:
    task_id = prepared(api, clock, job("stopped-early"))
    api.start({"job_id": task_id})
    clock.advance(2 + 3)
    stop = api.call("DELETE", "/batch-jobs", {"jobs": [{"delete_type": "force_terminate", "job_id": task_id}]})
    assert stop.json()["results"][0]["status"] == "success"
    clock.advance(60)
    item = api.progress(task_id).json()["results"][0]
    assert item["transfer_status"] == "RELEASE_RESOURCE_COMPLETE" and item["progress"] == "30"


def test_start_performed_then_500(api: Api, clock: Clock, sim: Simulator) -> None:
    task_id = prepared(api, clock, job("start-500"))
    sim.set_faults(next=["start:500_created"])
    assert api.start({"job_id": task_id}).status_code == 500
    assert api.status(task_id) == "STARTJOBING"


# -- bodies, routes, limits -----------------------------------------------------------------------


def test_ten_items_per_request(api: Api) -> None:
    reply = api.progress(*[f"task-{i}" for i in range(11)])
    assert reply.status_code == 400 and reply.json()["error_code"] == "DRS.M00200"
    assert api.progress(*[f"task-{i}" for i in range(10)]).status_code == 202


@pytest.mark.parametrize(("path", "method", "body", "code", "field"), [
    ("/batch-connection", "POST", {"jobs": [{"id": "t1", "net_type": "eip", "db_type": "mysql", "ip": "h",
                                            "db_user": "u", "end_point_type": "so"}]}, "DRS.M00201", "db_password"),
    ("/batch-connection", "POST", {"jobs": [{"id": "t1", "net_type": "eip", "db_type": "mysql", "ip": "h",
                                            "db_user": "u", "db_password": "p", "end_point_type": "src"}]},
     "DRS.M00202", "end_point_type"),
    ("/batch-select-objects", "PUT", {"jobs": [{"job_id": "t1", "selected": True, "job": [
        {"id": "db", "object_type": "database", "select": True}]}]}, "DRS.M00202", "job.0.select"),
    ("/batch-select-objects", "PUT", {"jobs": [{"job_id": "t1", "selected": True}]}, "DRS.M00201", "job"),
    ("/batch-select-objects", "PUT", {"jobs": [{"job_id": "t1", "selected": True, "job": [
        {"id": "db-*-*-t", "object_type": "table", "select": "true"}]}]}, "DRS.M00201", "job.0.parent_id"),
    ("/batch-precheck", "POST", {"jobs": [{"job_id": "t1", "precheck_mode": "now"}]}, "DRS.M00202",
     "precheck_mode"),
    ("/batch-starting", "POST", {"jobs": [{"job_id": "t1", "start_time": 1608188903063}]}, "DRS.M00202",
     "start_time"),
    ("/batch-starting", "POST", {"jobs": [{"job_id": "t1", "at": "now"}]}, "DRS.M00202", "at"),
])
def test_invalid_items_fail_the_request(api: Api, sim: Simulator, path: str, method: str, body: Any, code: str,
                                        field: str) -> None:
    reply = api.call(method, path, body)
    assert reply.status_code == 400, reply.text
    assert reply.json()["error_code"] == code
    assert field in reply.json()["error_msg"]


def test_duplicates_and_empty_bodies(api: Api) -> None:
    assert api.start({"job_id": "t1"}, {"job_id": "t1"}).json()["error_code"] == "DRS.M00301"
    assert api.precheck_result("t1", "t1").json()["error_code"] == "DRS.M00301"
    assert api.call("POST", "/batch-progress", {"jobs": []}).json()["error_code"] == "DRS.M00201"
    assert api.call("POST", "/batch-precheck", None).json()["error_code"] == "DRS.M00200"


def test_select_objects_is_put(api: Api) -> None:
    assert api.call("POST", "/batch-select-objects", {"jobs": [{"job_id": "t1"}]}).status_code == 405
    assert api.call("PUT", "/batch-select-objects", {"jobs": [{"job_id": "t1"}]}).status_code == 202


def test_page_example_bodies_are_accepted(api: Api) -> None:
    """The OTC pages' example bodies, verbatim apart from the task ID (unknown here, so a failed item)."""
    select = {"jobs": [{"job": [
        {"id": "fastunit", "parent_id": None, "object_name": "fastunit", "object_type": "database",
         "select": "partial", "object_alias_name": None},
        {"id": "fastunit-*-*-coll", "parent_id": "fastunit", "object_name": "coll", "object_type": "table",
         "select": "true", "object_alias_name": None}], "job_id": "57fd2692-0ebe-4714-9b59-fe7aa65djb15",
        "selected": True}]}
    assert api.call("PUT", "/batch-select-objects", select).status_code == 202
    connection = {"jobs": [{"id": "140b5236-88ad-43c8-811c-1268453jb101", "ip": "192.168.4.66:8635,192.168.4.83:8635",
                            "net_type": "eip", "db_type": "mongodb", "db_port": 0, "db_user": "root",
                            "db_password": "********", "inst_id": "3cadd5a0ef724f55ac7fa5bcb5f4fc5fin02",
                            "project_id": "0549a6a31000d4e82fd1c00c3d6f2d76", "region": "eu-de",
                            "end_point_type": "ta"}]}
    assert api.call("POST", "/batch-connection", connection).status_code == 200
    start = {"jobs": [{"job_id": "9a470239-2308-4bb5-a6bc-1040402fjb21"},
                      {"job_id": "dbb8127c-b093-4b94-b764-7161e151jb2s", "start_time": "1599202771816"}]}
    assert api.call("POST", "/batch-starting", start).status_code == 202


# -- faults, switches, secrets --------------------------------------------------------------------


def test_latency_applies_to_launch_calls(api: Api, sim: Simulator) -> None:
    sim.set_faults(latency=0.15)
    started = time.monotonic()
    assert api.progress("x").status_code == 202
    assert time.monotonic() - started >= 0.15


def test_queued_faults_target_launch_calls(api: Api, sim: Simulator) -> None:
    sim.set_faults(next=["progress:429", "connect:500"])
    assert api.progress("x").status_code == 429
    assert api.connect(endpoint_item("x", make_job("abcd"), "so")).status_code == 500
    assert api.progress("x").status_code == 202


def test_rates_reach_launch_calls_only_with_faults_on_queries(api: Api, sim: Simulator) -> None:
    sim.set_faults(error_500_rate=1.0)
    assert api.progress("x").status_code == 202
    sim.set_faults(faults_on_queries=True)
    assert api.progress("x").status_code == 500
    assert api.start({"job_id": "x"}).status_code == 500


def test_switches_at_run_time_through_the_admin_api(api: Api, clock: Clock, sim: Simulator) -> None:
    created = job("admin-switched")
    (task_id,) = api.create(created)
    url = sim.base_url + "/_admin/faults"
    reply = requests.post(url, json={"precheck_fail": ["admin-switched:srcBinlogFormatCheck"],
                                     "connection_fail": [":9999"], "precheck_duration": 0}, timeout=10)
    assert reply.status_code == 200 and reply.json()["precheck_fail"] == ["admin-switched:srcBinlogFormatCheck"]
    connect_both(api, task_id, created)
    api.precheck(task_id)
    result = api.precheck_result(task_id).json()["results"][0]
    assert result["result"] is False
    bad = requests.post(url, json={"connection_fail": ["host:notaport"]}, timeout=10)
    assert bad.status_code == 400 and "connection_fail" in bad.json()["error"]
    assert requests.post(url, json={"start_refuse": ["no spaces allowed"]}, timeout=10).status_code == 400


def test_cli_flags_cover_the_launch_switches() -> None:
    options = {o.name: o for o in cli_options()}
    for name in ("connection_fail", "precheck_fail", "precheck_alarm", "start_refuse", "start_fail", "transfer_fail"):
        assert options[name].kind == "multiple" and options[name].flag == "--" + name.replace("_", "-")
    for name in ("precheck_duration", "start_delay", "full_duration"):
        assert options[name].kind == "float"
    config = faults_from_options({"connection_fail": ("10.0.0.1", ":5432"), "precheck_fail": ("wave-1:dstDbDiskSize",),
                                  "precheck_duration": 3.0, "start_refuse": ()})
    assert config.connection_fail == ["10.0.0.1", ":5432"] and config.precheck_duration == 3.0
    with pytest.raises(ValueError, match="precheck_fail"):
        faults_from_options({"precheck_fail": ("two words",)})


def test_passwords_never_stored_or_logged(tmp_path: Path, clock: Clock) -> None:
    state = tmp_path / "state.sqlite"
    with Simulator(token=TOKEN, faults=FaultConfig(transition_delay=0, precheck_duration=0), clock=clock,
                   state_path=state) as sim:
        api = Api(sim)
        created = job("secret-keeper")
        (task_id,) = api.create(created)
        connect_both(api, task_id, created)
        api.connect(endpoint_item(task_id, created, "so", db_password="a-wrong-guess"))
        logged = [e["body"] for e in sim.requests() if e["endpoint"] == "connect"]
        assert logged and all(item["db_password"] == "***" for body in logged for item in body["jobs"])
    sim.close()
    raw = b"".join(p.read_bytes() for p in tmp_path.iterdir())
    for secret in (SOURCE_PASSWORD, TARGET_PASSWORD, "a-wrong-guess"):
        assert secret.encode() not in raw
    with Simulator(token=TOKEN, faults=FaultConfig(transition_delay=0), clock=clock, state_path=state) as again:
        # the digest kept from creation still tells right from wrong after a restart
        result = Api(again).connect(endpoint_item(task_id, created, "so")).json()["results"][0]
        assert result["success"] is True
        assert again.tasks()[0]["launch"]["conn"]["so"]["ok"] is True
    again.close()


def test_state_files_from_before_the_launch_calls_still_open(tmp_path: Path, clock: Clock) -> None:
    state = tmp_path / "old.sqlite"
    with Simulator(token=TOKEN, faults=FaultConfig(transition_delay=0), clock=clock, state_path=state) as sim:
        (task_id,) = Api(sim).create(job("old-file"))
    sim.close()
    with sqlite3.connect(state) as conn:  # make it look like a file written before the launch column
        conn.execute("ALTER TABLE tasks DROP COLUMN launch")
    with Simulator(token=TOKEN, faults=FaultConfig(transition_delay=0), clock=clock, state_path=state) as sim:
        assert Api(sim).status(task_id) == "CONFIGURATION"
        assert sim.tasks()[0]["launch"] == {}
    sim.close()


def test_bad_launch_flag_is_a_usage_error_not_a_traceback() -> None:
    import subprocess
    import sys

    proc = subprocess.run([sys.executable, "-m", "bulkimport", "simulator", "--port", "0",
                           "--connection-fail", "db.example:99999"], capture_output=True, text=True, timeout=30)
    assert proc.returncode == 2
    assert "--connection-fail" in proc.stderr and "Traceback" not in proc.stderr  # named as typed
