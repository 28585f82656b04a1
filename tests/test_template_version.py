"""Template versions (docs/decisions.md, "Template versions"): every catalogue change comes with
a new `TEMPLATE_VERSION`, and a workbook from another template gets a `stale_template` warning
that says what to do about it."""

from __future__ import annotations

from pathlib import Path

import openpyxl
import pytest

from bulkimport import fields
from bulkimport.book_read import read_workbook
from bulkimport.findings import Severity
from bulkimport.template import write_template
from bulkimport.validate import validate_workbook

#: The catalogue hash of each template version. When the catalogue changes (a column, a value, a
#: rule, a help text), bump fields.TEMPLATE_VERSION and add its `fields.catalogue_hash()` here:
#: operators then read "made from template version X, older than this tool's Y", not "version Y
#: whose columns or rules differ" about a template that claims the tool's own version.
CATALOGUE_OF_VERSION = {
    "2026.11.3": "5f8e1ff32b556cfd425949087654aa0f6eb497eb3837575c1924b75ee5b8af0f",
}


def test_the_catalogue_has_not_changed_without_a_new_template_version() -> None:
    assert fields.TEMPLATE_VERSION in CATALOGUE_OF_VERSION, (
        f"record catalogue_hash() {fields.catalogue_hash()} of version {fields.TEMPLATE_VERSION} here")
    assert fields.catalogue_hash() == CATALOGUE_OF_VERSION[fields.TEMPLATE_VERSION], (
        "the catalogue changed: bump fields.TEMPLATE_VERSION, regenerate the committed template and examples, "
        f"and record the new catalogue_hash() here (now {fields.catalogue_hash()})")


def _made_from(tmp_path: Path, version: str, language: str = "en-us") -> Path:
    """A filled workbook whose `_meta` says it was made from template `version` (and its own
    catalogue), with one row whose port is out of range."""
    path = write_template(tmp_path / f"{version}-{language}.xlsx", language=language)
    wb = openpyxl.load_workbook(path)
    for row in wb["_meta"].iter_rows():
        if row[0].value == "template_version":
            row[1].value = version
        elif row[0].value == "catalogue_sha256":
            row[1].value = "ab" * 32
    ws = wb["Jobs"]
    keys = [c.value for c in ws[2]]
    for key, value in (("name", "wave-old-1"), ("source_endpoint.db_port", "70000")):
        ws.cell(3, keys.index(key) + 1, value)
    wb.save(path)
    return path


def _stale(path: Path) -> str:
    """The warning's text as written in the workbook's language (comments, error_msg, report)."""
    book = read_workbook(path)
    (finding,) = [f for f in book.findings if f.code == "stale_template"]
    assert finding.severity == Severity.WARNING and finding.row is None
    return finding.message_for(book.language or fields.LANGUAGES[0])


def test_a_workbook_from_an_older_template_is_told_to_copy_its_rows_into_a_fresh_one(tmp_path: Path) -> None:
    path = _made_from(tmp_path, "2026.11.2")
    message = _stale(path)
    assert f"template version 2026.11.2, older than this tool's {fields.TEMPLATE_VERSION}" in message
    assert "run `bulkimport template` and paste the rows into the new workbook as values" in message
    # ... and it is true that its rows are still checked with this tool's rules:
    validation = validate_workbook(path)
    assert any(f.code == "range" and f.column == "source_endpoint.db_port" for f in validation.findings)
    assert validation.invalid


def test_a_workbook_from_a_newer_template_is_told_to_update_the_tool(tmp_path: Path) -> None:
    message = _stale(_made_from(tmp_path, "2099.1.1"))
    assert f"2099.1.1, newer than this tool's {fields.TEMPLATE_VERSION}" in message
    assert "update bulkimport" in message and "bulkimport template" not in message


@pytest.mark.parametrize(("version", "advice"), [("2026.11.2", "bulkimport template"), ("2099.1.1", "更新bulkimport")])
def test_a_zh_cn_workbook_gets_the_same_advice_in_chinese(tmp_path: Path, version: str, advice: str) -> None:
    message = _stale(_made_from(tmp_path, version, language="zh-cn"))
    assert version in message and advice in message and "工作簿来自模板版本" in message


def test_the_same_version_with_another_catalogue_gets_the_same_advice(tmp_path: Path) -> None:
    message = _stale(_made_from(tmp_path, fields.TEMPLATE_VERSION))
    assert "columns or rules differ" in message and "run `bulkimport template`" in message
