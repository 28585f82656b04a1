"""Credentials and endpoints: what an operator relies on before the first task is sent.

Region and endpoint resolution, the credential precedence from the environment, AK/SK
signatures that the official SDK and the simulator agree with, IAM password login with
token refresh, and that no secret ever shows in a repr or an error message.
"""

from __future__ import annotations

import socket
import threading
from datetime import UTC, datetime

import pytest
import requests

from bulkimport.drs import (
    AkSkAuth,
    AuthError,
    DrsClient,
    PasswordAuth,
    ReplyKind,
    TokenAuth,
    auth_from_env,
    normalise_endpoint,
    project_id_from,
    resolve_endpoint,
)
from bulkimport.drs.auth import own_authorization, sdk_authorization, token_url
from bulkimport.errors import InputError
from bulkimport.simulator import FaultConfig, Simulator
from bulkimport.simulator import signing as sim_signing

PROJECT = "0123456789abcdef0123456789abcdef"
TOKEN = "tok-" + "s3cr3t" * 4
AK, SK = "AKTESTACCESSKEY", "sk-very-secret-value"
USER, PASSWORD, DOMAIN = "dba", "pa55-w0rd-secret", "acme"


def job(name: str, db_use_type: str = "migration") -> dict:
    return {
        "name": name, "node_type": "high", "engine_type": "mysql", "net_type": "eip", "job_direction": "up",
        "db_use_type": db_use_type, "task_type": "FULL_INCR_TRANS", "bind_eip": True,
        "customize_sutnet_id": "352ad828-3467-4f03-987a-c55a5a9dd417",
        "source_endpoint": {"db_type": "mysql", "ip": "10.0.0.1", "db_port": 3306, "db_user": "root",
                            "db_password": "db-secret"},
        "target_endpoint": {"region": "eu-de", "db_type": "mysql", "inst_id": "e05a3679efe241d8b5dee80b17c1a863in01"},
    }


@pytest.fixture
def sim():
    with Simulator(token=TOKEN, faults=FaultConfig(transition_delay=0), access_keys={AK: SK},
                   iam_user=USER, iam_password=PASSWORD, iam_domain=DOMAIN) as server:
        yield server


def iam_calls(sim: Simulator) -> int:
    return sum(1 for r in sim.requests() if r["endpoint"] == "iam")


# -- endpoints --------------------------------------------------------------------------------

@pytest.mark.parametrize(("region", "url"), [
    ("ap-southeast-1", "https://drs.ap-southeast-1.myhuaweicloud.com"),
    ("eu-west-0", "https://drs.eu-west-0.myhuaweicloud.com"),
    ("eu-west-101", "https://drs.eu-west-101.myhuaweicloud.eu"),
    ("eu-de", "https://drs.eu-de.otc.t-systems.com"),
    ("eu-nl", "https://drs.eu-nl.otc.t-systems.com"),
    ("xx-newregion-7", "https://drs.xx-newregion-7.myhuaweicloud.com"),
    (" EU-DE ", "https://drs.eu-de.otc.t-systems.com"),
])
def test_region_table(region: str, url: str) -> None:
    assert resolve_endpoint(None, region) == url


@pytest.mark.parametrize("region", ["eu-fr", "frankfurt", "eu-de-1x", "drs.eu-de", ""])
def test_malformed_region_is_refused(region: str) -> None:
    with pytest.raises(InputError):
        resolve_endpoint(None, region or " ")


def test_endpoint_beats_region_and_keeps_its_path_prefix() -> None:
    assert resolve_endpoint("https://gw.example.com:10011/drs/", "eu-de") == "https://gw.example.com:10011/drs"


def test_no_endpoint_and_no_region_is_unusable_input() -> None:
    with pytest.raises(InputError, match="--endpoint"):
        resolve_endpoint(None, None)


@pytest.mark.parametrize("url", ["ftp://host/drs", "drs.eu-de.otc.t-systems.com", "https://", "https://h:99999"])
def test_bad_endpoint_urls_are_refused(url: str) -> None:
    with pytest.raises(InputError):
        resolve_endpoint(url, None)


def test_endpoint_with_embedded_password_is_refused_without_echoing_it() -> None:
    with pytest.raises(InputError) as caught:
        resolve_endpoint("https://user:hunter2pass@host/", None)
    assert "hunter2pass" not in str(caught.value)


@pytest.mark.parametrize(("a", "b"), [
    ("https://DRS.eu-de.OTC.t-systems.com/", "https://drs.eu-de.otc.t-systems.com:443"),
    ("HTTP://127.0.0.1:8790/drs/", "http://127.0.0.1:8790/drs"),
    ("http://host", "http://host:80/"),
])
def test_normalised_endpoints_match_across_spellings(a: str, b: str) -> None:
    assert normalise_endpoint(a) == normalise_endpoint(b)


def test_normalised_endpoint_keeps_what_distinguishes_endpoints() -> None:
    assert normalise_endpoint("https://drs.eu-de.otc.t-systems.com") == "https://drs.eu-de.otc.t-systems.com:443"
    assert normalise_endpoint("http://h:8080/a") != normalise_endpoint("http://h:8081/a")
    assert normalise_endpoint("http://h/a") != normalise_endpoint("https://h/a")
    assert normalise_endpoint("http://h/drs") != normalise_endpoint("http://h/")


# -- project id and credential precedence ---------------------------------------------------

def test_project_id_option_beats_environment() -> None:
    env = {"OS_PROJECT_ID": "fromenv"}
    assert project_id_from("fromoption", env) == "fromoption"
    assert project_id_from(None, env) == "fromenv"
    with pytest.raises(InputError, match="OS_PROJECT_ID"):
        project_id_from(None, {})
    with pytest.raises(InputError):
        project_id_from("../other/v3", {})


PASSWORD_ENV = {"OS_AUTH_URL": "https://iam.example.com/v3", "OS_USERNAME": USER, "OS_PASSWORD": PASSWORD,
                "OS_USER_DOMAIN_NAME": DOMAIN}
AKSK_ENV = {"HUAWEICLOUD_SDK_AK": AK, "HUAWEICLOUD_SDK_SK": SK}


def test_token_comes_first() -> None:
    auth = auth_from_env({"OS_AUTH_TOKEN": TOKEN, **PASSWORD_ENV, **AKSK_ENV}, project_id=PROJECT)
    assert isinstance(auth, TokenAuth)


def test_password_variables_come_before_ak_sk() -> None:
    auth = auth_from_env({**PASSWORD_ENV, **AKSK_ENV}, project_id=PROJECT)
    assert isinstance(auth, PasswordAuth)
    assert auth.project_id == PROJECT


def test_os_domain_name_is_accepted_for_the_user_domain() -> None:
    env = {k: v for k, v in PASSWORD_ENV.items() if k != "OS_USER_DOMAIN_NAME"} | {"OS_DOMAIN_NAME": DOMAIN}
    auth = auth_from_env(env, project_id=PROJECT)
    assert isinstance(auth, PasswordAuth) and auth.domain == DOMAIN


def test_ak_sk_last_with_optional_security_token() -> None:
    auth = auth_from_env({**AKSK_ENV, "HUAWEICLOUD_SDK_SECURITY_TOKEN": "sts-secret"}, project_id=PROJECT)
    assert isinstance(auth, AkSkAuth)
    assert "sts-secret" not in repr(auth) and SK not in repr(auth)


def test_incomplete_password_set_names_what_is_missing_never_values() -> None:
    env = {"OS_AUTH_URL": "https://iam.example.com", "OS_PASSWORD": PASSWORD}
    with pytest.raises(InputError) as caught:
        auth_from_env(env, project_id=PROJECT)
    message = str(caught.value)
    assert "OS_USERNAME" in message and "OS_USER_DOMAIN_NAME" in message
    assert PASSWORD not in message


def test_incomplete_password_set_falls_through_to_ak_sk() -> None:
    auth = auth_from_env({"OS_AUTH_URL": "https://iam.example.com", **AKSK_ENV}, project_id=PROJECT)
    assert isinstance(auth, AkSkAuth)


def test_no_credentials_names_every_variable() -> None:
    with pytest.raises(InputError) as caught:
        auth_from_env({"OS_AUTH_TOKEN": "  "}, project_id=PROJECT)
    for name in ("OS_AUTH_TOKEN", "OS_AUTH_URL", "OS_USERNAME", "OS_PASSWORD", "HUAWEICLOUD_SDK_AK",
                 "HUAWEICLOUD_SDK_SK"):
        assert name in str(caught.value)


def test_half_an_ak_sk_pair_is_refused_without_its_value() -> None:
    with pytest.raises(InputError) as caught:
        auth_from_env({"HUAWEICLOUD_SDK_SK": SK}, project_id=PROJECT)
    assert SK not in str(caught.value)


@pytest.mark.parametrize(("auth_url", "expected"), [
    ("https://iam.eu-de.otc.t-systems.com", "https://iam.eu-de.otc.t-systems.com/v3/auth/tokens?nocatalog=true"),
    ("https://iam.eu-de.otc.t-systems.com/v3/", "https://iam.eu-de.otc.t-systems.com/v3/auth/tokens?nocatalog=true"),
    ("https://iam.example.com/identity", "https://iam.example.com/identity/v3/auth/tokens?nocatalog=true"),
])
def test_iam_url_with_or_without_v3(auth_url: str, expected: str) -> None:
    assert token_url(auth_url) == expected


# -- no secrets in reprs ----------------------------------------------------------------------

def test_reprs_hide_secrets() -> None:
    shown = " ".join([
        repr(TokenAuth(TOKEN)),
        repr(PasswordAuth("https://iam.example.com", USER, PASSWORD, DOMAIN, project_id=PROJECT)),
        repr(AkSkAuth(AK, SK, PROJECT, security_token="sts-secret")),
        repr(DrsClient("http://127.0.0.1:1", PROJECT, TokenAuth(TOKEN))),
    ])
    for secret in (TOKEN, PASSWORD, SK, "sts-secret"):
        assert secret not in shown
    assert AK in shown  # the access key id is not a secret; it tells the operator which key was used


# -- AK/SK signing ----------------------------------------------------------------------------

SIGNING_CASES = [
    ("POST", f"http://127.0.0.1:8790/v3/{PROJECT}/jobs/batch-creation", b'{"jobs": [{"name": "T-1"}]}'),
    ("DELETE", f"https://gw.example.com:10011/drs/v3/{PROJECT}/jobs/batch-jobs", b'{"jobs": []}'),
    ("POST", f"https://drs.eu-de.otc.t-systems.com/v3/{PROJECT}/jobs?b=2&a=1&a=0&z=%20x", b""),
    ("POST", f"http://h/v3/{PROJECT}/jobs", '{"description": "Zürich – 東京"}'.encode()),
]


def _headers(url: str, date: str, extra: dict | None = None) -> dict:
    headers = {"content-type": "application/json", "host": url.split("/")[2], "x-sdk-date": date,
               "x-project-id": PROJECT, "x-language": "en-us", "user-agent": "bulkimport/test"}
    return headers | (extra or {})


@pytest.mark.parametrize(("method", "url", "body"), SIGNING_CASES)
def test_own_signer_matches_the_official_sdk(method: str, url: str, body: bytes) -> None:
    pytest.importorskip("huaweicloudsdkcore.signer.signer")
    for extra in (None, {"x-security-token": "sts-token"}):
        headers = _headers(url, "20240102T030405Z", extra)
        sdk = sdk_authorization(AK, SK, method, url, headers, body)
        assert sdk is not None, "the SDK signer should work on a plain request"
        assert own_authorization(AK, SK, method, url, headers, body) == sdk


@pytest.mark.parametrize(("method", "url", "body"), SIGNING_CASES)
def test_own_signature_passes_an_independent_server_side_check(method: str, url: str, body: bytes) -> None:
    now = datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC)
    headers = _headers(url, "20240102T030405Z")
    headers["authorization"] = own_authorization(AK, SK, method, url, headers, body)
    path, _, query = url.split("/", 3)[3].partition("?")
    assert sim_signing.verify(method, "/" + path, query, headers, body, {AK: SK}, now=now) == AK
    with pytest.raises(sim_signing.SignatureError):
        sim_signing.verify(method, "/" + path, query, headers, body + b" ", {AK: SK}, now=now)


def test_signature_changes_with_the_secret_key() -> None:
    method, url, body = SIGNING_CASES[0]
    headers = _headers(url, "20240102T030405Z")
    assert own_authorization(AK, SK, method, url, headers, body) != own_authorization(AK, SK + "x", method, url,
                                                                                        headers, body)


def test_apply_signs_the_same_with_either_implementation() -> None:
    pytest.importorskip("huaweicloudsdkcore.signer.signer")
    fixed = datetime(2025, 6, 1, 12, 0, 0, tzinfo=UTC)
    values = []
    for use_sdk in (True, False):
        auth = AkSkAuth(AK, SK, PROJECT, security_token="sts-token", use_sdk=use_sdk, clock=lambda: fixed)
        prepared = requests.Request("POST", f"http://127.0.0.1:9/drs/v3/{PROJECT}/jobs/batch-creation",
                                    headers={"Content-Type": "application/json", "X-Language": "en-us"},
                                    data=b'{"jobs": []}').prepare()
        auth.apply(prepared)
        assert auth.signer_used == ("sdk" if use_sdk else "own")
        assert prepared.headers["X-Sdk-Date"] == "20250601T120000Z"
        assert prepared.headers["X-Project-Id"] == PROJECT
        assert prepared.headers["Host"] == "127.0.0.1:9"
        values.append(prepared.headers["Authorization"])
    assert values[0] == values[1]
    assert "SignedHeaders=content-type;host;x-language;x-project-id;x-sdk-date;x-security-token," in values[0]


@pytest.mark.parametrize("use_sdk", [True, False])
def test_ak_sk_requests_are_accepted_by_the_simulator(sim: Simulator, use_sdk: bool) -> None:
    with DrsClient(sim.base_url + "/drs", PROJECT, AkSkAuth(AK, SK, PROJECT, use_sdk=use_sdk)) as client:
        reply = client.send_batch([job("Signed-1")])
        assert reply.kind is ReplyKind.ACCEPTED and not reply.results[0].failed
        assert [t["name"] for t in client.find_tasks_by_name("signed-1", ["migration"])] == ["Signed-1"]
        client.batch_delete([(reply.results[0].id, "force_terminate")])
    assert {r["auth"] for r in sim.requests()} == {"aksk"}


def test_wrong_secret_key_is_rejected_not_retried(sim: Simulator) -> None:
    with DrsClient(sim.base_url, PROJECT, AkSkAuth(AK, "wrong-sk", PROJECT)) as client:
        reply = client.send_batch([job("Signed-2")])
    assert reply.kind is ReplyKind.REJECTED and reply.http_status == 401
    assert sim.tasks() == []


# -- token --------------------------------------------------------------------------------------

def test_token_auth_end_to_end(sim: Simulator) -> None:
    with DrsClient(sim.base_url, PROJECT, TokenAuth(TOKEN)) as client:
        assert client.send_batch([job("Token-1")]).kind is ReplyKind.ACCEPTED
    assert [t["name"] for t in sim.tasks()] == ["Token-1"]
    assert sim.requests()[-1]["auth"] == "token"


def test_expired_static_token_is_rejected_once_without_refresh(sim: Simulator) -> None:
    sim.set_faults(next=["token_expired"])
    with DrsClient(sim.base_url, PROJECT, TokenAuth(TOKEN)) as client:
        reply = client.send_batch([job("Token-2")])
    assert reply.kind is ReplyKind.REJECTED and reply.http_status == 401
    assert reply.error_msg and TOKEN not in reply.error_msg
    assert len(sim.requests()) == 1


# -- IAM password login -------------------------------------------------------------------------

def password_auth(sim: Simulator, auth_url: str | None = None, password: str = PASSWORD) -> PasswordAuth:
    return PasswordAuth(auth_url or sim.base_url, USER, password, DOMAIN, project_id=PROJECT)


def test_password_login_is_lazy_and_reused(sim: Simulator) -> None:
    auth = password_auth(sim)
    with DrsClient(sim.base_url, PROJECT, auth) as client:
        assert iam_calls(sim) == 0
        for n in range(3):
            assert client.send_batch([job(f"Pwd-{n}")]).kind is ReplyKind.ACCEPTED
    assert iam_calls(sim) == 1
    iam = next(r for r in sim.requests() if r["endpoint"] == "iam")
    assert iam["path"].endswith("/v3/auth/tokens?nocatalog=true")
    assert iam["body"]["auth"]["scope"] == {"project": {"id": PROJECT}}
    assert iam["body"]["auth"]["identity"]["methods"] == ["password"]


def test_password_auth_url_may_end_with_v3(sim: Simulator) -> None:
    with DrsClient(sim.base_url, PROJECT, password_auth(sim, sim.base_url + "/v3/")) as client:
        assert client.send_batch([job("Pwd-v3")]).kind is ReplyKind.ACCEPTED


def test_password_token_is_refreshed_after_it_expires(sim: Simulator) -> None:
    sim.set_faults(token_ttl_requests=2)
    auth = password_auth(sim)
    with DrsClient(sim.base_url, PROJECT, auth) as client:
        kinds = [client.send_batch([job(f"Ttl-{n}")]).kind for n in range(5)]
        assert client.batch_status([t["id"] for t in sim.tasks()])
    assert kinds == [ReplyKind.ACCEPTED] * 5
    assert len(sim.tasks()) == 5
    assert iam_calls(sim) >= 3  # first login plus one per expiry
    assert sum(1 for r in sim.requests() if r["status"] == 401) == iam_calls(sim) - 1


def test_token_is_renewed_before_iam_says_it_expires() -> None:
    now = [1_800_000_000.0]
    with Simulator(token=TOKEN, faults=FaultConfig(transition_delay=0), iam_user=USER, iam_password=PASSWORD,
                   iam_domain=DOMAIN, clock=lambda: now[0]) as server:
        auth = PasswordAuth(server.base_url, USER, PASSWORD, DOMAIN, project_id=PROJECT, clock=lambda: now[0])
        auth.login()
        with DrsClient(server.base_url, PROJECT, auth) as client:
            now[0] += 23 * 3600
            assert client.send_batch([job("Renew-1")]).kind is ReplyKind.ACCEPTED
            assert auth.fetch_count == 1
            now[0] += 3600 - 60  # a minute before the announced expiry
            assert client.send_batch([job("Renew-2")]).kind is ReplyKind.ACCEPTED
            assert auth.fetch_count == 2
        assert all(r["status"] != 401 for r in server.requests())


def test_login_up_front_reports_bad_credentials_before_anything_is_sent(sim: Simulator) -> None:
    with pytest.raises(AuthError):
        password_auth(sim, password="wrong").login()
    assert [r["endpoint"] for r in sim.requests()] == ["iam"]


def test_wrong_password_ends_with_an_auth_error_that_hides_it(sim: Simulator) -> None:
    auth = password_auth(sim, password="not-the-password")
    with DrsClient(sim.base_url, PROJECT, auth) as client, pytest.raises(AuthError) as caught:
        client.send_batch([job("Pwd-bad")])
    assert "not-the-password" not in str(caught.value) and "401" in str(caught.value)
    assert sim.tasks() == []


def test_unreachable_iam_means_nothing_was_sent() -> None:
    port = closed_port()
    auth = PasswordAuth(f"http://127.0.0.1:{port}", USER, PASSWORD, DOMAIN, project_id=PROJECT)
    with DrsClient(f"http://127.0.0.1:{port}", PROJECT, auth) as client:
        reply = client.send_batch([job("Iam-down")])
    assert reply.kind is ReplyKind.RETRY_SAFE
    assert PASSWORD not in (reply.error_msg or "")


def test_concurrent_401s_cost_one_login(sim: Simulator) -> None:
    """Two threads holding the same stale token both ask for a refresh; only one logs in."""
    auth = password_auth(sim)
    prepared = [requests.Request("POST", sim.base_url).prepare() for _ in range(2)]
    applied = threading.Barrier(2)
    refreshed: list[bool] = []

    def worker(request: requests.PreparedRequest) -> None:
        auth.apply(request)
        applied.wait()
        refreshed.append(auth.refresh())

    threads = [threading.Thread(target=worker, args=(p,)) for p in prepared]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert refreshed == [True, True]
    assert auth.fetch_count == 2  # the first login, then exactly one refresh


def closed_port() -> int:
    """A loopback port nobody listens on: connecting to it is refused."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]
