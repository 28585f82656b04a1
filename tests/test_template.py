"""The Excel template, the committed template and example workbooks, and `bulkimport template`."""

from __future__ import annotations

import csv
import importlib.util
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import openpyxl
import pytest
from click.testing import CliRunner
from openpyxl.utils import get_column_letter, range_boundaries
from openpyxl.worksheet.worksheet import Worksheet

from bulkimport import fields, template
from bulkimport.cli import cli, main
from bulkimport.outputs import filled_rows

REPO = Path(__file__).resolve().parent.parent
COMMITTED_TEMPLATE = REPO / "templates" / "drs-jobs-template.xlsx"
EXAMPLES_DIR = REPO / "templates" / "examples"
FIRST, LAST = template.FIRST_DATA_ROW, template.LAST_VALIDATED_ROW


@pytest.fixture(scope="module")
def en_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return template.write_template(tmp_path_factory.mktemp("en") / "t.xlsx")


@pytest.fixture(scope="module")
def zh_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return template.write_template(tmp_path_factory.mktemp("zh") / "t.xlsx", language="zh-cn")


@pytest.fixture(scope="module")
def en_book(en_path: Path) -> openpyxl.Workbook:
    return openpyxl.load_workbook(en_path)


@pytest.fixture(scope="module")
def zh_book(zh_path: Path) -> openpyxl.Workbook:
    return openpyxl.load_workbook(zh_path)


def load_examples_script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("make_examples", EXAMPLES_DIR / "make_examples.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def column_validations(ws: Worksheet) -> dict[int, list]:
    """Column index (1-based) -> the data validations whose ranges touch that column."""
    by_column: dict[int, list] = {}
    for dv in ws.data_validations.dataValidation:
        for cell_range in dv.sqref.ranges:
            min_col, _, max_col, _ = range_boundaries(cell_range.coord)
            for col in range(min_col, max_col + 1):
                by_column.setdefault(col, []).append(dv)
    return by_column


def column_number_format(ws: Worksheet, col: int) -> str:
    """openpyxl merges identical neighbouring column definitions into one min..max entry."""
    for dim in ws.column_dimensions.values():
        if dim.min is not None and dim.min <= col <= dim.max:
            return dim.number_format
    return "General"


def resolve_list(book: openpyxl.Workbook, formula: str) -> list[str]:
    """The values a list validation offers: `'_lists'!$A$2:$A$4` -> the cells of that range."""
    sheet_part, _, cell_part = formula.lstrip("=").rpartition("!")
    ws = book[sheet_part.strip("'")]
    return [cell.value for row in ws[cell_part.replace("$", "")] for cell in row]


def content(path: Path) -> dict[str, object]:
    """What a workbook says (not how it is zipped): sheets and their states, every cell value,
    every data validation, frozen panes and column number formats."""
    book = openpyxl.load_workbook(path)
    sheets = {}
    for ws in book.worksheets:
        validations = sorted(
            json.dumps([dv.type, dv.operator, dv.formula1, dv.formula2, str(dv.sqref), dv.prompt, dv.promptTitle,
                        dv.error, dv.errorTitle, dv.errorStyle, dv.allow_blank, dv.showInputMessage])
            for dv in ws.data_validations.dataValidation
        )
        sheets[ws.title] = {
            "state": ws.sheet_state,
            "cells": {c.coordinate: (c.value, c.number_format) for row in ws.iter_rows() for c in row
                      if c.value is not None},
            "validations": validations,
            "freeze": ws.freeze_panes,
            "column_formats": {k: d.number_format for k, d in ws.column_dimensions.items()},
        }
    return {"order": book.sheetnames, "sheets": sheets}


def assert_same_content(committed: Path, fresh: Path, how_to_refresh: str) -> None:
    old, new = content(committed), content(fresh)
    assert old["order"] == new["order"], how_to_refresh
    for name in new["order"]:
        assert old["sheets"][name] == new["sheets"][name], f"sheet {name} differs: {how_to_refresh}"


# --- layout -----------------------------------------------------------------------------------


def test_every_catalogue_field_has_exactly_one_column_in_the_key_row(en_book: openpyxl.Workbook) -> None:
    ws = en_book[template.JOBS_SHEET]
    keys = [c.value for c in ws[template.KEY_ROW]]
    assert tuple(keys) == fields.KEYS
    assert len(set(keys)) == len(keys)


def test_label_row_marks_mandatory_columns(en_book: openpyxl.Workbook) -> None:
    ws = en_book[template.JOBS_SHEET]
    for col, field in enumerate(fields.CATALOGUE, start=1):
        cell = ws.cell(template.LABEL_ROW, col)
        assert cell.value.startswith(field.label)
        assert cell.value.endswith(template.MANDATORY_SUFFIX) == field.mandatory, field.key
        assert bool(cell.font.b) == field.mandatory, field.key


def test_header_colour_follows_the_column_group(en_book: openpyxl.Workbook) -> None:
    ws = en_book[template.JOBS_SHEET]
    colour_of: dict[fields.Group, set[str]] = {}
    for col, field in enumerate(fields.CATALOGUE, start=1):
        colour_of.setdefault(field.group, set()).add(ws.cell(template.LABEL_ROW, col).fill.fgColor.rgb)
    assert all(len(colours) == 1 for colours in colour_of.values())
    assert len({next(iter(c)) for c in colour_of.values()}) == len(fields.Group)


def test_sheets_states_and_frozen_headers(en_book: openpyxl.Workbook) -> None:
    assert en_book.sheetnames[0] == template.JOBS_SHEET
    states = {ws.title: ws.sheet_state for ws in en_book.worksheets}
    assert states[template.LISTS_SHEET] == "hidden"
    assert states[template.META_SHEET] == "hidden"
    assert states[template.INSTRUCTIONS_SHEET] == states[template.FIELDS_SHEET] == "visible"
    # Both header rows stay on screen (and the task name beside the data).
    assert en_book[template.JOBS_SHEET].freeze_panes == f"B{template.FIRST_DATA_ROW}"


def test_text_format_exactly_on_identifier_columns(en_book: openpyxl.Workbook) -> None:
    ws = en_book[template.JOBS_SHEET]
    for col, field in enumerate(fields.CATALOGUE, start=1):
        assert (column_number_format(ws, col) == "@") == field.text_format, field.key


def test_every_column_has_one_validation_over_the_data_area_with_an_input_message(
    en_book: openpyxl.Workbook,
) -> None:
    ws = en_book[template.JOBS_SHEET]
    by_column = column_validations(ws)
    for col, field in enumerate(fields.CATALOGUE, start=1):
        (dv,) = by_column[col]
        letter = get_column_letter(col)
        assert str(dv.sqref) == f"{letter}{FIRST}:{letter}{LAST}"
        assert dv.showInputMessage
        assert dv.prompt and len(dv.prompt) <= template.PROMPT_MESSAGE_MAX
        assert dv.promptTitle and len(dv.promptTitle) <= template.PROMPT_TITLE_MAX
        assert field.help.startswith(dv.prompt.rstrip("…"))


def test_dropdowns_offer_exactly_the_allowed_values(en_book: openpyxl.Workbook) -> None:
    ws = en_book[template.JOBS_SHEET]
    by_column = column_validations(ws)
    enumerated = [f for f in fields.CATALOGUE if f.kind in (fields.Kind.ENUM, fields.Kind.BOOLEAN)]
    assert enumerated
    for col, field in enumerate(fields.CATALOGUE, start=1):
        (dv,) = by_column[col]
        if field in enumerated:
            assert dv.type == "list", field.key
            assert not dv.formula1.startswith('"'), "inline lists break Excel beyond 255 chars"
            assert resolve_list(en_book, dv.formula1) == list(field.allowed), field.key
        else:
            assert dv.type != "list", field.key


def test_number_ranges_and_text_lengths(en_book: openpyxl.Workbook) -> None:
    ws = en_book[template.JOBS_SHEET]
    by_column = column_validations(ws)
    checked = 0
    for col, field in enumerate(fields.CATALOGUE, start=1):
        (dv,) = by_column[col]
        if field.kind in (fields.Kind.INTEGER, fields.Kind.INTEGER_STRING) and field.maximum is not None:
            assert dv.type == "whole" and dv.operator in (None, "between"), field.key  # between is OOXML's default
            assert (int(dv.formula1), int(dv.formula2)) == (field.minimum, field.maximum)
            checked += 1
        elif field.max_length is not None:
            assert dv.type == "textLength" and dv.operator in (None, "between"), field.key
            assert (int(dv.formula1), int(dv.formula2)) == (field.min_length or 0, field.max_length)
            checked += 1
    assert checked >= 4


def test_meta_sheet_identifies_the_template(en_book: openpyxl.Workbook) -> None:
    ws = en_book[template.META_SHEET]
    assert ws["A1"].value == "template_version"
    assert ws["B1"].value == fields.TEMPLATE_VERSION
    meta = {row[0]: row[1] for row in ws.iter_rows(values_only=True)}
    assert meta["language"] == "en-us"
    assert meta["catalogue_sha256"] == template.catalogue_hash()
    assert meta["last_validated_row"] == str(LAST)


def test_catalogue_hash_changes_with_the_catalogue(monkeypatch: pytest.MonkeyPatch) -> None:
    before = template.catalogue_hash()
    monkeypatch.setattr(fields, "RULES", fields.RULES[:-1])
    assert template.catalogue_hash() != before


def test_fields_sheet_documents_every_field_and_rule(en_book: openpyxl.Workbook) -> None:
    ws = en_book[template.FIELDS_SHEET]
    first_column = [row[0] for row in ws.iter_rows(values_only=True)]
    for field in fields.CATALOGUE:
        (row,) = [r for r in ws.iter_rows(values_only=True) if r[0] == field.key]
        assert field.help in row
        if field.allowed:
            assert ", ".join(field.allowed) in row
    for rule in fields.RULES:
        assert rule.code in first_column


def test_instructions_explain_env_references(en_book: openpyxl.Workbook) -> None:
    text = " ".join(str(v) for row in en_book[template.INSTRUCTIONS_SHEET].iter_rows(values_only=True)
                    for v in row if v)
    assert "env:" in text
    assert "bulkimport validate" in text and "bulkimport submit" in text


def test_chinese_template_has_chinese_labels_and_the_same_keys(zh_book: openpyxl.Workbook) -> None:
    ws = zh_book[template.JOBS_SHEET]
    assert tuple(c.value for c in ws[template.KEY_ROW]) == fields.KEYS
    labels = [c.value for c in ws[template.LABEL_ROW]]
    assert labels == [template.header_label(f, "zh-cn") for f in fields.CATALOGUE]
    assert any("\u4e00" <= ch <= "\u9fff" for ch in labels[0])
    by_column = column_validations(ws)
    for col, field in enumerate(fields.CATALOGUE, start=1):
        (dv,) = by_column[col]
        assert field.help_zh.startswith(dv.prompt.rstrip("…"))
    meta = {row[0]: row[1] for row in zh_book[template.META_SHEET].iter_rows(values_only=True)}
    assert meta["language"] == "zh-cn"


def test_long_prompts_are_cut_to_excels_limit() -> None:
    assert template.fit("x" * 300, 255) == "x" * 254 + "…"
    assert template.fit("short", 255) == "short"


# --- rows ---------------------------------------------------------------------------------


def test_rows_keep_identifiers_as_text_and_booleans_in_dropdown_spelling(tmp_path: Path) -> None:
    row = {"name": "Task0001", "source_endpoint.inst_id": "0012345678901234567890e5", "source_endpoint.db_port": 3306,
           "bind_eip": True, "tags": [{"key": "wave", "value": "1"}, {"key": "owner", "value": "dba"}]}
    path = template.write_template(tmp_path / "rows.xlsx", rows=[row])
    ws = openpyxl.load_workbook(path)[template.JOBS_SHEET]
    values = {ws.cell(template.KEY_ROW, c).value: ws.cell(FIRST, c) for c in range(1, ws.max_column + 1)}
    assert values["source_endpoint.inst_id"].value == "0012345678901234567890e5"
    assert values["source_endpoint.inst_id"].number_format == "@"
    assert values["source_endpoint.db_port"].value == 3306
    assert values["bind_eip"].value == "true"
    assert values["tags"].value == "wave=1;owner=dba"
    assert ws.max_row == FIRST


def test_rows_with_unknown_keys_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="not_a_column"):
        template.write_template(tmp_path / "x.xlsx", rows=[{"not_a_column": "x"}])


def test_output_is_byte_identical_each_run(tmp_path: Path, en_path: Path) -> None:
    again = template.write_template(tmp_path / "again.xlsx")
    assert again.read_bytes() == en_path.read_bytes()


# --- committed files ------------------------------------------------------------------------


def test_committed_template_is_current(en_path: Path) -> None:
    assert_same_content(COMMITTED_TEMPLATE, en_path, "run `bulkimport template` and commit the result")


def test_committed_examples_are_current(tmp_path: Path) -> None:
    written = load_examples_script().build(tmp_path)
    assert [p.name for p in written] == ["api-page-examples.xlsx", "campaign-example.xlsx"]
    for fresh in written:
        assert_same_content(EXAMPLES_DIR / fresh.name, fresh,
                            "run `.venv/bin/python templates/examples/make_examples.py` and commit the result")


def read_rows(path: Path) -> list[dict[str, object]]:
    ws = openpyxl.load_workbook(path)[template.JOBS_SHEET]
    keys = [c.value for c in ws[template.KEY_ROW]]
    return [{k: v for k, v in zip(keys, row, strict=True) if v is not None}
            for row in ws.iter_rows(min_row=FIRST, values_only=True)]


def test_page_examples_hold_the_api_pages_four_requests() -> None:
    script = load_examples_script()
    rows = read_rows(EXAMPLES_DIR / "api-page-examples.xlsx")
    assert [r["name"] for r in rows] == ["DRS-9228", "DRS-api-test", "DRS-3371-linxiaolu", "DRS-linxiaolu-test3"]
    for row, job in zip(rows, script.API_PAGE_JOBS, strict=True):
        rebuilt: dict[str, object] = {}
        for key, value in row.items():
            head, _, attribute = key.partition(".")
            if value in ("true", "false"):
                value = value == "true"
            if attribute:
                rebuilt.setdefault(head, {})[attribute] = value
            else:
                rebuilt[key] = value
        assert rebuilt == job


def test_campaign_example_is_broad_and_holds_no_literal_passwords() -> None:
    rows = read_rows(EXAMPLES_DIR / "campaign-example.xlsx")
    assert len(rows) >= 40
    assert {r["engine_type"] for r in rows} == set(fields.ENGINE_TYPES)
    assert {r["db_use_type"] for r in rows} == set(fields.DB_USE_TYPES)
    assert len({str(r["name"]).lower() for r in rows}) == len(rows)
    secrets = [r[k] for r in rows for k in fields.SECRET_KEYS if k in r]
    assert secrets and all(fields.ENV_REFERENCE_RE.match(s) for s in secrets)
    assert any("tags" in r for r in rows) and any("enterprise_project_id" in r for r in rows)


def test_campaign_example_passes_validation() -> None:
    validate = pytest.importorskip("bulkimport.validate")
    result = validate.validate_workbook(EXAMPLES_DIR / "campaign-example.xlsx")
    errors = [f for f in result.findings if str(f.severity) == "error"]
    assert errors == []
    assert not result.invalid


# --- other programs -------------------------------------------------------------------------


def test_libreoffice_converts_the_template(tmp_path: Path, en_path: Path, soffice: str) -> None:
    proc = subprocess.run(
        [soffice, "--headless", f"-env:UserInstallation=file://{tmp_path / 'profile'}",
         "--convert-to", "csv", "--outdir", str(tmp_path), str(en_path)],
        capture_output=True, text=True, timeout=180,
    )
    assert proc.returncode == 0, proc.stderr
    with open(tmp_path / "t.csv", newline="", encoding="utf-8") as handle:
        first_rows = list(csv.reader(handle))[:2]
    assert first_rows[1] == list(fields.KEYS)


# --- command line ---------------------------------------------------------------------------


def test_cli_writes_the_template_creating_folders_and_replacing_a_file(tmp_path: Path) -> None:
    target = tmp_path / "new" / "dir" / "jobs.xlsx"
    runner = CliRunner()
    for _ in range(2):  # the second run replaces the first file
        result = runner.invoke(cli, ["template", str(target)])
        assert result.exit_code == 0, result.output
        assert str(target) in result.output
    ws = openpyxl.load_workbook(target)[template.JOBS_SHEET]
    assert tuple(c.value for c in ws[template.KEY_ROW]) == fields.KEYS


def test_cli_never_replaces_an_operators_filled_workbook_without_force(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    filled = tmp_path / "wave3.xlsx"
    shutil.copy(EXAMPLES_DIR / "campaign-example.xlsx", filled)
    before = filled.read_bytes()
    with pytest.raises(SystemExit) as stop:
        main(["template", str(filled)])
    assert stop.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "--force" in err
    assert filled.read_bytes() == before

    other = tmp_path / "notes.xlsx"
    other.write_text("not a workbook")
    with pytest.raises(SystemExit) as stop:
        main(["template", str(other)])
    assert stop.value.code == 2 and other.read_text() == "not a workbook"

    assert CliRunner().invoke(cli, ["template", str(filled), "--force"]).exit_code == 0
    assert filled_rows(filled) == 0


def test_cli_default_path_is_under_templates(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(cli, ["template", "--language", "zh-cn"])
    assert result.exit_code == 0, result.output
    assert (tmp_path / template.DEFAULT_PATH).is_file()


def test_cli_rejects_an_unknown_language(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["template", str(tmp_path / "t.xlsx"), "--language", "xx"])
    assert result.exit_code == 2
    assert not (tmp_path / "t.xlsx").exists()


def test_cli_refuses_a_non_xlsx_path_with_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as stop:
        main(["template", str(tmp_path / "t.csv")])
    assert stop.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and ".xlsx" in err
    assert not (tmp_path / "t.csv").exists()


def test_python_m_bulkimport_template_regenerates(tmp_path: Path) -> None:
    target = tmp_path / "m.xlsx"
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    proc = subprocess.run([sys.executable, "-m", "bulkimport.template", str(target)],
                          capture_output=True, text=True, timeout=60, env=env, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert target.is_file()
