"""No secret in any output: the token, IAM password, database and SSL certificate passwords and
keys never reach stdout, stderr, logs, the ledger, the dry-run file or any workbook.

Each run below uses secrets with distinctive values, then searches every stream and every
file the run produced (workbooks unzipped, the SQLite ledger with its WAL, JSON files).
"""

from __future__ import annotations

import base64
import logging
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from test_submit import PROJECT, env, make_book, options, task_row

from bulkimport.simulator import FaultConfig, Simulator
from bulkimport.submit import submit_workbook

REPO = Path(__file__).resolve().parent.parent
TOKEN = "tok-SECRET-" + "Qw7Lp2" * 6
DB_PASSWORD = "pw-SECRET-literal-9Hq"
ENV_PASSWORD = "pw-SECRET-from-env-4Kd"
SSL_PASSWORD = "pw-SECRET-p12-8Vn"
SSL_KEY = base64.b64encode(b"-----BEGIN PRIVATE KEY----- SECRET-KEY-MATERIAL-3Zx").decode()
IAM_PASSWORD = "pw-SECRET-iam-5Rt"
SECRETS = (TOKEN, DB_PASSWORD, ENV_PASSWORD, SSL_PASSWORD, SSL_KEY, IAM_PASSWORD)


def secret_rows() -> list[dict]:
    ssl = {"source_endpoint.ssl_link": True, "source_endpoint.ssl_cert_name": "client.p12",
           "source_endpoint.ssl_cert_check_sum": "9f86d081884c7d65", "source_endpoint.ssl_cert_key": SSL_KEY,
           "source_endpoint.ssl_cert_password": SSL_PASSWORD}
    return [
        task_row("secret-one", **{"source_endpoint.db_password": DB_PASSWORD,
                                  "target_endpoint.db_password": "env:TGT_SECRET_PW"}, **ssl),
        task_row("secret-two", **{"source_endpoint.db_password": DB_PASSWORD}),
        task_row("secret-three", **{"source_endpoint.db_password": DB_PASSWORD}, **ssl),
        task_row("secret-bad", bind_eip=False, **{"source_endpoint.db_password": DB_PASSWORD,  # INVALID
                                                  "target_endpoint.db_password": "env:TGT_SECRET_PW"}, **ssl),
    ]


def file_texts(root: Path) -> dict[str, bytes]:
    """Every file under root, zip members expanded (xlsx are zip archives)."""
    found: dict[str, bytes] = {}
    for path in root.rglob("*"):
        if not path.is_file() or path.name == "in.xlsx" or path.name == "sim.sqlite":
            continue
        data = path.read_bytes()
        found[str(path)] = data
        if zipfile.is_zipfile(path):
            with zipfile.ZipFile(path) as archive:
                for member in archive.namelist():
                    found[f"{path}!{member}"] = archive.read(member)
    return found


def assert_no_secret(texts: dict[str, bytes]) -> None:
    for where, data in texts.items():
        for secret in SECRETS:
            assert secret.encode() not in data, f"a secret leaked into {where}"


def run_cli(args: list[str], cwd: Path, extra_env: dict[str, str]) -> subprocess.CompletedProcess:
    process_env = {k: v for k, v in os.environ.items() if not k.startswith(("OS_", "HUAWEICLOUD_"))}
    process_env.update(PYTHONPATH=str(REPO), **extra_env)
    return subprocess.run([sys.executable, "-m", "bulkimport", *args], cwd=cwd, env=process_env,
                          capture_output=True, text=True, timeout=180)


@pytest.fixture
def sim(tmp_path: Path):
    faults = FaultConfig(transition_delay=0, retry_after=0)
    with Simulator(token=TOKEN, faults=faults, state_path=tmp_path / "sim.sqlite") as server:
        yield server


def test_no_secret_in_any_stream_or_file_of_dry_run_submit_and_rerun(sim: Simulator, tmp_path: Path) -> None:
    work = tmp_path / "work"
    work.mkdir()
    book = make_book(work / "in.xlsx", secret_rows())
    # The server echoes a password in an error message: the tool must not repeat it.
    import bulkimport.simulator.drs as sim_drs

    original = sim_drs.ITEM_FAILURE_REASON
    sim_drs.ITEM_FAILURE_REASON = ("DRS.M05066", f"login failed for password {DB_PASSWORD}")
    try:
        sim.set_faults(next=["500", "ok", "item_failure"])
        common = ["--endpoint", sim.base_url, "--project-id", PROJECT, "--batch-size", "1", "--concurrency", "1",
                  "--yes", "--json", "--retry-delay", "0.01"]
        secrets_env = {"OS_AUTH_TOKEN": TOKEN, "TGT_SECRET_PW": ENV_PASSWORD}
        runs = [
            run_cli(["submit", str(book), *common, "--dry-run", "--out", "reports/dry.xlsx"], work, secrets_env),
            run_cli(["submit", str(book), *common, "--out", "reports/first.xlsx"], work, secrets_env),
            # second run with IAM password login instead of a token
            run_cli(["submit", str(book), *common, "--out", "reports/second.xlsx"], work,
                    {"OS_AUTH_URL": sim.base_url, "OS_USERNAME": "sim-user", "OS_PASSWORD": "sim-password",
                     "OS_USER_DOMAIN_NAME": "sim-domain", "TGT_SECRET_PW": ENV_PASSWORD}),
            # a refused IAM login: the error names the URL and status, never the password
            run_cli(["submit", str(book), *common, "--out", "reports/third.xlsx", "--ledger", "reports/l2.sqlite"],
                    work,
                    {"OS_AUTH_URL": sim.base_url, "OS_USERNAME": "sim-user", "OS_PASSWORD": IAM_PASSWORD,
                     "OS_USER_DOMAIN_NAME": "sim-domain", "TGT_SECRET_PW": ENV_PASSWORD}),
        ]
    finally:
        sim_drs.ITEM_FAILURE_REASON = original

    assert [r.returncode for r in runs[:3]] == [1, 1, 1], [r.stderr for r in runs]
    assert runs[3].returncode == 2 and "Traceback" not in runs[3].stderr
    streams = {f"run{i}.{name}": getattr(r, name).encode() for i, r in enumerate(runs) for name in ("stdout", "stderr")}
    assert_no_secret(streams)
    files = file_texts(work)
    assert any(name.endswith("ledger.sqlite") for name in files)
    assert any(name.endswith("-requests.json") for name in files)
    assert any(name.endswith("first-failed.xlsx") for name in files)
    assert_no_secret(files)
    # The env: reference is not a secret and survives, so the failed rows can be resubmitted.
    assert any(b"env:TGT_SECRET_PW" in data for name, data in files.items() if "first-failed.xlsx!" in name)
    # The server did get the real secrets (the tool did send them).
    assert any(t["name"] == "secret-one" for t in sim.tasks())


def test_no_secret_in_debug_logs(sim: Simulator, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    sim.set_faults(next=["lost_response", "429"])
    book = make_book(tmp_path / "in.xlsx", secret_rows())
    outcome = submit_workbook(book, options(sim, tmp_path, batch_size=2), env=env(sim, TGT_SECRET_PW=ENV_PASSWORD))
    assert outcome.counts() == {"CREATED": 3, "INVALID": 1}
    text = "\n".join(f"{r.getMessage()} {r.args!r}" for r in caplog.records).encode()
    assert caplog.records  # the client did log at DEBUG
    assert_no_secret({"logs": text, "json": repr(outcome.to_json()).encode(), "repr": repr(outcome).encode()})


def test_no_secret_in_any_stream_or_file_of_prepare_start_and_status(sim: Simulator, tmp_path: Path,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """The launch sends the database passwords again (batch-connection): none of them, nor the
    token, reaches a stream, the ledger, a workbook or a report of prepare, start or status,
    even when the server repeats a password in a connection error."""
    import bulkimport.simulator.launch as sim_launch
    from bulkimport.simulator.testing import alarm_precheck, fail_precheck, fast_launch_faults

    sim.set_faults(**fast_launch_faults(retry_after=0))
    work = tmp_path / "work"
    work.mkdir()
    launch = {"target_endpoint.ip": "10.1.0.7", "target_endpoint.db_port": 3306, "target_endpoint.db_user": "root",
              "target_endpoint.db_password": "env:TGT_SECRET_PW"}

    def rows(third_password: str) -> list[dict]:
        return [task_row("launch-one", **{"source_endpoint.db_password": DB_PASSWORD, **launch}),
                task_row("launch-two", **{"source_endpoint.db_password": DB_PASSWORD, **launch}),
                task_row("launch-three", **{"source_endpoint.db_password": third_password, **launch})]

    book = make_book(work / "in.xlsx", rows(DB_PASSWORD))
    secrets_env = {"OS_AUTH_TOKEN": TOKEN, "TGT_SECRET_PW": ENV_PASSWORD}
    common = ["--endpoint", sim.base_url, "--project-id", PROJECT]
    submitted = run_cli(["submit", str(book), *common, "--yes", "--out", "reports/submitted.xlsx"], work, secrets_env)
    assert submitted.returncode == 0, submitted.stderr
    alarm_precheck(sim, "launch-one")
    fail_precheck(sim, "launch-two")
    # launch-three's source password is now wrong, and the server echoes the one it knows
    monkeypatch.setattr(sim_launch, "BAD_CREDENTIALS", ("DRS.KE0002", f"password {DB_PASSWORD} expected"))
    changed = make_book(work / "in-changed.xlsx", rows(DB_PASSWORD + "-new"))
    runs = [
        run_cli(["prepare", str(changed), *common, "--json", "--interval", "0.05", "--out", "reports/prepared.xlsx"],
                work, secrets_env),
        run_cli(["start", "reports/prepared.xlsx", *common, "--yes", "--json", "--out", "reports/started.xlsx"],
                work, secrets_env),
        run_cli(["status", "reports/started.xlsx", *common, "--json", "--out", "reports/running.xlsx"],
                work, secrets_env),
    ]
    assert [r.returncode for r in runs] == [1, 1, 0], [r.stderr for r in runs]
    assert "DRS.KE0002" in runs[0].stdout and "******" in runs[0].stdout  # the echo was scrubbed, not dropped
    streams = {f"run{i}.{name}": getattr(r, name).encode() for i, r in enumerate(runs) for name in ("stdout", "stderr")}
    assert_no_secret(streams)
    files = {n: d for n, d in file_texts(work).items() if "in-changed.xlsx" not in n}
    assert any(name.endswith("prepared.xlsx") for name in files)
    assert any(name.endswith("ledger.sqlite") for name in files)
    assert_no_secret(files)
    # the passwords did reach the server's connection tests (the tool did send them)
    assert [r for r in sim.requests() if r["endpoint"] == "connect"]
