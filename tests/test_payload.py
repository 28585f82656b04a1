"""payload.py: what goes on the wire for a typed row."""

from __future__ import annotations

import json

import pytest
from fixtures.sdk import to_sdk_job

from bulkimport import fields, parse, payload
from bulkimport.errors import InputError

Kind = fields.Kind


def typed_row(**overrides: object) -> dict[str, object]:
    """A typed row as validate produces it: every catalogue key, blanks as None."""
    row: dict[str, object] = {key: None for key in fields.KEYS}
    row.update({
        "name": "DRS-9228",
        "db_use_type": "migration",
        "engine_type": "mysql",
        "job_direction": "up",
        "task_type": "FULL_INCR_TRANS",
        "net_type": "eip",
        "bind_eip": True,
        "is_target_readonly": False,
        "customize_sutnet_id": "352ad828-3467-4f03-987a-c55a5a9dd417",
        "node_type": "high",
        "source_endpoint.db_type": "mysql",
        "source_endpoint.ip": "10.0.0.5",
        "source_endpoint.db_port": 3306,
        "source_endpoint.db_user": "root",
        "source_endpoint.db_password": "s3cret-Pw",
        "target_endpoint.db_type": "mysql",
        "target_endpoint.region": "eu-de",
        "target_endpoint.inst_id": "e05a3679efe241d8b5dee80b17c1a863in01",
        "target_endpoint.db_password": "env:TARGET_PW",
        "expired_days": 30,
        "tags": [{"key": "owner", "value": "dba-team"}, {"key": "wave", "value": "3"}],
        "enterprise_project_id": "0",
    })
    row.update(overrides)
    return row


def test_only_filled_fields_with_api_types() -> None:
    job = payload.build_job(typed_row(), secrets=payload.Secrets.RESOLVE, env={"TARGET_PW": "from-env"})
    assert job["source_endpoint"]["db_port"] == 3306 and type(job["source_endpoint"]["db_port"]) is int
    assert job["bind_eip"] is True and job["is_target_readonly"] is False
    assert job["expired_days"] == "30"
    assert job["tags"] == [{"key": "owner", "value": "dba-team"}, {"key": "wave", "value": "3"}]
    assert job["sys_tags"] == [{"key": fields.ENTERPRISE_PROJECT_TAG_KEY, "value": "0"}]
    assert "enterprise_project_id" not in job
    # blank cells are absent, not null
    assert "description" not in job and "node_num" not in job and "multi_write" not in job
    assert "az_code" not in job["source_endpoint"]
    assert job["target_endpoint"] == {
        "db_type": "mysql", "region": "eu-de", "inst_id": "e05a3679efe241d8b5dee80b17c1a863in01",
        "db_password": "from-env",
    }
    assert job["source_endpoint"]["db_password"] == "s3cret-Pw"
    assert "null" not in json.dumps(job)


def parsed(**cells: object) -> dict[str, object]:
    """A typed row whose overrides are cells as the reader gives them, through the one parser."""
    return typed_row(**{key: parse.parse_cell(fields.FIELDS[key], value) for key, value in cells.items()})


def test_excel_floats_never_reach_the_wire_as_floats() -> None:
    job = payload.build_job(parsed(**{"source_endpoint.db_port": 3306.0, "node_num": 4.0,
                                      "expired_days": 14.0, "target_endpoint.project_id": 1234567.0}))
    assert type(job["source_endpoint"]["db_port"]) is int
    assert job["node_num"] == 4 and type(job["node_num"]) is int
    assert job["expired_days"] == "14"
    assert job["target_endpoint"]["project_id"] == "1234567"


def test_boolean_cells_become_json_booleans() -> None:
    job = payload.build_job(parsed(bind_eip="TRUE", multi_write="false"))
    assert job["bind_eip"] is True and job["multi_write"] is False


def test_wrong_types_are_bugs_not_silently_sent() -> None:
    with pytest.raises(TypeError):
        payload.build_job(typed_row(**{"source_endpoint.db_port": "3306 tcp"}))
    with pytest.raises(TypeError):
        payload.build_job(typed_row(bind_eip="yes"))
    with pytest.raises(TypeError):  # a cell that skipped the parser: 3306.0 is not a port on the wire
        payload.build_job(typed_row(**{"source_endpoint.db_port": 3306.0}))


def test_endpoints_are_always_present() -> None:
    row = typed_row()
    for key in fields.KEYS:
        if key.startswith(("source_endpoint.", "target_endpoint.")):
            row[key] = None
    job = payload.build_job(row)
    assert job["source_endpoint"] == {} and job["target_endpoint"] == {}


def test_masking_keeps_env_references_and_hides_literal_secrets() -> None:
    row = typed_row(**{"source_endpoint.ssl_cert_key": "QUJDRA==", "source_endpoint.ssl_cert_password": "p12pw"})
    job = payload.build_job(row)  # default is masked
    text = json.dumps(job)
    for secret in ("s3cret-Pw", "QUJDRA==", "p12pw"):
        assert secret not in text
    assert job["source_endpoint"]["db_password"] == payload.MASK
    assert job["target_endpoint"]["db_password"] == "env:TARGET_PW"


def test_unset_env_reference_is_an_input_error_naming_the_cell() -> None:
    with pytest.raises(InputError, match="row 7 target_endpoint.db_password.*TARGET_PW"):
        payload.build_job(typed_row(), secrets=payload.Secrets.RESOLVE, env={}, where="row 7")


@pytest.mark.parametrize("secrets", [
    {},
    {"source_endpoint.ssl_cert_key": "QUJDRA==", "source_endpoint.ssl_cert_password": "env:P12_PW"},
    {"source_endpoint.db_password": None, "target_endpoint.db_password": ""},
])
def test_resolving_a_masked_job_sends_what_a_resolved_build_sends(secrets: dict[str, object]) -> None:
    # submit builds each row's masked job, then resolves it for sending (payload.resolve_job)
    # instead of building the body a second time: the two must never differ on the wire.
    row = typed_row(**secrets)
    env = {"TARGET_PW": "from-env", "P12_PW": "p12-from-env"}
    masked = payload.build_job(row)
    masked_before = json.dumps(masked)
    resolved = payload.resolve_job(masked, row, env, where="row 7")
    assert resolved == payload.build_job(row, secrets=payload.Secrets.RESOLVE, env=env, where="row 7")
    assert json.dumps(resolved) == json.dumps(payload.build_job(row, secrets=payload.Secrets.RESOLVE, env=env))
    assert json.dumps(masked) == masked_before  # the masked job (ledger, drift) is left as it was
    with pytest.raises(InputError, match="row 7 target_endpoint.db_password.*TARGET_PW"):
        payload.resolve_job(payload.build_job(typed_row()), typed_row(), {}, where="row 7")


def test_secret_values_lists_resolved_secrets_for_scrubbing() -> None:
    job = payload.build_job(typed_row(), secrets=payload.Secrets.RESOLVE, env={"TARGET_PW": "from-env"})
    assert sorted(payload.secret_values(job)) == ["from-env", "s3cret-Pw"]
    assert payload.secret_values(payload.build_job(typed_row())) == []


def test_env_references_lists_the_variables_a_row_needs() -> None:
    assert payload.env_references(typed_row()) == [("target_endpoint.db_password", "TARGET_PW")]


def test_chunks_never_exceed_the_api_limit() -> None:
    items = list(range(23))
    chunks = list(payload.chunk(items, 10))
    assert [len(c) for c in chunks] == [10, 10, 3]
    assert [x for c in chunks for x in c] == items
    assert [len(c) for c in payload.chunk(items, 4)] == [4, 4, 4, 4, 4, 3]
    for bad in (0, fields.MAX_JOBS_PER_REQUEST + 1):
        with pytest.raises(InputError):
            list(payload.chunk(items, bad))
    with pytest.raises(ValueError):
        payload.batch_body([{}] * (fields.MAX_JOBS_PER_REQUEST + 1))


def test_every_filled_column_loads_into_the_official_sdk_model() -> None:
    from huaweicloudsdkcore.utils.http_utils import sanitize_for_serialization

    row = typed_row()
    for field in fields.CATALOGUE:  # fill every column so no key escapes the check
        if row.get(field.key) is None:
            row[field.key] = {Kind.INTEGER: 2, Kind.BOOLEAN: True, Kind.INTEGER_STRING: 20}.get(field.kind, "x-1")
    job = payload.build_job(row)
    model = to_sdk_job(job)
    assert sanitize_for_serialization(model) == json.loads(json.dumps(job))

