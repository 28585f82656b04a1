"""Workbooks that are wrong in ways a spreadsheet hides: look-alike env: references,
numbers in other scripts, several task sheets, Excel error cells, merged and hidden rows,
and files built to be expensive (zip bombs). Each is reported or refused, never sent."""

from __future__ import annotations

from pathlib import Path

import pytest
from fixtures.books import base_row, write_book

from bulkimport.validate import validate_workbook

PORT = "source_endpoint.db_port"
SRC_PW = "source_endpoint.db_password"


def codes(validation, row: int | None = None) -> set[tuple[str | None, str]]:
    return {(f.column, f.code) for f in validation.findings if row is None or f.row == row}


# ----------------------------------------------------------------------------- numbers


@pytest.mark.parametrize("cell", ["３３０６", "3_306", "1e3", "٣٣٠٦", "1E3", "0x0cea", "inf", "nan", "3306.0e0"])
def test_numbers_are_ascii_digits_only(tmp_path: Path, cell: str) -> None:
    v = validate_workbook(write_book(tmp_path / "a.xlsx", [base_row(**{PORT: cell, "expired_days": cell})]))
    assert codes(v) == {(PORT, "type"), ("expired_days", "type")}
    assert v.invalid == {3} and v.rows[3][PORT] is None


@pytest.mark.parametrize(("cell", "expected"), [("3306", 3306), (" 3306 ", 3306), ("3306.0", 3306), ("-1", -1)])
def test_ascii_whole_numbers_still_parse(tmp_path: Path, cell: str, expected: int) -> None:
    v = validate_workbook(write_book(tmp_path / "a.xlsx", [base_row(**{PORT: cell})]))
    assert v.rows[3][PORT] == expected


# ----------------------------------------------------------------------------- env: references

LOOKALIKES = ["ENV:SRC_PW", "env: SRC_PW", "env:SRC_PW-X", "Env:SRC_PW", "env :SRC_PW", "env:", "env:1PW",
              " ENV:SRC_PW ", "env:SRC PW", "env:$SRC_PW", "env：SRC_PW"]


@pytest.mark.parametrize("cell", LOOKALIKES)
@pytest.mark.parametrize("column", [SRC_PW, "target_endpoint.ssl_cert_password", "source_endpoint.ssl_cert_key"])
def test_a_broken_env_reference_is_a_finding_never_a_password(tmp_path: Path, cell: str, column: str) -> None:
    v = validate_workbook(write_book(tmp_path / "a.xlsx", [base_row(**{column: cell})]))
    assert codes(v) == {(column, "env_reference")}
    assert v.invalid == {3}
    (finding,) = v.findings
    assert "env:NAME" in finding.message
    if len(cell.strip()) > len("env:"):
        assert cell.strip() not in finding.message  # it may be a password after all: never echoed


@pytest.mark.parametrize("cell", ["env:SRC_PW", "  env:SRC_PW  ", "env:_x1", "environment-1!", "my-env:pw", "envy"])
def test_valid_references_and_ordinary_passwords_pass(tmp_path: Path, cell: str) -> None:
    v = validate_workbook(write_book(tmp_path / "a.xlsx", [base_row(**{SRC_PW: cell})]))
    assert v.findings == []


def test_submit_never_sends_a_broken_env_reference(tmp_path: Path) -> None:
    from test_submit import TOKEN, create_requests, env, make_book, options, task_row

    from bulkimport.outcomes import Result
    from bulkimport.simulator import FaultConfig, Simulator
    from bulkimport.submit import submit_workbook

    with Simulator(token=TOKEN, faults=FaultConfig(transition_delay=0, retry_after=0)) as sim:
        rows = [task_row("task-ok", **{"target_endpoint.db_password": "env:TGT_PW"}),
                task_row("task-upper", **{"target_endpoint.db_password": "ENV:TGT_PW"}),
                task_row("task-space", **{"target_endpoint.db_password": "env: TGT_PW"})]
        outcome = submit_workbook(make_book(tmp_path / "in.xlsx", rows), options(sim, tmp_path),
                                  env=env(sim, TGT_PW="from-the-environment"))
        sent = [job for r in create_requests(sim) for job in r["body"]["jobs"]]
    assert outcome.exit_code == 1
    assert [j["name"] for j in sent] == ["task-ok"]
    results = {r.name: r for r in outcome.rows}
    assert results["task-upper"].result is Result.INVALID and results["task-space"].result is Result.INVALID
    assert "env:NAME" in (results["task-upper"].error_msg or "")


# ----------------------------------------------------------------------------- several task sheets


def _two_task_sheets(path: Path, second: str = "Jobs (2)", hidden: bool = False) -> Path:
    import openpyxl

    write_book(path, [base_row()])
    wb = openpyxl.load_workbook(path)
    copy = wb.copy_worksheet(wb["Jobs"])
    copy.title = second
    copy.cell(3, 1).value = "DRS-other"
    if hidden:
        copy.sheet_state = "hidden"
    wb.save(path)
    return path


def test_several_sheets_with_a_key_row_are_refused_naming_them(tmp_path: Path) -> None:
    from bulkimport.errors import InputError

    path = _two_task_sheets(tmp_path / "a.xlsx")
    with pytest.raises(InputError, match=r"'Jobs', 'Jobs \(2\)'.*--sheet"):
        validate_workbook(path)
    assert validate_workbook(path, sheet="Jobs (2)").rows[3]["name"] == "DRS-other"
    assert validate_workbook(path, sheet="jobs").rows[3]["name"] == "DRS-9228"
    # any other name with a key row counts too; a hidden copy does not (the template's own
    # hidden sheets have rows of keys)
    with pytest.raises(InputError, match="Wave7"):
        validate_workbook(_two_task_sheets(tmp_path / "b.xlsx", "Wave7"))
    assert validate_workbook(_two_task_sheets(tmp_path / "c.xlsx", hidden=True)).book.sheet_name == "Jobs"


def test_several_task_sheets_exit_2_in_one_line_from_validate_and_submit(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from bulkimport.cli import main

    path = _two_task_sheets(tmp_path / "a.xlsx")
    for args in (["validate", str(path), "--out", str(tmp_path / "o.xlsx")],
                 ["submit", str(path), "--simulate", "--yes", "--out", str(tmp_path / "r.xlsx"),
                  "--ledger", str(tmp_path / "l.sqlite"), "--report-dir", str(tmp_path / "rep")]):
        with pytest.raises(SystemExit) as exc:
            main(args)
        err = capsys.readouterr().err
        assert exc.value.code == 2
        assert err.count("\n") == 1 and "several sheets" in err and "'Jobs (2)'" in err
    with pytest.raises(SystemExit) as exc:
        main(["validate", str(path), "--sheet", "Jobs (2)", "--out", str(tmp_path / "o.xlsx")])
    assert exc.value.code == 0


def test_template_and_results_workbooks_have_one_task_sheet(tmp_path: Path) -> None:
    from bulkimport.template import write_template
    from bulkimport.validate import annotate
    from bulkimport.workbook import read_workbook

    for language in ("en-us", "zh-cn"):
        book = write_template(tmp_path / f"t-{language}.xlsx", language=language, rows=[base_row()])
        v = validate_workbook(book)
        assert v.book.sheet_name == "Jobs"
        copy = annotate(v, tmp_path / f"copy-{language}.xlsx")
        assert read_workbook(copy).sheet_name == "Jobs"
