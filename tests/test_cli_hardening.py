"""Issue 13 (command-line parts): outputs proven writable before anything is sent, an
operator's workbook never replaced, numeric options that refuse nan/inf, one-line errors.

Every case runs the real `bulkimport` entry point (`main`) against the simulator over HTTP and
asserts, where a request could have gone out, that the simulator received none.
"""

from __future__ import annotations

import errno
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from test_submit import PROJECT, TOKEN, make_book, server_tasks, task_row

from bulkimport.cli import main
from bulkimport.errors import InputError
from bulkimport.outputs import filled_rows
from bulkimport.simulator import FaultConfig, Simulator
from bulkimport.submit import SubmitOptions

EXAMPLE = Path(__file__).resolve().parent.parent / "templates" / "examples" / "campaign-example.xlsx"
#: A folder no one can write in, root included (sysfs refuses new files with EACCES).
READ_ONLY = Path("/sys")


@pytest.fixture
def sim(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("OS_AUTH_TOKEN", TOKEN)
    for name in ("OS_PROJECT_ID", "OS_CLOUD", "OS_AUTH_URL", "OS_USERNAME", "OS_PASSWORD"):
        monkeypatch.delenv(name, raising=False)
    with Simulator(token=TOKEN, faults=FaultConfig(transition_delay=0, retry_after=0)) as server:
        yield server


def run(capsys: pytest.CaptureFixture[str], *args: object) -> tuple[int, str, str]:
    """Run `bulkimport ARGS` as the console script does; (exit code, stdout, stderr)."""
    capsys.readouterr()
    with pytest.raises(SystemExit) as stop:
        main([str(a) for a in args])
    captured = capsys.readouterr()
    return int(stop.value.code or 0), captured.out, captured.err


def assert_one_line_error(err: str, *fragments: str) -> None:
    assert "Traceback" not in err
    assert err.count("\n") == 1 and err.startswith("bulkimport: error: "), err
    for fragment in fragments:
        assert fragment in err, err


def submit_args(sim: Simulator, book: Path, tmp_path: Path, *extra: object) -> list[object]:
    args: list[object] = ["submit", book, "--endpoint", sim.base_url, "--project-id", PROJECT, "--yes",
                          "--retry-delay", "0.001"]
    if "--out" not in extra:
        args += ["--out", tmp_path / "out" / "results.xlsx"]
    if "--ledger" not in extra:
        args += ["--ledger", tmp_path / "ledger.sqlite"]
    if "--report-dir" not in extra:
        args += ["--report-dir", tmp_path / "reports"]
    return [*args, *extra]


@pytest.fixture
def book(tmp_path: Path) -> Path:
    return make_book(tmp_path / "wave3.xlsx", [task_row("task-a"), task_row("task-b")])


@pytest.fixture
def results(sim: Simulator, book: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Path:
    """A results workbook of a real submit (2 tasks created), for status/rollback/report."""
    code, _, err = run(capsys, *submit_args(sim, book, tmp_path))
    assert code == 0, err
    return tmp_path / "out" / "results.xlsx"


# -- 1. outputs are checked before the first request ----------------------------------------------

def test_submit_out_as_the_input_workbook_is_refused_before_sending(
        sim: Simulator, book: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    before = book.read_bytes()
    code, _, err = run(capsys, *submit_args(sim, book, tmp_path, "--out", book))
    assert code == 2
    assert_one_line_error(err, "input workbook")
    assert sim.requests() == [] and server_tasks(sim) == []
    assert book.read_bytes() == before


@pytest.mark.parametrize("where", ["out", "report-dir", "report-dir-is-a-file", "ledger"])
def test_submit_unwritable_outputs_stop_it_before_sending(
        sim: Simulator, book: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], where: str) -> None:
    a_file = tmp_path / "a-file"
    a_file.write_text("x")
    extra = {"out": ["--out", READ_ONLY / "results.xlsx"],
             "report-dir": ["--report-dir", READ_ONLY / "bulkimport-reports"],
             "report-dir-is-a-file": ["--report-dir", a_file],
             "ledger": ["--ledger", a_file / "ledger.sqlite"]}[where]
    code, _, err = run(capsys, *submit_args(sim, book, tmp_path, *extra))
    assert code == 2
    assert_one_line_error(err, "--" + where.split("-is-")[0])
    assert sim.requests() == [] and server_tasks(sim) == []


@pytest.mark.parametrize("command", ["status", "rollback", "report"])
def test_follow_up_commands_refuse_unwritable_outputs_in_one_line_before_asking_the_server(
        sim: Simulator, results: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], command: str) -> None:
    a_file = tmp_path / "a-file"
    a_file.write_text("x")
    common = ["--endpoint", sim.base_url, "--project-id", PROJECT, "--ledger", tmp_path / "ledger.sqlite"]
    seen = len(sim.requests())
    for outputs in (["--report-dir", a_file], ["--report-dir", READ_ONLY / "r"], ["--out", READ_ONLY / "s.xlsx"]):
        if command == "report":
            if outputs[0] == "--out":
                continue
            args = ["report", results, "--out-dir", outputs[1]]
        else:
            args = [command, results, *common, *outputs, "--yes"] if command == "rollback" else \
                [command, results, *common, *outputs]
        code, _, err = run(capsys, *args)
        assert code == 2, (outputs, err)
        assert_one_line_error(err)
    assert len(sim.requests()) == seen  # nothing asked, nothing deleted
    assert len(server_tasks(sim)) == 2


def test_out_and_ledger_on_one_path_are_refused(sim: Simulator, book: Path, tmp_path: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    same = tmp_path / "same.xlsx"
    code, _, err = run(capsys, *submit_args(sim, book, tmp_path, "--out", same, "--ledger", same))
    assert code == 2
    assert_one_line_error(err, "--out", "--ledger", "same path")
    assert sim.requests() == []


def test_a_disk_that_fills_up_after_sending_is_exit_3_and_a_rerun_rebuilds_the_results(
        sim: Simulator, book: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    import bulkimport.results_book

    real = bulkimport.results_book.write_results

    def disk_full(*args: object, **kwargs: object) -> Path:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(bulkimport.results_book, "write_results", disk_full)
    code, _, err = run(capsys, *submit_args(sim, book, tmp_path))
    assert code == 3
    progress, error = err.rsplit("\n", 2)[:-1] if err.count("\n") > 1 else ("", err.rstrip("\n"))
    assert "Traceback" not in err and "bulkimport: error:" not in progress
    assert_one_line_error(error + "\n", "No space left on device", "ledger", "run the same command again")
    assert len(server_tasks(sim)) == 2

    monkeypatch.setattr(bulkimport.results_book, "write_results", real)
    code, _, err = run(capsys, *submit_args(sim, book, tmp_path))
    assert code == 0, err
    assert "ALREADY_CREATED 2" in err
    assert (tmp_path / "out" / "results.xlsx").is_file()
    assert len(server_tasks(sim)) == 2  # nothing sent twice


# -- 5. --out never replaces an operator's workbook ----------------------------------------------

def test_validate_out_never_replaces_another_filled_workbook_or_a_text_file(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    wave3, wave4 = tmp_path / "wave3.xlsx", tmp_path / "wave4.xlsx"
    shutil.copy(EXAMPLE, wave3)
    shutil.copy(EXAMPLE, wave4)
    before = wave4.read_bytes()
    code, _, err = run(capsys, "validate", wave3, "--out", wave4)
    assert code == 2
    assert_one_line_error(err, "--force")
    assert wave4.read_bytes() == before

    notes = tmp_path / "notes.txt"
    notes.write_text("my notes")
    code, _, err = run(capsys, "validate", wave3, "--out", notes)
    assert code == 2
    assert_one_line_error(err, ".xlsx")
    assert notes.read_text() == "my notes"

    code, _, err = run(capsys, "validate", wave3, "--out", tmp_path / "copy.xlsx")
    assert code == 0, err
    code, _, err = run(capsys, "validate", wave3, "--out", tmp_path / "copy.xlsx")  # its own output: replaced
    assert code == 0, err
    code, _, err = run(capsys, "validate", wave3, "--out", wave4, "--force")
    assert code == 0, err
    assert filled_rows(wave4) == 0  # now an annotated copy (result columns), no longer the operator's


def test_submit_and_status_never_replace_an_operators_workbook(
        sim: Simulator, book: Path, results: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    other = tmp_path / "wave4.xlsx"
    shutil.copy(EXAMPLE, other)
    before = other.read_bytes()
    seen = len(sim.requests())
    code, _, err = run(capsys, *submit_args(sim, book, tmp_path, "--out", other))
    assert code == 2
    assert_one_line_error(err, "--force")
    code, _, err = run(capsys, "status", results, "--endpoint", sim.base_url, "--project-id", PROJECT,
                       "--ledger", tmp_path / "ledger.sqlite", "--report-dir", tmp_path / "reports", "--out", other)
    assert code == 2
    assert_one_line_error(err, "--force")
    assert other.read_bytes() == before
    assert len(sim.requests()) == seen


# -- 6. numeric options, tracebacks --------------------------------------------------------------

@pytest.mark.parametrize(("args", "option"), [
    (["submit", "{book}", "--simulate", "--timeout", "inf"], "--timeout"),
    (["submit", "{book}", "--simulate", "--timeout", "nan"], "--timeout"),
    (["submit", "{book}", "--simulate", "--timeout", "0"], "--timeout"),
    (["submit", "{book}", "--simulate", "--retry-delay", "-1"], "--retry-delay"),
    (["submit", "{book}", "--simulate", "--max-retry-time", "nan"], "--max-retry-time"),
    (["submit", "{book}", "--simulate", "--batch-size", "0"], "--batch-size"),
    (["submit", "{book}", "--simulate", "--concurrency", "1000"], "--concurrency"),
    (["submit", "{book}", "--simulate", "--max-attempts", "-3"], "--max-attempts"),
    (["status", "{book}", "--simulate", "--interval", "nan"], "--interval"),
    (["status", "{book}", "--simulate", "--timeout", "-inf"], "--timeout"),
    (["rollback", "{book}", "--simulate", "--release-timeout", "inf"], "--release-timeout"),
])
def test_numeric_options_refuse_nan_inf_and_out_of_range_naming_the_option_and_range(
        book: Path, capsys: pytest.CaptureFixture[str], args: list[str], option: str) -> None:
    code, out, err = run(capsys, *[a.format(book=book) for a in args])
    assert code == 2
    assert_one_line_error(err, option, "range")
    assert out == ""


def run_process(*args: object, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """`bulkimport ARGS` as a process, bounded in time: a simulator that wrongly starts would
    otherwise serve until killed."""
    try:
        return subprocess.run([sys.executable, "-m", "bulkimport", *map(str, args)], capture_output=True, text=True,
                              timeout=timeout, stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired as exc:
        pytest.fail(f"bulkimport {' '.join(map(str, args))} did not stop: {exc}")


@pytest.mark.parametrize(("args", "option"), [
    (["--latency", "nan"], "--latency"),
    (["--latency", "-1"], "--latency"),
    (["--error-500-rate", "2"], "--error-500-rate"),
    (["--port", "70000"], "--port"),
    (["--max-jobs", "0"], "--max-jobs"),
])
def test_simulator_options_out_of_range_are_one_line(args: list[str], option: str) -> None:
    proc = run_process("simulator", *args)
    assert proc.returncode == 2
    assert_one_line_error(proc.stderr, option, "range")


def test_library_options_refuse_non_finite_numbers() -> None:
    for bad in (float("inf"), float("nan"), -1.0):
        with pytest.raises(InputError, match="--timeout"):
            SubmitOptions(simulate=True, timeout=bad).check()


def test_former_tracebacks_are_one_line(book: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    not_sqlite = tmp_path / "state.sqlite"
    not_sqlite.write_text("not a database")
    cases = [
        ["template", READ_ONLY / "sub" / "t.xlsx"],
        ["submit", book, "--simulate", "--simulator-state", not_sqlite, "--yes", "--out", tmp_path / "r.xlsx",
         "--report-dir", tmp_path / "rep"],
        ["submit", book, "--endpoint", "http://[::1", "--project-id", PROJECT, "--dry-run",
         "--out", tmp_path / "r.xlsx", "--report-dir", tmp_path / "rep"],
    ]
    for args in cases:
        code, _, err = run(capsys, *args)
        assert code == 2, (args, err)
        assert_one_line_error(err)
    for args in (["--state-path", not_sqlite], ["--error-500-rate", "0.6", "--rate-429", "0.6"]):
        proc = run_process("simulator", "--port", "0", *args)
        assert proc.returncode == 2, proc.stderr
        assert_one_line_error(proc.stderr)
    assert not_sqlite.read_text() == "not a database"


def test_simulator_warns_when_bound_to_a_non_loopback_address() -> None:
    # 192.0.2.1 (TEST-NET-1) is on no interface here: the bind fails, so nothing listens off loopback.
    proc = run_process("simulator", "--host", "192.0.2.1", "--port", "0")
    assert proc.returncode == 2
    err = proc.stderr
    warning, error = err.splitlines()
    assert "WARNING" in warning and "not a loopback address" in warning and "no authentication" in warning
    assert error.startswith("bulkimport: error: ") and "Traceback" not in err


# -- 7. one line, always -------------------------------------------------------------------------

@pytest.mark.parametrize("args", [
    [],
    ["submit"],
    ["submit", "{tmp}", "--simulate"],
    ["submit", "{book}", "--no-such-option"],
    ["validate", "{book}", "--sheet"],
    ["no-such-command"],
    ["status"],
])
def test_click_usage_errors_are_one_line_and_exit_2(book: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                   args: list[str]) -> None:
    code, out, err = run(capsys, *[a.format(book=book, tmp=tmp_path) for a in args])
    assert code == 2
    assert_one_line_error(err)
    assert "Usage:" not in err and out == ""


def test_help_is_unchanged(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "submit", "--help")
    assert code == 0 and out.startswith("Usage: bulkimport submit")


def test_json_errors_are_a_json_object_on_stdout(book: Path, tmp_path: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    for args in (["submit", book, "--simulate", "--json", "--batch-size", "0"],
                 ["validate", tmp_path / "missing.xlsx", "--json"],
                 ["submit", book, "--simulate", "--json", "--out", tmp_path / "notes.txt"]):
        code, out, err = run(capsys, *args)
        assert code == 2
        assert_one_line_error(err)
        document = json.loads(out)
        assert document["exit_code"] == 2 and document["error"] in err


def test_report_refuses_a_workbook_that_is_not_a_results_workbook(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "report", EXAMPLE, "--out-dir", tmp_path / "rep")
    assert code == 2
    assert_one_line_error(err, "not a results workbook")
    assert not list((tmp_path / "rep").glob("*.html"))

    broken = tmp_path / "broken.xlsx"
    broken.write_bytes(b"PK\x03\x04 this is not a zip")
    code, _, err = run(capsys, "report", broken, "--out-dir", tmp_path / "rep")
    assert code == 2
    assert_one_line_error(err, "not a readable workbook")
    assert "Error" not in err.removeprefix("bulkimport: error: ")  # no CalamineError / ZipError alone


def test_a_workbook_this_tool_wrote_is_replaceable_even_without_result_columns(tmp_path: Path) -> None:
    """A failed-rows workbook laid out as a plain template still carries the Summary sheet
    with the command that wrote it: the tool's own output, so a re-run may replace it."""
    import openpyxl

    from bulkimport.outputs import replace_problem

    filled = tmp_path / "wave3-failed.xlsx"
    shutil.copy(EXAMPLE, filled)
    assert replace_problem(filled) is not None and filled_rows(filled)
    wb = openpyxl.load_workbook(filled)
    summary = wb.create_sheet("Summary")
    summary.append(["command", "submit"])
    wb.save(filled)
    assert replace_problem(filled) is None and filled_rows(filled) == 0


def test_a_damaged_workbook_is_described_not_named_by_a_library_exception(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import zipfile

    junk = tmp_path / "junk.xlsx"
    with zipfile.ZipFile(junk, "w") as archive:
        archive.writestr("[Content_Types].xml", "<x/>")
        archive.writestr("xl/workbook.xml", "garbage")
    for args in (["validate", junk, "--out", tmp_path / "v.xlsx"], ["report", junk, "--out-dir", tmp_path / "r"]):
        code, _, err = run(capsys, *args)
        assert code == 2
        assert_one_line_error(err, "damaged")
        assert "Calamine" not in err and "ZipError" not in err and "Error" not in err.removeprefix("bulkimport: error:")


def test_rollback_refuses_a_workbook_that_is_not_a_results_workbook(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Like report and status: the operator's own workbook is not 'nothing to roll back', exit 0."""
    code, _, err = run(capsys, "rollback", EXAMPLE, "--simulate", "--simulator-state", tmp_path / "sim.sqlite",
                       "--ledger", tmp_path / "ledger.sqlite", "--yes", "--report-dir", tmp_path / "rep")
    assert code == 2
    assert_one_line_error(err, "not a results workbook")
