"""`make demo` runs the main job end to end on the simulator and exits 0."""

from __future__ import annotations

import shutil
from pathlib import Path

from openpyxl import load_workbook

from bulkimport import demo


def test_demo_runs_the_whole_workflow(repo: Path, tmp_path: Path, monkeypatch, capsys) -> None:
    (tmp_path / demo.EXAMPLE.parent).mkdir(parents=True)
    shutil.copy(repo / demo.EXAMPLE, tmp_path / demo.EXAMPLE)
    monkeypatch.chdir(tmp_path)

    assert demo.main() == 0
    assert demo.main() == 0  # re-runnable: a fresh simulated cloud each time

    status = load_workbook(tmp_path / demo.OUT / "campaign-status.xlsx", read_only=True)["Jobs"]
    rows = list(status.iter_rows(min_row=2, values_only=True))
    header, data = rows[0], rows[1:]
    results = [dict(zip(header, r, strict=False)) for r in data]
    assert len(results) == 48
    assert {r["result"] for r in results} == {"CREATED"}
    assert {r["task_status"] for r in results} == {"CONFIGURATION"}
    assert (tmp_path / demo.OUT / "campaign-status-report.html").exists()

    def rows_of(name: str) -> list[dict]:
        sheet = load_workbook(tmp_path / demo.OUT / name, read_only=True)["Jobs"]
        found = list(sheet.iter_rows(min_row=2, values_only=True))
        return [dict(zip(found[0], r, strict=False)) for r in found[1:]]

    # the launch: every task pre-checked, started once, and running
    assert {(r["connection"], r["precheck"]) for r in rows_of("campaign-prepare.xlsx")} == {("OK", "PASSED")}
    assert {r["start"] for r in rows_of("campaign-start.xlsx")} == {"STARTED"}
    running = rows_of("campaign-running.xlsx")
    assert {r["task_status"] for r in running} <= {"INCRE_TRANSFER_STARTED", "FULL_TRANSFER_COMPLETE"}
    assert {r["progress"] for r in running} == {100}  # a number, not text
    assert (tmp_path / demo.OUT / "campaign-running-report.html").exists()
    assert "demo: done" in capsys.readouterr().out
