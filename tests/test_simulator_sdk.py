"""The official Huawei Cloud SDK as a third-party client of the simulator, over real HTTP.

If the SDK's AK/SK signatures, request bodies and response parsing all work against the
simulator, the simulator speaks the same wire format and signing algorithm as the SDK.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

pytest.importorskip("huaweicloudsdkdrs")

from fixtures.sdk import to_sdk_job
from huaweicloudsdkcore.auth.credentials import BasicCredentials
from huaweicloudsdkcore.exceptions.exceptions import ClientRequestException
from huaweicloudsdkcore.http.http_handler import HttpHandler
from huaweicloudsdkdrs.v3 import (
    BatchCreateJobReq,
    BatchCreateJobsRequest,
    BatchDeleteJobReq,
    BatchDeleteJobsRequest,
    BatchListJobDetailsRequest,
    BatchListJobStatusRequest,
    BatchQueryJobReqPage,
    DeleteJobReq,
    DrsClient,
    PageReq,
    QueryJobsReq,
    ShowJobListRequest,
)

from bulkimport.simulator import FaultConfig, Simulator
from bulkimport.simulator.testing import API_PAGE_EXAMPLES, PROJECT_ID, example_body, make_job

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

AK, SK = "SDK-TEST-AK", "sdk-test-secret"
TOKEN = "sdk-test-token"


@pytest.fixture
def sim() -> Iterator[Simulator]:
    with Simulator(token=TOKEN, faults=FaultConfig(transition_delay=0), access_keys={AK: SK}) as running:
        yield running


def sdk_client(sim: Simulator, ak: str = AK, sk: str = SK, handler: HttpHandler | None = None) -> DrsClient:
    builder = (DrsClient.new_builder()
               .with_credentials(BasicCredentials(ak=ak, sk=sk, project_id=PROJECT_ID))
               .with_endpoints([sim.base_url]))
    if handler is not None:
        builder = builder.with_http_handler(handler)
    return builder.build()


def create_request(*jobs: dict[str, Any]) -> BatchCreateJobsRequest:
    return BatchCreateJobsRequest(x_language="en-us", body=BatchCreateJobReq(jobs=[to_sdk_job(j) for j in jobs]))


@pytest.mark.parametrize("key", sorted(API_PAGE_EXAMPLES))
def test_sdk_creates_each_api_page_example_with_aksk(sim: Simulator, key: str) -> None:
    job = example_body(key)["jobs"][0]
    response = sdk_client(sim).batch_create_jobs(create_request(job))
    assert response.status_code == 202
    assert response.count == 1
    (result,) = response.results
    assert result.name == job["name"]
    assert result.status == "CREATING"
    assert result.id and result.create_time.isdigit()
    entry = sim.requests()[-1]
    assert entry["auth"] == "aksk" and entry["status"] == 202
    assert entry["path"] == f"/v3/{PROJECT_ID}/jobs/batch-creation"
    assert entry["body"] == {"jobs": [job]}  # the SDK's serialization is exactly the page's JSON


def test_sdk_wrong_secret_key_is_401(sim: Simulator) -> None:
    with pytest.raises(ClientRequestException) as caught:
        sdk_client(sim, sk="not-the-secret").batch_create_jobs(create_request(make_job("never-made")))
    assert caught.value.status_code == 401
    assert caught.value.error_code == "DRS.M00100"
    assert sim.tasks() == []


def test_sdk_sees_the_servers_validation_error(sim: Simulator) -> None:
    job = make_job("bad-port")
    job["target_endpoint"]["db_port"] = "3306"  # the SDK does not validate types
    with pytest.raises(ClientRequestException) as caught:
        sdk_client(sim).batch_create_jobs(create_request(job))
    assert caught.value.status_code == 400
    assert caught.value.error_code == "DRS.M00202"
    assert "target_endpoint.db_port" in caught.value.error_msg


def test_sdk_deserializes_failed_items(sim: Simulator) -> None:
    client = sdk_client(sim)
    client.batch_create_jobs(create_request(make_job("taken-name")))
    response = client.batch_create_jobs(create_request(make_job("TAKEN-NAME"), make_job("free-name")))
    by_name = {r.name: r for r in response.results}
    assert by_name["TAKEN-NAME"].error_code == "DRS.M00277" and by_name["TAKEN-NAME"].id is None
    assert by_name["free-name"].status == "CREATING"


def test_sdk_with_token_auth(sim: Simulator) -> None:
    def use_token(request: Any, logger: Any, **_: Any) -> None:
        for header in ("Authorization", "X-Sdk-Date", "X-Project-Id"):
            request.header_params.pop(header, None)
        request.header_params["X-Auth-Token"] = TOKEN

    client = sdk_client(sim, ak="dummy", sk="dummy", handler=HttpHandler().add_request_handler(use_token))
    response = client.batch_create_jobs(create_request(make_job("token-job")))
    assert response.status_code == 202
    assert sim.requests()[-1]["auth"] == "token"


def test_sdk_companion_calls(sim: Simulator) -> None:
    client = sdk_client(sim)
    created = client.batch_create_jobs(create_request(make_job("companion-1"), make_job("companion-2")))
    ids = [r.id for r in created.results]

    query = BatchQueryJobReqPage(jobs=ids, page_req=PageReq(cur_page=1, per_page=10))
    status = client.batch_list_job_status(BatchListJobStatusRequest(body=query))
    assert status.count == 2 and {r.status for r in status.results} == {"CONFIGURATION"}

    details = client.batch_list_job_details(BatchListJobDetailsRequest(body=query))
    assert {d.name for d in details.results} == {"companion-1", "companion-2"}

    listing = client.show_job_list(ShowJobListRequest(body=QueryJobsReq(cur_page=1, per_page=10,
                                                                        db_use_type="migration", name="companion")))
    assert listing.total_record == 2 and {j.name for j in listing.jobs} == {"companion-1", "companion-2"}

    stop = client.batch_delete_jobs(BatchDeleteJobsRequest(body=BatchDeleteJobReq(
        jobs=[DeleteJobReq(delete_type="force_terminate", job_id=i) for i in ids])))
    assert stop.status_code == 202 and {r.status for r in stop.results} == {"success"}
    delete = client.batch_delete_jobs(BatchDeleteJobsRequest(body=BatchDeleteJobReq(
        jobs=[DeleteJobReq(delete_type="delete", job_id=i) for i in ids])))
    assert {r.status for r in delete.results} == {"success"}
    assert all(t["deleted"] for t in sim.tasks())
