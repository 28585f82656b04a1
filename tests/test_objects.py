"""The `objects` column: what a task replicates, read by `prepare`, never sent at creation."""

from __future__ import annotations

from pathlib import Path

from fixtures.books import base_row, write_book

from bulkimport import fields
from bulkimport.parse import object_entries
from bulkimport.payload import build_job
from bulkimport.validate import validate_workbook


def _findings(tmp_path: Path, objects: object, **changes: object) -> list[tuple[str | None, str]]:
    book = write_book(tmp_path / "o.xlsx", [base_row(objects=objects, **changes)])
    result = validate_workbook(book)
    return [(f.column, f.code) for f in result.findings if f.severity == "error"]


def test_blank_means_the_whole_instance_and_entries_are_normalised(tmp_path: Path) -> None:
    book = write_book(tmp_path / "o.xlsx", [base_row(objects=" sales ; crm . customers ;; "), base_row(
        name="DRS-0002", objects=None)])
    result = validate_workbook(book)
    assert not result.invalid
    rows = list(result.rows.values())
    assert rows[0]["objects"] == "sales;crm.customers"
    assert object_entries(rows[0]["objects"]) == [("sales",), ("crm", "customers")]
    assert rows[1]["objects"] is None and object_entries(rows[1]["objects"]) == []


def test_shape_errors_are_objects_findings_on_the_cell(tmp_path: Path) -> None:
    assert _findings(tmp_path, "sales..orders") == [("objects", "objects")]
    assert _findings(tmp_path, ".orders") == [("objects", "objects")]
    assert _findings(tmp_path, "a.b.c.d") == [("objects", "objects")]
    assert _findings(tmp_path, "sales;sales") == [("objects", "objects")]
    assert _findings(tmp_path, "x" * 65) == [("objects", "objects")]


def test_postgresql_takes_a_schema_level_and_mysql_does_not(tmp_path: Path) -> None:
    pg = {"engine_type": "postgresql", "db_use_type": "sync", "source_endpoint.db_type": "postgresql",
          "target_endpoint.db_type": "postgresql", "is_target_readonly": None}
    assert _findings(tmp_path, "erp;erp_hist.public;erp_arch.public.orders", **pg) == []
    assert _findings(tmp_path, "erp.public.orders") == [("objects", "cross_field.objects_depth")]


def test_objects_never_reach_the_creation_body() -> None:
    row = {k: None for k in fields.KEYS} | {"name": "DRS-1", "objects": "sales;crm.customers"}
    assert "objects" not in build_job(row)
    assert fields.FIELDS["objects"].stage is fields.Stage.LAUNCH
    assert "objects" not in fields.CREATION_KEYS


def test_fields_sheet_documents_objects_with_an_example() -> None:
    f = fields.FIELDS["objects"]
    assert "sales;crm.customers" in f.rule and "erp.public.orders" in f.help
    assert "erp.public.orders" in f.help_zh
