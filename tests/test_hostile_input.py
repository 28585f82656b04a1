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
    from bulkimport.book_read import read_workbook
    from bulkimport.template import write_template
    from bulkimport.validate import annotate

    for language in ("en-us", "zh-cn"):
        book = write_template(tmp_path / f"t-{language}.xlsx", language=language, rows=[base_row()])
        v = validate_workbook(book)
        assert v.book.sheet_name == "Jobs"
        copy = annotate(v, tmp_path / f"copy-{language}.xlsx")
        assert read_workbook(copy).sheet_name == "Jobs"


# ----------------------------------------------------------------------------- Excel error cells

EXCEL_ERRORS = ["#N/A", "#REF!", "#DIV/0!", "#VALUE!", "#NAME?", "#NUM!", "#NULL!"]
FORMULA_OF = {"#N/A": "NA()", "#REF!": "#REF!+1", "#DIV/0!": "1/0", "#VALUE!": '"a"+1', "#NAME?": "NOSUCHFN(1)",
              "#NUM!": "SQRT(-1)", "#NULL!": "A1 B1"}


def _error_rows() -> list[dict[str, object]]:
    """One row per error: in the port (a number column) and the description (a text one)."""
    return [base_row(name=f"DRS-err{i}", description=e, **{PORT: e}) for i, e in enumerate(EXCEL_ERRORS)]


def _assert_error_findings(v, first_row: int = 3) -> None:
    for i, error in enumerate(EXCEL_ERRORS):
        row = first_row + i
        assert codes(v, row) == {(PORT, "excel_error"), ("description", "excel_error")}, (error, v.findings)
        assert all(f"holds the Excel error {error}" in f.message for f in v.findings if f.row == row)
    assert v.invalid == set(range(first_row, first_row + len(EXCEL_ERRORS)))


@pytest.mark.parametrize("also_a_formula", [False, True], ids=["fast scan", "with formulas"])
def test_literal_excel_errors_are_findings_not_blanks(tmp_path: Path, also_a_formula: bool) -> None:
    # openpyxl writes "#N/A" as a literal error cell (t="e"), as Excel does for a typed #N/A or
    # an error pasted as a value. A formula elsewhere takes the reader's other (full) scan.
    rows = _error_rows()
    columns = None
    if also_a_formula:
        rows[0]["notes"] = "=1+1"
        from bulkimport import fields

        columns = [*fields.KEYS, "notes"]
    v = validate_workbook(write_book(tmp_path / "a.xlsx", rows, columns=columns))
    _assert_error_findings(v)


def test_cached_formula_errors_are_findings(tmp_path: Path) -> None:
    import xlsxwriter

    from bulkimport import fields

    path = tmp_path / "cached.xlsx"
    wb = xlsxwriter.Workbook(str(path))
    ws = wb.add_worksheet("Jobs")
    keys = list(fields.KEYS)
    for c, key in enumerate(keys):
        ws.write_string(0, c, fields.FIELDS[key].label)
        ws.write_string(1, c, key)
    for r, row in enumerate(_error_rows(), start=2):
        for c, key in enumerate(keys):
            value = row.get(key)
            if value in FORMULA_OF:
                ws.write_formula(r, c, "=" + FORMULA_OF[value], None, value)  # type: ignore[index]
            elif value is not None:
                ws.write_string(r, c, str(value))
    wb.close()
    _assert_error_findings(validate_workbook(path))


def test_formula_errors_computed_by_libreoffice_are_findings(tmp_path: Path, soffice: str) -> None:
    import subprocess

    import openpyxl

    rows = _error_rows()
    source = write_book(tmp_path / "src" / "a.xlsx", [{**r, PORT: 1, "description": "x"} for r in rows])
    wb = openpyxl.load_workbook(source)
    ws = wb["Jobs"]
    keys = [c.value for c in ws[2]]
    for r, error in enumerate(EXCEL_ERRORS, start=3):
        for key in (PORT, "description"):
            ws.cell(r, keys.index(key) + 1).value = "=" + FORMULA_OF[error]
    wb.save(source)
    out = tmp_path / "lo"
    subprocess.run([soffice, "--headless", f"-env:UserInstallation=file://{tmp_path}/profile", "--convert-to",
                    "xlsx", "--outdir", str(out), str(source)], check=True, capture_output=True, timeout=120)
    v = validate_workbook(out / "a.xlsx")
    # LibreOffice has no #NULL! of its own for "A1 B1" on two cells; whatever it computed
    # must still be an Excel error on both cells of every row.
    for i in range(len(EXCEL_ERRORS)):
        assert codes(v, 3 + i) == {(PORT, "excel_error"), ("description", "excel_error")}, v.findings


def test_error_cells_are_errors_in_results_and_rows_are_not_sent(tmp_path: Path) -> None:
    from bulkimport.validate import annotate

    v = validate_workbook(write_book(tmp_path / "a.xlsx", [base_row(), *_error_rows()[:1]]))
    assert v.invalid == {4} and list(v.valid_rows()) == [3]
    copy = annotate(v, tmp_path / "copy.xlsx")
    again = validate_workbook(copy)  # the copy shows the cell blank and red; read back it is `missing`
    assert 4 in again.invalid


# ----------------------------------------------------------------------------- merged cells, hidden rows


def _laid_out(path: Path, also_a_formula: bool) -> Path:
    """Five task rows (3-7); the engine merged down rows 3-5, the title merged across row 1,
    a merge across one row's notes, row 6 hidden by hand and row 7 by a filter."""
    import openpyxl

    from bulkimport import fields

    columns = [*fields.KEYS, "notes"]
    rows = [base_row(name=f"DRS-row{i}", notes="=1+1" if also_a_formula and i == 7 else None) for i in range(3, 8)]
    write_book(path, rows, columns=columns)
    wb = openpyxl.load_workbook(path)
    ws = wb["Jobs"]
    engine = columns.index("engine_type") + 1
    ws.merge_cells(start_row=3, start_column=engine, end_row=5, end_column=engine)
    ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=3)
    notes = len(columns)
    ws.merge_cells(start_row=6, start_column=notes, end_row=7, end_column=notes)  # not a template column
    ws.row_dimensions[6].hidden = True
    ws.auto_filter.ref = f"A2:{openpyxl.utils.get_column_letter(notes)}7"
    ws.row_dimensions[7].hidden = True
    wb.save(path)
    return path


@pytest.mark.parametrize("also_a_formula", [False, True], ids=["fast scan", "with formulas"])
def test_merged_cells_across_task_rows_are_errors_and_hidden_rows_warnings(tmp_path: Path,
                                                                        also_a_formula: bool) -> None:
    v = validate_workbook(_laid_out(tmp_path / "a.xlsx", also_a_formula))
    merged = [f for f in v.findings if f.code == "merged_cells"]
    assert [(f.row, f.column) for f in merged] == [(3, "engine_type"), (4, "engine_type"), (5, "engine_type")]
    assert all("merged cells" in f.message and "each row needs its own value" in f.message for f in merged)
    hidden = [f for f in v.findings if f.code == "hidden_row"]
    assert [(f.row, str(f.severity)) for f in hidden] == [(6, "warning"), (7, "warning")]
    assert all("sent" in f.message for f in hidden)
    assert v.invalid == {3, 4, 5}
    assert list(v.valid_rows()) == [6, 7]  # hidden rows are still sent


def test_hidden_rows_in_a_workbook_saved_by_libreoffice(tmp_path: Path, soffice: str) -> None:
    import subprocess

    source = _laid_out(tmp_path / "src" / "a.xlsx", False)
    out = tmp_path / "lo"
    subprocess.run([soffice, "--headless", f"-env:UserInstallation=file://{tmp_path}/profile", "--convert-to",
                    "xlsx", "--outdir", str(out), str(source)], check=True, capture_output=True, timeout=120)
    v = validate_workbook(out / "a.xlsx")
    assert [(f.row, f.code) for f in v.findings if f.code in ("merged_cells", "hidden_row")] == [
        (3, "merged_cells"), (4, "merged_cells"), (5, "merged_cells"), (6, "hidden_row"), (7, "hidden_row")]


def test_fast_scan_finds_what_the_full_parse_finds_across_chunks(tmp_path: Path) -> None:
    """The byte-search scan reads the XML in 1 MB windows: marks on window edges count once."""
    import re
    import zipfile

    import xlsxwriter

    from bulkimport import sheetscan

    written = tmp_path / "written.xlsx"
    wb = xlsxwriter.Workbook(str(written))
    ws = wb.add_worksheet("Jobs")
    for r in range(1, 14_001):
        for c, value in enumerate([f"text-{r}", "#REF!" if r % 7 == 0 else str(r), "padding " * 5,
                                   "#N/A" if r % 5 == 0 else "x"]):
            if not (r % 13 == 1 and r > 1 and c == 2):  # the lower cell of a merge below
                ws.write_string(r - 1, c, value)
        if r % 11 == 0:
            ws.set_row(r - 1, None, None, {"hidden": True})
        if r % 13 == 0:
            ws.merge_range(r - 1, 2, r, 2, "merged")
    wb.close()
    # xlsxwriter writes "#N/A" as text; make those cells literal error cells, as Excel would
    path = tmp_path / "big.xlsx"
    with zipfile.ZipFile(written) as src, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as dst:
        strings = [el for el in src.read("xl/sharedStrings.xml").split(b"<si>")[1:]]
        ids = {i for i, el in enumerate(strings) if el.startswith((b"<t>#N/A<", b"<t>#REF!<"))}
        for info in src.infolist():
            data = src.read(info)
            if info.filename == "xl/worksheets/sheet1.xml":
                def to_error(m: re.Match[bytes]) -> bytes:
                    i = int(m.group(1))
                    if i not in ids:
                        return m.group(0)
                    return b't="e"><v>' + strings[i][3:strings[i].index(b"<", 3)] + b"</v>"

                data = re.sub(rb't="s"><v>(\d+)</v>', to_error, data)
            dst.writestr(info, data)
    with zipfile.ZipFile(path) as archive:
        assert archive.getinfo("xl/worksheets/sheet1.xml").file_size > 3 << 19
        full = sheetscan.SheetMarks()
        sheetscan._full_scan(archive, "xl/worksheets/sheet1.xml", full)
    fast = sheetscan.scan_sheet_marks(path, "Jobs")
    assert fast == full
    assert len(fast.errors) == 14_000 // 7 + 14_000 // 5 and len(fast.hidden_rows) == 14_000 // 11
    assert len(fast.merged) == 14_000 // 13 and fast.errors[(35, 1)] == "#REF!" and fast.errors[(35, 3)] == "#N/A"


# ----------------------------------------------------------------------------- zip bombs


def _raw_zip(source: Path, target: Path, replace: dict[str, tuple[bytes, int, int]]) -> Path:
    """A copy of `source` written member by member (no zip64), each member's deflate
    stream made here; `replace` gives some members as (deflate stream, crc, declared size)."""
    import struct
    import zipfile
    import zlib

    out = bytearray()
    central = bytearray()
    with zipfile.ZipFile(source) as src:
        names = [i.filename for i in src.infolist()]
        for name in [*names, *(n for n in replace if n not in names)]:
            if name in replace:
                body, crc, size = replace[name]
            else:
                raw = src.read(name)
                comp = zlib.compressobj(9, zlib.DEFLATED, -15)
                body, crc, size = comp.compress(raw) + comp.flush(), zlib.crc32(raw), len(raw)
            fname, offset = name.encode(), len(out)
            out += struct.pack("<4sHHHHHIIIHH", b"PK\x03\x04", 20, 0, 8, 0, 0, crc, len(body), size, len(fname), 0)
            out += fname + body
            central += struct.pack("<4sHHHHHHIIIHHHHHII", b"PK\x01\x02", 20, 20, 0, 8, 0, 0, crc, len(body), size,
                                   len(fname), 0, 0, 0, 0, 0, offset) + fname
    count = len(names) + len([n for n in replace if n not in names])
    end = struct.pack("<4sHHHHIIH", b"PK\x05\x06", 0, 0, count, count, len(central), len(out), 0)
    target.write_bytes(bytes(out + central + end))
    return target


def _huge_shared_strings(mebibytes: int) -> tuple[bytes, int, int]:
    """sharedStrings.xml holding one string of `mebibytes` MiB of "A", as (deflate stream,
    crc, size), built without ever holding it inflated: one 1 MiB block compressed once
    (after a full flush it does not depend on what came before) and repeated."""
    import zlib

    head = (b'<?xml version="1.0"?><sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
            b'count="1" uniqueCount="1"><si><t>')
    tail = b"</t></si></sst>"
    block = b"A" * (1 << 20)
    comp = zlib.compressobj(9, zlib.DEFLATED, -15)
    first = comp.compress(head) + comp.flush(zlib.Z_FULL_FLUSH)
    packed = comp.compress(block) + comp.flush(zlib.Z_FULL_FLUSH)
    last = comp.compress(tail) + comp.flush()
    crc = zlib.crc32(head)
    for _ in range(mebibytes):
        crc = zlib.crc32(block, crc)
    crc = zlib.crc32(tail, crc)
    stream = first + packed * mebibytes + last
    sample = zlib.decompressobj(-15).decompress(first + packed * 2 + last)
    assert sample == head + block * 2 + tail  # the repeated block is a valid stream
    return stream, crc, len(head) + len(tail) + (mebibytes << 20)


def test_a_zip_bomb_is_refused_in_one_line_before_it_is_inflated(tmp_path: Path,
                                                                    capsys: pytest.CaptureFixture[str]) -> None:
    import resource

    from bulkimport.cli import main

    base = write_book(tmp_path / "base.xlsx", [base_row()])
    bomb = _raw_zip(base, tmp_path / "bomb.xlsx", {"xl/sharedStrings.xml": _huge_shared_strings(1024)})
    assert bomb.stat().st_size < 2 << 20  # about 1 MB on disk, 1 GiB inflated
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    with pytest.raises(SystemExit) as exc:
        main(["validate", str(bomb), "--out", str(tmp_path / "o.xlsx")])
    err = capsys.readouterr().err
    assert exc.value.code == 2
    assert err.count("\n") == 1 and "zip bomb" in err and "xl/sharedStrings.xml" in err
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before < 200 << 10  # KiB: nothing near 1 GiB
    assert not (tmp_path / "o.xlsx").exists()


def test_a_member_that_inflates_beyond_its_declared_size_is_refused_cheaply(tmp_path: Path) -> None:
    """Headers can lie: a sharedStrings.xml declaring 5,000 bytes whose deflate stream gives
    64 MiB passes the directory check, and the reader refuses it at the declared size."""
    from bulkimport.errors import InputError

    base = write_book(tmp_path / "base.xlsx", [base_row()])
    stream, crc, _ = _huge_shared_strings(64)
    liar = _raw_zip(base, tmp_path / "liar.xlsx", {"xl/sharedStrings.xml": (stream, crc, 5_000)})
    import resource

    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    with pytest.raises(InputError, match="cannot be read"):
        validate_workbook(liar)  # the reader stops at the declared size
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before < 32 << 10  # KiB
    ratio = _raw_zip(base, tmp_path / "ratio.xlsx", {"xl/sharedStrings.xml": _huge_shared_strings(200)})
    with pytest.raises(InputError, match=r"zip bomb: xl/sharedStrings.xml would inflate [\d,]+:1, from"):
        validate_workbook(ratio)
    # the same writer with honest sizes gives a workbook that validates
    honest = _raw_zip(base, tmp_path / "honest.xlsx", {})
    assert validate_workbook(honest).invalid == set()


def test_real_workbooks_pass_the_zip_check_with_room_for_100000_rows(tmp_path: Path) -> None:
    """A 2,000-row sample of the benchmark's layout, every column filled: its sheet grows
    linearly with rows, so 50 times it (100,000 rows) must fit the limits, at the same ratio."""
    import sys
    import zipfile

    from bulkimport import archive, fields

    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))
    import bench_validate

    sample = bench_validate.make_workbook(tmp_path / "sample.xlsx", 2_000)
    archive.check_archive(sample)
    with zipfile.ZipFile(sample) as z:
        sheet = z.getinfo("xl/worksheets/sheet1.xml")
        total = sum(i.file_size for i in z.infolist())
    full_width = len(fields.KEYS) / 24  # the benchmark fills 24 of the columns
    assert sheet.file_size * 50 * full_width < archive.MAX_MEMBER_BYTES
    assert total * 50 * full_width < archive.MAX_TOTAL_BYTES
    assert sheet.file_size / sheet.compress_size < archive.MAX_RATIO / 4


# ----------------------------------------------------------------------------- sheets far larger than their data


def _with_blank_tail(path: Path, rows: int, text: str = " ") -> Path:
    """Three task rows, then `rows` rows holding only `text` in column A (xlsxwriter, streamed)."""
    import xlsxwriter

    from bulkimport import fields

    wb = xlsxwriter.Workbook(str(path), {"constant_memory": True})
    ws = wb.add_worksheet("Jobs")
    keys = list(fields.KEYS)
    for c, key in enumerate(keys):
        ws.write_string(0, c, fields.FIELDS[key].label)
        ws.write_string(1, c, key)
    for r in range(3):
        row = base_row(name=f"DRS-{r:04d}")
        for c, key in enumerate(keys):
            if row.get(key) is not None:
                ws.write_string(2 + r, c, str(row[key]))
    for r in range(6, 6 + rows):
        ws.write_string(r, 0, text)
    wb.close()
    return path


@pytest.mark.parametrize("junk", [" ", "\u00a0\t"])
def test_rows_blank_after_trimming_are_dropped_before_the_reader_holds_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, junk: str
) -> None:
    """The issue's 1,000,000 rows of one space, scaled down: the trimming threshold is lowered
    so 30,000 rows take the path the real threshold sends 1,000,000 down."""
    from bulkimport import fields, sheettrim

    assert 100_000 * len(fields.KEYS) <= sheettrim.DENSE_CELLS < 1_000_000 * len(fields.KEYS)
    path = _with_blank_tail(tmp_path / "tail.xlsx", 30_000, junk)
    untrimmed = validate_workbook(path)
    monkeypatch.setattr(sheettrim, "DENSE_CELLS", 10_000)
    trimmed_books: list[object] = []
    real = sheettrim.trimmed_copy
    monkeypatch.setattr("bulkimport.book_read.trimmed_copy",
                        lambda p: trimmed_books.append(real(p)) or trimmed_books[-1])
    v = validate_workbook(path)
    assert trimmed_books and trimmed_books[0] is not None
    assert list(v.rows) == list(untrimmed.rows) == [3, 4, 5]
    assert v.findings == untrimmed.findings and v.invalid == set()
    import zipfile

    with zipfile.ZipFile(trimmed_books[0]) as copy:  # type: ignore[arg-type]
        assert len(copy.read("xl/worksheets/sheet1.xml")) < 20_000  # three rows, not 30,000


def test_a_stray_cell_far_from_the_data_is_refused_in_one_line(tmp_path: Path) -> None:
    """One value in XFD1048576 made the reader ask for hundreds of GB and abort."""
    import xlsxwriter

    from bulkimport.errors import InputError

    path = tmp_path / "far.xlsx"
    wb = xlsxwriter.Workbook(str(path))
    ws = wb.add_worksheet("Jobs")
    ws.write_string(0, 0, "name")
    ws.write_string(1048575, 16383, "x")
    wb.close()
    with pytest.raises(InputError, match=r"1,048,576 rows and 16,384 columns.*delete the stray cells"):
        validate_workbook(path)


def test_submit_never_sends_a_row_with_an_excel_error(tmp_path: Path) -> None:
    from test_submit import TOKEN, create_requests, env, options

    from bulkimport.outcomes import Result
    from bulkimport.simulator import FaultConfig, Simulator
    from bulkimport.submit import submit_workbook

    rows = [base_row(name="task-ok", **{"target_endpoint.db_password": "pw"}),
            base_row(name="task-na", **{PORT: "#N/A", "target_endpoint.db_password": "pw"})]
    book = write_book(tmp_path / "in.xlsx", rows)  # openpyxl: "#N/A" is written as an error cell
    with Simulator(token=TOKEN, faults=FaultConfig(transition_delay=0, retry_after=0)) as sim:
        outcome = submit_workbook(book, options(sim, tmp_path), env=env(sim))
        sent = [job["name"] for r in create_requests(sim) for job in r["body"]["jobs"]]
    assert sent == ["task-ok"] and outcome.exit_code == 1
    failed = {r.name: r for r in outcome.rows}["task-na"]
    assert failed.result is Result.INVALID and "holds the Excel error #N/A" in (failed.error_msg or "")


def test_an_error_cell_in_a_zh_cn_template_is_an_excel_error(tmp_path: Path) -> None:
    import openpyxl

    from bulkimport.template import write_template

    book = write_template(tmp_path / "zh.xlsx", language="zh-cn", rows=[base_row()])
    wb = openpyxl.load_workbook(book)
    ws = wb["Jobs"]
    keys = [c.value for c in ws[2]]
    ws.cell(3, keys.index(PORT) + 1).value = "#DIV/0!"  # openpyxl writes it as an error cell
    wb.save(book)
    v = validate_workbook(book)
    assert codes(v) == {(PORT, "excel_error")}
