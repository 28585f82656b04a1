"""The DRS client against the simulator over real HTTP: what each reply means for the rows.

The submit engine decides whether to re-send, look up or give up from `BatchReply.kind`,
so every classification here is checked against what the simulator really did (tasks
created or not), not only against the status code.
"""

from __future__ import annotations

import json
import logging
import socket
import threading

import pytest
import requests

from bulkimport.drs import DrsClient, DrsError, PasswordAuth, ReplyKind, RetryPolicy, TokenAuth
from bulkimport.drs.client import _Exchange, classify
from bulkimport.errors import InputError
from bulkimport.simulator import FaultConfig, Simulator

PROJECT = "0123456789abcdef0123456789abcdef"
TOKEN = "tok-" + "s3cr3t" * 4


def job(name: str, db_use_type: str = "migration", **changes: object) -> dict:
    body = {
        "name": name, "node_type": "high", "engine_type": "mysql", "net_type": "eip", "job_direction": "up",
        "db_use_type": db_use_type, "task_type": "FULL_INCR_TRANS", "bind_eip": True,
        "customize_sutnet_id": "352ad828-3467-4f03-987a-c55a5a9dd417",
        "source_endpoint": {"db_type": "mysql", "ip": "10.0.0.1", "db_port": 3306, "db_user": "root",
                            "db_password": "db-secret"},
        "target_endpoint": {"region": "eu-de", "db_type": "mysql", "inst_id": "e05a3679efe241d8b5dee80b17c1a863in01"},
    }
    body.update(changes)
    return body


class Sleeps(list):
    """Records the delays the client asks for instead of waiting them out."""

    def __call__(self, seconds: float) -> None:
        self.append(seconds)


@pytest.fixture
def sim():
    with Simulator(token=TOKEN, faults=FaultConfig(transition_delay=0, retry_after=0)) as server:
        yield server


@pytest.fixture
def sleeps() -> Sleeps:
    return Sleeps()


@pytest.fixture
def client(sim: Simulator, sleeps: Sleeps):
    policy = RetryPolicy(attempts=5, base_delay=0.01, max_delay=0.05, total_time=30)
    with DrsClient(sim.base_url, PROJECT, TokenAuth(TOKEN), retry=policy, sleep=sleeps, timeout=(2, 5)) as drs:
        yield drs


def names(sim: Simulator) -> list[str]:
    return sorted(t["name"] for t in sim.tasks() if not t["deleted"])


def create(client: DrsClient, *task_names: str, db_use_type: str = "migration") -> list[str]:
    ids = []
    for start in range(0, len(task_names), 10):
        reply = client.send_batch([job(n, db_use_type) for n in task_names[start:start + 10]])
        assert reply.kind is ReplyKind.ACCEPTED
        ids += [r.id for r in reply.results]
    return ids


# -- batch creation: one attempt, classified ---------------------------------------------------

def test_accepted_batch_returns_every_result_with_ids(client: DrsClient, sim: Simulator) -> None:
    reply = client.send_batch([job("Task-A"), job("Task-B")])
    assert reply.kind is ReplyKind.ACCEPTED and reply.http_status == 202
    assert sorted(reply.by_name()) == ["task-a", "task-b"]
    created = {t["name"]: t["id"] for t in sim.tasks()}
    assert {r.name: r.id for r in reply.results} == created
    assert all(not r.failed and r.status == "CREATING" and r.create_time for r in reply.results)
    assert reply.request_id  # the server's request id, for support tickets
    assert reply.missing_names(["Task-A", "TASK-B", "Task-C"]) == ["Task-C"]


def test_accepted_batch_sends_json_language_and_the_jobs_as_given(sim: Simulator) -> None:
    with DrsClient(sim.base_url, PROJECT, TokenAuth(TOKEN), language="zh-cn") as drs:
        drs.send_batch([job("Task-H")])
    logged = sim.requests()[-1]
    assert logged["path"] == f"/v3/{PROJECT}/jobs/batch-creation" and logged["method"] == "POST"
    assert logged["headers"]["Content-Type"] == "application/json"
    assert logged["headers"]["X-Language"] == "zh-cn"
    assert logged["body"]["jobs"][0]["name"] == "Task-H"


def test_failed_item_inside_a_202_is_a_per_job_failure(client: DrsClient, sim: Simulator) -> None:
    sim.set_faults(next=["item_failure"])
    reply = client.send_batch([job("Task-F")])
    assert reply.kind is ReplyKind.ACCEPTED
    (item,) = reply.results
    assert item.failed and item.name == "Task-F" and item.error_code and item.error_msg and item.id is None
    assert names(sim) == []


def test_existing_name_as_a_failed_item(client: DrsClient, sim: Simulator) -> None:
    create(client, "Task-D")
    reply = client.send_batch([job("task-d"), job("Task-E")])
    assert reply.kind is ReplyKind.ACCEPTED
    by_name = reply.by_name()
    assert by_name["task-d"].error_code == "DRS.M00277" and by_name["task-d"].failed
    assert not by_name["task-e"].failed
    assert names(sim) == ["Task-D", "Task-E"]


def test_existing_name_as_a_whole_request_422(client: DrsClient, sim: Simulator) -> None:
    create(client, "Task-D")
    sim.set_faults(duplicate_name_mode="request")
    reply = client.send_batch([job("TASK-D"), job("Task-G")])
    assert reply.kind is ReplyKind.REJECTED and reply.http_status == 422
    assert reply.error_code == "DRS.M00277" and reply.error_msg
    assert names(sim) == ["Task-D"]


def test_invalid_job_rejects_the_whole_request_with_the_server_reason(client: DrsClient, sim: Simulator) -> None:
    reply = client.send_batch([job("Task-I"), job("Task-J", net_type="carrier-pigeon")])
    assert reply.kind is ReplyKind.REJECTED and reply.http_status == 400
    assert reply.error_code and reply.error_code.startswith("DRS.M") and "net_type" in reply.error_msg
    assert names(sim) == []


def test_invalid_job_as_a_failed_item(client: DrsClient, sim: Simulator) -> None:
    sim.set_faults(invalid_job_mode="item")
    reply = client.send_batch([job("Task-I"), job("Task-J", net_type="carrier-pigeon")])
    assert reply.kind is ReplyKind.ACCEPTED
    assert not reply.by_name()["task-i"].failed and reply.by_name()["task-j"].failed
    assert names(sim) == ["Task-I"]


def test_429_is_retry_safe_and_carries_retry_after(client: DrsClient, sim: Simulator) -> None:
    sim.set_faults(retry_after=7, next=["429"])
    reply = client.send_batch([job("Task-R")])
    assert reply.kind is ReplyKind.RETRY_SAFE and reply.http_status == 429
    assert reply.retry_after == 7.0 and reply.error_code == "APIG.0308"
    assert names(sim) == []
    assert len(sim.requests()) == 1  # one attempt: the caller owns the loop


def test_m01503_is_retry_safe(client: DrsClient, sim: Simulator) -> None:
    sim.set_faults(next=["m01503"])
    reply = client.send_batch([job("Task-M")])
    assert reply.kind is ReplyKind.RETRY_SAFE and reply.http_status == 400 and reply.error_code == "DRS.M01503"
    assert names(sim) == []


@pytest.mark.parametrize(("fault", "created"), [("500", []), ("500_created", ["Task-5"])])
def test_500_is_in_doubt_whether_or_not_the_tasks_were_created(client: DrsClient, sim: Simulator, fault: str,
                                                               created: list[str]) -> None:
    sim.set_faults(next=[fault])
    reply = client.send_batch([job("Task-5")])
    assert reply.kind is ReplyKind.IN_DOUBT and reply.http_status == 500
    assert [t["name"] for t in client.find_tasks_by_name("task-5", ["migration"])] == created


def test_reset_connection_is_in_doubt(client: DrsClient, sim: Simulator) -> None:
    sim.set_faults(next=["reset"])
    reply = client.send_batch([job("Task-X")])
    assert reply.kind is ReplyKind.IN_DOUBT and reply.http_status is None
    assert reply.error_msg and reply.error_msg.startswith("the connection was reset")
    assert client.find_tasks_by_name("Task-X", ["migration"]) == []  # the look-up tells the truth
    assert client.send_batch([job("Task-X")]).kind is ReplyKind.ACCEPTED  # the pool recovers


def test_lost_response_is_in_doubt_and_the_lookup_finds_the_task(client: DrsClient, sim: Simulator) -> None:
    sim.set_faults(next=["lost_response"])
    reply = client.send_batch([job("Task-L")])
    assert reply.kind is ReplyKind.IN_DOUBT and reply.http_status is None
    assert [t["name"] for t in client.find_tasks_by_name("task-l", ["migration", "sync"])] == ["Task-L"]


def test_read_timeout_is_in_doubt(sim: Simulator) -> None:
    sim.set_faults(latency=0.5)
    with DrsClient(sim.base_url, PROJECT, TokenAuth(TOKEN), timeout=(2, 0.1)) as drs:
        reply = drs.send_batch([job("Task-T")])
    assert reply.kind is ReplyKind.IN_DOUBT and "Timeout" in (reply.error_msg or "")


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_connection_refused_is_retry_safe() -> None:
    with DrsClient(f"http://127.0.0.1:{closed_port()}", PROJECT, TokenAuth(TOKEN), timeout=(2, 2)) as drs:
        reply = drs.send_batch([job("Task-C")])
    assert reply.kind is ReplyKind.RETRY_SAFE and reply.http_status is None
    assert reply.error_msg and reply.error_msg.startswith("could not connect")
    assert "NewConnectionError" in reply.error_msg


def test_operator_proxy_does_not_capture_loopback_traffic(sim: Simulator, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HTTP_PROXY", f"http://127.0.0.1:{closed_port()}")
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    with DrsClient(sim.base_url, PROJECT, TokenAuth(TOKEN)) as drs:
        assert drs.send_batch([job("Task-Y")]).kind is ReplyKind.ACCEPTED


def test_missing_ca_bundle_is_unusable_input(tmp_path) -> None:
    with pytest.raises(InputError, match="CA bundle"):
        DrsClient("https://drs.example.com", PROJECT, TokenAuth(TOKEN), verify=str(tmp_path / "nope.pem"))


def test_insecure_mode_builds_a_client_without_verification(sim: Simulator) -> None:
    with DrsClient(sim.base_url, PROJECT, TokenAuth(TOKEN), verify=False) as drs:
        assert drs.session.verify is False
        assert drs.send_batch([job("Task-V")]).kind is ReplyKind.ACCEPTED


def test_expired_token_is_refreshed_and_sent_once_more(sim: Simulator) -> None:
    auth = PasswordAuth(sim.base_url, "sim-user", "sim-password", "sim-domain", project_id=PROJECT)
    with DrsClient(sim.base_url, PROJECT, auth) as drs:
        assert drs.send_batch([job("Task-1")]).kind is ReplyKind.ACCEPTED
        sim.set_faults(next=["token_expired"])
        assert drs.send_batch([job("Task-2")]).kind is ReplyKind.ACCEPTED
    assert names(sim) == ["Task-1", "Task-2"]
    assert auth.fetch_count == 2


def test_a_401_on_a_renewed_token_renews_again(sim: Simulator) -> None:
    auth = PasswordAuth(sim.base_url, "sim-user", "sim-password", "sim-domain", project_id=PROJECT)
    with DrsClient(sim.base_url, PROJECT, auth, retry=RetryPolicy(base_delay=0.001, max_delay=0.001)) as drs:
        sim.set_faults(next=["token_expired", "token_expired"])
        reply = drs.send_batch([job("Task-3")])
    assert reply.kind is ReplyKind.ACCEPTED
    assert names(sim) == ["Task-3"]
    assert sum(1 for r in sim.requests() if r["endpoint"] == "create") == 3
    assert auth.fetch_count == 3


def test_a_401_that_renewal_cannot_cure_is_final(sim: Simulator) -> None:
    with DrsClient(sim.base_url, PROJECT, TokenAuth("not-the-token-at-all")) as drs:
        reply = drs.send_batch([job("Task-4")])
    assert reply.kind is ReplyKind.REJECTED and reply.http_status == 401
    assert sum(1 for r in sim.requests() if r["endpoint"] == "create") == 1


def _response(status: int, body: bytes, headers: dict | None = None) -> requests.Response:
    response = requests.Response()
    response.status_code = status
    response._content = body
    response.headers.update(headers or {})
    return response


def test_unreadable_2xx_is_in_doubt() -> None:
    assert classify(_Exchange(_response(202, b"<html>gateway</html>"))).kind is ReplyKind.IN_DOUBT
    assert classify(_Exchange(_response(202, b'{"count": 1}'))).kind is ReplyKind.IN_DOUBT


def test_error_nested_in_results_is_read() -> None:
    body = json.dumps({"results": [{"name": "Task-N", "error_code": "DRS.M00289", "error_msg": "gone"}]})
    reply = classify(_Exchange(_response(400, body.encode())))
    assert reply.kind is ReplyKind.REJECTED and reply.error_code == "DRS.M00289" and reply.error_msg == "gone"
    assert reply.results[0].name == "Task-N"


def test_gateway_throttling_in_a_non_429_status_is_retry_safe() -> None:
    body = b'{"error_code": "APIG.0308", "error_msg": "The throttling threshold has been reached"}'
    reply = classify(_Exchange(_response(403, body, {"Retry-After": "3"})))
    assert reply.kind is ReplyKind.RETRY_SAFE and reply.retry_after == 3.0


def test_non_json_error_body_still_gives_a_reason() -> None:
    reply = classify(_Exchange(_response(404, b"no such\nroute")))
    assert reply.kind is ReplyKind.REJECTED and reply.error_code is None and reply.error_msg == "no such route"


def test_path_prefix_is_honoured(sim: Simulator) -> None:
    with DrsClient(sim.base_url + "/drs/", PROJECT, TokenAuth(TOKEN)) as drs:
        assert drs.send_batch([job("Task-P")]).kind is ReplyKind.ACCEPTED
        drs.batch_status([t["id"] for t in sim.tasks()])
    assert {r["path"] for r in sim.requests()} == {f"/drs/v3/{PROJECT}/jobs/batch-creation",
                                                  f"/drs/v3/{PROJECT}/jobs/batch-status"}


def test_worker_threads_share_one_client(client: DrsClient, sim: Simulator) -> None:
    replies = []

    def worker(n: int) -> None:
        replies.append(client.send_batch([job(f"Par-{n}-{i}") for i in range(3)]))

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert [r.kind for r in replies] == [ReplyKind.ACCEPTED] * 4
    assert len(names(sim)) == 12


# -- list and find by name ----------------------------------------------------------------------

def test_list_tasks_reads_every_page(client: DrsClient, sim: Simulator) -> None:
    create(client, *[f"Page-{n:02d}" for n in range(7)])
    listed = client.list_tasks("migration", per_page=3)
    assert sorted(t["name"] for t in listed) == [f"Page-{n:02d}" for n in range(7)]
    bodies = [r["body"] for r in sim.requests() if r["endpoint"] == "list"]
    assert [b["cur_page"] for b in bodies] == [1, 2, 3]


def test_find_by_name_is_exact_and_case_insensitive_across_scenarios(client: DrsClient) -> None:
    create(client, "Alpha-1", "Alpha-10", "XAlpha-1")
    create(client, "ALPHA-1x", db_use_type="sync")
    sync_twin = create(client, "Beta-1", db_use_type="sync")
    found = client.find_tasks_by_name("alpha-1", ["migration", "sync"])
    assert [t["name"] for t in found] == ["Alpha-1"]
    assert [t["id"] for t in client.find_tasks_by_name("BETA-1", ["migration", "sync"])] == sync_twin
    assert client.find_tasks_by_name("Beta-1", ["migration"]) == []
    assert client.find_tasks_by_name("Alpha", ["migration", "sync"]) == []


# -- batch status, detail, delete ---------------------------------------------------------------

def test_batch_status_pages_more_than_100_ids(client: DrsClient, sim: Simulator) -> None:
    real = create(client, *[f"Stat-{n:02d}" for n in range(12)])
    unknown = [f"unknown-{n:03d}" for n in range(238)]
    results = client.batch_status(real + unknown)
    assert len(results) == 250
    by_id = {r["id"]: r for r in results}
    assert all(by_id[i]["status"] == "CONFIGURATION" for i in real)
    assert all(by_id[i]["error_code"] and by_id[i]["error_msg"] == by_id[i]["error_message"] for i in unknown)
    sizes = [r["jobs"] for r in sim.requests() if r["endpoint"] == "status"]
    assert sizes == [100, 100, 50]


def test_batch_detail_reports_unknown_ids_instead_of_failing(client: DrsClient) -> None:
    (task_id,) = create(client, "Detail-1")
    results = client.batch_detail([task_id])
    assert results[0]["name"] == "Detail-1" and "db_password" not in json.dumps(results)
    missing = client.batch_detail(["no-such-task"])  # the API answers 400 with the error in results
    assert missing[0]["id"] == "no-such-task" and missing[0]["error_code"]


def test_batch_delete_chunks_by_ten_and_reports_per_task(client: DrsClient, sim: Simulator) -> None:
    ids = create(client, *[f"Del-{n:02d}" for n in range(12)])
    stopped = client.batch_delete([(i, "force_terminate") for i in ids])
    assert [r["status"] for r in stopped] == ["success"] * 12
    assert [r["jobs"] for r in sim.requests() if r["endpoint"] == "delete"] == [10, 2]
    assert sim.requests()[-1]["method"] == "DELETE"
    deleted = client.batch_delete([(i, "delete") for i in ids] + [("no-such-task", "delete")])
    assert [r["status"] for r in deleted] == ["success"] * 12 + ["failed"]
    assert deleted[-1]["error_code"]
    assert names(sim) == []


# -- companion retries ----------------------------------------------------------------------------

def test_companion_calls_retry_throttling_and_5xx(client: DrsClient, sim: Simulator, sleeps: Sleeps) -> None:
    ids = create(client, "Retry-1")
    sim.set_faults(retry_after=2, next=["status:429", "status:500", "status:m01503", "status:reset"])
    assert client.batch_status(ids)[0]["status"] == "CONFIGURATION"
    assert len(sleeps) == 4  # the fifth attempt succeeded
    assert sleeps[0] >= 2  # Retry-After honoured


def test_companion_call_gives_up_with_a_one_line_error(sim: Simulator, sleeps: Sleeps) -> None:
    policy = RetryPolicy(attempts=2, base_delay=0.01)
    with DrsClient(sim.base_url, PROJECT, TokenAuth(TOKEN), retry=policy, sleep=sleeps) as drs:
        sim.set_faults(next=["list:500", "list:500"])
        with pytest.raises(DrsError) as caught:
            drs.list_tasks("migration")
    error = caught.value
    assert error.http_status == 500 and error.error_code == "DRS.M00004"
    assert "\n" not in str(error) and "2 attempts" in str(error) and TOKEN not in str(error)
    assert str(error).startswith("listing migration tasks (after 2 attempts) failed: HTTP 500 DRS.M00004")
    # a zh-cn run says the operation in zh-cn too; the scenario and the server's code stay as they are
    assert error.said("zh-cn").startswith("列出migration任务（尝试2次后）失败：HTTP 500 DRS.M00004")
    assert len(sleeps) == 1


def test_every_companion_call_is_named_in_zh_cn_too() -> None:
    """The operation names a DrsError quotes (the literal last argument of each `_call`,
    `_by_ids` and `_launch` call, and the default) have their zh-cn text, so a zh-cn run's
    'status query failed' note does not say its operation in English."""
    import ast
    import inspect

    from bulkimport import terminal
    from bulkimport.drs import client as client_module

    names = {inspect.signature(DrsError).parameters["operation"].default}
    for node in ast.walk(ast.parse(inspect.getsource(client_module))):
        if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                and node.func.attr in {"_call", "_by_ids", "_launch"} and node.args):
            last = node.args[-1]
            if isinstance(last, ast.Constant) and isinstance(last.value, str):
                names.add(last.value)
    assert len(names) >= 9
    assert sorted(n for n in names if n not in terminal._ZH) == []


def test_companion_call_does_not_retry_a_client_error(client: DrsClient, sleeps: Sleeps) -> None:
    with pytest.raises(DrsError) as caught:
        client.list_tasks("not-a-scenario")
    assert caught.value.http_status == 400 and caught.value.error_code
    assert sleeps == []


def test_companion_call_refreshes_an_expired_token(sim: Simulator) -> None:
    auth = PasswordAuth(sim.base_url, "sim-user", "sim-password", "sim-domain", project_id=PROJECT)
    with DrsClient(sim.base_url, PROJECT, auth) as drs:
        drs.list_tasks("migration")
        sim.set_faults(next=["list:token_expired"])
        assert drs.list_tasks("migration") == []
    assert auth.fetch_count == 2


def test_nothing_secret_in_debug_logs(sim: Simulator, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    sim.set_faults(next=["list:500"])
    with DrsClient(sim.base_url, PROJECT, TokenAuth(TOKEN), sleep=lambda s: None,
                   retry=RetryPolicy(base_delay=0)) as drs:
        drs.send_batch([job("Log-1")])
        drs.list_tasks("migration")
    assert "batch-creation" in caplog.text
    assert TOKEN not in caplog.text and "db-secret" not in caplog.text


# -- retry policy ---------------------------------------------------------------------------------

def test_retry_delay_grows_exponentially_up_to_the_cap() -> None:
    policy = RetryPolicy(base_delay=0.5, max_delay=3.0, jitter=0)
    assert [policy.delay(n, None) for n in range(1, 6)] == [0.5, 1.0, 2.0, 3.0, 3.0]


def test_retry_delay_jitter_stays_within_bounds() -> None:
    policy = RetryPolicy(base_delay=1.0, max_delay=100.0, jitter=0.5)
    delays = [policy.delay(3, None) for _ in range(200)]
    assert all(2.0 <= d <= 4.0 for d in delays)
    assert len(set(delays)) > 1


def test_retry_delay_never_undercuts_retry_after() -> None:
    policy = RetryPolicy(base_delay=0.5, max_delay=3.0, jitter=0.5)
    assert policy.delay(1, 10.0) == 10.0
    assert policy.delay(5, 0.0) <= 3.0
