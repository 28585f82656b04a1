"""The README's recovery paths, run end to end as an operator types them.

README ("4. Follow-up and sign-off") and docs/report.md say: when `status` finds tasks that
failed after creation, it writes `reports/<stem>-status-failed.xlsx`; a failed task keeps its
name until it is deleted, so `bulkimport rollback` that workbook (deletes just those tasks),
fix the rows in it (retype `******` passwords or use `env:NAME`), then `bulkimport submit` it.

This test runs exactly those commands, with their default output paths, through the console
entry point against a simulator over real HTTP on 127.0.0.1 that fails some creations, and
checks what the campaign ends with on the server: every row's task created once, no name
twice, the failed tasks deleted and created again. The second test runs the other path: the
rows submit did not create (INVALID, REJECTED) fixed in submit's failed-rows workbook and
submitted again.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import openpyxl
import pytest
from fixtures.books import BASE_ROW, base_row, write_book

from bulkimport import fields
from bulkimport.book_read import read_workbook
from bulkimport.cli import main
from bulkimport.simulator import FaultConfig, Simulator
from bulkimport.simulator.testing import PROJECT_ID

NAMES = ["wave9-billing", "wave9-crm", "wave9-ledger", "wave9-hr", "wave9-search"]
#: The rows whose creation the simulator fails (CREATE_FAILED after CREATING).
FAILING = {"wave9-crm", "wave9-hr"}
TARGET_PW = "t4rget-Secret"
SECRET = str(BASE_ROW["source_endpoint.db_password"])  # a literal password: ****** in every output


@pytest.fixture
def sim() -> Iterator[Simulator]:
    with Simulator(token="recovery-token", faults=FaultConfig(transition_delay=0, retry_after=0)) as server:
        yield server


def bulkimport(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    """`bulkimport ARGV` through the console entry point: exit code and stderr."""
    with pytest.raises(SystemExit) as exc:
        main(argv)
    _, err = capsys.readouterr()
    return int(exc.value.code or 0), err


def only(folder: Path, pattern: str) -> Path:
    found = sorted(folder.glob(pattern))
    assert len(found) == 1, (pattern, [p.name for p in folder.iterdir()])
    return found[0]


def server_tasks(sim: Simulator) -> list[dict[str, object]]:
    """Every task the simulator holds for the project, deleted ones included."""
    return sim.tasks(PROJECT_ID)


def test_readme_recovery_path_recreates_each_failed_row_once(
    sim: Simulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("OS_AUTH_TOKEN", sim.token)
    monkeypatch.setenv("TARGET_PW", TARGET_PW)
    write_book(tmp_path / "wave9.xlsx", [base_row(name=n) for n in NAMES])
    target = ["--project-id", PROJECT_ID, "--endpoint", sim.base_url]
    # one task a request, in order, so the queued faults land on the rows meant to fail
    sim.set_faults(next=["create_failure" if n in FAILING else "ok" for n in NAMES])

    # bulkimport submit wave3.xlsx --project-id ... --region ...
    code, err = bulkimport(["submit", "wave9.xlsx", *target, "--yes", "--batch-size", "1", "--concurrency", "1"],
                           capsys)
    assert code == 0, err  # every row was accepted: the failure shows only after CREATING
    results = only(tmp_path / "reports", "wave9-submit-*[0-9].xlsx")

    # bulkimport status reports/wave3-submit-<time>.xlsx --watch
    code, err = bulkimport(["status", str(results), "--watch", "--interval", "0.05", "--timeout", "30"], capsys)
    assert code == 1, err
    for name in FAILING:
        assert name in err
    failed_rows = results.with_name(results.stem + "-status-failed.xlsx")
    assert failed_rows.is_file()
    first_ids = {t["name"]: t["id"] for t in server_tasks(sim)}
    assert set(first_ids) == set(NAMES)

    # bulkimport rollback <...>-status-failed.xlsx   (deletes just the failed tasks)
    code, err = bulkimport(["rollback", str(failed_rows), "--yes", "--interval", "0.05"], capsys)
    assert code == 0, err
    live = {t["name"] for t in server_tasks(sim) if t["status"] != "DELETED"}
    assert live == set(NAMES) - FAILING

    # fix the rows in that workbook: retype the passwords shown as ******
    book = openpyxl.load_workbook(failed_rows)
    sheet = book["Jobs"]
    keys = [c.value for c in sheet[2]]
    column = keys.index("source_endpoint.db_password") + 1
    retyped = []
    for row in range(3, sheet.max_row + 1):
        if sheet.cell(row, 1).value is None:
            continue
        assert sheet.cell(row, column).value == fields.SECRET_MASK
        sheet.cell(row, column).value = SECRET
        retyped.append(row)
    assert len(retyped) == len(FAILING)
    book.save(failed_rows)

    # bulkimport submit <...>-status-failed.xlsx --project-id ... --region ...
    code, err = bulkimport(["submit", str(failed_rows), *target, "--yes"], capsys)
    assert code == 0, err
    resubmitted = only(tmp_path / "reports", f"{failed_rows.stem}-submit-*[0-9].xlsx")
    outcome = {row["name"]: row["result"] for row in read_workbook(resubmitted).cells.values()}
    assert outcome == dict.fromkeys(FAILING, "CREATED")

    # bulkimport status <the new results> --watch: the tasks created again are healthy
    code, err = bulkimport(["status", str(resubmitted), "--watch", "--interval", "0.05", "--timeout", "30"], capsys)
    assert code == 0, err

    # the campaign's end state on the server: each row's task exists once, the failed ones anew
    tasks = server_tasks(sim)
    assert len(tasks) == len(NAMES) + len(FAILING)  # nothing was created twice
    live_tasks = [t for t in tasks if t["status"] != "DELETED"]
    assert sorted(t["name"] for t in live_tasks) == sorted(NAMES)  # no name twice
    assert {t["status"] for t in live_tasks} == {"CONFIGURATION"}
    for t in live_tasks:
        if t["name"] in FAILING:
            assert t["id"] != first_ids[t["name"]]
        else:
            assert t["id"] == first_ids[t["name"]]
    assert sorted(t["name"] for t in tasks if t["status"] == "DELETED") == sorted(FAILING)

    # as the docs say: the first results workbook still names the deleted tasks, counted as gone
    code, err = bulkimport(["status", str(results), "--out", str(tmp_path / "first-status.xlsx")], capsys)
    assert code == 1 and f"{len(FAILING)} gone" in err, err


def test_readme_fix_and_resubmit_path_for_rows_not_created(
    sim: Simulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """README, section 3: the failed-rows workbook beside the results holds only the rows not
    created (INVALID, REJECTED), in the template's layout, "ready to fix and resubmit"; passwords
    show ****** and are typed again. Fixing and submitting it creates just those rows, once."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("OS_AUTH_TOKEN", sim.token)
    monkeypatch.setenv("TARGET_PW", TARGET_PW)
    rows = [base_row(name="wave9-a"), base_row(name="wave9-b", **{"source_endpoint.db_port": "70000"}),
            base_row(name="wave9-c"), base_row(name="wave9-d")]
    write_book(tmp_path / "wave9.xlsx", rows)
    target = ["--project-id", PROJECT_ID, "--endpoint", sim.base_url]
    sim.set_faults(next=["ok", "item_failure", "ok"])  # the rows sent: a, c (refused by the server), d

    code, err = bulkimport(["submit", "wave9.xlsx", *target, "--yes", "--batch-size", "1", "--concurrency", "1"],
                           capsys)
    assert code == 1, err
    results = only(tmp_path / "reports", "wave9-submit-*[0-9].xlsx")
    first = {row["name"]: row["result"] for row in read_workbook(results).cells.values()}
    assert first == {"wave9-a": "CREATED", "wave9-b": "INVALID", "wave9-c": "REJECTED", "wave9-d": "CREATED"}
    failed_rows = results.with_name(results.stem + "-failed.xlsx")

    # fix the cells: the port of wave9-b, and the passwords shown as ******
    book = openpyxl.load_workbook(failed_rows)
    sheet = book["Jobs"]
    keys = [c.value for c in sheet[2]]
    names = {sheet.cell(r, 1).value: r for r in range(3, sheet.max_row + 1) if sheet.cell(r, 1).value}
    assert set(names) == {"wave9-b", "wave9-c"}
    sheet.cell(names["wave9-b"], keys.index("source_endpoint.db_port") + 1).value = "3306"
    for row in names.values():
        password = sheet.cell(row, keys.index("source_endpoint.db_password") + 1)
        assert password.value == fields.SECRET_MASK
        password.value = SECRET
        assert sheet.cell(row, keys.index("target_endpoint.db_password") + 1).value == "env:TARGET_PW"  # kept
    book.save(failed_rows)

    code, err = bulkimport(["submit", str(failed_rows), *target, "--yes"], capsys)
    assert code == 0, err
    again = only(tmp_path / "reports", f"{failed_rows.stem}-submit-*[0-9].xlsx")
    assert {row["name"]: row["result"] for row in read_workbook(again).cells.values()} == {
        "wave9-b": "CREATED", "wave9-c": "CREATED"}
    tasks = server_tasks(sim)
    assert sorted(t["name"] for t in tasks) == ["wave9-a", "wave9-b", "wave9-c", "wave9-d"]  # each once
    assert all(not t["deleted"] for t in tasks)
