"""submit: validate, send, match by name, record, annotate, re-run - against the simulator over HTTP.

The helpers at the top are shared by test_submit_faults.py, test_submit_kill.py and
test_secrets.py (imported from this module).
"""

from __future__ import annotations

import json
import threading
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import openpyxl
import pytest
import requests
from click.testing import CliRunner
from fixtures.sdk import to_sdk_job

from bulkimport import ledger as ledger_mod
from bulkimport.cli import cli
from bulkimport.errors import InputError
from bulkimport.ledger import Ledger
from bulkimport.outcomes import SUBMIT_COLUMNS, Result
from bulkimport.simulator import FaultConfig, Simulator
from bulkimport.submit import SubmitOptions, SubmitOutcome, submit_workbook
from bulkimport.target import simulated_target
from bulkimport.template import write_template

PROJECT = "0123456789abcdef0123456789abcdef"
TOKEN = "tok-" + "Zq8vK3" * 5
DB_PASSWORD = "Db-Pa55-" + "x7Yw" * 3


def task_row(name: str, **changes: object) -> dict[str, object]:
    """A valid MySQL migration row (the API page's first example) as a typed row."""
    row: dict[str, object] = {
        "name": name, "db_use_type": "migration", "engine_type": "mysql", "job_direction": "up",
        "task_type": "FULL_INCR_TRANS", "net_type": "eip", "bind_eip": True,
        "customize_sutnet_id": "352ad828-3467-4f03-987a-c55a5a9dd417", "node_type": "high",
        "is_target_readonly": False, "source_endpoint.db_type": "mysql", "source_endpoint.ip": "10.0.0.5",
        "source_endpoint.db_port": 3306, "source_endpoint.db_user": "repl",
        "source_endpoint.db_password": DB_PASSWORD, "target_endpoint.db_type": "mysql",
        "target_endpoint.region": "eu-de", "target_endpoint.inst_id": "e05a3679efe241d8b5dee80b17c1a863in01",
        "expired_days": 20, "tags": [{"key": "wave", "value": "1"}],
    }
    row.update(changes)
    return row


def names(n: int, prefix: str = "task") -> list[str]:
    return [f"{prefix}-{i:04d}" for i in range(n)]


def make_book(path: Path, rows: Iterable[Mapping[str, object]]) -> Path:
    return write_template(path, rows=list(rows))


def options(sim: Simulator, tmp_path: Path, **changes: Any) -> SubmitOptions:
    """Options against `sim` with tiny delays, results and ledger under tmp_path."""
    values: dict[str, Any] = dict(
        endpoint=sim.base_url, project_id=PROJECT, out=tmp_path / "out" / "results.xlsx",
        ledger=tmp_path / "ledger.sqlite", report_dir=tmp_path / "reports", base_delay=0.001, max_delay=0.01,
        max_attempts=5, max_retry_time=30, timeout=10, concurrency=4,
    )
    values.update(changes)
    return SubmitOptions(**values)


def env(sim: Simulator, **extra: str) -> dict[str, str]:
    return {"OS_AUTH_TOKEN": sim.token, **extra}


def server_tasks(sim: Simulator) -> list[dict]:
    """Live tasks of the project, from the simulator's admin endpoint over HTTP."""
    reply = requests.get(f"{sim.base_url}/_admin/tasks", params={"project_id": PROJECT}, timeout=10)
    reply.raise_for_status()
    return [t for t in reply.json()["tasks"] if not t["deleted"]]


def create_requests(sim: Simulator) -> list[dict]:
    return [r for r in sim.requests() if r["endpoint"] == "create"]


def by_name(outcome: SubmitOutcome) -> dict[str, Any]:
    return {r.name: r for r in outcome.rows}


def read_rows(path: Path) -> list[dict[str, object]]:
    """Data rows of a results workbook keyed by the key row (row 2)."""
    sheet = openpyxl.load_workbook(path)["Jobs"]
    keys = [c.value for c in sheet[2]]
    return [dict(zip(keys, (c.value for c in row), strict=True)) for row in sheet.iter_rows(min_row=3)]


def assert_created_once(sim: Simulator, expected: Sequence[str]) -> None:
    counts = Counter(t["name"].lower() for t in server_tasks(sim))
    assert {n.lower() for n in expected} == set(counts)
    assert all(c == 1 for c in counts.values()), counts


@pytest.fixture
def sim():
    with Simulator(token=TOKEN, faults=FaultConfig(transition_delay=0, retry_after=0)) as server:
        yield server


# -- the happy path --------------------------------------------------------------------------

def test_every_valid_row_is_created_once_with_its_id_on_its_row(sim: Simulator, tmp_path: Path) -> None:
    sim.set_faults(shuffle_results=True)  # results come back in any order: matched by name
    wanted = names(23)
    book = make_book(tmp_path / "in.xlsx", [task_row(n) for n in wanted])
    outcome = submit_workbook(book, options(sim, tmp_path, batch_size=10), env=env(sim))

    assert outcome.exit_code == 0
    assert [r.name for r in outcome.rows] == wanted  # same order as the workbook
    assert_created_once(sim, wanted)
    server_ids = {t["name"]: t["id"] for t in server_tasks(sim)}
    assert {r.name: r.task_id for r in outcome.rows} == server_ids
    assert {r.result for r in outcome.rows} == {Result.CREATED}

    sizes = [r["jobs"] for r in create_requests(sim)]
    assert sorted(sizes) == [3, 10, 10]

    rows = read_rows(outcome.results_path)
    assert [r["name"] for r in rows] == wanted
    for row in rows:
        assert row["result"] == "CREATED" and row["task_id"] == server_ids[row["name"]]
        assert row["task_status"] == "CREATING" and row["request_id"] and row["submitted_at"]
    header = [c.value for c in openpyxl.load_workbook(outcome.results_path)["Jobs"][2]]
    assert sorted(h for h in header if h in SUBMIT_COLUMNS) == sorted(SUBMIT_COLUMNS)  # found by header
    assert header[:2] == ["name", "result"]  # the outcome beside the name
    assert outcome.failed_path is None

    with Ledger(tmp_path / "ledger.sqlite") as led:
        entries = {e.name: e for e in led.entries(sim.base_url, PROJECT)}
    assert {n: e.task_id for n, e in entries.items()} == server_ids
    assert all(e.state == ledger_mod.CREATED for e in entries.values())


def test_summary_sheet_has_campaign_facts_then_counts(sim: Simulator, tmp_path: Path) -> None:
    book = make_book(tmp_path / "in.xlsx", [task_row(n) for n in names(3)] + [task_row("bad name!")])
    outcome = submit_workbook(book, options(sim, tmp_path), env=env(sim))
    summary = [list(r) for r in openpyxl.load_workbook(outcome.results_path)["Summary"].iter_rows(values_only=True)]
    facts = dict((r[0], r[1]) for r in summary)
    assert summary[0][0] == "DRS bulk import \u2014 sign-off report" and facts["command"] == "submit"
    assert facts["project_id"] == PROJECT and facts["endpoint"] == sim.base_url
    assert facts["input_sha256"] == outcome.campaign.input_sha256 and len(facts["input_sha256"]) == 64
    assert facts["result.CREATED"] == 3 and facts["result.INVALID"] == 1


def test_submit_writes_the_sign_off_report_beside_the_results(sim: Simulator, tmp_path: Path) -> None:
    book = make_book(tmp_path / "in.xlsx", [task_row(n) for n in names(4)] + [task_row("bad name!")])
    outcome = submit_workbook(book, options(sim, tmp_path), env=env(sim))
    assert outcome.report_html is not None and outcome.report_html.parent == tmp_path / "reports"
    assert outcome.report_html.stem == outcome.results_path.stem + "-report"
    report = json.loads(outcome.report_json.read_text())
    assert json.dumps(report).count("CREATED") >= 1
    html = outcome.report_html.read_text()
    for name in names(4):
        assert name in html
    assert DB_PASSWORD not in html and sim.token not in html


def test_invalid_rows_are_never_sent_and_come_back_with_their_findings(sim: Simulator, tmp_path: Path) -> None:
    rows = [task_row("good-one"), task_row("bad", **{"source_endpoint.db_port": 70000}), task_row("good-two")]
    outcome = submit_workbook(make_book(tmp_path / "in.xlsx", rows), options(sim, tmp_path), env=env(sim))
    assert outcome.exit_code == 1
    results = by_name(outcome)
    assert results["bad"].result is Result.INVALID
    assert "Source Port must be from 1 to 65535" in (results["bad"].error_msg or "")
    assert set((results["bad"].error_code or "").split(",")) == {"length", "range"}
    sent = [job["name"] for r in create_requests(sim) for job in r["body"]["jobs"]]
    assert sorted(sent) == ["good-one", "good-two"]
    assert_created_once(sim, ["good-one", "good-two"])

    # The failed-rows workbook: template layout (labels, keys), only the rows not created.
    failed = openpyxl.load_workbook(outcome.failed_path)["Jobs"]
    assert failed.cell(2, 1).value == "name" and failed.cell(1, 1).value != "name"
    failed_rows = read_rows(outcome.failed_path)
    assert [r["name"] for r in failed_rows] == ["bad"]
    assert failed_rows[0]["source_endpoint.db_password"] == "******"


def test_rerun_skips_created_rows_and_sends_the_corrected_ones(sim: Simulator, tmp_path: Path) -> None:
    rows = [task_row(n) for n in names(5)] + [task_row("Fixed-Later", **{"source_endpoint.db_port": 0})]
    first = submit_workbook(make_book(tmp_path / "in.xlsx", rows), options(sim, tmp_path), env=env(sim))
    assert first.exit_code == 1
    ids = {r.name: r.task_id for r in first.rows if r.result is Result.CREATED}
    requests_before = len(create_requests(sim))

    rows[-1] = task_row("fixed-later")  # corrected (and typed in another case)
    second = submit_workbook(make_book(tmp_path / "in2.xlsx", rows),
                             options(sim, tmp_path, out=tmp_path / "out" / "second.xlsx"), env=env(sim))
    assert second.exit_code == 0
    results = by_name(second)
    for name, task_id in ids.items():
        assert results[name].result is Result.ALREADY_CREATED and results[name].task_id == task_id
    assert results["fixed-later"].result is Result.CREATED
    new_requests = create_requests(sim)[requests_before:]
    assert [[j["name"] for j in r["body"]["jobs"]] for r in new_requests] == [["fixed-later"]]
    assert_created_once(sim, [*ids, "fixed-later"])


def test_a_results_workbook_can_be_submitted_again(sim: Simulator, tmp_path: Path) -> None:
    first = submit_workbook(make_book(tmp_path / "in.xlsx", [task_row(n) for n in names(4)]),
                            options(sim, tmp_path), env=env(sim))
    again = submit_workbook(first.results_path, options(sim, tmp_path, out=tmp_path / "again.xlsx"), env=env(sim))
    # The results workbook shows ****** for the password: nothing new needs sending, so nothing is sent.
    assert {r.result for r in again.rows} == {Result.ALREADY_CREATED}
    assert [r.task_id for r in again.rows] == [r.task_id for r in first.rows]
    assert len(create_requests(sim)) == 1


def test_name_taken_by_someone_else_is_rejected_and_never_adopted(sim: Simulator, tmp_path: Path) -> None:
    foreign = requests.post(
        f"{sim.base_url}/v3/{PROJECT}/jobs/batch-creation", headers={"X-Auth-Token": sim.token},
        json={"jobs": [{**_wire_job("Taken-Name")}]}, timeout=10).json()["results"][0]["id"]
    for mode in ("item", "request"):
        sim.set_faults(duplicate_name_mode=mode)
        out = tmp_path / mode
        rows = [task_row(f"mine-{mode}-1"), task_row("taken-name"), task_row(f"mine-{mode}-2")]
        outcome = submit_workbook(make_book(out / "in.xlsx", rows),
                                  options(sim, out, out=out / "r.xlsx", ledger=out / "l.sqlite"), env=env(sim))
        results = by_name(outcome)
        assert outcome.exit_code == 1
        assert results["taken-name"].result is Result.REJECTED
        assert results["taken-name"].error_code == "DRS.M00277"
        assert foreign in results["taken-name"].error_msg and results["taken-name"].task_id is None
        assert results[f"mine-{mode}-1"].result is Result.CREATED
        assert results[f"mine-{mode}-2"].result is Result.CREATED
        with Ledger(out / "l.sqlite") as led:
            entry = led.get(sim.base_url, PROJECT, "taken-name")
        assert entry.state == ledger_mod.REJECTED and entry.task_id is None
    assert [t["id"] for t in server_tasks(sim) if t["name"].lower() == "taken-name"] == [foreign]


def _wire_job(name: str) -> dict:
    from bulkimport.payload import build_job

    return build_job(task_row(name, **{"source_endpoint.db_password": None}))


def test_unset_env_reference_stops_before_anything_is_sent(sim: Simulator, tmp_path: Path) -> None:
    rows = [task_row("task-a"), task_row("task-b", **{"target_endpoint.db_password": "env:NOT_SET_PW"})]
    with pytest.raises(InputError, match="NOT_SET_PW"):
        submit_workbook(make_book(tmp_path / "in.xlsx", rows), options(sim, tmp_path), env=env(sim))
    assert create_requests(sim) == []


def test_env_reference_is_resolved_at_send_time(sim: Simulator, tmp_path: Path) -> None:
    seen: list[dict] = []
    original = sim.app.drs.create_jobs

    def spy(project_id: str, raw: bytes, **kw: Any):
        seen.extend(json.loads(raw)["jobs"])
        return original(project_id, raw, **kw)

    sim.app.drs.create_jobs = spy
    rows = [task_row("task-env", **{"target_endpoint.db_password": "env:TGT_PW"})]
    outcome = submit_workbook(make_book(tmp_path / "in.xlsx", rows), options(sim, tmp_path),
                              env=env(sim, TGT_PW="from-the-environment"))
    assert outcome.exit_code == 0
    assert seen[0]["target_endpoint"]["db_password"] == "from-the-environment"
    assert seen[0]["source_endpoint"]["db_password"] == DB_PASSWORD
    assert read_rows(outcome.results_path)[0]["target_endpoint.db_password"] == "env:TGT_PW"


def test_stop_lets_in_flight_requests_finish_and_the_rest_is_not_sent(sim: Simulator, tmp_path: Path) -> None:
    stop = threading.Event()

    class StopAfterFirstBatch:
        def start(self, total: int, label: str) -> None: ...
        def note(self, text: str) -> None: ...
        def finish(self) -> None: ...

        def update(self, done: int, counts: Mapping[str, int]) -> None:
            if counts.get("CREATED", 0) >= 2:
                stop.set()

    wanted = names(10)
    book = make_book(tmp_path / "in.xlsx", [task_row(n) for n in wanted])
    outcome = submit_workbook(book, options(sim, tmp_path, batch_size=2, concurrency=1), env=env(sim),
                              progress=StopAfterFirstBatch(), stop=stop)
    assert outcome.exit_code == 3 and outcome.interrupted
    counts = outcome.counts()
    assert counts == {"CREATED": 2, "NOT_SENT": 8}
    assert_created_once(sim, [r.name for r in outcome.rows if r.result is Result.CREATED])
    assert [r["name"] for r in read_rows(outcome.failed_path)] == [
        r.name for r in outcome.rows if r.result is Result.NOT_SENT]

    again = submit_workbook(book, options(sim, tmp_path, out=tmp_path / "again.xlsx"), env=env(sim))
    assert again.exit_code == 0
    assert again.counts() == {"ALREADY_CREATED": 2, "CREATED": 8}
    assert_created_once(sim, wanted)


def test_declined_confirmation_sends_nothing(sim: Simulator, tmp_path: Path) -> None:
    plans = []
    outcome = submit_workbook(make_book(tmp_path / "in.xlsx", [task_row(n) for n in names(12)]),
                              options(sim, tmp_path, batch_size=5), env=env(sim),
                              confirm=lambda plan: plans.append(plan.line()) or False)
    assert plans == [f"12 tasks to create in project {PROJECT} at endpoint {sim.base_url}, 3 requests "
                     "(batch size 5, concurrency 4)"]
    assert create_requests(sim) == [] and outcome.exit_code == 3
    assert outcome.counts() == {"NOT_SENT": 12}


# -- dry run ---------------------------------------------------------------------------------

def test_dry_run_writes_masked_bodies_the_sdk_accepts_and_sends_nothing(sim: Simulator, tmp_path: Path) -> None:
    from huaweicloudsdkcore.utils.http_utils import sanitize_for_serialization

    rows = [task_row(n, enterprise_project_id="0", description="wave one") for n in names(12)]
    rows.append(task_row("bad-row", bind_eip=False))
    outcome = submit_workbook(make_book(tmp_path / "in.xlsx", rows),
                              options(sim, tmp_path, dry_run=True, batch_size=5), env={})
    assert outcome.exit_code == 1  # one invalid row
    assert sim.requests() == []
    document = json.loads(outcome.dry_run_path.read_text())
    assert [len(r["jobs"]) for r in document["requests"]] == [5, 5, 2]
    assert document["url"] == f"{sim.base_url}/v3/{PROJECT}/jobs/batch-creation"
    for request in document["requests"]:
        for job in request["jobs"]:
            model = to_sdk_job(job)
            assert sanitize_for_serialization(model) == job  # no key lost, none unknown
            assert job["source_endpoint"]["db_password"] == "******"
            assert job["source_endpoint"]["db_port"] == 3306 and job["expired_days"] == "20"
    assert DB_PASSWORD not in outcome.dry_run_path.read_text()
    counts = outcome.counts()
    assert counts == {"DRY_RUN": 12, "INVALID": 1}
    assert {r["result"] for r in read_rows(outcome.results_path)} == {"DRY_RUN", "INVALID"}

    valid_only = submit_workbook(make_book(tmp_path / "ok.xlsx", rows[:3]),
                                 options(sim, tmp_path, dry_run=True, out=tmp_path / "ok-results.xlsx"), env={})
    assert valid_only.exit_code == 0


# -- simulate and the CLI --------------------------------------------------------------------

def test_simulate_keeps_state_and_its_own_ledger_between_runs(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    book = make_book(tmp_path / "in.xlsx", [task_row(n) for n in names(6)])
    state = tmp_path / "sim" / "state.sqlite"
    runner = CliRunner()
    first = runner.invoke(cli, ["submit", str(book), "--simulate", "--simulator-state", str(state), "--yes",
                                "--json"], standalone_mode=False, catch_exceptions=False)
    assert first.return_value == 0
    summary = json.loads(first.stdout)
    assert summary["counts"] == {"CREATED": 6}
    assert Path(summary["results_workbook"]).is_file()
    assert not (tmp_path / "reports" / "ledger.sqlite").exists()  # never the real campaign ledger
    second = runner.invoke(cli, ["submit", str(book), "--simulate", "--simulator-state", str(state), "--yes",
                                 "--json"], standalone_mode=False, catch_exceptions=False)
    assert second.return_value == 0
    assert json.loads(second.stdout)["counts"] == {"ALREADY_CREATED": 6}
    with simulated_target(state) as target:
        assert sorted(t["name"] for t in target.simulator.tasks()) == names(6)
        with Ledger(target.ledger_path) as led:
            assert len(led.entries(target.ledger_endpoint, target.project_id)) == 6


def test_cli_plan_line_progress_and_exit_codes(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    book = make_book(tmp_path / "in.xlsx", [task_row(n) for n in names(3)] + [task_row("x")])
    result = CliRunner().invoke(cli, ["submit", str(book), "--simulate", "--batch-size", "2"],
                                standalone_mode=False, catch_exceptions=False)
    assert result.return_value == 1  # one invalid row ("x" is too short)
    assert "3 tasks to create in project" in result.stderr and "2 requests" in result.stderr
    assert "CREATED 3" in result.stderr and "INVALID 1" in result.stderr
    assert result.stdout == ""
    assert list((tmp_path / "reports").glob("in-submit-*-failed.xlsx"))


def test_cli_refuses_bad_options_with_exit_2(tmp_path: Path) -> None:
    book = make_book(tmp_path / "in.xlsx", [task_row("task-a")])
    from bulkimport.cli import main

    for args in (["--simulate", "--batch-size", "11"], ["--simulate", "--concurrency", "0"], []):
        with pytest.raises(SystemExit) as exit_info:
            main(["submit", str(book), *args])
        assert exit_info.value.code == 2
    with pytest.raises(SystemExit) as exit_info:
        main(["submit", str(tmp_path / "missing.xlsx"), "--simulate"])
    assert exit_info.value.code == 2


def test_region_derives_the_endpoint_and_tls_options_are_checked(tmp_path: Path) -> None:
    book = make_book(tmp_path / "in.xlsx", [task_row("task-a")])
    outcome = submit_workbook(book, SubmitOptions(region="eu-de", project_id=PROJECT, dry_run=True,
                                                  out=tmp_path / "r.xlsx", ledger=tmp_path / "l.sqlite"), env={})
    url = json.loads(outcome.dry_run_path.read_text())["url"]
    assert url == f"https://drs.eu-de.otc.t-systems.com/v3/{PROJECT}/jobs/batch-creation"
    with pytest.raises(InputError, match="ca-bundle"):
        submit_workbook(book, SubmitOptions(region="eu-de", project_id=PROJECT, ca_bundle=str(tmp_path / "no.pem"),
                                            out=tmp_path / "r2.xlsx"), env={"OS_AUTH_TOKEN": "t"})
    with pytest.raises(InputError, match="simulate"):
        submit_workbook(book, SubmitOptions(simulate=True, region="eu-de", out=tmp_path / "r3.xlsx"), env={})
    result = CliRunner().invoke(cli, ["submit", str(book), "--region", "eu-de", "--project-id", PROJECT, "--insecure",
                                      "--dry-run", "--out", str(tmp_path / "r4.xlsx")],
                                standalone_mode=False, catch_exceptions=False)
    assert result.return_value == 0 and "WARNING" in result.stderr and "NOT verified" in result.stderr


def test_language_sets_the_x_language_header(sim: Simulator, tmp_path: Path) -> None:
    book = make_book(tmp_path / "in.xlsx", [task_row("task-a")])
    outcome = submit_workbook(book, options(sim, tmp_path, language="zh-cn"), env=env(sim))
    assert outcome.exit_code == 0
    headers = {k.lower(): v for k, v in create_requests(sim)[0]["headers"].items()}
    assert headers["x-language"] == "zh-cn"


def test_progress_lines_are_throttled_and_the_bar_redraws_in_place() -> None:
    import io

    from bulkimport.progress import BarProgress, LineProgress

    now = [0.0]
    stream = io.StringIO()
    lines = LineProgress(stream, interval=5.0, clock=lambda: now[0])
    lines.start(100, "submitting")
    for done in range(1, 101):
        now[0] += 0.1
        lines.update(done, {"CREATED": done})
    lines.finish()
    printed = stream.getvalue().splitlines()
    assert printed[0] == "submitting: 1/100 (created 1)" and printed[-1] == "submitting: 100/100 (created 100)"
    assert 2 < len(printed) < 10  # one line per 5 s of work, not one per row

    stream = io.StringIO()
    bar = BarProgress(stream, width=10, interval=0.0)
    bar.start(4, "submitting")
    bar.update(2, {"CREATED": 2})
    bar.note("retrying 2 tasks")
    bar.update(4, {"CREATED": 3, "REJECTED": 1})
    bar.finish()
    text = stream.getvalue()
    assert "\rsubmitting [#####-----] 2/4 created 2" in text and "retrying 2 tasks\n" in text
    assert text.endswith("submitting [##########] 4/4 created 3 rejected 1\n")


def test_a_resubmit_shows_the_task_status_the_server_reports_now(sim: Simulator, tmp_path: Path) -> None:
    """The ledger's task_status is the one seen at creation (CREATING); a re-submit asks the
    server (batch-status) instead of showing that stale status as current. A dry run, which
    asks nothing, leaves it blank and says so."""
    first = submit_workbook(make_book(tmp_path / "in.xlsx", [task_row(n) for n in names(3)]),
                            options(sim, tmp_path), env=env(sim))
    assert {r.task_status for r in first.rows} == {"CREATING"}
    with Ledger(tmp_path / "ledger.sqlite") as led:
        assert {led.get(sim.base_url, PROJECT, n).task_status for n in names(3)} == {"CREATING"}

    again = submit_workbook(first.results_path, options(sim, tmp_path, out=tmp_path / "again.xlsx"), env=env(sim))

    assert {r.result for r in again.rows} == {Result.ALREADY_CREATED}
    assert {r.task_status for r in again.rows} == {"CONFIGURATION"}  # the simulator's tasks settled at once
    asked = [r for r in sim.requests() if r["path"].endswith("/jobs/batch-status")]
    assert sorted(asked[-1]["body"]["jobs"]) == sorted(r.task_id for r in first.rows)
    assert {r["task_status"] for r in read_rows(again.results_path)} == {"CONFIGURATION"}

    dry = submit_workbook(first.results_path, options(sim, tmp_path, out=tmp_path / "dry.xlsx", dry_run=True),
                          env=env(sim))
    assert {r.result for r in dry.rows} == {Result.ALREADY_CREATED}
    assert all(r.task_status is None and "status` asks" in str(r.error_msg) for r in dry.rows)


def test_a_resubmit_whose_status_query_fails_leaves_task_status_blank_and_says_why(sim: Simulator,
                                                                                    tmp_path: Path) -> None:
    """The server answers every batch-status query 500: the re-submit still finishes (nothing
    needs sending), shows no stale status as current, and each row's error_msg says the query
    failed and that `bulkimport status` asks again."""
    first = submit_workbook(make_book(tmp_path / "in.xlsx", [task_row(n) for n in names(3)]),
                            options(sim, tmp_path), env=env(sim))
    sim.set_faults(faults_on_queries=True, error_500_rate=1.0)
    try:
        again = submit_workbook(first.results_path, options(sim, tmp_path, out=tmp_path / "again.xlsx"),
                                env=env(sim))
    finally:
        sim.set_faults(faults_on_queries=False, error_500_rate=0.0)

    assert again.exit_code == 0
    assert len([r for r in sim.requests() if r["path"].endswith("/jobs/batch-status")]) > 1  # retried, then gave up
    assert {r.result for r in again.rows} == {Result.ALREADY_CREATED}
    assert [r.task_id for r in again.rows] == [r.task_id for r in first.rows]
    for row in read_rows(again.results_path):
        assert row["task_status"] is None, row
        note = str(row["error_msg"])
        assert note.startswith("task_status not shown (the status query failed: ") and "`bulkimport status` asks" \
            in note, note
        assert sim.token not in note
    assert len(create_requests(sim)) == 1
