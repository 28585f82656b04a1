"""The tool's catalogue and the simulator's wire schema were written independently from the
API page; here they must agree on every field name, enum value and mandatory field. A
disagreement means one of them misread the page."""

from __future__ import annotations

from bulkimport import fields
from bulkimport.simulator import wire_enums, wire_field_names, wire_required_fields

# Columns that are not one-to-one JSON keys, and JSON objects that are not columns.
_CELL_ONLY = {"enterprise_project_id"}
_OBJECTS = {"source_endpoint", "target_endpoint", "sys_tags"}


def test_same_field_names() -> None:
    wire = wire_field_names()
    job_keys = {f.key for f in fields.CATALOGUE if f.endpoint is None and f.stage is fields.Stage.CREATE} - _CELL_ONLY
    assert job_keys | _OBJECTS == wire["CreateJobReq"]
    for endpoint in fields.ENDPOINTS:
        assert {f.attribute for f in fields.CATALOGUE if f.endpoint == endpoint} == wire["Endpoint"]


def test_same_enum_values() -> None:
    catalogue_enums = {f.key: set(f.allowed) for f in fields.CATALOGUE if f.kind is fields.Kind.ENUM}
    assert catalogue_enums == wire_enums()


def test_same_mandatory_fields() -> None:
    assert set(fields.MANDATORY_KEYS) | {"source_endpoint", "target_endpoint"} == wire_required_fields()


def test_payload_of_every_example_row_passes_the_simulator_schema(repo) -> None:
    """The example campaign, turned into payloads by the tool, is what the server accepts."""
    from bulkimport.payload import Secrets, build_job
    from bulkimport.simulator import check_batch
    from bulkimport.validate import validate_workbook

    validation = validate_workbook(repo / "templates" / "examples" / "campaign-example.xlsx")
    env = {"SRC_DB_PASSWORD": "x", "TGT_DB_PASSWORD": "y", "SRC_SSL_CERT_KEY": "QUJD",
           "SRC_SSL_CERT_PASSWORD": "z"}
    jobs = [build_job(row, secrets=Secrets.RESOLVE, env=env) for row in validation.rows.values()]
    for start in range(0, len(jobs), fields.MAX_JOBS_PER_REQUEST):
        verdict = check_batch({"jobs": jobs[start:start + fields.MAX_JOBS_PER_REQUEST]})
        assert verdict.ok, verdict
