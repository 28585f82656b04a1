"""`status`: refreshing a campaign's task statuses against the simulator."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from fixtures.campaign import FAST, PROJECT, create_tasks, record_created, write_results_workbook
from fixtures.clock import ManualClock

from bulkimport.book_read import read_workbook
from bulkimport.cli.status import command as status_command
from bulkimport.drs import TokenAuth
from bulkimport.errors import InputError
from bulkimport.ledger import Ledger
from bulkimport.simulator import FaultConfig, Simulator
from bulkimport.status import query_states, refresh_status
from bulkimport.target import SIMULATOR_ENDPOINT, Target, scrubber

TOKEN = "status-test-token-123"


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def sim(clock: ManualClock):
    """Tasks leave CREATING 0.3 s after creation on the test's clock, never on the wall clock."""
    with Simulator(token=TOKEN, faults=FaultConfig(transition_delay=0.3), clock=clock) as simulator:
        yield simulator
    simulator.close()


def target_for(sim: Simulator, tmp_path: Path) -> Target:
    return Target(endpoint=sim.base_url, ledger_endpoint=SIMULATOR_ENDPOINT, project_id=PROJECT,
                  auth=TokenAuth(TOKEN), ledger_path=tmp_path / "ledger.sqlite", region="simulated",
                  secrets=(TOKEN,))


def created_rows(ids: dict[str, str], status: str = "CREATING") -> list[dict]:
    return [{"name": n, "result": "CREATED", "task_id": i, "task_status": status} for n, i in ids.items()]


def by_name(path: Path) -> dict[str, dict]:
    book = read_workbook(path)
    return {str(c["name"]): c for c in book.cells.values()}


def status_requests(sim: Simulator) -> list[list[str]]:
    """The task IDs of each batch-status request the simulator received."""
    return [r["body"]["jobs"] for r in sim.requests() if r["path"].endswith("/jobs/batch-status")]


# -- the library ----------------------------------------------------------------------------------

def test_one_refresh_sees_creating_and_exits_3(sim: Simulator, tmp_path: Path) -> None:
    target = target_for(sim, tmp_path)
    ids = create_tasks(sim, ["alpha-1", "alpha-2"])
    record_created(target, ids)
    results = write_results_workbook(tmp_path, created_rows(ids, status=""), target)
    outcome = refresh_status(results, target, out_path=tmp_path / "out.xlsx", report_dir=tmp_path / "rep",
                             retry=FAST)
    assert outcome.exit_code == 3 and outcome.rounds == 1
    assert {r["task_status"] for r in by_name(tmp_path / "out.xlsx").values()} == {"CREATING"}


def test_watch_reaches_configuration_and_create_failed(sim: Simulator, clock: ManualClock, tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    target = target_for(sim, tmp_path)
    good = create_tasks(sim, ["good-1", "good-2", "good-3"])
    bad = create_tasks(sim, ["bad-1"], fail=True)
    record_created(target, {**good, **bad})
    results = write_results_workbook(tmp_path, created_rows({**good, **bad}), target)

    outcome = refresh_status(results, target, report_dir=tmp_path / "rep", watch=True, interval=0.05,
                             max_interval=0.1, timeout=10, retry=FAST, sleep=clock.sleep, clock=clock)

    assert outcome.results_path == Path("reports") / "wave-results-status.xlsx"
    assert outcome.exit_code == 1 and not outcome.timed_out and outcome.rounds > 1
    rows = by_name(outcome.results_path)
    assert {n: rows[n]["task_status"] for n in good} == dict.fromkeys(good, "CONFIGURATION")
    server = {t["id"]: t for t in sim.tasks(PROJECT)}
    assert rows["bad-1"]["task_status"] == "CREATE_FAILED"
    assert rows["bad-1"]["error_code"] == server[bad["bad-1"]]["error_code"]
    assert rows["bad-1"]["error_msg"] == server[bad["bad-1"]]["error_message"]
    with Ledger(target.ledger_path) as ledger:
        assert ledger.get(SIMULATOR_ENDPOINT, PROJECT, "bad-1").task_status == "CREATE_FAILED"
        assert ledger.get(SIMULATOR_ENDPOINT, PROJECT, "good-2").task_status == "CONFIGURATION"
    report = json.loads(outcome.report.json.read_text(encoding="utf-8"))
    assert report["counts"]["by_task_status"] == {"CREATE_FAILED": 1, "CONFIGURATION": 3}
    assert report["campaign"]["command"] == "submit, status"
    assert TOKEN not in outcome.report.html.read_text(encoding="utf-8")


def test_watch_times_out_with_tasks_still_creating(sim: Simulator, tmp_path: Path) -> None:
    sim.set_faults(transition_delay=60)
    target = target_for(sim, tmp_path)
    ids = create_tasks(sim, ["slow-1"])
    results = write_results_workbook(tmp_path, created_rows(ids), target)
    outcome = refresh_status(results, target, out_path=tmp_path / "o.xlsx", report_dir=tmp_path, watch=True,
                             interval=0.02, max_interval=0.05, timeout=0.3, retry=FAST)
    assert outcome.timed_out and outcome.exit_code == 3 and outcome.rounds >= 2


def test_ctrl_c_while_watching_keeps_what_is_known(sim: Simulator, tmp_path: Path) -> None:
    sim.set_faults(transition_delay=60)
    target = target_for(sim, tmp_path)
    ids = create_tasks(sim, ["waiting-1"])
    results = write_results_workbook(tmp_path, created_rows(ids, status=""), target)

    def interrupt(seconds: float) -> None:
        raise KeyboardInterrupt

    outcome = refresh_status(results, target, out_path=tmp_path / "o.xlsx", report_dir=tmp_path, watch=True,
                             interval=1, timeout=60, retry=FAST, sleep=interrupt)
    assert outcome.interrupted and outcome.exit_code == 3
    assert by_name(tmp_path / "o.xlsx")["waiting-1"]["task_status"] == "CREATING"


def test_status_never_overwrites_its_input(sim: Simulator, tmp_path: Path) -> None:
    target = target_for(sim, tmp_path)
    results = write_results_workbook(tmp_path, created_rows({"a-task": "id-1"}), target)
    before = results.read_bytes()
    with pytest.raises(InputError, match="overwrite"):
        refresh_status(results, target, out_path=results, report_dir=tmp_path, retry=FAST)
    assert results.read_bytes() == before


def test_status_asks_in_pages_of_100(sim: Simulator, tmp_path: Path) -> None:
    sim.set_faults(transition_delay=0)
    target = target_for(sim, tmp_path)
    ids = create_tasks(sim, [f"bulk-{i:03d}" for i in range(130)])
    results = write_results_workbook(tmp_path, created_rows(ids), target)
    outcome = refresh_status(results, target, out_path=tmp_path / "o.xlsx", report_dir=tmp_path, retry=FAST)
    assert outcome.exit_code == 0
    pages = status_requests(sim)
    assert sorted(len(p) for p in pages) == [30, 100]
    assert sorted(i for p in pages for i in p) == sorted(ids.values())


def test_only_the_campaigns_own_tasks_are_queried(sim: Simulator, tmp_path: Path) -> None:
    """A REJECTED row may name someone else's task; it is never asked about. A row whose
    outcome the workbook never learnt gets its ID from the ledger."""
    sim.set_faults(transition_delay=0)
    target = target_for(sim, tmp_path)
    foreign = create_tasks(sim, ["someone-elses"])
    ours = create_tasks(sim, ["ours-1", "ours-2"])
    record_created(target, ours)
    rows = [
        {"name": "ours-1", "result": "CREATED", "task_id": ours["ours-1"]},
        {"name": "ours-2", "result": "UNKNOWN"},  # the ledger knows better
        {"name": "someone-elses", "result": "REJECTED", "task_id": foreign["someone-elses"],
         "error_code": "DRS.M00277", "error_msg": "name already taken by task " + foreign["someone-elses"]},
        {"name": "broken", "result": "INVALID"},
    ]
    results = write_results_workbook(tmp_path, rows, target)
    outcome = refresh_status(results, target, out_path=tmp_path / "o.xlsx", report_dir=tmp_path, retry=FAST)
    asked = {i for page in status_requests(sim) for i in page}
    assert asked == set(ours.values())
    out = by_name(tmp_path / "o.xlsx")
    assert out["ours-2"]["task_id"] == ours["ours-2"] and out["ours-2"]["result"] == "CREATED"
    assert out["someone-elses"]["result"] == "REJECTED" and out["someone-elses"]["task_status"] is None
    assert outcome.exit_code == 0


def test_a_workbook_without_created_tasks_is_unusable(sim: Simulator, tmp_path: Path) -> None:
    target = target_for(sim, tmp_path)
    results = write_results_workbook(tmp_path, [{"name": "x-invalid", "result": "INVALID"}], target)
    with pytest.raises(InputError, match="no created task"):
        refresh_status(results, target, out_path=tmp_path / "o.xlsx", report_dir=tmp_path, retry=FAST)


def test_unknown_task_id_counts_as_failed(sim: Simulator, tmp_path: Path) -> None:
    target = target_for(sim, tmp_path)
    results = write_results_workbook(tmp_path, [{"name": "ghost", "result": "CREATED", "task_id": "no-such-id"}],
                                     target)
    outcome = refresh_status(results, target, out_path=tmp_path / "o.xlsx", report_dir=tmp_path, retry=FAST)
    assert outcome.exit_code == 1
    assert by_name(tmp_path / "o.xlsx")["ghost"]["error_code"] == "DRS.M00289"


def test_query_states_keeps_ids_the_server_leaves_out() -> None:
    class Partial:
        def batch_status(self, ids: list[str]) -> list[dict]:
            return [{"id": ids[0], "status": "CONFIGURATION"}]

    states = query_states(Partial(), ["a", "b"])  # type: ignore[arg-type]
    assert states["a"].health == "healthy" and states["b"].health == "failed"


def test_scrubber_masks_credentials_in_server_text() -> None:
    scrub = scrubber([TOKEN, ""])
    assert scrub(f"token {TOKEN} expired") == "token ****** expired"
    assert scrub(None) is None


# -- the command -------------------------------------------------------------------------------------

def test_command_with_endpoint_from_summary_and_token_from_env(sim: Simulator, tmp_path: Path) -> None:
    sim.set_faults(transition_delay=0)
    target = Target(endpoint=sim.base_url, ledger_endpoint=sim.base_url, project_id=PROJECT, auth=TokenAuth(TOKEN),
                    ledger_path=tmp_path / "ledger.sqlite")
    ids = create_tasks(sim, ["cli-1", "cli-2"])
    record_created(target, ids)
    results = write_results_workbook(tmp_path, created_rows(ids), target)
    args = [str(results), "--ledger", str(target.ledger_path), "--report-dir", str(tmp_path / "rep"),
            "--out", str(tmp_path / "s.xlsx"), "--watch", "--interval", "0.05", "--timeout", "10", "--json", "-q"]
    result = CliRunner().invoke(status_command, args, standalone_mode=False, env={"OS_AUTH_TOKEN": TOKEN})
    assert result.exception is None, result.output
    assert result.return_value == 0
    document = json.loads(result.stdout)
    assert {t["task_status"] for t in document["tasks"]} == {"CONFIGURATION"}
    assert TOKEN not in result.output
    assert (tmp_path / "rep" / "s-report.html").is_file()


def test_command_simulate_with_persisted_state(tmp_path: Path) -> None:
    state = tmp_path / "sim.sqlite"
    with Simulator(token=TOKEN, state_path=state, faults=FaultConfig(transition_delay=0)) as first:
        ids = create_tasks(first, ["kept-1"])
        bad = create_tasks(first, ["kept-2"], fail=True)
    first.close()
    target = Target(endpoint="unused", ledger_endpoint=SIMULATOR_ENDPOINT, project_id=PROJECT, auth=None,
                    ledger_path=state.with_name(state.name + ".ledger.sqlite"))
    record_created(target, {**ids, **bad})
    results = write_results_workbook(tmp_path, created_rows({**ids, **bad}), target)
    args = [str(results), "--simulate", "--simulator-state", str(state), "--report-dir", str(tmp_path / "rep"),
            "--out", str(tmp_path / "s.xlsx"), "-q"]
    result = CliRunner().invoke(status_command, args, standalone_mode=False)
    assert result.exception is None, result.output
    assert result.return_value == 1
    rows = by_name(tmp_path / "s.xlsx")
    assert rows["kept-1"]["task_status"] == "CONFIGURATION" and rows["kept-2"]["task_status"] == "CREATE_FAILED"


@pytest.mark.parametrize(("extra", "message"), [
    (["--simulator-state", "x.sqlite"], "--simulator-state needs --simulate"),
    ([], "ran on the simulator"),
])
def test_command_unusable_options_exit_2(sim: Simulator, tmp_path: Path, extra: list[str], message: str) -> None:
    target = target_for(sim, tmp_path)
    results = write_results_workbook(tmp_path, created_rows({"a-task": "id-1"}), target)
    result = CliRunner().invoke(status_command, [str(results), *extra], standalone_mode=False)
    assert isinstance(result.exception, InputError) and result.exception.exit_code == 2
    assert message in str(result.exception)


def test_follow_up_of_a_real_submit(tmp_path: Path, repo: Path) -> None:
    """submit -> status -> report -> rollback on one persisted simulator, as `make demo` runs them;
    the report's numbers equal the results workbook's at every step."""
    from bulkimport.cli.report import command as report_command
    from bulkimport.cli.rollback import command as rollback_command
    from bulkimport.submit import SubmitOptions, submit_workbook

    state = tmp_path / "sim.sqlite"
    submitted = submit_workbook(repo / "templates" / "examples" / "campaign-example.xlsx",
                                SubmitOptions(simulate=True, simulator_state=state, out=tmp_path / "camp.xlsx"),
                                env={"SRC_DB_PASSWORD": "pw-src-1", "TGT_DB_PASSWORD": "pw-tgt-1",
                                     "SRC_SSL_CERT_KEY": "c2VjcmV0", "SRC_SSL_CERT_PASSWORD": "pw-p12-1"})
    assert submitted.exit_code == 0
    runner = CliRunner()
    common = ["--simulate", "--simulator-state", str(state), "--report-dir", str(tmp_path / "rep"), "-q"]
    status = runner.invoke(status_command, [str(submitted.results_path), *common, "--watch", "--interval", "0.1",
                                            "--timeout", "20", "--out", str(tmp_path / "camp-status.xlsx")],
                           standalone_mode=False)
    assert status.exception is None and status.return_value == 0, status.output
    rebuilt = runner.invoke(report_command, [str(tmp_path / "camp-status.xlsx"), "--out-dir", str(tmp_path / "r2")],
                            standalone_mode=False)
    assert rebuilt.return_value == 0
    report = json.loads((tmp_path / "r2" / "camp-status-report.json").read_text(encoding="utf-8"))
    rows = read_workbook(tmp_path / "camp-status.xlsx").cells.values()
    assert report["counts"]["rows"] == len(rows) == 48
    assert report["counts"]["by_task_status"] == {"CONFIGURATION": 48}
    assert [t["task_id"] for t in report["tasks"]] == [r["task_id"] for r in rows]
    assert report["campaign"]["input_sha256"] == submitted.campaign.input_sha256
    for written in [*(tmp_path / "rep").iterdir(), *(tmp_path / "r2").iterdir()]:
        text = written.read_text(encoding="utf-8")
        assert "pw-src-1" not in text and "pw-tgt-1" not in text and "pw-p12-1" not in text

    rolled = runner.invoke(rollback_command, [str(tmp_path / "camp-status.xlsx"), *common, "--yes", "--interval",
                                              "0.1", "--out", str(tmp_path / "camp-rollback.xlsx")],
                           standalone_mode=False)
    assert rolled.exception is None and rolled.return_value == 0, rolled.output
    assert {r["result"] for r in read_workbook(tmp_path / "camp-rollback.xlsx").cells.values()} == {"DELETED"}


def test_numbers_the_server_sends_as_text_are_written_as_numbers() -> None:
    """Progress percentages, seconds and pass rates become numbers; anything else stays text
    (and results_book writes text as text, so "=1+1" never becomes a formula)."""
    from bulkimport.status import number_or_text

    assert number_or_text("100") == 100 and number_or_text(" 5 ") == 5 and number_or_text("97.5") == 97.5
    assert number_or_text("-1") == -1 and number_or_text("100%", percent=True) == 100
    assert number_or_text("100%") == "100%"  # a percent only where the column is a rate
    for text in ("=1+1", "1e308", "0x10", "12 s", "9" * 40, "nan", "inf"):
        assert number_or_text(text) == text
    assert number_or_text("") is None and number_or_text(None) is None


@pytest.mark.parametrize("command", ["status", "rollback"])
def test_a_follow_up_reads_the_summary_and_findings_sheets_of_its_workbook_once(
        command: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    """campaign_target reads the campaign facts to choose the ledger and compare the endpoint;
    the command's plan and its follow-up campaign take them from the Target, not from a second
    read of a workbook that may have changed in between."""
    from test_language import _submitted_zh_campaign, run

    from bulkimport import book_read, report

    monkeypatch.chdir(tmp_path)
    state = tmp_path / "sim.sqlite"
    results = _submitted_zh_campaign(tmp_path, state, capsys)
    reads: list[Path] = []
    real = report.read_summary_facts

    def counted(path: Path) -> object:
        reads.append(Path(path))
        return real(path)

    monkeypatch.setattr(report, "read_summary_facts", counted)
    sheet_reads: list[Path] = []
    real_sheet = book_read.findings_sheet_lines

    def counted_sheet(path: Path) -> object:
        sheet_reads.append(Path(path))
        return real_sheet(path)

    monkeypatch.setattr(book_read, "findings_sheet_lines", counted_sheet)
    extra = ["--yes"] if command == "rollback" else []
    code, _, err = run([command, str(results), "--simulate", "--simulator-state", str(state), "-q", *extra,
                        "--out", str(tmp_path / f"{command}.xlsx")], capsys)
    assert code in (0, 3), err
    assert [p for p in reads if p == results] == [results]
    # its Findings sheet too: the markers carried over and the report's drift lines come from one reading
    assert [p for p in sheet_reads if p == results] == [results]
