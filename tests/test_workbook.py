"""Reading filled workbooks (whatever Excel, LibreOffice or a script did to them) and
writing results workbooks that can be read back."""

from __future__ import annotations

import subprocess
import zipfile
from pathlib import Path

import openpyxl
import pytest
import xlsxwriter
from fixtures.books import BASE_ROW, MIXED_COLUMNS_AS_SAVED, MIXED_VERSION_AS_SAVED, base_row, write_book, write_mixed
from openpyxl.styles import PatternFill

from bulkimport import fields
from bulkimport.book_read import read_workbook
from bulkimport.errors import InputError
from bulkimport.findings import Severity
from bulkimport.outcomes import RESULT_COLUMNS
from bulkimport.results_book import ERROR_FILL, write_results
from bulkimport.template import write_template
from bulkimport.validate import annotate, validate_workbook

FIXTURES = Path(__file__).parent / "fixtures"
PORT = "source_endpoint.db_port"


def codes(validation, row: int | None = None) -> set[tuple[str | None, str]]:
    return {(f.column, f.code) for f in validation.findings if row is None or f.row == row}


# ----------------------------------------------------------------------------- reading


def test_columns_are_mapped_by_key_so_reordered_columns_work(tmp_path: Path) -> None:
    rows = [base_row(), base_row(name="DRS-0002", **{PORT: "70000"})]
    straight = validate_workbook(write_book(tmp_path / "a.xlsx", rows))
    reordered = validate_workbook(write_book(tmp_path / "b.xlsx", rows, columns=list(reversed(fields.KEYS))))
    assert [c.key for c in reordered.book.columns] == list(reversed(fields.KEYS))
    assert reordered.rows == straight.rows
    assert codes(reordered) == codes(straight) == {(PORT, "range")}


def test_unknown_column_is_a_warning_and_the_row_stays_valid(tmp_path: Path) -> None:
    path = write_book(tmp_path / "a.xlsx", [{**base_row(), "owner notes": "call Ana"}],
                      columns=[*fields.KEYS, "owner notes"])
    v = validate_workbook(path)
    (finding,) = v.findings
    assert (finding.row, finding.column, finding.code, finding.severity) == (
        None, "owner notes", "unknown_column", "warning")
    assert v.invalid == set()
    assert v.book.columns[-1].kind == "unknown"
    assert v.book.cells[3]["owner notes"] == "call Ana"


def test_text_that_looks_numeric_is_kept_as_typed(tmp_path: Path) -> None:
    row = base_row(**{"target_endpoint.inst_id": "007", "source_endpoint.db_user": "0042"})
    v = validate_workbook(write_book(tmp_path / "a.xlsx", [row]))
    assert v.rows[3]["target_endpoint.inst_id"] == "007"
    assert v.rows[3]["source_endpoint.db_user"] == "0042"


@pytest.mark.parametrize("cell", [3306, 3306.0, "3306", " 3306 ", "3306.0"])
def test_whole_numbers_are_integers_however_they_were_stored(tmp_path: Path, cell: object) -> None:
    v = validate_workbook(write_book(tmp_path / "a.xlsx", [base_row(**{PORT: cell})]))
    assert v.rows[3][PORT] == 3306 and type(v.rows[3][PORT]) is int
    assert v.findings == []


@pytest.mark.parametrize("cell", [3306.5, "3306.5", "abc", "3,306", True])
def test_a_number_that_is_not_whole_is_a_type_error(tmp_path: Path, cell: object) -> None:
    v = validate_workbook(write_book(tmp_path / "a.xlsx", [base_row(**{PORT: cell})]))
    assert codes(v) == {(PORT, "type")}
    assert v.invalid == {3} and v.rows[3][PORT] is None


@pytest.mark.parametrize(("cell", "expected"), [
    (True, True), (False, False), ("TRUE", True), ("false", False), (" True ", True), ("FaLsE", False),
])
def test_booleans_from_excel_booleans_and_text(tmp_path: Path, cell: object, expected: bool) -> None:
    v = validate_workbook(write_book(tmp_path / "a.xlsx", [base_row(multi_write=cell)]))
    assert v.rows[3]["multi_write"] is expected
    assert v.findings == []


@pytest.mark.parametrize("cell", ["yes", "1", 1, "ture"])
def test_anything_else_in_a_boolean_column_is_a_type_error(tmp_path: Path, cell: object) -> None:
    v = validate_workbook(write_book(tmp_path / "a.xlsx", [base_row(multi_write=cell)]))
    assert codes(v) == {("multi_write", "type")}


def test_enums_are_matched_case_insensitively_and_given_the_api_spelling(tmp_path: Path) -> None:
    row = base_row(engine_type="MYSQL", db_use_type="Migration", task_type="full_incr_trans", net_type=" EIP ",
                   job_direction="UP", **{"source_endpoint.db_type": "MySQL"})
    v = validate_workbook(write_book(tmp_path / "a.xlsx", [row]))
    assert v.findings == []
    typed = v.rows[3]
    assert (typed["engine_type"], typed["db_use_type"], typed["task_type"], typed["net_type"],
            typed["job_direction"], typed["source_endpoint.db_type"]) == (
        "mysql", "migration", "FULL_INCR_TRANS", "eip", "up", "mysql")


def test_unknown_enum_value_names_the_allowed_ones(tmp_path: Path) -> None:
    v = validate_workbook(write_book(tmp_path / "a.xlsx", [base_row(engine_type="oracle")]))
    (f,) = v.findings
    assert (f.column, f.code) == ("engine_type", "enum")
    assert "oracle" in f.message and all(e in f.message for e in fields.ENGINE_TYPES)


def test_surrounding_spaces_are_trimmed(tmp_path: Path) -> None:
    v = validate_workbook(write_book(tmp_path / "a.xlsx", [base_row(name="  DRS-9228 ")]))
    assert v.rows[3]["name"] == "DRS-9228" and v.findings == []


def test_blank_task_type_gets_the_default_with_a_warning(tmp_path: Path) -> None:
    v = validate_workbook(write_book(tmp_path / "a.xlsx", [base_row(task_type=None)]))
    assert v.rows[3]["task_type"] == "FULL_INCR_TRANS"
    assert codes(v) == {("task_type", "default_applied")}
    assert v.invalid == set()


def test_several_enterprise_projects_and_bad_tags_are_cell_errors(tmp_path: Path) -> None:
    rows = [base_row(enterprise_project_id="0b3f2c2e; 5a3c4c8e"),
            base_row(name="DRS-0004", tags="owner=dba;just-a-word")]
    v = validate_workbook(write_book(tmp_path / "a.xlsx", rows))
    assert codes(v, 3) == {("enterprise_project_id", "enterprise_project")}
    assert codes(v, 4) == {("tags", "tags")}


def test_rows_read_and_parsed_behave_as_plain_mappings(tmp_path: Path) -> None:
    # Rows are kept lazily; callers still get ordinary mapping behaviour.
    v = validate_workbook(write_book(tmp_path / "a.xlsx", [base_row(), {}, base_row(name="DRS-0005")]))
    cells, rows = v.book.cells, v.rows
    assert list(cells.keys()) == list(rows.keys()) == [3, 5] and len(cells) == 2 and 4 not in cells
    assert dict(cells)[5]["name"] == "DRS-0005" and cells[3]["source_endpoint.inst_name"] is None
    assert dict(rows)[5]["name"] == "DRS-0005" and rows[3] is rows[3]  # a typed row is built once


def test_repeated_cells_are_each_reported_on_their_own_row(tmp_path: Path) -> None:
    # Equal cells are parsed and checked once per distinct value; every row still gets its own verdict.
    bad_tags, long_tag = "owner=dba;just-a-word", f"owner={'x' * 44}"
    rows = [base_row(name=f"DRS-{i:04d}", tags=tags) for i, tags in enumerate(
        ["owner=dba;wave=7", bad_tags, "owner=dba;wave=7", bad_tags, long_tag, long_tag, "owner=dba;wave=7"])]
    v = validate_workbook(write_book(tmp_path / "a.xlsx", rows))
    tag_codes = {f.row: f.code for f in v.findings if f.column == "tags"}
    assert tag_codes == {4: "tags", 6: "tags", 7: "tags", 8: "tags"}
    assert v.rows[3]["tags"] == v.rows[5]["tags"] == [{"key": "owner", "value": "dba"}, {"key": "wave", "value": "7"}]
    assert v.invalid == {4, 6, 7, 8}


def test_a_date_in_a_text_column_is_reported_not_silently_converted(tmp_path: Path) -> None:
    import datetime

    v = validate_workbook(write_book(tmp_path / "a.xlsx", [base_row(master_az=datetime.date(2026, 1, 2),
                                                                     slave_az="az3")]))
    assert codes(v) == {("master_az", "type")}


def test_formula_with_a_cached_value_uses_the_value(tmp_path: Path) -> None:
    path = tmp_path / "cached.xlsx"
    wb = xlsxwriter.Workbook(str(path))
    ws = wb.add_worksheet("Jobs")
    keys = list(BASE_ROW)
    for c, key in enumerate(keys):
        ws.write_string(0, c, fields.FIELDS[key].label)
    for c, key in enumerate(keys):
        ws.write_string(1, c, key)
    for c, key in enumerate(keys):
        if key == "name":
            ws.write_formula(2, c, '="DRS-"&"9228"', None, "DRS-9228")
        else:
            ws.write_string(2, c, str(BASE_ROW[key]))
    wb.close()
    v = validate_workbook(path)
    assert v.rows[3]["name"] == "DRS-9228"
    assert v.findings == []


def test_formula_without_a_cached_value_is_a_finding_on_that_cell(tmp_path: Path) -> None:
    # openpyxl has no calculation engine: it saves formulas with no cached value.
    rows = [base_row(name='="DRS-"&"9228"'), base_row(name="DRS-0004", description="=A4")]
    v = validate_workbook(write_book(tmp_path / "f.xlsx", rows))
    assert codes(v, 3) == {("name", "formula_no_value")}  # not also `missing`
    assert codes(v, 4) == {("description", "formula_no_value")}
    assert v.invalid == {3, 4}
    assert "formula" in v.findings[0].message


def test_blank_rows_are_ignored_and_excel_row_numbers_kept(tmp_path: Path) -> None:
    path = write_book(tmp_path / "a.xlsx", [base_row(), {}, base_row(name="DRS-0005"), {"description": "   "}])
    wb = openpyxl.load_workbook(path)
    ws = wb["Jobs"]
    for r in range(20, 200):  # formatted but empty trailing rows
        ws.cell(r, 3).fill = PatternFill("solid", fgColor="FFFF00")
    wb.save(path)
    v = validate_workbook(path)
    assert list(v.rows) == [3, 5]
    assert v.book.source_rows == {3: 3, 5: 5}


def test_key_row_is_found_where_it_is(tmp_path: Path) -> None:
    no_labels = validate_workbook(write_book(tmp_path / "a.xlsx", [base_row()], labels=False))
    assert list(no_labels.rows) == [2] and no_labels.findings == []
    path = tmp_path / "b.xlsx"
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Jobs"
    ws.append(["Wave 7 migration tasks"])
    ws.append([])
    ws.append(list(BASE_ROW))
    ws.append(list(BASE_ROW.values()))
    wb.save(path)
    v = validate_workbook(path)
    assert v.book.key_row == 3 and list(v.rows) == [4] and v.findings == []


def test_task_sheet_is_found_by_name_or_by_its_key_row(tmp_path: Path) -> None:
    lower = validate_workbook(write_book(tmp_path / "a.xlsx", [base_row()], sheet="jobs", extra_sheets=["Notes"]))
    assert lower.book.sheet_name == "jobs"
    other = validate_workbook(write_book(tmp_path / "b.xlsx", [base_row()], sheet="Wave7", extra_sheets=["Notes"]))
    assert other.book.sheet_name == "Wave7"
    named = validate_workbook(tmp_path / "a.xlsx", sheet="JOBS")
    assert named.book.sheet_name == "jobs"
    with pytest.raises(InputError, match="no sheet named 'Nope'"):
        read_workbook(tmp_path / "a.xlsx", sheet="Nope")


def test_stale_template_version_is_a_warning(tmp_path: Path) -> None:
    v = validate_workbook(write_book(tmp_path / "a.xlsx", [base_row()], version="2020.1.1"))
    assert codes(v) == {(None, "stale_template")}
    assert v.invalid == set() and "2020.1.1" in v.findings[0].message
    assert validate_workbook(write_book(tmp_path / "b.xlsx", [base_row()], version=None)).findings == []


def test_duplicate_key_column_is_unusable_input_naming_it(tmp_path: Path) -> None:
    path = write_book(tmp_path / "a.xlsx", [base_row()], columns=[*fields.KEYS, "net_type"])
    with pytest.raises(InputError, match="'net_type' appears twice"):
        read_workbook(path)


def test_missing_mandatory_column_is_unusable_input_naming_it(tmp_path: Path) -> None:
    path = write_book(tmp_path / "a.xlsx", [base_row()], columns=[k for k in fields.KEYS if k != "node_type"])
    with pytest.raises(InputError, match="mandatory column 'node_type' is missing"):
        read_workbook(path)
    # task_type has a default, so its column may be left out
    path = write_book(tmp_path / "b.xlsx", [base_row()], columns=[k for k in fields.KEYS if k != "task_type"])
    assert validate_workbook(path).rows[3]["task_type"] == "FULL_INCR_TRANS"


# ----------------------------------------------------------------------------- LibreOffice


def _comparable(path: Path) -> tuple[object, ...]:
    v = validate_workbook(path)
    return (v.rows, [(f.row, f.column, f.code, f.severity) for f in v.findings], v.book.template_version,
            [(c.key, c.kind) for c in v.book.columns])


def test_committed_libreoffice_saved_workbook_validates_like_the_original(tmp_path: Path) -> None:
    """tests/fixtures/libreoffice-saved.xlsx is `write_mixed` under its frozen columns, saved by
    LibreOffice (`soffice --headless --convert-to xlsx`); regenerate it only if `mixed_rows` changes."""
    original = _comparable(write_mixed(tmp_path / "libreoffice-saved.xlsx", columns=MIXED_COLUMNS_AS_SAVED,
                                       version=MIXED_VERSION_AS_SAVED))
    assert _comparable(FIXTURES / "libreoffice-saved.xlsx") == original
    assert {code for _, _, code, _ in original[1]} >= {"duplicate_name", "range", "type", "unknown_column"}


def test_workbook_resaved_by_libreoffice_now_validates_the_same(tmp_path: Path, soffice: str) -> None:
    source = write_mixed(tmp_path / "in" / "mixed.xlsx")
    out = tmp_path / "out"
    subprocess.run([soffice, "--headless", f"-env:UserInstallation=file://{tmp_path}/profile",
                    "--convert-to", "xlsx", "--outdir", str(out), str(source)],
                   check=True, capture_output=True, timeout=120)
    assert _comparable(out / "mixed.xlsx") == _comparable(source)


# ----------------------------------------------------------------------------- writing


def _load(path: Path) -> openpyxl.Workbook:
    return openpyxl.load_workbook(path)


def _column_of(ws, key: str) -> int:
    return next(c.column for c in ws[2] if c.value == key)


def test_results_workbook_keeps_both_header_rows_and_appends_result_columns(tmp_path: Path) -> None:
    book = read_workbook(write_book(tmp_path / "in.xlsx", [base_row(), {}, base_row(name="DRS-0005")]))
    appended = {3: {"result": "CREATED", "task_id": "t-1"}, 5: {"result": "REJECTED", "error_code": "DRS.M00277",
                                                                 "error_msg": "The task name already exists."}}
    out = write_results(tmp_path / "out.xlsx", book, appended, [], extra_sheets={"Summary": [["command", "submit"]]})
    wb = _load(out)
    ws = wb["Jobs"]
    labels, keys = [c.value for c in ws[1]], [c.value for c in ws[2]]
    appended = [k for k in keys if k in RESULT_COLUMNS]
    # The operator's columns keep their order; the result columns carry their name in both rows.
    assert [k for k in keys if k not in RESULT_COLUMNS] == list(fields.KEYS)
    # A workbook that names tasks carries all six contract columns, filled or not.
    assert sorted(appended) == sorted(["result", "task_id", "child_ids", "task_status", "error_code", "error_msg",
                                       "source_row"])
    assert all(labels[keys.index(k)] == k for k in appended)
    assert labels[0] == fields.FIELDS["name"].label
    # The row's outcome sits beside the task name, and stays in view with it.
    assert keys[:6] == ["name", "result", "task_status", "task_id", "error_code", "error_msg"]
    assert ws.freeze_panes == "D3"  # name, result and task_status stay in view
    assert ws.auto_filter.ref is not None and ws.auto_filter.ref.startswith("A2:")
    task_id_letter = openpyxl.utils.get_column_letter(_column_of(ws, "task_id"))
    assert ws.column_dimensions[task_id_letter].width >= 36  # task_id: a whole ID shows
    assert ws.cell(4, _column_of(ws, "error_msg")).alignment.wrap_text
    assert [ws.cell(r, _column_of(ws, "source_row")).value for r in (3, 4)] == [3, 5]
    assert ws.cell(4, _column_of(ws, "error_code")).value == "DRS.M00277"
    assert [[c.value for c in r] for r in wb["Summary"].iter_rows()] == [["command", "submit"]]
    rules = [rule.formula[0] for cf in ws.conditional_formatting for rule in cf.rules]
    assert any('"CREATED"' in r for r in rules) and any('"REJECTED"' in r for r in rules)


def test_results_workbook_reads_back_with_its_source_rows(tmp_path: Path) -> None:
    book = read_workbook(write_book(tmp_path / "in.xlsx", [base_row(), {}, {}, base_row(name="DRS-0006")]))
    first = write_results(tmp_path / "r1.xlsx", book, {3: {"result": "CREATED", "task_id": "t-1"},
                                                       6: {"result": "UNKNOWN"}}, [])
    again = read_workbook(first)
    assert again.findings == []  # result columns are recognised, not "unknown"
    assert {c.key: c.kind for c in again.columns}["task_id"] == "result"
    assert again.source_rows == {3: 3, 4: 6}
    # a second generation keeps the operator's rows and earlier result columns
    second = read_workbook(write_results(tmp_path / "r2.xlsx", again, {4: {"result": "CREATED"}}, []))
    assert second.source_rows == {3: 3, 4: 6}
    assert second.cells[3]["task_id"] == "t-1" and second.cells[4]["result"] == "CREATED"


def test_rows_option_writes_only_those_rows(tmp_path: Path) -> None:
    book = read_workbook(write_book(tmp_path / "in.xlsx", [base_row(), base_row(name="DRS-0004")]))
    out = read_workbook(write_results(tmp_path / "failed.xlsx", book, {4: {"result": "REJECTED"}}, [], rows=[4]))
    assert list(out.cells) == [3] and out.source_rows == {3: 4}


def test_invalid_rows_are_tinted_and_their_bad_cells_red(tmp_path: Path) -> None:
    v = validate_workbook(write_book(tmp_path / "in.xlsx", [base_row(), base_row(name="DRS-0004", **{PORT: 0})]))
    ws = _load(annotate(v, tmp_path / "out.xlsx"))["Jobs"]
    bad = ws.cell(4, _column_of(ws, PORT))
    assert bad.fill.fgColor.rgb.endswith(ERROR_FILL.lstrip("#"))
    assert bad.comment.text.startswith("Source Port must be from 1 to 65535")
    assert ws.cell(4, 1).fill.fgColor.rgb.endswith("FFC7CE")  # the INVALID row's tint
    assert ws.cell(3, _column_of(ws, PORT)).comment is None


def test_never_writes_over_the_input(tmp_path: Path) -> None:
    path = write_book(tmp_path / "in.xlsx", [base_row()])
    before = path.read_bytes()
    book = read_workbook(path)
    with pytest.raises(InputError, match="overwrite"):
        write_results(tmp_path / "." / "in.xlsx", book, {}, [])
    assert path.read_bytes() == before


def test_text_is_written_as_text_and_secrets_are_masked(tmp_path: Path) -> None:
    path = write_book(tmp_path / "in.xlsx", [base_row(description="a", **{"source_endpoint.inst_name": "x"})])
    wb = openpyxl.load_workbook(path)
    ws = wb["Jobs"]
    col = [c.value for c in ws[2]].index("source_endpoint.inst_name") + 1
    ws.cell(3, col).value = '=HYPERLINK("http://evil.example","click")'
    ws.cell(3, col).data_type = "s"  # text in the input, as Excel keeps a quoted '=...
    wb.save(path)
    book = read_workbook(path)
    out = write_results(tmp_path / "out.xlsx", book, {3: {"result": "VALID", "error_msg": "@SUM(1)"}}, [])
    ws = _load(out)["Jobs"]
    cell = ws.cell(3, _column_of(ws, "source_endpoint.inst_name"))
    assert cell.data_type == "s" and cell.value.startswith("=HYPERLINK")
    assert ws.cell(3, _column_of(ws, "source_endpoint.db_password")).value == "******"
    assert ws.cell(3, _column_of(ws, "target_endpoint.db_password")).value == "env:TARGET_PW"
    with zipfile.ZipFile(out) as z:
        xml = b"".join(z.read(n) for n in z.namelist())
    assert b"<f>" not in xml and b"Sup3r-Secret!" not in xml


def test_results_cells_are_text_formatted_so_retyped_values_stay_as_typed(tmp_path: Path) -> None:
    # An operator fixing a copy retypes "0042" or types into a blank cell: Excel must keep the text.
    rows = [base_row(**{"source_endpoint.db_user": "0042", PORT: 3306}), base_row(name="DRS-0004", **{PORT: "70000"})]
    book = read_workbook(write_book(tmp_path / "in.xlsx", rows))
    out = write_results(tmp_path / "out.xlsx", book, {3: {"result": "VALID"}, 4: {"result": "INVALID"}}, [])
    ws = _load(out)["Jobs"]
    user, port = ws.cell(3, _column_of(ws, "source_endpoint.db_user")), ws.cell(3, _column_of(ws, PORT))
    assert (user.value, user.number_format) == ("0042", "@")
    # Blank cells (no cell in the file) take style 0, the workbook's default: Text too.
    with zipfile.ZipFile(out) as z:
        styles = z.read("xl/styles.xml").decode()
    default_xf = styles.split("<cellXfs", 1)[1].split("<xf ", 1)[1]
    assert 'numFmtId="49"' in default_xf.split(">", 1)[0]  # 49 is Excel's built-in Text (@)
    assert port.value == 3306 and port.data_type == "n" and port.number_format == "@"  # a number stays one
    assert ws.cell(4, 1).number_format == "@"  # tinted rows too
    assert read_workbook(out).cells.value(3, PORT) == 3306


def test_comments_are_capped_but_every_bad_cell_stays_red(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import bulkimport.results_book as results_book

    monkeypatch.setattr(results_book, "MAX_COMMENTS", 2)
    rows = [base_row(name=f"DRS-{i:04d}", **{PORT: 0}) for i in range(5)]
    v = validate_workbook(write_book(tmp_path / "in.xlsx", rows))
    ws = _load(annotate(v, tmp_path / "out.xlsx"))["Jobs"]
    col = _column_of(ws, PORT)
    cells = [ws.cell(r, col) for r in range(3, 8)]
    assert all(c.fill.fgColor.rgb.endswith(ERROR_FILL.lstrip("#")) for c in cells)
    assert sum(c.comment is not None for c in cells) == 2
    assert all("1 to 65535" in ws.cell(r, _column_of(ws, "error_msg")).value for r in range(3, 8))


def test_a_template_whose_catalogue_changed_without_a_version_bump_is_stale(tmp_path: Path) -> None:
    """The reader compares the `_meta` sheet's catalogue hash with the current catalogue's, and a
    results copy carries the hash on, so a copy of a stale workbook is still known stale."""
    current = write_template(tmp_path / "current.xlsx")
    assert "stale_template" not in {f.code for f in read_workbook(current).findings}
    drifted = tmp_path / "drifted.xlsx"
    wb = openpyxl.load_workbook(current)
    meta = wb["_meta"]
    (cell,) = [row[1] for row in meta.iter_rows() if row[0].value == "catalogue_sha256"]
    cell.value = "0" * 64
    ws = wb["Jobs"]
    ws.cell(3, 1, "DRS-0001")
    wb.save(drifted)
    book = read_workbook(drifted)
    (stale,) = [f for f in book.findings if f.code == "stale_template"]
    assert stale.severity == Severity.WARNING and "columns or rules differ" in stale.message
    copy = write_results(tmp_path / "copy.xlsx", book, {}, book.findings)
    assert "stale_template" in {f.code for f in read_workbook(copy).findings}
