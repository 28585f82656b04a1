"""OpenStack-style configuration (issue 13.9): `--os-cloud NAME` / `OS_CLOUD` read through
openstack.config from clouds.yaml (and secure.yaml), after OS_AUTH_TOKEN and the OS_* variables,
end to end against the simulator's IAM over HTTP."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from test_submit import PROJECT, make_book, server_tasks, task_row

from bulkimport.cli import main
from bulkimport.simulator import FaultConfig, Simulator

USER, PASSWORD, DOMAIN = "dba-jane", "Cl0uds-Yaml-Pa55word", "OTC-EU-DE-000001"
TOKEN = "tok-" + "Cl0udY" * 5
CLEARED = ("OS_AUTH_TOKEN", "OS_AUTH_URL", "OS_USERNAME", "OS_PASSWORD", "OS_USER_DOMAIN_NAME", "OS_DOMAIN_NAME",
           "OS_PROJECT_ID", "OS_PROJECT_NAME", "OS_CLOUD", "OS_REGION_NAME", "OS_CLIENT_CONFIG_FILE",
           "OS_CLIENT_SECURE_FILE", "HUAWEICLOUD_SDK_AK", "HUAWEICLOUD_SDK_SK")


@pytest.fixture
def sim(monkeypatch: pytest.MonkeyPatch):
    for name in CLEARED:
        monkeypatch.delenv(name, raising=False)
    with Simulator(token=TOKEN, iam_user=USER, iam_password=PASSWORD, iam_domain=DOMAIN,
                   faults=FaultConfig(transition_delay=0, retry_after=0)) as server:
        yield server


def write_clouds(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, clouds: dict, secure: dict | None = None) -> Path:
    """clouds.yaml (JSON is YAML) where the loader looks first: OS_CLIENT_CONFIG_FILE."""
    path = tmp_path / "clouds.yaml"
    path.write_text(json.dumps({"clouds": clouds}))
    monkeypatch.setenv("OS_CLIENT_CONFIG_FILE", str(path))
    if secure is not None:
        secure_path = tmp_path / "secure.yaml"
        secure_path.write_text(json.dumps({"clouds": secure}))
        monkeypatch.setenv("OS_CLIENT_SECURE_FILE", str(secure_path))
    return path


def password_cloud(sim: Simulator, **auth: str) -> dict:
    values = {"auth_url": f"{sim.base_url}/v3", "username": USER, "password": PASSWORD, "user_domain_name": DOMAIN,
              "project_id": PROJECT}
    values.update(auth)
    return {"auth": {k: v for k, v in values.items() if v}, "region_name": "eu-de"}


def submit(capsys: pytest.CaptureFixture[str], sim: Simulator, tmp_path: Path, *extra: str,
           prefix: str = "cloud") -> tuple[int, str]:
    book = make_book(tmp_path / "in.xlsx", [task_row(f"{prefix}-a"), task_row(f"{prefix}-b")])
    capsys.readouterr()
    with pytest.raises(SystemExit) as stop:
        main(["submit", str(book), "--endpoint", sim.base_url, "--yes", "--out", str(tmp_path / "r.xlsx"),
              "--ledger", str(tmp_path / "l.sqlite"), "--report-dir", str(tmp_path / "rep"), "--retry-delay",
              "0.001", *extra])
    return int(stop.value.code or 0), capsys.readouterr().err


def iam_calls(sim: Simulator) -> list[dict]:
    return [r for r in sim.requests() if r["endpoint"] == "iam"]


def test_os_cloud_logs_in_to_iam_with_the_clouds_yaml_password(
        sim: Simulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    write_clouds(tmp_path, monkeypatch, {"otc-sim": password_cloud(sim)})
    code, err = submit(capsys, sim, tmp_path, "--os-cloud", "otc-sim")
    assert code == 0, err
    assert len(server_tasks(sim)) == 2
    assert iam_calls(sim) and all(r["status"] == 201 for r in iam_calls(sim))
    assert "OS_CLOUD" not in os.environ  # --os-cloud holds for that run only
    assert PASSWORD not in err and PASSWORD not in (tmp_path / "l.sqlite").read_bytes().decode("latin-1")


def test_os_cloud_environment_variable_and_secure_yaml_password(
        sim: Simulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    """The password kept apart in secure.yaml is merged by the loader, as the openstack CLI does."""
    write_clouds(tmp_path, monkeypatch, {"otc-sim": password_cloud(sim, password="")},
                 secure={"otc-sim": {"auth": {"password": PASSWORD}}})
    monkeypatch.setenv("OS_CLOUD", "otc-sim")
    code, err = submit(capsys, sim, tmp_path)
    assert code == 0, err
    assert len(server_tasks(sim)) == 2 and iam_calls(sim)


def test_token_auth_from_clouds_yaml(sim: Simulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                     capsys: pytest.CaptureFixture[str]) -> None:
    write_clouds(tmp_path, monkeypatch, {"tok": {"auth_type": "token", "auth": {
        "auth_url": f"{sim.base_url}/v3", "token": TOKEN, "project_id": PROJECT}}})
    code, err = submit(capsys, sim, tmp_path, "--os-cloud", "tok")
    assert code == 0, err
    assert len(server_tasks(sim)) == 2 and not iam_calls(sim)  # the token is used as it is
    assert TOKEN not in err


def test_os_auth_token_and_os_variables_come_before_the_cloud(
        sim: Simulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    """A cloud with a wrong password is never used while OS_AUTH_TOKEN or a complete OS_* set is there."""
    write_clouds(tmp_path, monkeypatch, {"otc-sim": password_cloud(sim, password="wrong-password-1")})
    monkeypatch.setenv("OS_AUTH_TOKEN", TOKEN)
    code, err = submit(capsys, sim, tmp_path, "--os-cloud", "otc-sim")
    assert code == 0, err
    assert not iam_calls(sim)

    monkeypatch.delenv("OS_AUTH_TOKEN")
    for name, value in (("OS_AUTH_URL", f"{sim.base_url}/v3"), ("OS_USERNAME", USER), ("OS_PASSWORD", PASSWORD),
                        ("OS_USER_DOMAIN_NAME", DOMAIN)):
        monkeypatch.setenv(name, value)
    code, err = submit(capsys, sim, tmp_path / "again", "--os-cloud", "otc-sim", prefix="again")
    assert code == 0, err
    assert iam_calls(sim) and all(r["status"] == 201 for r in iam_calls(sim))  # the env's password, not the file's


def test_the_clouds_region_stands_in_for_region(sim: Simulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    write_clouds(tmp_path, monkeypatch, {"otc": password_cloud(sim)})
    book = make_book(tmp_path / "in.xlsx", [task_row("cloud-a")])
    with pytest.raises(SystemExit) as stop:
        main(["submit", str(book), "--os-cloud", "otc", "--dry-run", "--out", str(tmp_path / "d.xlsx"),
              "--report-dir", str(tmp_path / "rep")])
    assert stop.value.code == 0, capsys.readouterr().err
    url = json.loads((tmp_path / "d-requests.json").read_text())["url"]
    assert url == f"https://drs.eu-de.otc.t-systems.com/v3/{PROJECT}/jobs/batch-creation"


@pytest.mark.parametrize(("clouds", "name", "fragment"), [
    ({}, "nowhere", "no such cloud"),
    ({"half": {"auth": {"auth_url": "http://127.0.0.1:9/v3", "username": USER}}}, "half", "auth.password"),
])
def test_an_unusable_cloud_is_one_line_and_nothing_is_sent(
        sim: Simulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
        clouds: dict, name: str, fragment: str) -> None:
    write_clouds(tmp_path, monkeypatch, clouds)
    code, err = submit(capsys, sim, tmp_path, "--os-cloud", name)
    assert code == 2
    assert err.count("\n") == 1 and err.startswith("bulkimport: error: --os-cloud ") and fragment in err, err
    assert sim.requests() == []


def test_a_clouds_yaml_that_is_not_yaml_is_one_line(sim: Simulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "clouds.yaml"
    path.write_text("clouds: [unclosed\n  : :")
    monkeypatch.setenv("OS_CLIENT_CONFIG_FILE", str(path))
    code, err = submit(capsys, sim, tmp_path, "--os-cloud", "x")
    assert code == 2
    assert err.count("\n") == 1 and err.startswith("bulkimport: error: --os-cloud x: ") and "Traceback" not in err, err
    assert sim.requests() == []
