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


def codes(validation, row: int | None = None) -> set[tuple[str | None, str]]:  # noqa: ANN001
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
