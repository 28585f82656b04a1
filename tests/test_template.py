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
from openpyxl.utils import column_index_from_string, get_column_letter, range_boundaries
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


def resolve_name(book: openpyxl.Workbook, name: str) -> list[str]:
    """The values of a defined name that holds a range (names are case-insensitive)."""
    (defined,) = [d for n, d in book.defined_names.items() if n.lower() == name.lower()]
    return resolve_list(book, defined.attr_text)


def column_of(ws: Worksheet) -> dict[str, str]:
    """Catalogue key (row 2) -> column letter, wherever the sheet puts the column."""
    return {c.value: c.column_letter for c in ws[template.KEY_ROW] if c.value}


def conditional_formulas(ws: Worksheet) -> dict[str, list[str]]:
    """Range (e.g. `K3:K5002`) -> the formulas of its conditional formats."""
    return {str(cf.sqref): [f for rule in cf.rules for f in rule.formula] for cf in ws.conditional_formatting}


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
            "widths": {k: d.width for k, d in ws.column_dimensions.items()},
            "conditional": conditional_formulas(ws),
        }
    names = {n: d.attr_text for n, d in book.defined_names.items()}
    return {"order": book.sheetnames, "sheets": sheets, "names": names}


def assert_same_content(committed: Path, fresh: Path, how_to_refresh: str) -> None:
    old, new = content(committed), content(fresh)
    assert old["order"] == new["order"], how_to_refresh
    assert old["names"] == new["names"], how_to_refresh
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
        if field.key == template.DEPENDENT_ENGINE:
            assert dv.type == "list" and dv.formula1.startswith("INDIRECT("), "the engine list depends on the scenario"
        elif field in enumerated:
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


# --- guidance while typing ------------------------------------------------------------------


def column_width(ws: Worksheet, letter: str) -> float:
    """openpyxl merges identical neighbouring column definitions into one min..max entry."""
    col = column_index_from_string(letter)
    for dim in ws.column_dimensions.values():
        if dim.min is not None and dim.min <= col <= dim.max:
            return dim.width
    raise AssertionError(f"column {letter} has no width")


def test_column_widths_follow_what_is_typed_not_the_label(en_book: openpyxl.Workbook,
                                                          zh_book: openpyxl.Workbook) -> None:
    for book, language in ((en_book, "en-us"), (zh_book, "zh-cn")):
        ws = book[template.JOBS_SHEET]
        letters = column_of(ws)
        widths = {key: column_width(ws, letter) for key, letter in letters.items()}
        # A whole 50-character task name, a whole UUID / cloud ID, a whole IPv4 address.
        assert widths["name"] >= 50
        for key in ("customize_sutnet_id", "source_endpoint.inst_id", "target_endpoint.vpc_id",
                    "enterprise_project_id"):
            assert widths[key] >= 36, key
        assert widths["source_endpoint.ip"] >= len("255.255.255.255")
        assert widths["engine_type"] >= len("cloudDataGuard-mysql") + 1  # beside the dropdown arrow
        for field in fields.CATALOGUE:
            assert widths[field.key] >= min(template.content_length(field), template.COLUMN_WIDTH_MAX), field.key
            assert widths[field.key] <= template.COLUMN_WIDTH_MAX + 1, field.key
        # Short values, long label: the column stays narrow and the label wraps, fully shown.
        assert widths["expired_days"] < len(fields.FIELDS["expired_days"].label)
        label_height = ws.row_dimensions[template.LABEL_ROW].height
        for field in fields.CATALOGUE:
            label = template.header_label(field, language)
            lines = template.wrapped_lines(label, widths[field.key])
            assert label_height >= lines * 15, (field.key, lines, label_height)
            assert ws[f"{letters[field.key]}{template.LABEL_ROW}"].alignment.wrap_text


def test_wrapped_lines_counts_like_a_word_wrap() -> None:
    assert template.wrapped_lines("", 10) == 1
    assert template.wrapped_lines("one two", 10) == 1
    assert template.wrapped_lines("one two three", 10) == 2  # "one two" / "three"
    assert template.wrapped_lines("x" * 25, 11) == 3  # a word longer than a line is broken
    assert template.wrapped_lines("a\nb", 40) == 2
    assert template.wrapped_lines("任务名称任务名称", 9) == 2  # 16 columns of CJK, 8 to a line


def test_fields_and_instructions_are_wrapped_and_rows_tall_enough(en_book: openpyxl.Workbook,
                                                                  zh_book: openpyxl.Workbook) -> None:
    for book in (en_book, zh_book):
        for name in (template.FIELDS_SHEET, template.INSTRUCTIONS_SHEET):
            ws = book[name]
            spans = {(r.min_row, r.min_col): (r.min_col, r.max_col) for r in ws.merged_cells.ranges}
            for row in ws.iter_rows(min_row=2):
                for cell in row:
                    if not isinstance(cell.value, str) or not cell.value:
                        continue
                    low, high = spans.get((cell.row, cell.column), (cell.column, cell.column))
                    width = sum(column_width(ws, get_column_letter(c)) for c in range(low, high + 1))
                    lines = template.wrapped_lines(cell.value, width)
                    where = f"{name}!{cell.coordinate}"
                    assert lines == 1 or cell.alignment.wrap_text, where
                    assert (ws.row_dimensions[cell.row].height or 15) >= lines * 15, where
        # Each cross-field rule reads on a few wide lines, not a tower of short ones.
        ws = book[template.FIELDS_SHEET]
        codes = {rule.code for rule in fields.RULES}
        rule_rows = [r for r in ws.iter_rows(min_row=2) if r[0].value in codes]
        assert len(rule_rows) == len(fields.RULES)
        for row in rule_rows:
            (span,) = [r for r in ws.merged_cells.ranges if r.min_row == row[0].row]
            width = sum(column_width(ws, get_column_letter(c)) for c in range(span.min_col, span.max_col + 1))
            text = ws.cell(row[0].row, span.min_col).value
            assert text and width >= 100 and template.wrapped_lines(text, width) <= 3, row[0].value


def test_engine_dropdown_offers_the_engines_of_the_rows_scenario(en_book: openpyxl.Workbook) -> None:
    ws = en_book[template.JOBS_SHEET]
    letters = column_of(ws)
    engine = letters["engine_type"]
    (dv,) = column_validations(ws)[column_index_from_string(engine)]
    assert str(dv.sqref) == f"{engine}{FIRST}:{engine}{LAST}"
    assert dv.formula1 == f'INDIRECT("{template.ENGINE_LIST_PREFIX}"&TRIM(${letters["db_use_type"]}{FIRST}))'
    assert dv.errorStyle == "warning" and "cloudDataGuard: cloudDataGuard-mysql" in dv.error
    # What INDIRECT finds per scenario; a blank scenario offers every engine.
    assert resolve_name(en_book, "engines_migration") == ["mysql", "mongodb"]
    assert resolve_name(en_book, "engines_sync") == ["mysql", "mysql-to-taurus", "postgresql"]
    assert resolve_name(en_book, "engines_cloudDataGuard") == ["cloudDataGuard-mysql"]
    assert resolve_name(en_book, "engines_") == list(fields.ENGINE_TYPES)
    for scenario in fields.DB_USE_TYPES:
        offered = resolve_name(en_book, template.engine_list_name(scenario))
        assert offered == [e for e in fields.ENGINE_TYPES if scenario in fields.ENGINE_SCENARIOS[e]]


def test_a_scenario_that_cannot_name_a_list_is_refused() -> None:
    for bad in ("cloud DataGuard", "sync-2", "sync!"):
        with pytest.raises(ValueError, match="defined name"):
            template.engine_list_name(bad)


def test_cells_a_rule_makes_mandatory_and_repeated_names_are_highlighted(en_book: openpyxl.Workbook) -> None:
    ws = en_book[template.JOBS_SHEET]
    letters = column_of(ws)
    formulas = conditional_formulas(ws)
    needed = {(r.key, r.when) for r in fields.REQUIRED_WHEN}
    up, down = (("job_direction", "up"),), (("job_direction", "down"),)
    assert {("target_endpoint.region", up), ("target_endpoint.inst_id", up), ("source_endpoint.region", down),
            ("source_endpoint.inst_id", down), ("bind_eip", (("net_type", "eip"),)),
            ("multi_write", (("db_use_type", "cloudDataGuard"),))} <= needed
    for rule in fields.REQUIRED_WHEN:
        col = letters[rule.key]
        (formula,) = formulas[f"{col}{FIRST}:{col}{LAST}"]
        assert f"${col}{FIRST}" in formula, rule
        for key, value in rule.when:
            assert f'TRIM(${letters[key]}{FIRST})="{value}"' in formula, rule
    for forbidden in fields.FORBIDDEN_WHEN:
        col = letters[forbidden.key]
        (formula,) = formulas[f"{col}{FIRST}:{col}{LAST}"]
        assert f"${col}{FIRST}" in formula, forbidden
        assert all(f'TRIM(${letters[key]}{FIRST})="{value}"' in formula for key, value in forbidden.when)
    assert {(r.key, r.value) for r in fields.FORBIDDEN_WHEN} >= {("net_type", "vpc"), ("objects", None)}
    engine = letters["engine_type"]
    (formula,) = formulas[f"{engine}{FIRST}:{engine}{LAST}"]
    assert f'MATCH(TRIM(${engine}{FIRST}),INDIRECT("engines_"&TRIM(${letters["db_use_type"]}{FIRST})),0)' in formula
    name = letters["name"]
    (formula,) = formulas[f"{name}{FIRST}:{name}{LAST}"]
    assert f"COUNTIF(${name}${FIRST}:${name}${LAST},${name}{FIRST})>1" in formula


def typed_value(key: str, text: str) -> object:
    """A cell's text as a typed row holds it (true/false as booleans)."""
    return text == "true" if fields.FIELDS[key].kind is fields.Kind.BOOLEAN else text


@pytest.mark.parametrize("rule", fields.REQUIRED_WHEN, ids=lambda r: f"{r.rule}-{r.key}")
def test_what_the_template_highlights_is_what_validate_requires(rule: fields.RequiredWhen) -> None:
    """Each highlight is a rule `validate` checks: with its conditions met, the blank (or wrong)
    cell is that rule's finding on that cell, and a filled cell is not."""
    from test_schema import typed

    from bulkimport.validate import validate_rows

    def flagged(value: object) -> bool:
        row = typed()
        row.update({key: typed_value(key, text) for key, text in rule.when})
        row[rule.key] = value
        return (rule.key, rule.rule) in {(f.column, f.code) for f in validate_rows({FIRST: row})}

    assert flagged(None)
    if rule.value is not None:
        assert flagged(typed_value(rule.key, "false" if rule.value == "true" else "something-else"))
        assert not flagged(typed_value(rule.key, rule.value))
    else:
        filled = False if fields.FIELDS[rule.key].kind is fields.Kind.BOOLEAN else "filled-in"
        assert not flagged(filled)


@pytest.mark.parametrize("rule", fields.FORBIDDEN_WHEN, ids=lambda r: f"{r.rule}-{r.key}")
def test_what_the_template_flags_as_forbidden_is_what_validate_refuses(rule: fields.ForbiddenWhen) -> None:
    from test_schema import typed

    from bulkimport.validate import validate_rows

    def flagged(value: object) -> bool:
        row = typed()
        row.update({key: typed_value(key, text) for key, text in rule.when})
        row[rule.key] = value
        return (rule.key, rule.rule) in {(f.column, f.code) for f in validate_rows({FIRST: row})}

    forbidden = rule.value if rule.value is not None else "sales"
    allowed = next((v for v in fields.FIELDS[rule.key].allowed if v != rule.value), None)
    assert flagged(forbidden)
    assert not flagged(allowed)


def test_failed_rows_workbook_guides_like_the_template(tmp_path: Path, en_book: openpyxl.Workbook) -> None:
    rows = [{"name": "bad-row", "db_use_type": "sync"}]
    path = template.write_fix_workbook(tmp_path / "fix.xlsx", rows, extra_columns=["result", "task_id", "error_msg"],
                                       extra_values=[{"result": "INVALID"}], notes=[{}])
    book = openpyxl.load_workbook(path)
    ws, tws = book[template.JOBS_SHEET], en_book[template.JOBS_SHEET]
    letters, tletters = column_of(ws), column_of(tws)
    assert letters["db_use_type"] != tletters["db_use_type"]  # the result columns moved it
    engine = letters["engine_type"]
    (dv,) = column_validations(ws)[column_index_from_string(engine)]
    assert dv.formula1 == f'INDIRECT("{template.ENGINE_LIST_PREFIX}"&TRIM(${letters["db_use_type"]}{FIRST}))'
    assert resolve_name(book, "engines_sync") == ["mysql", "mysql-to-taurus", "postgresql"]
    formulas = conditional_formulas(ws)
    for rule in fields.REQUIRED_WHEN:
        col = letters[rule.key]
        (formula,) = formulas[f"{col}{FIRST}:{col}{LAST}"]
        assert all(f"${letters[key]}{FIRST}" in formula for key, _ in rule.when), rule
    name = letters["name"]
    assert any("COUNTIF" in f for f in formulas[f"{name}{FIRST}:{name}{LAST}"])
    for key in fields.KEYS:
        assert column_width(ws, letters[key]) == column_width(tws, tletters[key]), key
    assert ws.row_dimensions[template.LABEL_ROW].height == tws.row_dimensions[template.LABEL_ROW].height


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


#: Rows that exercise every highlight and the dependent dropdown, as a DBA types them (rows 3-9).
TYPING_ROWS: list[dict[str, object]] = [
    {"name": "Task-One", "db_use_type": "migration", "engine_type": "mysql", "job_direction": "up",
     "net_type": "eip", "bind_eip": "true", "target_endpoint.region": "eu-de",
     "target_endpoint.inst_id": "e05a3679efe241d8b5dee80b17c1a863in01"},
    {"name": "task-one", "db_use_type": "cloudDataGuard", "engine_type": "cloudDataGuard-mysql",
     "job_direction": "up", "is_target_readonly": "false", "net_type": "eip", "bind_eip": "false"},
    {"name": "Other-3", "db_use_type": "Sync", "job_direction": "down", "net_type": "vpn",
     "source_endpoint.inst_id": "64e8d7a31afa476ca85609a17af83765in01", "source_endpoint.ssl_link": "true"},
    {"name": "Blank-scenario", "job_direction": "non-dbs", "net_type": "vpc"},
    {"name": "Typed-true", "db_use_type": "migration", "job_direction": "up", "net_type": "eip",
     "target_endpoint.region": "eu-de", "target_endpoint.inst_id": "x1"},
    {"name": "Typed-false", "db_use_type": "cloudDataGuard", "job_direction": "down", "net_type": "vpn",
     "source_endpoint.region": "eu-de", "source_endpoint.inst_id": "x2"},
    {"name": "Dr-broken", "db_use_type": "cloudDataGuard", "engine_type": "mysql", "job_direction": "down",
     "multi_write": "true", "net_type": "vpc", "source_endpoint.region": "eu-de", "source_endpoint.inst_id": "x3",
     "objects": "sales"},
]
#: Cells a spreadsheet program types as booleans (TRUE / FALSE typed into a General cell).
TYPED_BOOLEANS = {(7, "bind_eip"): True, (8, "multi_write"): False}
#: (row, key) of every cell that must show highlighted; nothing else may.
EXPECTED_HIGHLIGHTS = {
    (3, "name"), (4, "name"),
    (4, "target_endpoint.region"), (4, "target_endpoint.inst_id"), (4, "multi_write"),
    (4, "is_target_readonly"), (4, "bind_eip"),
    (5, "source_endpoint.region"), (5, "source_endpoint.ssl_cert_check_sum"),
    (9, "engine_type"), (9, "net_type"), (9, "objects"),
}
EXPECTED_ENGINES = {
    3: ["mysql", "mongodb"], 4: ["cloudDataGuard-mysql"], 5: ["mysql", "mysql-to-taurus", "postgresql"],
    6: list(fields.ENGINE_TYPES), 7: ["mysql", "mongodb"], 8: ["cloudDataGuard-mysql"], 9: ["cloudDataGuard-mysql"],
}


def add_probes(path: Path, out: Path) -> dict[str, tuple[str, int, object]]:
    """A copy of `path` with probe cells right of the data that evaluate the workbook's own
    formulas: per data row and conditional format, =IF(<its formula at that cell>,1,0), and
    per data row the engines its engine dropdown lists (INDEX into the validation's formula).
    Returns probe cell -> ("highlight", row, key) or ("engine", row, position)."""
    from openpyxl.formula.translate import Translator

    rows = range(FIRST, FIRST + len(TYPING_ROWS))
    book = openpyxl.load_workbook(path)
    ws = book[template.JOBS_SHEET]
    key_at = {c.column_letter: c.value for c in ws[template.KEY_ROW]}
    letters = column_of(ws)
    for (row, key), value in TYPED_BOOLEANS.items():
        ws[f"{letters[key]}{row}"] = value
    probes: dict[str, tuple[str, int, object]] = {}
    col = ws.max_column + 2

    def probe(formula: str, origin: str, row: int, wrap: str, what: tuple[str, int, object]) -> None:
        letter = origin.rstrip("0123456789")
        moved = Translator("=" + formula, origin=origin).translate_formula(f"{letter}{row}")[1:]
        cell = ws.cell(row, col + len(probes) // len(rows))
        cell.value = wrap.format(moved)
        probes[cell.coordinate] = what

    for cf in ws.conditional_formatting:
        origin = str(cf.sqref).split(":")[0]
        for rule in cf.rules:
            for formula in rule.formula:
                for row in rows:
                    probe(formula, origin, row, "=IF({},1,0)", ("highlight", row, key_at[origin.rstrip("0123456789")]))
    (dv,) = column_validations(ws)[column_index_from_string(letters["engine_type"])]
    for position in range(1, len(fields.ENGINE_TYPES) + 1):
        for row in rows:
            probe(dv.formula1, str(dv.sqref).split(":")[0], row, f'=IFERROR(INDEX({{}},{position}),"")',
                  ("engine", row, position))
    book.save(out)
    return probes


def rendered_highlights(page: Path) -> set[tuple[int, str]]:
    """(Excel row, key) of every Jobs data cell that LibreOffice's HTML export paints in the
    highlight colour: the conditional formats as LibreOffice itself applied them."""
    from fixtures.html_tree import parse

    table = parse(page.read_text(encoding="utf-8")).find("table")
    assert table is not None
    grid: list[list[tuple[str, str]]] = []
    for tr in table.find_all("tr"):
        cells: list[tuple[str, str]] = []
        for td in tr.find_all("td"):
            cells += [(td.text, td.attrs.get("bgcolor", "").upper())] * int(td.attrs.get("colspan", "1"))
        grid.append(cells)
    keys = [text for text, _ in grid[template.KEY_ROW - 1]]
    colour = template._NEEDED_COLOURS["bg_color"].upper()
    return {(number, keys[col]) for number, cells in enumerate(grid, start=1) if number >= FIRST
            for col, (_, bg) in enumerate(cells) if bg == colour and col < len(keys) and keys[col]}


def test_libreoffice_evaluates_the_highlights_and_the_dependent_dropdown(tmp_path: Path, soffice: str) -> None:
    """The formulas guiding the DBA are valid in LibreOffice and mean what they should: its
    own recalculation of each conditional format's formula and of the engine dropdown's list
    gives exactly the expected highlights and engines, in the template and in a failed-rows
    workbook (whose result columns move every column right), and LibreOffice paints exactly
    those cells. Its re-save keeps the dropdown, the formats and the names: it understood them."""
    filled = template.write_template(tmp_path / "filled.xlsx", rows=TYPING_ROWS)
    fix = template.write_fix_workbook(tmp_path / "fix.xlsx", TYPING_ROWS, extra_columns=["result", "error_msg"],
                                      extra_values=[{"result": "INVALID"}] * len(TYPING_ROWS),
                                      notes=[{}] * len(TYPING_ROWS))
    probed = {name: add_probes(source, tmp_path / f"probe-{name}.xlsx")
              for name, source in (("template", filled), ("fix", fix))}
    out = tmp_path / "lo"
    proc = subprocess.run(
        [soffice, "--headless", "--norestore", f"-env:UserInstallation={(tmp_path / 'profile').as_uri()}",
         "--convert-to", "xlsx:Calc MS Excel 2007 XML", "--outdir", str(out), str(filled),
         *(str(tmp_path / f"probe-{name}.xlsx") for name in probed)],
        capture_output=True, text=True, timeout=240,
    )
    assert proc.returncode == 0, proc.stderr
    pages = tmp_path / "html"
    proc = subprocess.run(
        [soffice, "--headless", "--norestore", f"-env:UserInstallation={(tmp_path / 'profile').as_uri()}",
         "--convert-to", "html", "--outdir", str(pages), *(str(tmp_path / f"probe-{name}.xlsx") for name in probed)],
        capture_output=True, text=True, timeout=240,
    )
    assert proc.returncode == 0, proc.stderr
    for name in probed:
        assert rendered_highlights(pages / f"probe-{name}.html") == EXPECTED_HIGHLIGHTS, name
    for name, probes in probed.items():
        ws = openpyxl.load_workbook(out / f"probe-{name}.xlsx", data_only=True)[template.JOBS_SHEET]
        values = {coordinate: ws[coordinate].value for coordinate in probes}
        highlights = {(row, key) for coordinate, (kind, row, key) in probes.items()
                      if kind == "highlight" and values[coordinate] == 1}
        assert {values[c] for c, (kind, _, _) in probes.items() if kind == "highlight"} <= {0, 1}, values
        assert highlights == EXPECTED_HIGHLIGHTS, name
        engines: dict[int, list[str]] = {}
        for _, row, coordinate in sorted((w[2], w[1], c) for c, w in probes.items() if w[0] == "engine"):
            if values[coordinate]:
                engines.setdefault(row, []).append(values[coordinate])
        assert engines == EXPECTED_ENGINES, name
    # LibreOffice's re-save of the untouched template keeps what it understood.
    book = openpyxl.load_workbook(out / "filled.xlsx")
    ws = book[template.JOBS_SHEET]
    letters = column_of(ws)
    (dv,) = column_validations(ws)[column_index_from_string(letters["engine_type"])]
    assert dv.type == "list" and dv.formula1.replace(" ", "").startswith('INDIRECT("engines_"')
    assert f"${letters['db_use_type']}{FIRST}" in dv.formula1
    assert {n.lower() for n in book.defined_names} >= {template.engine_list_name(s).lower()
                                                        for s in ("", *fields.DB_USE_TYPES)}
    formatted = {range_boundaries(str(cf.sqref).split()[0])[0] for cf in ws.conditional_formatting}
    for key in {rule.key for rule in (*fields.REQUIRED_WHEN, *fields.FORBIDDEN_WHEN)} | {"name", "engine_type"}:
        assert column_index_from_string(letters[key]) in formatted, key


@pytest.fixture
def uno_python(soffice: str) -> str:
    """A Python with LibreOffice's UNO bridge (Debian's python3-uno, which `.ci/run` installs
    with LibreOffice): a failure under CI when there is none, a skip elsewhere."""
    for candidate in dict.fromkeys(p for p in ("/usr/bin/python3", shutil.which("python3")) if p):
        if Path(candidate).is_file() and subprocess.run([candidate, "-c", "import uno"], capture_output=True,
                                                        timeout=60).returncode == 0:
            return candidate
    if os.environ.get("CI"):
        pytest.fail("no python3 with LibreOffice's UNO bridge (python3-uno), but CI must run this test")
    pytest.skip("no python3 with LibreOffice's UNO bridge (python3-uno); CI installs it and runs this test")


def test_libreoffice_own_validation_accepts_only_the_engines_of_the_scenario(tmp_path: Path, uno_python: str,
                                                                            soffice: str) -> None:
    """LibreOffice's own data validation (Mark Invalid Data) on the filled template and the
    failed-rows workbook: the one engine its scenario does not offer is invalid, the engines
    that fit (including a scenario typed "Sync") and every other typed value are valid."""
    filled = template.write_template(tmp_path / "filled.xlsx", rows=TYPING_ROWS)
    fix = template.write_fix_workbook(tmp_path / "fix.xlsx", TYPING_ROWS, extra_columns=["result", "error_msg"],
                                      extra_values=[{"result": "INVALID"}] * len(TYPING_ROWS),
                                      notes=[{}] * len(TYPING_ROWS))
    proc = subprocess.run(
        [uno_python, str(REPO / "tests" / "fixtures" / "lo_invalid_cells.py"), soffice, str(tmp_path / "profile"),
         template.JOBS_SHEET, str(filled), str(fix)],
        capture_output=True, text=True, timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    found = json.loads(proc.stdout)
    for path in (filled, fix):
        ws = openpyxl.load_workbook(path)[template.JOBS_SHEET]
        keys = [c.value for c in ws[template.KEY_ROW]]
        assert {(row, keys[col]) for row, col in found[str(path)]} == {(9, "engine_type")}, path.name


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
