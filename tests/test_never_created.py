"""Rows whose task was never created, end to end over the simulator (issue 11): prepare,
start, status and the report say what the ledger knows of each row instead of a blank result.

Each ledger state is made the way a campaign makes it, never written into the ledger by hand:
- DELETED: created, then rolled back;
- UNKNOWN: every creation request answered 500 (the request may have reached the server); the
  look-up found no task, so submit itself said NOT_SENT, but the ledger keeps the row in doubt
  for the next submit to look up again, and the later commands say so;
- NOT_SENT with the server's code: every creation request throttled (429) until submit gave up;
- NOT_SENT with the tool's note: never sent at all.
prepare and start are given the operator's workbook, which has no result column, so the
ledger is the only source of each row's result.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from test_launch import FAST, env, launch_row, prepare, rows_by_name, start, target
from test_submit import TOKEN, make_book, options

from bulkimport.findings import note
from bulkimport.report import build_report
from bulkimport.rollback import execute_rollback, plan_rollback
from bulkimport.simulator import FaultConfig, Simulator
from bulkimport.simulator.testing import fast_launch_faults
from bulkimport.status import refresh_status
from bulkimport.submit import submit_workbook

NO_TASK_NOTE = note("en-us", "note:no_task")
#: name -> (result, error_code) every command shows for the row; None: made-1 has its task.
EXPECTED = {
    "gone-1": ("DELETED", None),
    "doubt-1": ("UNKNOWN", "DRS.M00004"),
    "busy-1": ("NOT_SENT", "APIG.0308"),
    "never-1": ("NOT_SENT", None),
}


@pytest.fixture
def sim():
    with Simulator(token=TOKEN, faults=FaultConfig(**fast_launch_faults(retry_after=0))) as server:
        yield server


def _submit(sim: Simulator, tmp_path: Path, names: list[str], **faults: object):
    """Submit a workbook of `names` into the shared ledger with `faults` on, then turn them off."""
    stem = "-".join(names)
    book = make_book(tmp_path / f"{stem}.xlsx", [launch_row(n, 90 + len(n)) for n in names])
    sim.set_faults(**faults)
    try:
        return submit_workbook(book, options(sim, tmp_path, out=tmp_path / f"{stem}-results.xlsx", max_attempts=2,
                                             max_retry_time=5), env=env(sim))
    finally:
        sim.set_faults(error_500_rate=0.0, rate_429=0.0)


def _campaign_of_every_state(sim: Simulator, tmp_path: Path) -> Path:
    """The operator's workbook of five rows, one per state, after the runs that made each."""
    assert _submit(sim, tmp_path, ["made-1"]).exit_code == 0
    gone = _submit(sim, tmp_path, ["gone-1"])
    rolled = execute_rollback(plan_rollback(gone.results_path, target(sim, tmp_path), retry=FAST),
                              target(sim, tmp_path), out_path=tmp_path / "gone-rollback.xlsx",
                              report_dir=tmp_path / "reports", release_timeout=30, interval=0.05, retry=FAST)
    # exit 1: made-1, of the same ledger's campaign, is left on the server, as it should be
    assert rolled.counts["DELETED"] == 1 and rolled.counts["DELETE_FAILED"] == 0
    assert _submit(sim, tmp_path, ["doubt-1"], error_500_rate=1.0).exit_code == 3
    assert _submit(sim, tmp_path, ["busy-1"], rate_429=1.0).exit_code == 3
    return make_book(tmp_path / "wave.xlsx", [launch_row(n, 90 + len(n))
                                              for n in ("made-1", "gone-1", "doubt-1", "busy-1", "never-1")])


def _assert_rows_say_why(path: Path) -> None:
    rows = rows_by_name(path)
    assert rows["made-1"]["result"] == "CREATED" and rows["made-1"]["task_id"], path.name
    for name, (result, code) in EXPECTED.items():
        row = rows[name]
        assert (row["result"], row["error_code"], row["task_id"]) == (result, code, None), (path.name, name, row)
        assert row["error_msg"], (path.name, name)
    # A reason from the server where there was one, the tool's own note where there was none.
    assert rows["never-1"]["error_msg"] == NO_TASK_NOTE
    assert rows["busy-1"]["error_msg"] != NO_TASK_NOTE and rows["doubt-1"]["error_msg"] != NO_TASK_NOTE


def test_prepare_start_status_and_report_show_what_the_ledger_knows_of_rows_never_created(
        sim: Simulator, tmp_path: Path) -> None:
    book = _campaign_of_every_state(sim, tmp_path)

    prepared = prepare(sim, tmp_path, book)
    _assert_rows_say_why(prepared.results_path)
    assert {n: r["precheck"] for n, r in rows_by_name(prepared.results_path).items()} == {
        "made-1": "PASSED", **dict.fromkeys(EXPECTED, "NOT_CREATED")}

    started = start(sim, tmp_path, book)
    _assert_rows_say_why(started.results_path)
    assert rows_by_name(started.results_path)["made-1"]["start"] == "STARTED"
    assert {rows_by_name(started.results_path)[n]["start"] for n in EXPECTED} == {"SKIPPED"}

    for source, run in ((book, "original"), (prepared.results_path, "prepared")):
        status = refresh_status(source, target(sim, tmp_path), out_path=tmp_path / f"status-{run}.xlsx",
                                report_dir=tmp_path / "reports", retry=FAST)
        _assert_rows_say_why(status.results_path)

    # The report lists each row without a task with its reason; a deleted task sits with the
    # campaign's tasks, marked DELETED (the report's rollback view).
    report = build_report(started.results_path, out_dir=tmp_path / "signoff")
    summary = json.loads(report.json.read_text(encoding="utf-8"))
    listed = {r["name"]: r for r in summary["not_created"]}
    assert {n: (r["result"], r["error_code"]) for n, r in listed.items()} == {
        n: v for n, v in EXPECTED.items() if n != "gone-1"}
    assert all(r["reason"] for r in listed.values())
    assert {t["name"]: t["result"] for t in summary["tasks"]} == {"made-1": "CREATED", "gone-1": "DELETED"}
    page = report.html.read_text(encoding="utf-8")
    assert all(name in page for name in EXPECTED)
