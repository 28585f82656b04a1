"""The official SDK as referee for the launch calls: its request models build every body, it sends
them to the simulator over real HTTP with AK/SK signatures, and its response models parse the replies.

Two more checks close the gaps a round trip leaves open. The SDK drops unknown reply keys
silently, so every key the simulator answers must be in the SDK model's ``attribute_map``.
And the simulator's own schema of each request item must name exactly the keys of the
SDK's request model.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import requests

pytest.importorskip("huaweicloudsdkdrs")

from huaweicloudsdkcore.auth.credentials import BasicCredentials
from huaweicloudsdkdrs.v3 import (
    BatchCheckJobsRequest,
    BatchCheckJobsResponse,
    BatchCheckResultsRequest,
    BatchCheckResultsResponse,
    BatchListProgressesRequest,
    BatchListProgressesResponse,
    BatchPrecheckReq,
    BatchQueryPrecheckResultReq,
    BatchQueryProgressReq,
    BatchSetObjectsRequest,
    BatchSetObjectsResponse,
    BatchStartJobReq,
    BatchStartJobsRequest,
    BatchStartJobsResponse,
    BatchTestConnectionReq,
    BatchUpdateDatabaseObjectReq,
    BatchValidateConnectionsRequest,
    BatchValidateConnectionsResponse,
    DatabaseInfo,
    DrsClient,
    PreCheckInfo,
    StartInfo,
    UpdateDatabaseObjectReq,
)
from huaweicloudsdkdrs.v3 import (
    TestEndPoint as SdkTestEndPoint,
)

from bulkimport.simulator import FaultConfig, Simulator
from bulkimport.simulator.testing import (
    PROJECT_ID,
    alarm_precheck,
    endpoint_item,
    fast_launch_faults,
    make_job,
)
from bulkimport.simulator.wire_schema import launch_field_names

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

AK, SK = "LAUNCH-SDK-AK", "launch-sdk-secret"
TOKEN = "launch-sdk-token"
JOBS = f"/v3/{PROJECT_ID}/jobs"


@pytest.fixture
def sim() -> Iterator[Simulator]:
    faults = FaultConfig(**fast_launch_faults(full_duration=600))
    with Simulator(token=TOKEN, faults=faults, access_keys={AK: SK}) as running:
        yield running


@pytest.fixture
def client(sim: Simulator) -> DrsClient:
    return (DrsClient.new_builder()
            .with_credentials(BasicCredentials(ak=AK, sk=SK, project_id=PROJECT_ID))
            .with_endpoints([sim.base_url])
            .build())


def created_task(sim: Simulator, name: str, **overrides: Any) -> tuple[str, dict[str, Any]]:
    job = make_job(name, **overrides)
    job["source_endpoint"].update(ip="10.3.0.7", db_port=3306, db_user="repl", db_password="sdk-src-pw")
    reply = requests.post(sim.base_url + JOBS + "/batch-creation", json={"jobs": [job]},
                          headers={"X-Auth-Token": TOKEN}, timeout=10)
    return str(reply.json()["results"][0]["id"]), job


def known_keys(value: Any, model: type) -> list[str]:
    """Reply keys (dotted paths) that the SDK model does not declare, recursively."""
    unknown = []
    json_to_attr = {json_key: attr for attr, json_key in model.attribute_map.items()}
    for key, item in value.items():
        attr = json_to_attr.get(key)
        if attr is None:
            unknown.append(key)
            continue
        declared = model.openapi_types[attr]
        inner = declared[5:-1] if declared.startswith("list[") else declared
        if inner.startswith("dict("):
            inner = inner.split(",", 1)[1].strip()[:-1]
            values = list(item.values()) if isinstance(item, dict) else []
        else:
            values = item if isinstance(item, list) else [item]
        cls = getattr(__import__("huaweicloudsdkdrs.v3", fromlist=[inner]), inner, None)
        if cls is not None and hasattr(cls, "attribute_map"):
            for sub in values:
                if isinstance(sub, dict):
                    unknown += [f"{key}.{k}" for k in known_keys(sub, cls)]
    return unknown


def raw_reply(sim: Simulator, method: str, path: str, body: Any) -> dict[str, Any]:
    reply = requests.request(method, sim.base_url + JOBS + path, json=body, headers={"X-Auth-Token": TOKEN},
                             timeout=10)
    result: dict[str, Any] = reply.json()
    return result


def test_sdk_drives_the_whole_launch(sim: Simulator, client: DrsClient) -> None:
    task_id, job = created_task(sim, "sdk-launch")
    alarm_precheck(sim, "sdk-launch", "srcBinlogFormatCheck")

    endpoints = [SdkTestEndPoint(**endpoint_item(task_id, job, side)) for side in ("so", "ta")]
    connected = client.batch_validate_connections(
        BatchValidateConnectionsRequest(x_language="en-us", body=BatchTestConnectionReq(jobs=endpoints)))
    assert connected.status_code == 200 and connected.count == 2
    assert [(r.id, r.success, r.status) for r in connected.results] == [(task_id, True, "success")] * 2
    assert sim.requests()[-1]["body"]["jobs"][0]["db_password"] == "***"

    objects = [DatabaseInfo(id="shop", object_type="database", object_name="shop", select="partial"),
               DatabaseInfo(id="shop-*-*-orders", parent_id="shop", object_type="table", object_name="orders",
                            select="true")]
    selected = client.batch_set_objects(BatchSetObjectsRequest(body=BatchUpdateDatabaseObjectReq(
        jobs=[UpdateDatabaseObjectReq(job_id=task_id, selected=True, job=objects)])))
    assert selected.status_code == 202 and selected.all_counts == 1
    assert (selected.results[0].job_id, selected.results[0].status) == (task_id, True)
    assert sim.requests()[-1]["method"] == "PUT"
    assert sim.tasks()[0]["launch"]["objects"]["job"][1] == {
        "id": "shop-*-*-orders", "parent_id": "shop", "object_type": "table", "object_name": "orders",
        "select": "true"}

    checked = client.batch_check_jobs(BatchCheckJobsRequest(body=BatchPrecheckReq(
        jobs=[PreCheckInfo(job_id=task_id, precheck_mode="forStartJob")])))
    assert checked.status_code == 200
    assert (checked.results[0].id, checked.results[0].precheck_id, checked.results[0].status) == (
        task_id, task_id, "success")

    result = client.batch_check_results(BatchCheckResultsRequest(body=BatchQueryPrecheckResultReq(jobs=[task_id])))
    (verdict,) = result.results
    assert verdict.precheck_id == task_id and verdict.process == "100%" and verdict.result is True
    assert verdict.total_passed_rate == "100%" and verdict.job_direction == "up"
    alarms = [i for i in verdict.precheck_result if i.result == "ALARM"]
    assert [(a.item, a.group) for a in alarms] == [("srcBinlogFormatCheck", "db_params")]
    assert alarms[0].failed_reason

    started = client.batch_start_jobs(BatchStartJobsRequest(body=BatchStartJobReq(jobs=[StartInfo(job_id=task_id)])))
    assert started.status_code == 202
    assert (started.results[0].id, started.results[0].status) == (task_id, "success")

    progress = client.batch_list_progresses(BatchListProgressesRequest(body=BatchQueryProgressReq(jobs=[task_id])))
    assert progress.status_code == 202 and progress.count == 1
    (item,) = progress.results
    assert item.job_id == task_id and item.task_mode == "FULL_INCR_TRANS"
    assert item.transfer_status == "FULL_TRANSFER_STARTED" and item.progress.isdigit()
    assert item.incre_trans_delay == "-1" and item.remaining_time.isdigit()
    assert item.progress_map["data"].completed.endswith("%")


def test_sdk_sees_failed_items(sim: Simulator, client: DrsClient) -> None:
    task_id, job = created_task(sim, "sdk-failures")
    wrong = SdkTestEndPoint(**endpoint_item(task_id, job, "so", db_password="wrong"))
    connected = client.batch_validate_connections(
        BatchValidateConnectionsRequest(body=BatchTestConnectionReq(jobs=[wrong])))
    assert (connected.results[0].success, connected.results[0].error_code) == (False, "DRS.KE0002")
    started = client.batch_start_jobs(BatchStartJobsRequest(body=BatchStartJobReq(
        jobs=[StartInfo(job_id=task_id, start_time="1608188903063")])))
    assert (started.results[0].status, started.results[0].error_code) == ("failed", "DRS.M00300")
    result = client.batch_check_results(BatchCheckResultsRequest(body=BatchQueryPrecheckResultReq(
        jobs=[task_id, "missing-task"])))
    assert [r.error_code for r in result.results] == ["DRS.M00304", "DRS.M00289"]


def test_every_reply_key_is_known_to_the_sdk(sim: Simulator) -> None:
    task_id, job = created_task(sim, "sdk-keys")
    alarm_precheck(sim, "sdk-keys")
    replies = [
        (BatchValidateConnectionsResponse, raw_reply(sim, "POST", "/batch-connection", {"jobs": [
            endpoint_item(task_id, job, "so"), endpoint_item(task_id, job, "ta"),
            endpoint_item("missing-task", job, "so")]})),
        (BatchSetObjectsResponse, raw_reply(sim, "PUT", "/batch-select-objects", {"jobs": [
            {"job_id": task_id, "selected": False}, {"job_id": "missing-task"}]})),
        (BatchCheckJobsResponse, raw_reply(sim, "POST", "/batch-precheck", {"jobs": [
            {"job_id": task_id, "precheck_mode": "forStartJob"}, {"job_id": "missing-task",
                                                                  "precheck_mode": "forStartJob"}]})),
        (BatchCheckResultsResponse, raw_reply(sim, "POST", "/batch-precheck-result", {"jobs": [
            task_id, "missing-task"]})),
        (BatchStartJobsResponse, raw_reply(sim, "POST", "/batch-starting", {"jobs": [
            {"job_id": task_id}, {"job_id": "missing-task"}]})),
        (BatchListProgressesResponse, raw_reply(sim, "POST", "/batch-progress", {"jobs": [
            task_id, "missing-task"]})),
    ]
    for model, reply in replies:
        assert known_keys(reply, model) == [], model.__name__
    assert any(r.get("result") == "ALARM" for r in replies[3][1]["results"][0]["precheck_result"])
    assert "progress_map" in replies[5][1]["results"][0]


@pytest.mark.parametrize("definition", ["TestEndPoint", "UpdateDatabaseObjectReq", "DatabaseInfo", "PreCheckInfo",
                                        "StartInfo"])
def test_schema_items_name_the_sdk_keys(definition: str) -> None:
    import huaweicloudsdkdrs.v3 as sdk

    model = getattr(sdk, definition)
    assert launch_field_names()[definition] == set(model.attribute_map.values())


@pytest.mark.parametrize(("model", "path"), [
    (BatchTestConnectionReq, "/batch-connection"), (BatchUpdateDatabaseObjectReq, "/batch-select-objects"),
    (BatchPrecheckReq, "/batch-precheck"), (BatchQueryPrecheckResultReq, "/batch-precheck-result"),
    (BatchStartJobReq, "/batch-starting"), (BatchQueryProgressReq, "/batch-progress"),
])
def test_sdk_urls_match_the_simulators_routes(model: type, path: str) -> None:
    """Each body model goes to the URL the simulator serves (read from the SDK's own request info)."""
    import huaweicloudsdkdrs.v3.drs_client as drs_client

    methods = {"/batch-connection": ("_batch_validate_connections_http_info", "POST"),
               "/batch-select-objects": ("_batch_set_objects_http_info", "PUT"),
               "/batch-precheck": ("_batch_check_jobs_http_info", "POST"),
               "/batch-precheck-result": ("_batch_check_results_http_info", "POST"),
               "/batch-starting": ("_batch_start_jobs_http_info", "POST"),
               "/batch-progress": ("_batch_list_progresses_http_info", "POST")}
    name, method = methods[path]
    request_class = {BatchTestConnectionReq: "BatchValidateConnectionsRequest",
                     BatchUpdateDatabaseObjectReq: "BatchSetObjectsRequest",
                     BatchPrecheckReq: "BatchCheckJobsRequest", BatchQueryPrecheckResultReq: "BatchCheckResultsRequest",
                     BatchStartJobReq: "BatchStartJobsRequest", BatchQueryProgressReq: "BatchListProgressesRequest"}
    import huaweicloudsdkdrs.v3 as sdk

    info = getattr(drs_client.DrsClient, name)(getattr(sdk, request_class[model])(body=model(jobs=[])))
    assert info["resource_path"] == "/v3/{project_id}/jobs" + path
    assert info["method"] == method
