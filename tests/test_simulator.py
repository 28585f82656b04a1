"""The simulator over real HTTP on 127.0.0.1: every endpoint, fault, auth mode and admin view."""

from __future__ import annotations

import hashlib
import hmac
import re
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import requests
from fixtures.clock import ManualClock

from bulkimport.simulator import FaultConfig, Simulator, cli_options, faults_from_options
from bulkimport.simulator.testing import API_PAGE_EXAMPLES, PROJECT_ID, example_body, make_job

TOKEN = "test-token"
AK, SK = "TESTAK", "test-secret-key"
CREATE = f"/v3/{PROJECT_ID}/jobs/batch-creation"


class Api:
    """A tiny token-auth client for the tests (the tool's own client is tested elsewhere)."""

    def __init__(self, sim: Simulator, token: str | None = TOKEN) -> None:
        self.sim = sim
        self.base = sim.base_url
        self.session = requests.Session()
        self.token = token

    def call(self, method: str, path: str, body: Any = None, token: str | None = "default",
             **kwargs: Any) -> requests.Response:
        headers = dict(kwargs.pop("headers", {}))
        use = self.token if token == "default" else token
        if use is not None:
            headers["X-Auth-Token"] = use
        return self.session.request(method, self.base + path, json=body, headers=headers, timeout=10, **kwargs)

    def create(self, *jobs: dict[str, Any], **kwargs: Any) -> requests.Response:
        return self.call("POST", CREATE, {"jobs": list(jobs)}, **kwargs)

    def status(self, ids: list[str], page: dict[str, int] | None = None) -> requests.Response:
        body: dict[str, Any] = {"jobs": ids}
        if page is not None:
            body["page_req"] = page
        return self.call("POST", f"/v3/{PROJECT_ID}/jobs/batch-status", body)

    def detail(self, ids: list[str]) -> requests.Response:
        return self.call("POST", f"/v3/{PROJECT_ID}/jobs/batch-detail", {"jobs": ids, "page_req": {"per_page": 0}})

    def list(self, **body: Any) -> requests.Response:
        return self.call("POST", f"/v3/{PROJECT_ID}/jobs", body)

    def delete(self, *items: tuple[str, str]) -> requests.Response:
        jobs = [{"delete_type": kind, "job_id": job_id} for kind, job_id in items]
        return self.call("DELETE", f"/v3/{PROJECT_ID}/jobs/batch-jobs", {"jobs": jobs})

    def admin(self, method: str, path: str, body: Any = None) -> Any:
        response = self.session.request(method, self.base + "/_admin/" + path, json=body, timeout=10)
        return response.status_code, response.json()


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def sim(clock: ManualClock) -> Iterator[Simulator]:
    """Time on this simulator moves only when a test advances `clock`."""
    with Simulator(token=TOKEN, faults=FaultConfig(transition_delay=0), access_keys={AK: SK},
                   clock=clock) as running:
        yield running


@pytest.fixture
def api(sim: Simulator) -> Api:
    return Api(sim)


def created_id(response: requests.Response, index: int = 0) -> str:
    assert response.status_code == 202, response.text
    return str(response.json()["results"][index]["id"])


# -- batch creation -------------------------------------------------------------------------------


@pytest.mark.parametrize("key", sorted(API_PAGE_EXAMPLES))
def test_each_api_page_example_is_accepted(api: Api, key: str) -> None:
    prefix = "/drs" if key == "mysql-primary-standby" else ""  # the page's 4th example uses /drs/v3/...
    response = api.call("POST", prefix + CREATE, example_body(key))
    assert response.status_code == 202, response.text
    body = response.json()
    assert body["count"] == 1
    (item,) = body["results"]
    assert item["name"] == example_body(key)["jobs"][0]["name"]
    assert item["status"] == "CREATING"
    assert re.fullmatch(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{8}jb01", item["id"])
    assert item["create_time"].isdigit() and abs(int(item["create_time"]) / 1000 - time.time()) < 60


def test_ten_jobs_created_in_one_request(api: Api, sim: Simulator) -> None:
    response = api.create(*[make_job(f"job-{i:02d}") for i in range(10)])
    assert response.status_code == 202
    assert response.json()["count"] == 10
    assert len({r["id"] for r in response.json()["results"]}) == 10
    assert len(sim.tasks(PROJECT_ID)) == 10


@pytest.mark.parametrize(("raw", "code"), [
    (b"{not json", "DRS.M00007"),
    (b'{"jobs": [1, NaN]}', "DRS.M00007"),
    (b"{}", "DRS.M00201"),
    (b'{"jobs": []}', "DRS.M00201"),
    (b'{"jobs": {}}', "DRS.M00200"),
])
def test_bad_request_bodies(api: Api, sim: Simulator, raw: bytes, code: str) -> None:
    response = api.call("POST", CREATE, data=raw, headers={"Content-Type": "application/json"})
    assert response.status_code == 400
    assert response.json()["error_code"] == code
    assert sim.tasks() == []


def test_eleven_jobs_rejected_whole(api: Api, sim: Simulator) -> None:
    response = api.create(*[make_job(f"job-{i:02d}") for i in range(11)])
    assert response.status_code == 400
    assert response.json()["error_code"] == "DRS.M00200"
    assert "10" in response.json()["error_msg"]
    assert sim.tasks() == []


@pytest.mark.parametrize(("overrides", "field"), [
    ({"bind_eip": "true"}, "bind_eip"),
    ({"target_endpoint": {"region": "eu-de", "db_type": "mysql", "inst_id": "x", "db_port": "3306"}},
     "target_endpoint.db_port"),
    ({"expired_days": 30}, "expired_days"),
    ({"unknown_key": "x"}, "unknown_key"),
])
def test_mutated_bodies_rejected_over_http(api: Api, sim: Simulator, overrides: dict[str, Any], field: str) -> None:
    response = api.create(make_job("good-job"), make_job("bad-job", **overrides))
    assert response.status_code == 400
    body = response.json()
    assert body["error_code"] == "DRS.M00202"
    assert "'bad-job'" in body["error_msg"] and field in body["error_msg"]
    assert {(e["name"], e["field"]) for e in body["errors"]} >= {("bad-job", field)}
    assert sim.tasks() == []  # the valid job in the same request is not created either


def test_missing_mandatory_field_is_m00201(api: Api) -> None:
    response = api.create(make_job("no-subnet", customize_sutnet_id=None))
    assert response.status_code == 400
    assert response.json()["error_code"] == "DRS.M00201"
    assert "customize_sutnet_id" in response.json()["error_msg"]


def test_invalid_job_as_item(api: Api, sim: Simulator) -> None:
    sim.set_faults(invalid_job_mode="item")
    response = api.create(make_job("good-job"), make_job("bad-job", bind_eip="true"))
    assert response.status_code == 202
    good, bad = response.json()["results"]
    assert good["status"] == "CREATING" and good["id"]
    assert bad["name"] == "bad-job" and bad["error_code"] == "DRS.M00202" and "bind_eip" in bad["error_msg"]
    assert "id" not in bad
    assert [t["name"] for t in sim.tasks()] == ["good-job"]


def test_duplicate_names_fail_as_items(api: Api, sim: Simulator) -> None:
    created_id(api.create(make_job("Existing-Task")))
    response = api.create(make_job("existing-task"), make_job("new-task"), make_job("NEW-TASK"))
    assert response.status_code == 202
    results = {r["name"]: r for r in response.json()["results"]}
    for name in ("existing-task", "NEW-TASK"):
        assert results[name]["error_code"] == "DRS.M00277"
        assert results[name]["error_msg"] == "The task name already exists."
        assert "id" not in results[name]
    assert results["new-task"]["status"] == "CREATING"
    assert sorted(t["name"] for t in sim.tasks()) == ["Existing-Task", "new-task"]


def test_duplicate_name_as_whole_request(api: Api, sim: Simulator) -> None:
    sim.set_faults(duplicate_name_mode="request")
    created_id(api.create(make_job("taken")))
    response = api.create(make_job("fresh"), make_job("TAKEN"))
    assert response.status_code == 422
    assert response.json() == {"error_code": "DRS.M00277", "error_msg": "The task name already exists."}
    assert [t["name"] for t in sim.tasks()] == ["taken"]


def test_names_are_per_project(api: Api) -> None:
    created_id(api.create(make_job("same-name")))
    other = api.call("POST", "/v3/otherproject/jobs/batch-creation", {"jobs": [make_job("same-name")]})
    assert other.status_code == 202 and other.json()["results"][0]["status"] == "CREATING"


def test_shuffled_results_match_by_name(api: Api, sim: Simulator) -> None:
    sim.set_faults(shuffle_results=True)
    names = [f"job-{i:02d}" for i in range(10)]
    response = api.create(*[make_job(n) for n in names])
    returned = [r["name"] for r in response.json()["results"]]
    assert sorted(returned) == names
    assert returned != names


def test_content_type_must_be_json(api: Api, sim: Simulator) -> None:
    response = api.call("POST", CREATE, data=b'{"jobs": []}', headers={"Content-Type": "text/plain"})
    assert response.status_code == 400
    assert response.json()["error_code"] == "DRS.M00200"


def test_unknown_paths_and_methods(api: Api) -> None:
    assert api.call("POST", f"/v3/{PROJECT_ID}/jobs/batch-nothing", {}).status_code == 404
    assert api.call("GET", CREATE).status_code == 405
    assert api.call("GET", "/elsewhere").status_code == 404


# -- lifecycle, list, status, detail, delete ---------------------------------------------------------


def test_creating_then_configuration(api: Api, sim: Simulator, clock: ManualClock) -> None:
    sim.set_faults(transition_delay=0.2)
    task_id = created_id(api.create(make_job("slow-task")))
    assert api.status([task_id]).json()["results"][0]["status"] == "CREATING"
    clock.advance(0.19)
    assert api.status([task_id]).json()["results"][0]["status"] == "CREATING"
    clock.advance(0.02)
    assert api.status([task_id]).json()["results"][0] == {"id": task_id, "status": "CONFIGURATION"}


def test_create_failure_rate(api: Api, sim: Simulator) -> None:
    sim.set_faults(create_failure_rate=1.0)
    task_id = created_id(api.create(make_job("doomed")))
    item = api.status([task_id]).json()["results"][0]
    assert item["status"] == "CREATE_FAILED"
    assert item["error_code"] == "DRS.M05066" and item["error_message"]
    detail = api.detail([task_id]).json()["results"][0]
    assert detail["status"] == "CREATE_FAILED" and detail["error_code"] == "DRS.M05066"
    listed = api.list(db_use_type="migration").json()["jobs"][0]
    assert listed["status"] == "CREATE_FAILED" and listed["error_msg"]


def test_list_requires_db_use_type(api: Api) -> None:
    response = api.list(cur_page=1, per_page=10)
    assert response.status_code == 400
    assert response.json()["error_code"] == "DRS.M00201"
    assert api.list(db_use_type="nonsense").json()["error_code"] == "DRS.M00202"


def test_list_filters_and_pages(api: Api) -> None:
    api.create(*[make_job(f"Alpha-{i}") for i in range(3)], make_job("beta-1"))
    api.create(example_body("mysql-primary-standby")["jobs"][0])  # a sync task
    everything = api.list(db_use_type="migration", cur_page=1, per_page=10).json()
    assert everything["total_record"] == 4
    job = everything["jobs"][0]
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d", job["create_time"])
    assert {"id", "name", "status", "engine_type", "net_type", "job_direction", "db_use_type", "task_type",
            "description"} <= set(job)
    by_name = api.list(db_use_type="migration", name="alpha").json()
    assert sorted(j["name"] for j in by_name["jobs"]) == ["Alpha-0", "Alpha-1", "Alpha-2"]
    exact = api.list(db_use_type="migration", name="BETA-1").json()
    assert [j["name"] for j in exact["jobs"]] == ["beta-1"]
    by_id = api.list(db_use_type="migration", name=job["id"]).json()
    assert [j["id"] for j in by_id["jobs"]] == [job["id"]]
    page2 = api.list(db_use_type="migration", cur_page=2, per_page=3).json()
    assert page2["total_record"] == 4 and len(page2["jobs"]) == 1
    assert api.list(db_use_type="migration", per_page=0).json()["total_record"] == 4
    assert len(api.list(db_use_type="migration", per_page=0).json()["jobs"]) == 4
    assert [j["name"] for j in api.list(db_use_type="sync").json()["jobs"]] == ["DRS-linxiaolu-test3"]
    bad = api.list(db_use_type="migration", per_page=101)
    assert bad.status_code == 400 and bad.json()["error_code"] == "DRS.M00210"


def test_batch_status_paging_and_unknown_ids(api: Api) -> None:
    ids = [created_id(api.create(make_job(f"task-{i}"))) for i in range(6)]
    default_page = api.status([*ids, "no-such-id"]).json()
    assert default_page["count"] == 7 and len(default_page["results"]) == 5  # documented default per_page 5
    last = api.status([*ids, "no-such-id"], {"cur_page": 2, "per_page": 5}).json()["results"]
    assert [r["id"] for r in last] == [ids[5], "no-such-id"]
    assert last[1]["error_code"] == "DRS.M00289" and last[1]["error_message"]
    assert "status" not in last[1]
    assert len(api.status(ids, {"cur_page": 1, "per_page": 0}).json()["results"]) == 6
    assert api.status([]).json()["error_code"] == "DRS.M00201"
    assert api.status(ids, {"cur_page": 0, "per_page": 5}).json()["error_code"] == "DRS.M00210"


def test_batch_detail_never_echoes_secrets(api: Api) -> None:
    job = make_job("with-secrets")
    job["source_endpoint"].update(db_password="pw-1", ssl_cert_password="pw-2", ssl_cert_key="a2V5",
                                  db_user="root", ip="10.0.0.1", db_port=3306)
    task_id = created_id(api.create(job))
    response = api.detail([task_id])
    assert response.status_code == 200
    detail = response.json()["results"][0]
    assert detail["source_endpoint"] == {"db_type": "mysql", "db_user": "root", "ip": "10.0.0.1", "db_port": 3306}
    assert detail["target_endpoint"]["inst_id"] == job["target_endpoint"]["inst_id"]
    for key in ("id", "name", "status", "create_time", "task_type", "job_direction", "db_use_type", "engine_type"):
        assert key in detail
    assert "pw-1" not in response.text and "pw-2" not in response.text and "a2V5" not in response.text


def test_batch_detail_of_missing_task_is_400_with_nested_error(api: Api) -> None:
    response = api.detail(["no-such-id"])
    assert response.status_code == 400
    assert response.json()["results"][0]["error_code"] == "DRS.M00289"


def test_delete_rules(api: Api, sim: Simulator) -> None:
    task_id = created_id(api.create(make_job("to-delete")))
    refused = api.delete(("delete", task_id)).json()["results"][0]
    assert refused == {"id": task_id, "status": "failed", "error_code": "DRS.M00304",
                       "error_msg": "The API cannot be called in the current task status."}
    response = api.delete(("force_terminate", task_id))
    assert response.status_code == 202
    assert response.json() == {"count": 1, "results": [{"id": task_id, "status": "success"}]}
    assert api.status([task_id]).json()["results"][0]["status"] == "RELEASE_RESOURCE_COMPLETE"
    assert api.delete(("delete", task_id)).json()["results"][0]["status"] == "success"
    gone = api.status([task_id]).json()["results"][0]
    assert gone["status"] == "DELETED" and gone["error_code"] == "DRS.M05004"
    assert api.list(db_use_type="migration").json()["total_record"] == 0
    assert sim.tasks()[0]["deleted"] is True
    again = api.delete(("delete", task_id), ("delete", "no-such-id")).json()["results"]
    assert [r["error_code"] for r in again] == ["DRS.M05004", "DRS.M05003"]
    assert created_id(api.create(make_job("TO-DELETE")))  # a deleted task's name is free again


def test_terminate_waits_for_creation_and_release_takes_time(api: Api, sim: Simulator, clock: ManualClock) -> None:
    sim.set_faults(transition_delay=0.15)
    task_id = created_id(api.create(make_job("stop-me")))
    assert api.delete(("terminate", task_id)).json()["results"][0]["error_code"] == "DRS.M01504"
    assert api.delete(("force_terminate", task_id)).json()["results"][0]["status"] == "success"
    assert api.status([task_id]).json()["results"][0]["status"] == "RELEASE_RESOURCE_STARTED"
    assert api.delete(("delete", task_id)).json()["results"][0]["error_code"] == "DRS.M00304"
    clock.advance(0.2)
    assert api.status([task_id]).json()["results"][0]["status"] == "RELEASE_RESOURCE_COMPLETE"


def test_create_failed_task_can_be_deleted(api: Api, sim: Simulator) -> None:
    sim.set_faults(next=["create_failure"])
    task_id = created_id(api.create(make_job("failed-one")))
    assert api.delete(("delete", task_id)).json()["results"][0]["status"] == "success"


def test_bad_delete_type(api: Api) -> None:
    task_id = created_id(api.create(make_job("some-task")))
    result = api.delete(("roll_back", task_id)).json()["results"][0]
    assert result["status"] == "failed" and result["error_code"] == "DRS.M00202"


# -- authentication --------------------------------------------------------------------------------


def test_missing_and_wrong_token(api: Api, sim: Simulator) -> None:
    for token in (None, "wrong-token"):
        response = api.create(make_job("never"), token=token)
        assert response.status_code == 401
        assert response.json()["error_code"] == "DRS.M00100"
    for path in (f"/v3/{PROJECT_ID}/jobs/batch-status", f"/v3/{PROJECT_ID}/jobs"):
        assert api.call("POST", path, {"jobs": ["x"], "db_use_type": "sync"}, token=None).status_code == 401
    assert sim.tasks() == []


def iam_body(password: str = "sim-password", project: dict[str, str] | None = None) -> dict[str, Any]:
    return {"auth": {"identity": {"methods": ["password"], "password": {"user": {
        "name": "sim-user", "password": password, "domain": {"name": "sim-domain"}}}},
        "scope": {"project": project or {"id": PROJECT_ID}}}}


def test_iam_token_flow(api: Api, sim: Simulator) -> None:
    response = requests.post(sim.base_url + "/v3/auth/tokens?nocatalog=true", json=iam_body(), timeout=10)
    assert response.status_code == 201
    token = response.headers["X-Subject-Token"]
    assert response.json()["token"]["project"]["id"] == PROJECT_ID
    assert response.json()["token"]["expires_at"].endswith("Z")
    assert api.create(make_job("via-iam"), token=token).status_code == 202
    other = api.call("POST", "/v3/another-project/jobs/batch-creation", {"jobs": [make_job("x-other")]}, token=token)
    assert other.status_code == 403 and other.json()["error_code"] == "DRS.M00261"
    log = sim.requests()
    iam_entry = next(e for e in log if e["endpoint"] == "iam")
    assert iam_entry["body"]["auth"]["identity"]["password"]["user"]["password"] == "***"
    assert "sim-password" not in str(log) and token not in str(log)


def test_iam_scope_by_name_and_wrong_password(sim: Simulator) -> None:
    by_name = requests.post(sim.base_url + "/v3/auth/tokens", json=iam_body(project={"name": "eu-de"}), timeout=10)
    assert by_name.status_code == 201
    project_id = by_name.json()["token"]["project"]["id"]
    assert re.fullmatch(r"[0-9a-f]{32}", project_id)
    drs = requests.post(f"{sim.base_url}/v3/{project_id}/jobs", json={"db_use_type": "sync"},
                        headers={"X-Auth-Token": by_name.headers["X-Subject-Token"]}, timeout=10)
    assert drs.status_code == 200
    wrong = requests.post(sim.base_url + "/v3/auth/tokens", json=iam_body("nope"), timeout=10)
    assert wrong.status_code == 401 and "X-Subject-Token" not in wrong.headers
    malformed = requests.post(sim.base_url + "/v3/auth/tokens", json={"auth": {}}, timeout=10)
    assert malformed.status_code == 400


def test_token_expires_after_n_requests(api: Api, sim: Simulator) -> None:
    sim.set_faults(token_ttl_requests=2)
    assert api.create(make_job("first-one")).status_code == 202
    assert api.status(["x"]).status_code == 200
    expired = api.create(make_job("third-one"))
    assert expired.status_code == 401
    assert expired.json()["error_msg"] == "The token must be updated."
    assert api.create(make_job("third-one")).status_code == 401  # stays expired
    fresh = requests.post(sim.base_url + "/v3/auth/tokens", json=iam_body(), timeout=10).headers["X-Subject-Token"]
    assert api.create(make_job("third-one"), token=fresh).status_code == 202
    assert [t["name"] for t in sim.tasks()] == ["first-one", "third-one"]


def test_queued_token_expiry(api: Api, sim: Simulator) -> None:
    sim.set_faults(next=["token_expired"])
    response = api.create(make_job("never-made"))
    assert response.status_code == 401 and response.json()["error_msg"] == "The token must be updated."
    assert sim.tasks() == []


def sign(method: str, url_path: str, body: bytes, host: str, ak: str = AK, sk: str = SK,
         when: datetime | None = None, query: str = "") -> dict[str, str]:
    """A minimal SDK-HMAC-SHA256 signer written for the tests, from the documented algorithm."""
    sdk_date = (when or datetime.now(UTC)).strftime("%Y%m%dT%H%M%SZ")
    headers = {"content-type": "application/json", "host": host, "x-sdk-date": sdk_date}
    signed = sorted(headers)
    canonical = "\n".join([
        method, url_path if url_path.endswith("/") else url_path + "/", query,
        "".join(f"{h}:{headers[h]}\n" for h in signed), ";".join(signed), hashlib.sha256(body).hexdigest()])
    to_sign = f"SDK-HMAC-SHA256\n{sdk_date}\n{hashlib.sha256(canonical.encode()).hexdigest()}"
    signature = hmac.new(sk.encode(), to_sign.encode(), hashlib.sha256).hexdigest()
    return {"Content-Type": "application/json", "X-Sdk-Date": sdk_date,
            "Authorization": f"SDK-HMAC-SHA256 Access={ak}, SignedHeaders={';'.join(signed)}, Signature={signature}"}


def test_aksk_signature(sim: Simulator) -> None:
    host = sim.base_url.removeprefix("http://")
    body = b'{"jobs": [' + requests.models.complexjson.dumps(make_job("signed-job")).encode() + b"]}"

    def post(headers: dict[str, str], data: bytes = body, path: str = CREATE, query: str = "") -> requests.Response:
        url = sim.base_url + path + (f"?{query}" if query else "")
        return requests.post(url, data=data, headers=headers, timeout=10)

    assert post(sign("POST", CREATE, body, host)).status_code == 202
    tampered = post(sign("POST", CREATE, body, host), data=body.replace(b"signed-job", b"signed-jab"))
    assert tampered.status_code == 401 and tampered.json()["error_code"] == "DRS.M00100"
    assert post(sign("POST", CREATE, body, host, sk="other-secret")).status_code == 401
    assert post(sign("POST", CREATE, body, host, ak="UNKNOWN")).status_code == 401
    stale = datetime.now(UTC) - timedelta(minutes=20)
    assert post(sign("POST", CREATE, body, host, when=stale)).status_code == 401
    prefixed = "/drs" + CREATE
    other = body.replace(b"signed-job", b"signed-two")
    assert post(sign("POST", prefixed, other, host), data=other, path=prefixed).status_code == 202
    third = body.replace(b"signed-job", b"signed-3rd")
    response = post(sign("POST", CREATE, third, host, query="a=1&b=x%20y"), data=third, query="b=x%20y&a=1")
    assert response.status_code == 202
    assert post(sign("POST", CREATE, third, host, query="a=2"), data=third, query="a=1").status_code == 401
    assert {e["auth"] for e in sim.requests() if e["status"] == 202} == {"aksk"}


# -- faults --------------------------------------------------------------------------------------


def test_latency(api: Api, sim: Simulator) -> None:
    sim.set_faults(latency=0.15)
    started = time.monotonic()
    assert api.status(["x"]).status_code == 200
    assert time.monotonic() - started >= 0.15


@pytest.mark.parametrize(("fault", "status", "code"), [
    ("500", 500, "DRS.M00004"),
    ("429", 429, "APIG.0308"),
    ("m01503", 400, "DRS.M01503"),
])
def test_queued_error_faults_create_nothing(api: Api, sim: Simulator, fault: str, status: int, code: str) -> None:
    sim.set_faults(next=[fault], retry_after=7)
    response = api.create(make_job("faulted"))
    assert response.status_code == status
    assert response.json()["error_code"] == code
    if fault == "429":
        assert response.headers["Retry-After"] == "7"
    assert sim.tasks() == []
    assert api.create(make_job("faulted")).status_code == 202  # one-shot: the next one goes through


def test_reset_creates_nothing(api: Api, sim: Simulator) -> None:
    sim.set_faults(next=["reset"])
    with pytest.raises(requests.ConnectionError):
        api.create(make_job("reset-job"))
    assert sim.tasks() == []
    assert sim.requests()[-1]["fault"] == "reset" and sim.requests()[-1]["status"] is None


def test_lost_response_creates_tasks(api: Api, sim: Simulator) -> None:
    sim.set_faults(next=["lost_response"])
    with pytest.raises(requests.ConnectionError):
        api.create(make_job("lost-1"), make_job("lost-2"))
    assert sorted(t["name"] for t in sim.tasks()) == ["lost-1", "lost-2"]
    again = api.create(make_job("lost-1"))  # what a naive retry gets
    assert again.json()["results"][0]["error_code"] == "DRS.M00277"


def test_500_after_create(api: Api, sim: Simulator) -> None:
    sim.set_faults(next=["500_created"])
    assert api.create(make_job("in-doubt")).status_code == 500
    assert [t["name"] for t in sim.tasks()] == ["in-doubt"]


def test_item_failures(api: Api, sim: Simulator) -> None:
    sim.set_faults(item_failure_rate=1.0)
    response = api.create(make_job("item-1"), make_job("item-2"))
    assert response.status_code == 202
    for item in response.json()["results"]:
        assert item["error_code"] == "DRS.M05066" and item["error_msg"] and "id" not in item
    assert sim.tasks() == []
    sim.set_faults(item_failure_rate=0.0, next=["item_failure"])
    assert "error_code" in api.create(make_job("item-3")).json()["results"][0]
    assert "id" in api.create(make_job("item-3")).json()["results"][0]


def test_queued_faults_on_other_endpoints(api: Api, sim: Simulator) -> None:
    sim.set_faults(next=["status:500", "list:429", "delete:lost_response"])
    task_id = created_id(api.create(make_job("unaffected")))  # create is not consumed by status:500
    assert api.status([task_id]).status_code == 500
    assert api.status([task_id]).status_code == 200
    assert api.list(db_use_type="migration").status_code == 429
    with pytest.raises(requests.ConnectionError):
        api.delete(("force_terminate", task_id))
    assert api.status([task_id]).json()["results"][0]["status"] == "RELEASE_RESOURCE_COMPLETE"


def test_rates_are_seeded_and_apply_to_queries_only_when_asked() -> None:
    def run(seed: int) -> list[int]:
        faults = FaultConfig(transition_delay=0, error_500_rate=0.3, rate_429=0.3, retry_after=0)
        with Simulator(token=TOKEN, faults=faults, seed=seed) as sim:
            api = Api(sim)
            codes = [api.create(make_job(f"job-{i:02d}")).status_code for i in range(12)]
            assert all(api.status(["x"]).status_code == 200 for _ in range(5))
            return codes

    first = run(1)
    assert first == run(1)
    assert {202, 429, 500} <= set(first)
    with Simulator(token=TOKEN, faults=FaultConfig(error_500_rate=1.0, faults_on_queries=True)) as sim:
        assert Api(sim).status(["x"]).status_code == 500


def test_reset_rate_and_lost_response_rate(api: Api, sim: Simulator) -> None:
    sim.set_faults(reset_rate=1.0)
    with pytest.raises(requests.ConnectionError):
        api.create(make_job("rate-reset"))
    sim.set_faults(reset_rate=0.0, lost_response_rate=1.0)
    with pytest.raises(requests.ConnectionError):
        api.create(make_job("rate-lost"))
    assert [t["name"] for t in sim.tasks()] == ["rate-lost"]


# -- admin endpoints, request log, state -----------------------------------------------------------


def test_admin_faults_endpoint(api: Api) -> None:
    status, config = api.admin("GET", "faults")
    assert status == 200 and config["transition_delay"] == 0 and config["next"] == []
    status, config = api.admin("POST", "faults", {"error_500_rate": 0.5, "next": ["429", "status:500"]})
    assert status == 200 and config["error_500_rate"] == 0.5 and config["next"] == ["429", "status:500"]
    assert api.admin("GET", "faults")[1]["next"] == ["429", "status:500"]
    assert api.create(make_job("throttled")).status_code == 429
    assert api.admin("GET", "faults")[1]["next"] == ["status:500"]
    for bad in ({"error_500_rate": 2}, {"no_such_fault": 1}, {"next": ["explode"]}, {"next": ["status:item_failure"]},
                {"invalid_job_mode": "maybe"}, {"reset_rate": 0.6, "rate_429": 0.6}):
        status, body = api.admin("POST", "faults", bad)
        assert status == 400 and body["error"]


def test_admin_tasks_and_requests_redact_secrets(api: Api, sim: Simulator) -> None:
    job = make_job("secretive")
    job["source_endpoint"].update(db_password="S3cret-A", ssl_cert_password="S3cret-B", ssl_cert_key="S3cret-C")
    job["target_endpoint"]["db_password"] = "S3cret-D"
    api.create(job)
    status, tasks = api.admin("GET", "tasks")
    assert status == 200
    (task,) = tasks["tasks"]
    assert task["project_id"] == PROJECT_ID and task["deleted"] is False and task["status"] == "CONFIGURATION"
    assert task["job"]["source_endpoint"]["db_password"] == "***"
    assert task["job"]["source_endpoint"]["ssl_cert_key"] == "***"
    assert api.admin("GET", f"tasks?project_id={PROJECT_ID}")[1] == tasks
    assert api.admin("GET", "tasks?project_id=other")[1] == {"tasks": []}
    _, log = api.admin("GET", "requests")
    (entry,) = log["requests"]
    assert entry["method"] == "POST" and entry["path"] == CREATE and entry["status"] == 202 and entry["jobs"] == 1
    assert entry["headers"]["X-Auth-Token"] == "***"
    endpoint = entry["body"]["jobs"][0]["source_endpoint"]
    assert endpoint["db_password"] == endpoint["ssl_cert_password"] == endpoint["ssl_cert_key"] == "***"
    assert entry["body"]["jobs"][0]["target_endpoint"]["db_password"] == "***"
    everything = str(tasks) + str(log) + str(sim.requests()) + str(sim.tasks())
    assert "S3cret" not in everything and TOKEN not in everything
    assert api.admin("GET", f"requests?since={entry['seq']}")[1] == {"requests": []}


def test_signature_and_subject_token_headers_redacted(sim: Simulator) -> None:
    host = sim.base_url.removeprefix("http://")
    body = b'{"jobs": []}'
    requests.post(sim.base_url + CREATE, data=body, headers=sign("POST", CREATE, body, host), timeout=10)
    entry = sim.requests()[-1]
    assert entry["headers"]["Authorization"] == "***"
    assert entry["auth"] == "aksk" and entry["status"] == 400


def test_admin_reset(api: Api, sim: Simulator) -> None:
    api.create(make_job("before-reset"))
    sim.set_faults(error_500_rate=1.0)
    status, body = api.admin("POST", "reset")
    assert status == 200 and body == {"ok": True}
    assert sim.tasks() == [] and sim.requests() == []
    assert sim.faults.error_500_rate == 0.0
    assert api.create(make_job("before-reset")).status_code == 202
    assert api.admin("GET", "health") == (200, {"ok": True})
    assert api.admin("GET", "nothing")[0] == 404


def test_state_survives_restart(tmp_path: Path) -> None:
    state = tmp_path / "sim" / "state.sqlite"
    with Simulator(token=TOKEN, faults=FaultConfig(transition_delay=0), state_path=state) as first:
        first_id = created_id(Api(first).create(make_job("persistent")))
        iam = requests.post(first.base_url + "/v3/auth/tokens", json=iam_body(), timeout=10)
        iam_token = iam.headers["X-Subject-Token"]
    first.close()
    with Simulator(token="another-token", faults=FaultConfig(transition_delay=0), state_path=state) as second:
        api = Api(second, token="another-token")
        assert [t["id"] for t in second.tasks()] == [first_id]
        assert api.status([first_id]).json()["results"][0]["status"] == "CONFIGURATION"
        assert api.create(make_job("PERSISTENT")).json()["results"][0]["error_code"] == "DRS.M00277"
        assert api.create(make_job("second-run"), token=iam_token).status_code == 202  # IAM tokens persist
        assert api.create(make_job("first-token"), token=TOKEN).status_code == 401  # the old static token does not
        new_id = second.tasks()[-1]["id"]
        assert new_id != first_id
        assert [e["path"] for e in second.requests()][:2] == [CREATE, "/v3/auth/tokens"]
    second.close()


def test_concurrent_clients(sim: Simulator) -> None:
    results: list[int] = []
    race: list[dict[str, Any]] = []
    lock = threading.Lock()

    def unique(i: int) -> None:
        response = Api(sim).create(*[make_job(f"worker-{i}-{j}") for j in range(3)])
        with lock:
            results.append(response.status_code)

    def same_name() -> None:
        response = Api(sim).create(make_job("contested"))
        with lock:
            race.append(response.json()["results"][0])

    threads = [threading.Thread(target=unique, args=(i,)) for i in range(12)]
    threads += [threading.Thread(target=same_name) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=20)
    assert results == [202] * 12
    assert len(sim.tasks()) == 12 * 3 + 1
    assert sum("id" in item for item in race) == 1
    assert sum(item.get("error_code") == "DRS.M00277" for item in race) == 7


# -- options for the CLI ---------------------------------------------------------------------------


def test_cli_options_cover_fault_config() -> None:
    options = {o.name: o for o in cli_options()}
    for name in FaultConfig().as_dict():
        assert name in options and options[name].help
    assert options["error_500_rate"].flag == "--error-500-rate"
    assert options["invalid_job_mode"].choices == ("request", "item")
    assert options["next"].kind == "multiple"
    config = faults_from_options({"latency": 0.1, "next": ("500",), "port": 1, "shuffle_results": None})
    assert config.latency == 0.1 and config.next == ["500"] and config.shuffle_results is False


def test_foreign_state_file_refused(tmp_path: Path) -> None:
    import sqlite3

    path = tmp_path / "not-ours.sqlite"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE something (x)")
    with pytest.raises(ValueError, match="not a simulator state file"):
        Simulator(state_path=path)


def test_run_from_options_serves_in_the_foreground() -> None:
    from bulkimport.simulator import run_from_options

    lines: list[str] = []
    ready: list[Simulator] = []
    is_ready = threading.Event()
    outcome: list[int] = []
    faults = faults_from_options({"transition_delay": 0.0, "next": ["429"]})

    def on_ready(sim: Simulator) -> None:
        ready.append(sim)
        is_ready.set()

    thread = threading.Thread(target=lambda: outcome.append(run_from_options(
        port=0, token=None, seed=3, faults=faults, access_key="AK9", secret_key="never-printed",
        echo=lines.append, on_ready=on_ready)))
    thread.start()
    assert is_ready.wait(timeout=60), "the simulator did not start serving"
    (sim,) = ready
    api = Api(sim, token=sim.token)
    assert api.create(make_job("foreground")).status_code == 429
    assert api.create(make_job("foreground")).status_code == 202
    sim.stop()
    thread.join(timeout=5)
    assert outcome == [0]
    text = "\n".join(lines)
    assert sim.base_url in text and sim.token in text and "AK9" in text and "never-printed" not in text
    with pytest.raises(ValueError):
        run_from_options(port=0, access_key="AK-without-SK")


def test_verbose_logs_request_lines_only(capsys: pytest.CaptureFixture[str]) -> None:
    with Simulator(token=TOKEN, verbose=True) as sim:
        Api(sim).create(make_job("loud-one"))
    err = capsys.readouterr().err
    assert "POST /v3/" in err and TOKEN not in err
    with Simulator(token=TOKEN) as quiet:
        Api(quiet).create(make_job("quiet-one"))
    assert capsys.readouterr().err == ""


def test_wait_idle_returns_once_every_client_connection_is_closed(sim: Simulator, api: Api) -> None:
    """What kill tests wait on instead of sleeping through the latency: a client's
    keep-alive connection holds the simulator busy until the client closes it."""
    assert sim.wait_idle(timeout=60)  # nobody connected yet
    assert api.create(make_job("idle-1")).status_code == 202
    assert not sim.wait_idle(timeout=0)  # the session keeps its connection open
    api.session.close()
    assert sim.wait_idle(timeout=60)
