"""Campaign integrity (issue 12): one run per ledger, the results workbook as the campaign's
handle, credentials only where the operator said - against the simulator over real HTTP."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from test_submit import PROJECT, TOKEN, create_requests, env, make_book, names, options, task_row

from bulkimport.simulator import FaultConfig, Simulator
from bulkimport.submit import submit_workbook

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture
def sim():
    with Simulator(token=TOKEN, faults=FaultConfig(transition_delay=0, retry_after=0)) as server:
        yield server


def cli_env(token: str) -> dict[str, str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("OS_", "HUAWEICLOUD_"))}
    return {**clean, "OS_AUTH_TOKEN": token, "PYTHONPATH": str(REPO)}


def run_cli(tmp_path: Path, token: str, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "bulkimport", *args], cwd=tmp_path, env=cli_env(token),
                          capture_output=True, text=True, timeout=120)


# -- 12.1 one campaign, one run at a time -------------------------------------------------------

def test_a_second_run_on_the_same_ledger_stops_in_one_line_and_sends_nothing(sim: Simulator,
                                                                              tmp_path: Path) -> None:
    book = make_book(tmp_path / "in.xlsx", [task_row(n) for n in names(12)])
    holding, release = threading.Event(), threading.Event()

    def confirm(plan: object) -> bool:  # the first run holds the ledger at its confirmation prompt
        holding.set()
        assert release.wait(60)
        return True

    first: dict[str, object] = {}
    thread = threading.Thread(target=lambda: first.update(outcome=submit_workbook(
        book, options(sim, tmp_path), env=env(sim), confirm=confirm)))
    thread.start()
    try:
        assert holding.wait(60)
        second = run_cli(tmp_path, sim.token, "submit", str(book), "--endpoint", sim.base_url, "--project-id",
                         PROJECT, "--ledger", str(tmp_path / "ledger.sqlite"), "--out", str(tmp_path / "two.xlsx"),
                         "--yes")
        assert not create_requests(sim)  # nothing sent by either run yet
    finally:
        release.set()
        thread.join(60)
    assert second.returncode == 2, second.stderr
    lines = second.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("bulkimport: error: ledger in use by another bulkimport run (pid ")
    assert f"(pid {os.getpid()})" in lines[0]
    assert first["outcome"].exit_code == 0  # the first run went on undisturbed
    assert sum(r["jobs"] for r in create_requests(sim)) == 12


def test_follow_up_commands_wait_for_no_one_they_stop_when_the_ledger_is_held(sim: Simulator,
                                                                                 tmp_path: Path) -> None:
    from bulkimport.ledger import ledger_lock

    book = make_book(tmp_path / "in.xlsx", [task_row(n) for n in names(3)])
    outcome = submit_workbook(book, options(sim, tmp_path), env=env(sim))
    assert outcome.exit_code == 0
    before = len(sim.requests())
    with ledger_lock(tmp_path / "ledger.sqlite"):
        for command, workbook in ((["status"], outcome.results_path), (["rollback", "--yes"], outcome.results_path),
                                  (["prepare"], book), (["start", "--yes"], book)):
            done = run_cli(tmp_path, sim.token, *command, str(workbook), "--endpoint", sim.base_url,
                           "--project-id", PROJECT, "--ledger", str(tmp_path / "ledger.sqlite"))
            assert done.returncode == 2, done.stderr
            assert done.stderr.strip().splitlines() == [
                f"bulkimport: error: ledger in use by another bulkimport run (pid {os.getpid()}): "
                f"{tmp_path / 'ledger.sqlite'}"]
    assert len(sim.requests()) == before  # nothing sent


# -- 12.4 / 13.2 the results workbook is the handle; credentials follow the operator ----------------

class Trap:
    """A second loopback HTTP server that records whatever reaches it (it should get nothing)."""

    def __init__(self) -> None:
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        self.seen: list[dict[str, str]] = []
        trap = self

        class Handler(BaseHTTPRequestHandler):
            def _any(self) -> None:
                trap.seen.append({"path": self.path, **dict(self.headers)})
                self.send_response(500)
                self.send_header("Content-Length", "0")
                self.end_headers()

            do_GET = do_POST = do_DELETE = do_PUT = _any

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def trap():
    server = Trap()
    yield server
    server.close()


def set_fact(path: Path, key: str, value: str) -> None:
    import openpyxl

    book = openpyxl.load_workbook(path)
    for row in book["Summary"].iter_rows():
        if row[0].value == key:
            row[1].value = value
    book.save(path)


def submitted(sim: Simulator, tmp_path: Path, ledger: Path, n: int = 3, prefix: str = "task"):
    book = make_book(tmp_path / f"{prefix}.xlsx", [task_row(x) for x in names(n, prefix)])
    outcome = submit_workbook(book, options(sim, tmp_path, ledger=ledger, out=tmp_path / f"{prefix}-results.xlsx"),
                              env=env(sim))
    assert outcome.exit_code == 0
    return outcome


def test_the_results_workbook_records_its_ledger_and_campaign(sim: Simulator, tmp_path: Path) -> None:
    from bulkimport.ledger import Ledger
    from bulkimport.report import read_summary_facts

    outcome = submitted(sim, tmp_path, tmp_path / "camp" / "wave.sqlite")
    facts = read_summary_facts(outcome.results_path)
    with Ledger(tmp_path / "camp" / "wave.sqlite") as ledger:
        assert facts.campaign_id == ledger.recorded_campaign_id() and len(facts.campaign_id) == 32
    assert facts.ledger == str((tmp_path / "camp" / "wave.sqlite").resolve())
    assert facts.endpoint == sim.base_url and facts.project_id == PROJECT


def test_status_and_rollback_find_the_campaign_ledger_without_being_told(sim: Simulator, tmp_path: Path) -> None:
    outcome = submitted(sim, tmp_path, tmp_path / "camp" / "wave.sqlite")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()  # no reports/ledger.sqlite here: only the recorded ledger can be meant
    status = run_cli(elsewhere, sim.token, "status", str(outcome.results_path), "-q")
    assert status.returncode in (0, 3), status.stderr
    rollback = run_cli(elsewhere, sim.token, "rollback", str(outcome.results_path), "--yes", "-q",
                       "--interval", "0.01")
    assert rollback.returncode == 0, rollback.stderr
    assert "3 tasks deleted, 0 failed to delete" in rollback.stderr
    assert not (elsewhere / "reports" / "ledger.sqlite").exists()


def test_another_campaigns_ledger_is_refused_in_one_line(sim: Simulator, tmp_path: Path) -> None:
    ours = submitted(sim, tmp_path, tmp_path / "ours.sqlite", prefix="ours")
    submitted(sim, tmp_path, tmp_path / "theirs.sqlite", prefix="theirs")
    before = len(sim.requests())
    for command in (["status"], ["rollback", "--yes"]):
        done = run_cli(tmp_path, sim.token, *command, str(ours.results_path), "--ledger",
                       str(tmp_path / "theirs.sqlite"))
        assert done.returncode == 2, done.stderr
        [line] = done.stderr.strip().splitlines()
        assert line.startswith(f"bulkimport: error: the ledger {tmp_path / 'theirs.sqlite'} is not this workbook's")
    assert len(sim.requests()) == before


def test_a_tampered_workbook_never_sends_credentials_where_it_says(sim: Simulator, tmp_path: Path,
                                                                    trap: Trap) -> None:
    outcome = submitted(sim, tmp_path, tmp_path / "ledger.sqlite")
    tampered = tmp_path / "tampered.xlsx"
    tampered.write_bytes(outcome.results_path.read_bytes())
    set_fact(tampered, "endpoint", trap.url)

    refused = run_cli(tmp_path, sim.token, "status", str(tampered))
    assert refused.returncode == 2, refused.stderr
    [line] = refused.stderr.strip().splitlines()
    assert f"records the endpoint {trap.url}" in line and sim.base_url in line and "--force" in line
    # With --force the run goes where the campaign's ledger has sent, never where the workbook says.
    forced = run_cli(tmp_path, sim.token, "status", str(tampered), "--force", "-q")
    assert forced.returncode in (0, 3), forced.stderr
    # Without any ledger, the workbook alone cannot choose: the operator must say.
    set_fact(tampered, "ledger", str(tmp_path / "nowhere.sqlite"))
    alone = run_cli(tmp_path, sim.token, "status", str(tampered), "--ledger", str(tmp_path / "none.sqlite"))
    assert alone.returncode == 2 and "give --endpoint URL or --region REGION" in alone.stderr
    assert trap.seen == []


def test_plain_http_to_another_machine_is_refused_unless_insecure(sim: Simulator, tmp_path: Path) -> None:
    from bulkimport.errors import InputError
    from bulkimport.target import check_transport, cloud_target

    with pytest.raises(InputError, match="plain http:// to another machine"):
        cloud_target(endpoint="http://drs.example.com", region=None, project_id=PROJECT,
                     env={"OS_AUTH_TOKEN": "x" * 10})
    with pytest.raises(InputError, match="OS_AUTH_URL"):
        cloud_target(endpoint="https://drs.example.com", region=None, project_id=PROJECT,
                     env={"OS_AUTH_URL": "http://iam.example.com/v3", "OS_USERNAME": "u", "OS_PASSWORD": "p",
                          "OS_USER_DOMAIN_NAME": "d"})
    check_transport("http://drs.example.com", True, "the endpoint")  # --insecure: the operator insists
    for url in ("http://127.0.0.1:1", "http://[::1]:8080", "http://localhost", "https://drs.example.com"):
        check_transport(url, False, "the endpoint")
    book = make_book(tmp_path / "in.xlsx", [task_row("one-task")])
    done = run_cli(tmp_path, sim.token, "submit", str(book), "--endpoint", "http://10.11.12.13:8080",
                   "--project-id", PROJECT, "--yes")
    assert done.returncode == 2 and "plain http://" in done.stderr


# -- 12.3 a row is not given up while the service is only throttling -------------------------------

FAULT_MIX = dict(error_500_rate=0.15, rate_429=0.15, reset_rate=0.15, retry_after=0, faults_on_queries=True,
                 transition_delay=0)


@pytest.mark.parametrize("seed", range(20))
def test_throttling_and_transient_faults_never_give_a_row_up(tmp_path: Path, seed: int) -> None:
    from test_submit import assert_created_once

    from bulkimport.submit import SubmitOptions

    wanted = names(20, f"s{seed}")
    with Simulator(token=TOKEN, seed=seed, faults=FaultConfig(**FAULT_MIX)) as server:
        book = make_book(tmp_path / "in.xlsx", [task_row(n) for n in wanted])
        outcome = submit_workbook(book, options(server, tmp_path, batch_size=5, concurrency=4,
                                                max_attempts=SubmitOptions().max_attempts,
                                                max_retry_time=SubmitOptions().max_retry_time),
                                  env=env(server))
        assert outcome.exit_code == 0, [(r.name, r.result, r.error_msg) for r in outcome.rows
                                        if r.result != "CREATED"]
        assert_created_once(server, wanted)


@pytest.mark.parametrize("run", range(4))
def test_a_401_on_a_token_other_threads_renewed_means_renew_again(tmp_path: Path, run: int) -> None:
    wanted = names(40, f"r{run}")
    with Simulator(token=TOKEN, seed=run, faults=FaultConfig(transition_delay=0, token_ttl_requests=3)) as server:
        book = make_book(tmp_path / "in.xlsx", [task_row(n) for n in wanted])
        password_env = {"OS_AUTH_URL": server.base_url, "OS_USERNAME": "sim-user", "OS_PASSWORD": "sim-password",
                        "OS_USER_DOMAIN_NAME": "sim-domain"}
        outcome = submit_workbook(book, options(server, tmp_path, batch_size=2, concurrency=4), env=password_env)
        assert outcome.exit_code == 0, outcome.message
        assert {r.result for r in outcome.rows} == {"CREATED"}


# -- 12.2 adopt only what is ours ------------------------------------------------------------------

def _left_unknown(server: Simulator, tmp_path: Path, name: str):
    """A run whose request was reset and whose look-ups then failed: the row is UNKNOWN."""
    server.set_faults(next=["reset", *["list:500"] * 200])
    book = make_book(tmp_path / "in.xlsx", [task_row(name)])
    outcome = submit_workbook(book, options(server, tmp_path, max_retry_time=0.2), env=env(server))
    assert [r.result for r in outcome.rows] == ["UNKNOWN"]
    server.set_faults(next=[])
    return book


def _colleague_creates(server: Simulator, job: dict) -> str:
    from bulkimport.drs import DrsClient, TokenAuth

    with DrsClient(server.base_url, PROJECT, TokenAuth(server.token)) as client:
        reply = client.send_batch([job])
    assert reply.results and reply.results[0].id
    return reply.results[0].id


def _wire(name: str, **changes: object) -> dict:
    from bulkimport import payload

    return payload.build_job(task_row(name, **changes), secrets=payload.Secrets.RESOLVE, env={})


@pytest.mark.parametrize("how", ["created later", "different source"])
def test_a_colleagues_task_of_the_same_name_is_never_adopted(tmp_path: Path, how: str) -> None:
    import time as time_mod

    from bulkimport.rollback import plan_rollback
    from bulkimport.status import follow_up_target

    offset = [0.0]
    with Simulator(token=TOKEN, faults=FaultConfig(transition_delay=0),
                   clock=lambda: time_mod.time() + offset[0]) as server:
        book = _left_unknown(server, tmp_path, "shared-name")
        if how == "created later":  # the same job, but an hour after our request ended
            offset[0] = 3600.0
            theirs = _colleague_creates(server, _wire("shared-name"))
            offset[0] = 0.0
        else:  # at once, but not what we sent
            theirs = _colleague_creates(server, _wire("shared-name", **{"source_endpoint.ip": "10.9.9.9"}))
        again = submit_workbook(book, options(server, tmp_path, out=tmp_path / "again.xlsx"), env=env(server))
        [row] = again.rows
        assert row.result == "REJECTED" and row.task_id is None
        assert f"name taken by task {theirs}" in (row.error_msg or "")
        assert again.exit_code == 1
        with follow_up_target(again.results_path, ledger_path=tmp_path / "ledger.sqlite", env=env(server)) as target:
            assert plan_rollback(again.results_path, target).items == []
        assert [t["id"] for t in server.tasks(PROJECT) if not t["deleted"]] == [theirs]


def test_our_own_task_found_after_a_lost_answer_is_adopted(sim: Simulator, tmp_path: Path) -> None:
    sim.set_faults(next=["lost_response", *["list:500"] * 200])
    book = make_book(tmp_path / "in.xlsx", [task_row("ours-after-all")])
    first = submit_workbook(book, options(sim, tmp_path, max_retry_time=0.2), env=env(sim))
    assert [r.result for r in first.rows] == ["UNKNOWN"]
    sim.set_faults(next=[])
    again = submit_workbook(book, options(sim, tmp_path, out=tmp_path / "again.xlsx"), env=env(sim))
    assert [r.result for r in again.rows] == ["ALREADY_CREATED"] and again.exit_code == 0


# -- 12.6 statuses and failures named for what they are ---------------------------------------------

def test_status_counts_deleted_and_released_tasks_as_gone(tmp_path: Path) -> None:
    from fixtures.campaign import PROJECT as FX_PROJECT
    from fixtures.campaign import create_tasks, record_created, write_results_workbook

    from bulkimport.drs import DrsClient, TokenAuth
    from bulkimport.status import refresh_status
    from bulkimport.target import Target

    with Simulator(token=TOKEN, faults=FaultConfig(transition_delay=0)) as server:
        target = Target(endpoint=server.base_url, ledger_endpoint=server.base_url, project_id=FX_PROJECT,
                        auth=TokenAuth(TOKEN), ledger_path=tmp_path / "ledger.sqlite", secrets=(TOKEN,))
        alive = create_tasks(server, ["alive", "released-elsewhere"])
        doomed = create_tasks(server, ["deleted-elsewhere"], fail=True)
        record_created(target, {**alive, **doomed})
        rows = [{"name": n, "result": "CREATED", "task_id": i} for n, i in {**alive, **doomed}.items()]
        results = write_results_workbook(tmp_path, rows, target)
        server.set_faults(transition_delay=60)  # the release below stays under way
        with DrsClient(server.base_url, FX_PROJECT, TokenAuth(TOKEN)) as client:
            client.batch_delete([(doomed["deleted-elsewhere"], "delete"),
                                 (alive["released-elsewhere"], "force_terminate")])
        outcome = refresh_status(results, target, out_path=tmp_path / "s.xlsx", report_dir=tmp_path / "rep")
    assert {t.name: outcome.states[t.task_id].status for t in outcome.tasks} == {
        "alive": "CONFIGURATION", "deleted-elsewhere": "DELETED", "released-elsewhere": "RELEASE_RESOURCE_STARTED"}
    assert outcome.counts["gone"] == 2 and outcome.counts["healthy"] == 1
    assert outcome.exit_code == 1  # a campaign whose tasks are gone is not healthy


@pytest.fixture
def tls_server(tmp_path: Path):
    """An HTTPS server on loopback with a self-signed certificate nobody trusts; it records
    every request that gets through (none should)."""
    import ssl

    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out",
                    str(cert), "-days", "1", "-subj", "/CN=127.0.0.1"], check=True, capture_output=True)
    server = Trap()
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server.server.socket = context.wrap_socket(server.server.socket, server_side=True)
    server.url = server.url.replace("http://", "https://")
    yield server
    server.close()


def test_an_unverifiable_certificate_is_a_configuration_error_before_sending(tls_server: Trap,
                                                                              tmp_path: Path) -> None:
    book = make_book(tmp_path / "in.xlsx", [task_row(n) for n in names(3)])
    done = run_cli(tmp_path, "some-token-value", "submit", str(book), "--endpoint", tls_server.url,
                   "--project-id", PROJECT, "--yes")
    assert done.returncode == 2, done.stderr
    [line] = done.stderr.strip().splitlines()
    assert "TLS" in line and "certificate" in line and "--ca-bundle" in line
    assert tls_server.seen == []


def test_a_ca_bundle_that_is_not_pem_is_refused_before_sending(sim: Simulator, tmp_path: Path) -> None:
    bogus = tmp_path / "ca.pem"
    bogus.write_text("this is not a certificate\n")
    book = make_book(tmp_path / "in.xlsx", [task_row("one-task")])
    done = run_cli(tmp_path, sim.token, "submit", str(book), "--endpoint", "https://drs.example.invalid",
                   "--project-id", PROJECT, "--ca-bundle", str(bogus), "--yes")
    assert done.returncode == 2, done.stderr
    [line] = done.stderr.strip().splitlines()
    assert "--ca-bundle" in line and "PEM" in line


# -- 12.5 say what drifted ---------------------------------------------------------------------------

def test_an_env_reference_to_a_set_but_empty_variable_is_refused_like_an_unset_one(sim: Simulator,
                                                                                     tmp_path: Path) -> None:
    book = make_book(tmp_path / "in.xlsx", [task_row("empty-env", **{"source_endpoint.db_password": "env:DB_PW"})])
    done = run_cli(tmp_path, sim.token, "submit", str(book), "--endpoint", sim.base_url, "--project-id", PROJECT,
                   "--yes", "--ledger", str(tmp_path / "ledger.sqlite"))
    assert done.returncode == 2 and "DB_PW" in done.stderr and "not set" in done.stderr
    emptied = subprocess.run([sys.executable, "-m", "bulkimport", "submit", str(book), "--endpoint", sim.base_url,
                              "--project-id", PROJECT, "--yes", "--ledger", str(tmp_path / "ledger.sqlite")],
                             cwd=tmp_path, env={**cli_env(sim.token), "DB_PW": ""}, capture_output=True, text=True,
                             timeout=120)
    assert emptied.returncode == 2, emptied.stderr
    [line] = emptied.stderr.strip().splitlines()
    assert "DB_PW" in line and "empty" in line
    assert not create_requests(sim)


def test_renamed_and_changed_rows_are_reported_as_drift(sim: Simulator, tmp_path: Path) -> None:
    import openpyxl

    first = make_book(tmp_path / "in.xlsx", [task_row(n) for n in ("keep-1", "keep-2", "old-name")])
    assert submit_workbook(first, options(sim, tmp_path), env=env(sim)).exit_code == 0
    changed = [task_row("keep-1", **{"source_endpoint.ip": "10.0.0.99", "source_endpoint.db_port": 3307}),
               task_row("keep-2", **{"source_endpoint.db_password": "another-password"}),  # a secret: not drift
               task_row("new-name")]
    notes: list[str] = []

    class Notes:
        def note(self, text: str) -> None:
            notes.append(text)

        def start(self, *args: object) -> None: ...

        def update(self, *args: object) -> None: ...

        def finish(self) -> None: ...

    second = submit_workbook(make_book(tmp_path / "in2.xlsx", changed),
                             options(sim, tmp_path, out=tmp_path / "second.xlsx"), env=env(sim), progress=Notes())
    rows = {r.name: r for r in second.rows}
    assert rows["keep-1"].result == "ALREADY_CREATED"
    assert "source_endpoint.db_port" in (rows["keep-1"].error_msg or "")
    assert "source_endpoint.ip" in (rows["keep-1"].error_msg or "")
    assert not rows["keep-2"].error_msg  # passwords are never compared (the ledger holds none)
    text = "\n".join(notes)
    assert "old-name" in text and "no longer in the workbook" in text
    assert "keep-1" in text and "source_endpoint.ip" in text
    findings = [[c.value for c in row] for row in openpyxl.load_workbook(second.results_path)["Findings"].iter_rows()]
    flat = " ".join(str(v) for row in findings for v in row)
    assert "drift" in flat and "old-name" in flat and "source_endpoint.ip" in flat
    report = second.report_json.read_text(encoding="utf-8")
    assert "old-name" in report and "source_endpoint.ip" in report
    from bulkimport.report import build_report  # the report rebuilt from the workbook alone says it too

    rebuilt = build_report(second.results_path, out_dir=tmp_path / "rebuilt")
    html = rebuilt.html.read_text(encoding="utf-8")
    assert "Drift since creation" in html and "old-name" in html and "source_endpoint.ip" in html


def test_follow_ups_find_an_unverifiable_certificate_before_sending(sim: Simulator, tls_server: Trap,
                                                                  tmp_path: Path) -> None:
    outcome = submitted(sim, tmp_path, tmp_path / "ledger.sqlite")
    done = run_cli(tmp_path, sim.token, "status", str(outcome.results_path), "--endpoint", tls_server.url, "--force",
                   "--project-id", PROJECT)
    assert done.returncode == 2, done.stderr
    [line] = done.stderr.strip().splitlines()
    assert "TLS" in line and "--ca-bundle" in line
    assert tls_server.seen == []
