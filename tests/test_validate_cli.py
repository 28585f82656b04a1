"""`bulkimport validate`: exit codes, what is printed where, and the annotated copy."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import openpyxl
import pytest
from fixtures.books import base_row, write_book

from bulkimport import fields
from bulkimport.cli import main
from bulkimport.findings import CODES

REPO = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).resolve().parent / "fixtures"
EXAMPLES = REPO / "templates" / "examples"
SECRET = "Sup3r-Secret!"  # base_row's source password


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    """The console entry point in-process: exit code, stdout, stderr."""
    with pytest.raises(SystemExit) as exc:
        main(argv)
    out, err = capsys.readouterr()
    return int(exc.value.code or 0), out, err


def test_valid_workbook_exits_0_with_a_summary_and_the_default_copy(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    write_book(tmp_path / "wave7.xlsx", [base_row(), base_row(name="DRS-0004")])
    code, out, err = run(["validate", "wave7.xlsx"], capsys)
    assert code == 0
    assert out == ""  # humans' output goes to stderr
    assert "2 rows, 2 valid, 0 invalid" in err
    assert (tmp_path / "reports" / "wave7-validated.xlsx").is_file()
    assert "reports/wave7-validated.xlsx" in err


def test_invalid_rows_exit_1_and_the_summary_lists_findings(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write_book(tmp_path / "w.xlsx", [base_row(), base_row(name="x"), base_row(name="DRS-0005", node_num=99)])
    code, _, err = run(["validate", str(path), "--out", str(tmp_path / "o.xlsx")], capsys)
    assert code == 1
    assert "3 rows, 1 valid, 2 invalid" in err
    assert "length 1" in err and "range 1" in err
    assert "row 4: Task name must be 4-50 characters long" in err and "[length]" in err


def test_json_output_shape(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write_book(tmp_path / "w.xlsx", [base_row(), {}, base_row(name="DRS-0005", **{"source_endpoint.ip": "x"}),
                                            base_row(name="DRS-0006", task_type=None)])
    code, out, _ = run(["validate", str(path), "--json", "--out", str(tmp_path / "o.xlsx")], capsys)
    assert code == 1
    doc = json.loads(out)
    assert (doc["rows"], doc["valid"], doc["invalid"], doc["errors"], doc["warnings"]) == (3, 2, 1, 1, 1)
    assert doc["counts"] == {"ip": 1, "default_applied": 1}
    assert doc["output"] == str(tmp_path / "o.xlsx")
    assert doc["sheet"] == "Jobs" and len(doc["sha256"]) == 64
    finding = next(f for f in doc["findings"] if f["code"] == "ip")
    assert set(finding) == {"row", "column", "code", "message", "severity", "source_row"}
    assert (finding["row"], finding["column"], finding["severity"]) == (5, "source_endpoint.ip", "error")


def test_sheet_option(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write_book(tmp_path / "w.xlsx", [base_row()], sheet="Wave 7", extra_sheets=["Wave 8"])
    wb = openpyxl.load_workbook(path)
    for r, row in enumerate(wb["Wave 7"].iter_rows(values_only=True), start=1):
        wb["Wave 8"].append(row if r < 3 else [v if v != "DRS-9228" else "x" for v in row])
    wb.save(path)
    code, _, err = run(["validate", str(path), "--out", str(tmp_path / "o.xlsx")], capsys)
    assert code == 2 and "several sheets" in err and "--sheet" in err
    assert run(["validate", str(path), "--sheet", "wave 7", "--out", str(tmp_path / "o.xlsx")], capsys)[0] == 0
    assert run(["validate", str(path), "--sheet", "Wave 8", "--out", str(tmp_path / "o.xlsx")], capsys)[0] == 1


def _unusable(tmp_path: Path, case: str) -> Path:
    """A file that cannot be used, one way or another."""
    path = tmp_path / "input.xlsx"
    if case == "missing file":
        return tmp_path / "nope.xlsx"
    if case == "directory":
        path.mkdir()
    elif case == "zero bytes":
        path.write_bytes(b"")
    elif case == "CSV renamed":
        path.write_text("name,db_use_type\nDRS-1,migration\n")
    elif case == ".xls renamed":
        path.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 1024 + "Workbook".encode("utf-16-le"))
    elif case == "encrypted":
        path.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 1024
                         + "EncryptedPackage".encode("utf-16-le") + "EncryptionInfo".encode("utf-16-le"))
    elif case == "damaged zip":
        path.write_bytes(b"PK\x03\x04" + b"\x00" * 100)
    elif case == "no task sheet":
        wb = openpyxl.Workbook()
        wb.active.append(["just", "some", "notes"])
        wb.save(path)
    elif case == "no key row":
        wb = openpyxl.Workbook()
        wb.active.title = "Jobs"
        wb.active.append(["Task name", "Scenario"])
        wb.active.append(["DRS-1", "migration"])
        wb.save(path)
    elif case == "empty sheet":
        wb = openpyxl.Workbook()
        wb.active.title = "Jobs"
        wb.save(path)
    elif case == "no task rows":
        write_book(path, [])
    elif case == "duplicate key column":
        write_book(path, [base_row()], columns=[*fields.KEYS, "name"])
    elif case == "missing mandatory column":
        write_book(path, [base_row()], columns=[k for k in fields.KEYS if k != "customize_sutnet_id"])
    return path


UNUSABLE = {
    "missing file": "no such file",
    "directory": "is a directory",
    "zero bytes": "empty (0 bytes)",
    "CSV renamed": "not an Excel workbook",
    ".xls renamed": "legacy Excel 97-2003",
    "encrypted": "password-protected",
    "damaged zip": "cannot be read",
    "no task sheet": "no task sheet",
    "no key row": "no key row",
    "empty sheet": "is empty",
    "no task rows": "no task rows",
    "duplicate key column": "'name' appears twice",
    "missing mandatory column": "mandatory column 'customize_sutnet_id' is missing",
}


@pytest.mark.parametrize("case", list(UNUSABLE))
def test_unusable_input_exits_2_with_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str], case: str) -> None:
    path = _unusable(tmp_path, case)
    code, out, err = run(["validate", str(path), "--out", str(tmp_path / "out.xlsx")], capsys)
    assert code == 2
    assert out == ""
    assert len(err.strip().splitlines()) == 1, err
    assert err.startswith("bulkimport: error: ") and UNUSABLE[case] in err
    assert "Traceback" not in err
    assert not (tmp_path / "out.xlsx").exists()


@pytest.mark.parametrize("case", ["CSV renamed", "encrypted"])
def test_unusable_input_through_the_real_command_has_no_traceback(tmp_path: Path, case: str) -> None:
    path = _unusable(tmp_path, case)
    proc = subprocess.run([sys.executable, "-m", "bulkimport", "validate", str(path)], cwd=tmp_path,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2
    assert proc.stdout == "" and len(proc.stderr.strip().splitlines()) == 1
    assert UNUSABLE[case] in proc.stderr


def test_a_real_password_protected_workbook_is_refused_in_one_line(tmp_path: Path) -> None:
    """tests/fixtures/encrypted.xlsx is the API-page example encrypted by msoffcrypto-tool
    (password 'open-sesame'): the OLE container Excel writes for a password-protected file."""
    proc = subprocess.run([sys.executable, "-m", "bulkimport", "validate", str(FIXTURES / "encrypted.xlsx")],
                          cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2
    assert proc.stdout == "" and len(proc.stderr.strip().splitlines()) == 1
    assert "password-protected" in proc.stderr


def test_refuses_to_overwrite_the_input(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write_book(tmp_path / "w.xlsx", [base_row()])
    before = path.read_bytes()
    code, _, err = run(["validate", str(path), "--out", str(tmp_path / "sub" / ".." / "w.xlsx")], capsys)
    assert code == 2 and "overwrite" in err
    assert path.read_bytes() == before


def _annotated(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> tuple[openpyxl.Workbook, Path]:
    rows = [
        base_row(),
        {},
        base_row(name="DRS-0005", **{"source_endpoint.db_port": 0, "source_endpoint.inst_name": "=1+1"}),
        base_row(name="DRS-0006", master_az="az1", **{"source_endpoint.ssl_cert_key": "not*b64",
                                                       "source_endpoint.ssl_cert_name": "client.p12",
                                                       "source_endpoint.ssl_cert_password": "P12-pass-word"}),
    ]
    path = write_book(tmp_path / "w.xlsx", rows, columns=[*fields.KEYS[:3], "owner", *fields.KEYS[3:]])
    wb = openpyxl.load_workbook(path)
    ws = wb["Jobs"]
    col = [c.value for c in ws[2]].index("source_endpoint.inst_name") + 1
    ws.cell(5, col).data_type = "s"  # the operator's text "=1+1", not a formula
    ws.cell(3, 4).value = "Ana"  # the unknown "owner" column
    wb.save(path)
    out = tmp_path / "annotated.xlsx"
    code, _, _ = run(["validate", str(path), "--out", str(out)], capsys)
    assert code == 1
    return openpyxl.load_workbook(out), out


def _col(ws, key: str) -> int:
    return [c.value for c in ws[2]].index(key) + 1


def test_annotated_copy_marks_offending_cells_and_appends_results(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    wb, _ = _annotated(tmp_path, capsys)
    ws = wb["Jobs"]
    keys = [c.value for c in ws[2]]
    # The result columns sit beside the task name; the operator's columns keep their order.
    appended = ["result", "error_code", "error_msg"]
    assert keys[:4] == ["name", *appended] and [c.value for c in ws[1]][1:4] == appended
    assert keys[-1] == "source_row"
    operator = [k for k in keys if k not in (*appended, "source_row")]
    assert operator[3] == "owner" and ws.cell(3, keys.index("owner") + 1).value == "Ana"  # unknown column kept
    rows = {ws.cell(r, _col(ws, "source_row")).value: r for r in range(3, ws.max_row + 1)}
    assert set(rows) == {3, 5, 6}  # the blank row 4 is not copied
    assert [ws.cell(rows[r], _col(ws, "result")).value for r in (3, 5, 6)] == ["VALID", "INVALID", "INVALID"]
    port = ws.cell(rows[5], _col(ws, "source_endpoint.db_port"))
    assert port.value == 0 and port.fill.fgColor.rgb.upper().endswith("FF6B6B")
    # One sentence: the label and the problem, once; the code in its own column.
    assert port.comment.text.startswith("Source Port must be from 1 to 65535")
    assert "source_endpoint.db_port" not in port.comment.text and "range" not in port.comment.text
    assert ws.cell(rows[5], _col(ws, "error_msg")).value.startswith("Source Port must be from 1 to 65535")
    assert "range" in ws.cell(rows[5], _col(ws, "error_code")).value.split(",")
    az = ws.cell(rows[6], _col(ws, "master_az"))
    assert az.comment.text.startswith("Warning: Primary task AZ") and az.fill.fgColor.rgb.upper().endswith("FFC000")
    assert ws.cell(rows[3], _col(ws, "error_msg")).value in (None, "")


def test_findings_sheet_links_every_finding_to_its_cell(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    wb, _ = _annotated(tmp_path, capsys)
    ws, fs = wb["Jobs"], wb["Findings"]
    header = [c.value for c in fs[1]]
    lines = [dict(zip(header, [c for c in row], strict=True)) for row in fs.iter_rows(min_row=2)]
    assert {line["code"].value for line in lines} >= {"range", "base64", "cross_field.az_pair", "unknown_column"}
    for line in lines:
        if line["row"].value is None:
            continue  # a workbook-level finding
        target = line["cell"].hyperlink.location
        sheet, ref = re.fullmatch(r"'(.+)'!([A-Z]+\d+)", target).groups()
        assert sheet == "Jobs" and ref == line["cell"].value
        assert ws[ref].comment is not None and line["message"].value in ws[ref].comment.text


def test_annotated_copy_keeps_text_as_text_and_masks_secrets(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    wb, out = _annotated(tmp_path, capsys)
    ws = wb["Jobs"]
    row5 = next(r for r in range(3, ws.max_row + 1) if ws.cell(r, _col(ws, "source_row")).value == 5)
    inst = ws.cell(row5, _col(ws, "source_endpoint.inst_name"))
    assert inst.value == "=1+1" and inst.data_type == "s"
    assert ws.cell(3, _col(ws, "source_endpoint.db_password")).value == "******"
    assert ws.cell(3, _col(ws, "target_endpoint.db_password")).value == "env:TARGET_PW"
    with zipfile.ZipFile(out) as z:
        xml = b"".join(z.read(n) for n in z.namelist())
    for secret in (SECRET, "not*b64", "P12-pass-word"):
        assert secret.encode() not in xml
    assert b"<f>" not in xml


def test_secrets_never_reach_stdout_or_stderr(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rows = [base_row(**{"source_endpoint.ssl_cert_key": "S3cret-Cert*", "target_endpoint.db_password": "Pw-2!"})]
    path = write_book(tmp_path / "w.xlsx", rows)
    code, out, err = run(["validate", str(path), "--json", "--out", str(tmp_path / "o.xlsx")], capsys)
    assert code == 1 and "base64" in out
    for secret in (SECRET, "S3cret-Cert*", "Pw-2!"):
        assert secret not in out and secret not in err


def test_annotated_copy_validates_again_with_the_same_findings(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A results workbook can be fed back: same rows, same findings, original row numbers;
    secrets it masked must be typed again (env: references survive)."""
    _, out = _annotated(tmp_path, capsys)
    code, doc, _ = run(["validate", str(out), "--json", "--out", str(tmp_path / "again.xlsx")], capsys)
    assert code == 1
    first = json.loads(run(["validate", str(tmp_path / "w.xlsx"), "--json", "--out", str(tmp_path / "x.xlsx")],
                           capsys)[1])
    again = json.loads(doc)

    def cells(d: dict, secret: bool) -> set:
        return {(f["source_row"], f["column"], f["code"]) for f in d["findings"]
                if (f["column"] in fields.SECRET_KEYS) is secret}

    assert cells(again, secret=False) == cells(first, secret=False)
    masked = {(3, "source_endpoint.db_password"), (5, "source_endpoint.db_password"),
              (6, "source_endpoint.db_password"), (6, "source_endpoint.ssl_cert_key"),
              (6, "source_endpoint.ssl_cert_password")}
    assert cells(again, secret=True) == {(r, c, "missing") for r, c in masked}
    assert all("******" in f["message"] for f in again["findings"] if f["column"] in fields.SECRET_KEYS)
    assert not any(f["code"] == "unknown_column" and f["column"] in ("result", "error_msg", "source_row")
                   for f in again["findings"])


@pytest.mark.parametrize("example", sorted(EXAMPLES.glob("*.xlsx")) or [pytest.param(None, marks=pytest.mark.skip(
    reason="templates/examples/ has no workbooks yet"))])
def test_example_workbooks_validate_clean(example: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(["validate", str(example), "--json", "--out", str(tmp_path / "o.xlsx")], capsys)
    doc = json.loads(out)
    assert code == 0, err
    assert doc["invalid"] == 0 and doc["rows"] > 0
    if example.name == "api-page-examples.xlsx":
        # the page's requests carry no IP, user or password for the self-built side, nor user
        # and password for the cloud instance: each row is warned, never refused
        codes = {(f["row"], f["code"], f["severity"]) for f in doc["findings"]}
        assert codes == {(row, "connection_incomplete", "warning") for row in range(3, 3 + doc["rows"])}
    else:
        assert doc["warnings"] == 0


def test_readme_section_lists_every_code() -> None:
    from bulkimport.validate import codes_markdown

    doc = (REPO / "README.md").read_text()
    table = doc.split("<!-- codes:start", 1)[1].split("-->\n", 1)[1].split("<!-- codes:end -->", 1)[0]
    assert table == codes_markdown(), "regenerate the table in README.md from codes_markdown()"
    for code in [*CODES, *(r.code for r in fields.RULES)]:
        assert f"| `{code}` |" in table, code


def test_page_examples_are_sent_despite_their_connection_warnings(tmp_path: Path) -> None:
    """connection_incomplete is a warning: the rows are created, exit 0, and the warning is not
    an error in the result columns (it is on the cell, for the DBA to fill in before prepare)."""
    from bulkimport.submit import SubmitOptions, submit_workbook

    outcome = submit_workbook(EXAMPLES / "api-page-examples.xlsx",
                              SubmitOptions(simulate=True, out=tmp_path / "r.xlsx", report_dir=tmp_path / "rep"),
                              env={})
    assert outcome.exit_code == 0
    rows = list(openpyxl.load_workbook(tmp_path / "r.xlsx")["Jobs"].iter_rows(min_row=2, values_only=True))
    head, data = list(rows[0]), [r for r in rows[1:] if r[0]]
    assert len(data) == 4
    for row in data:
        assert row[head.index("result")] == "CREATED" and not row[head.index("error_code")]
