"""One test per rule: a row that breaks only that rule is reported with exactly that code,
and a row that keeps it is not. Rows are typed rows (what parsing produces), built from a
valid base row in this file; the rules come from the catalogue."""

from __future__ import annotations

import dataclasses
from typing import Any

import pandas as pd
import pytest

from bulkimport import fields, schema
from bulkimport.findings import CODES, MESSAGES, Severity
from bulkimport.validate import validate_rows

SRC, TGT = "source_endpoint", "target_endpoint"


def typed(**changes: Any) -> dict[str, object]:
    """A valid MySQL migration into the cloud (the API page's first example), typed."""
    row: dict[str, object] = dict.fromkeys(fields.KEYS)
    row.update({
        "name": "DRS-9228", "db_use_type": "migration", "engine_type": "mysql", "job_direction": "up",
        "task_type": "FULL_INCR_TRANS", "net_type": "eip", "bind_eip": True,
        "customize_sutnet_id": "352ad828-3467-4f03-987a-c55a5a9dd417", "node_type": "high",
        "is_target_readonly": False, f"{SRC}.db_type": "mysql", f"{TGT}.db_type": "mysql",
        f"{TGT}.region": "eu-de", f"{TGT}.inst_id": "e05a3679efe241d8b5dee80b17c1a863in01",
        f"{SRC}.ip": "192.168.0.10", f"{SRC}.db_port": 3306,
        # what the connection test needs of both sides (else a connection_incomplete warning)
        f"{SRC}.db_user": "drs_repl", f"{SRC}.db_password": "env:SRC_DB_PASSWORD",
        f"{TGT}.ip": "192.168.1.20", f"{TGT}.db_user": "root", f"{TGT}.db_password": "env:TGT_DB_PASSWORD",
    })
    for key, value in changes.items():
        row[key.replace("__", ".")] = value
    return row


def dr(**changes: Any) -> dict[str, object]:
    """A valid single-active MySQL DR task, this cloud the standby (the API page's second example)."""
    base = {"db_use_type": "cloudDataGuard", "engine_type": "cloudDataGuard-mysql", "multi_write": False,
            "is_target_readonly": True}
    return typed(**{**base, **changes})


def down(**changes: Any) -> dict[str, object]:
    """A valid MySQL migration out of the cloud: the source is the cloud instance."""
    base = {"job_direction": "down", "is_target_readonly": None, "target_endpoint__region": None,
            "target_endpoint__inst_id": None, "source_endpoint__region": "eu-de",
            "source_endpoint__inst_id": "64e8d7a31afa476ca85609a17af83765in01"}
    return typed(**{**base, **changes})


def mongo(**changes: Any) -> dict[str, object]:
    """A valid MongoDB replica-set migration (the API page's third example)."""
    base = {"engine_type": "mongodb", "source_endpoint__db_type": "mongodb", "target_endpoint__db_type": "mongodb",
            "is_target_readonly": None, "source_endpoint__db_port": 27017}
    return typed(**{**base, **changes})


def tag(key: str, value: str) -> dict[str, str]:
    return {"key": key, "value": value}


def long_tags(n: int) -> list[dict[str, str]]:
    return [{"key": f"k{i}", "value": "v"} for i in range(n)]


# (code, a row that breaks only that rule, a row that keeps it)
CASES: list[tuple[str, str, dict[str, object], dict[str, object]]] = [
    # field rules
    ("missing", "name blank", typed(name=None), typed()),
    ("missing", "subnet blank", typed(customize_sutnet_id=None), typed()),
    ("missing", "flavor blank", typed(node_type=None), typed(node_type="high")),
    ("enum", "unknown engine", typed(engine_type="oracle"), typed(engine_type="mysql")),
    ("enum", "unknown db type", typed(source_endpoint__db_type="oracle"), typed(source_endpoint__db_type="mysql")),
    ("enum", "unknown cluster mode", mongo(source_endpoint__cluster_mode="Sharding3", node_num=2),
     mongo(source_endpoint__cluster_mode="Sharding4.0+", node_num=2)),
    ("length", "name of 3", typed(name="abc"), typed(name="abcd")),
    ("length", "name of 51", typed(name="a" * 51), typed(name="a" * 50)),
    ("length", "description of 257", typed(description="d" * 257), typed(description="d" * 256)),
    ("pattern", "name starts with a digit", typed(name="9abc"), typed(name="a9bc")),
    ("pattern", "name with a dot", typed(name="ab.cd"), typed(name="ab-c_d")),
    ("pattern", "description with <", typed(description="a <b> c"), typed(description="a b c (ok), fine")),
    ("pattern", "description with a backslash", typed(description="a\\b"), typed(description="a/b")),
    ("uuid", "subnet not a UUID", typed(customize_sutnet_id="subnet-1234"),
     typed(customize_sutnet_id="0CF77CFB-3785-4065-A9C4-74B7BB2DF071")),
    ("range", "port 0", typed(source_endpoint__db_port=0), typed(source_endpoint__db_port=1)),
    ("range", "port 65536", typed(source_endpoint__db_port=65536), typed(source_endpoint__db_port=65535)),
    ("range", "nodes 33", typed(node_num=33), typed(node_num=32)),
    ("range", "nodes 0", typed(node_num=0), typed(node_num=1)),
    ("range", "expired_days 13", typed(expired_days=13), typed(expired_days=14)),
    ("range", "expired_days 101", typed(expired_days=101), typed(expired_days=100)),
    ("ip", "bad IPv4", typed(source_endpoint__ip="192.168.0.256"), typed(source_endpoint__ip="fd00::10")),
    ("ip", "host name", typed(target_endpoint__ip="db.example.com"), typed(target_endpoint__ip="10.0.0.1")),
    ("base64", "certificate not Base64", typed(source_endpoint__ssl_cert_key="not*base64"),
     typed(source_endpoint__ssl_cert_key="aGVsbG8gd29ybGQ=")),
    ("base64", "certificate env reference is fine", typed(target_endpoint__ssl_cert_key="%%%"),
     typed(target_endpoint__ssl_cert_key="env:TARGET_CERT")),
    ("tags", "21 tags", typed(tags=long_tags(21)), typed(tags=long_tags(20))),
    ("tags", "key of 37", typed(tags=[tag("k" * 37, "v")]), typed(tags=[tag("k" * 36, "v")])),
    ("tags", "value of 44", typed(tags=[tag("k", "v" * 44)]), typed(tags=[tag("k", "v" * 43)])),
    ("tags", "key with a space", typed(tags=[tag("my key", "v")]), typed(tags=[tag("my_key", "v")])),
    ("tags", "value with a dot", typed(tags=[tag("k", "v1.2")]), typed(tags=[tag("k", "v1-2")])),
    ("tags", "duplicate keys", typed(tags=[{"key": "k", "value": "a"}, {"key": "K", "value": "b"}]),
     typed(tags=[{"key": "k", "value": "a"}, {"key": "j", "value": "b"}])),
    ("enterprise_project", "not an ID", typed(enterprise_project_id="my project"),
     typed(enterprise_project_id="0b3f2c2e-5a3c-4c8e-9a8e-1f2d3c4b5a69")),
    ("objects", "an entry twice", typed(objects="sales;crm.customers;sales"), typed(objects="sales;crm.customers")),
    ("objects", "a table inside a listed database", typed(objects="sales.orders;sales"),
     typed(objects="sales;crm.orders")),
    ("objects", "a name over 64 characters", typed(objects="s" * 65), typed(objects="s" * 64)),
    # cross-field rules (fields.RULES)
    ("cross_field.objects_dr", "objects on a DR task", dr(objects="sales"), dr()),
    ("cross_field.objects_depth", "mysql takes database.table at most", typed(objects="erp.public.orders"),
     typed(objects="erp.orders")),
    ("cross_field.objects_depth", "mongodb takes database.collection at most", mongo(objects="app.a.b"),
     mongo(objects="app.sessions")),
    ("cross_field.engine_scenario", "mongodb is migration only", mongo(db_use_type="sync"), mongo()),
    ("cross_field.engine_scenario", "postgresql is sync only",
     typed(engine_type="postgresql", db_use_type="migration", source_endpoint__db_type="postgresql",
           target_endpoint__db_type="postgresql", is_target_readonly=None),
     typed(engine_type="postgresql", db_use_type="sync", source_endpoint__db_type="postgresql",
           target_endpoint__db_type="postgresql", is_target_readonly=None)),
    ("cross_field.engine_db_type", "mysql engine, postgresql source", typed(source_endpoint__db_type="postgresql"),
     typed(source_endpoint__db_type=None)),
    ("cross_field.engine_db_type", "mysql-to-taurus needs a taurus target",
     typed(engine_type="mysql-to-taurus", db_use_type="sync", is_target_readonly=None),
     typed(engine_type="mysql-to-taurus", db_use_type="sync", is_target_readonly=None,
           target_endpoint__db_type="taurus")),
    ("cross_field.eip_bind", "eip without bind_eip", typed(bind_eip=None), typed(bind_eip=True)),
    ("cross_field.eip_bind", "eip with bind_eip false", typed(bind_eip=False), typed(net_type="vpn", bind_eip=False)),
    ("cross_field.dr_no_vpc", "DR over vpc", dr(net_type="vpc", bind_eip=None), dr(net_type="vpn", bind_eip=None)),
    ("cross_field.dr_multi_write", "DR without multi_write", dr(multi_write=None), dr(multi_write=True)),
    ("cross_field.single_active_task_type", "single-active DR full only", dr(task_type="FULL_TRANS"),
     dr(task_type="FULL_TRANS", multi_write=True)),
    ("cross_field.cloud_side_instance", "up without target region", typed(target_endpoint__region=None), typed()),
    ("cross_field.cloud_side_instance", "up without target instance", typed(target_endpoint__inst_id=None),
     typed(job_direction="non-dbs", target_endpoint__inst_id=None, target_endpoint__region=None,
           is_target_readonly=None)),
    ("cross_field.cloud_side_instance", "down without source instance", down(source_endpoint__inst_id=None), down()),
    ("cross_field.dr_standby_readonly", "DR standby not read-only", dr(is_target_readonly=False),
     dr(is_target_readonly=True)),
    ("cross_field.dr_standby_readonly", "DR standby read-only blank", dr(is_target_readonly=None), dr()),
    ("cross_field.readonly_scope", "read-only with direction down", down(is_target_readonly=True),
     down(is_target_readonly=None)),
    ("cross_field.readonly_scope", "read-only on a taurus destination",
     typed(engine_type="mysql-to-taurus", db_use_type="sync", target_endpoint__db_type="taurus",
           is_target_readonly=True),
     typed(engine_type="mysql-to-taurus", db_use_type="sync", target_endpoint__db_type="taurus",
           is_target_readonly=None)),
    ("cross_field.az_mysql_only", "AZs on mongodb", mongo(master_az="az1", slave_az="az2"),
     typed(master_az="az1", slave_az="az2")),
    ("cross_field.az_pair", "master AZ alone", typed(master_az="az2xahz"),
     typed(master_az="az2xahz", slave_az="az3xahz")),
    ("cross_field.az_pair", "slave AZ alone", typed(slave_az="az3xahz"), typed()),
    ("cross_field.ssl_checksum", "source SSL without checksum", typed(source_endpoint__ssl_link=True),
     typed(source_endpoint__ssl_link=True, source_endpoint__ssl_cert_check_sum="6f1ed002ab5595859014ebf0951522d9")),
    ("cross_field.ssl_password_p12", "source password with a .pem",
     typed(source_endpoint__ssl_cert_password="pw", source_endpoint__ssl_cert_name="ca.pem"),
     typed(source_endpoint__ssl_cert_password="pw", source_endpoint__ssl_cert_name="client.P12")),
    ("cross_field.ssl_password_p12", "target password without a name",
     typed(target_endpoint__ssl_cert_password="env:TGT_CERT_PW"),
     typed(target_endpoint__ssl_cert_name="ca.pem")),
    ("cross_field.cluster_mode_mongodb", "cluster mode on mysql",
     typed(source_endpoint__cluster_mode="Sharding4.0+"),
     mongo(source_endpoint__cluster_mode="Sharding4.0+", node_num=4)),
    ("cross_field.cluster_mode_mongodb", "cluster mode on a mysql target",
     typed(target_endpoint__cluster_mode="Sharding4.0+"), mongo(target_endpoint__cluster_mode="Sharding4.0+")),
    ("cross_field.mongodb_cluster_nodes", "mongodb cluster without shards",
     mongo(source_endpoint__cluster_mode="Sharding4.0+"),
     mongo(source_endpoint__cluster_mode="Sharding4.0+", node_num=4)),
    ("connection_incomplete", "source password blank", typed(source_endpoint__db_password=None), typed()),
    ("connection_incomplete", "destination IP and user blank on a cloud instance",
     typed(target_endpoint__ip=None, target_endpoint__db_user=None), typed(target_endpoint__ip="fd00::20")),
    ("connection_incomplete", "self-built source with nothing to connect with (the API page's examples)",
     typed(source_endpoint__ip=None, source_endpoint__db_port=None, source_endpoint__db_user=None,
           source_endpoint__db_password=None),
     typed(source_endpoint__db_password="a literal password")),
]


@pytest.mark.parametrize(("code", "case", "broken", "kept"), CASES, ids=[f"{c[0]}: {c[1]}" for c in CASES])
def test_rule(code: str, case: str, broken: dict[str, object], kept: dict[str, object]) -> None:
    broken_findings = validate_rows({3: broken})
    assert {f.code for f in broken_findings} == {code}, broken_findings
    assert all(f.row == 3 for f in broken_findings)
    expected = Severity(fields.RULES_BY_CODE[code].severity) if code in fields.RULES_BY_CODE else Severity.ERROR
    assert {f.severity for f in broken_findings} == {expected}
    assert validate_rows({3: kept}) == []


def test_every_rule_and_field_code_has_a_case() -> None:
    tested = {c[0] for c in CASES} | {"duplicate_name"}
    row_codes = set(fields.RULES_BY_CODE) | {
        "missing", "enum", "length", "pattern", "uuid", "range", "ip", "base64", "tags", "enterprise_project",
        "objects",
    }
    assert row_codes <= tested
    assert row_codes - set(fields.RULES_BY_CODE) <= set(CODES)


def test_every_catalogue_rule_is_implemented_by_its_code() -> None:
    assert set(schema.CROSS_CHECKS) == {r.code for r in fields.RULES}


def test_finding_points_at_the_offending_cell() -> None:
    findings = validate_rows({7: down(source_endpoint__region=None, source_endpoint__inst_id=None)})
    assert {(f.row, f.column) for f in findings} == {(7, f"{SRC}.region"), (7, f"{SRC}.inst_id")}
    (p12,) = validate_rows({4: typed(target_endpoint__ssl_cert_password="pw", target_endpoint__ssl_cert_name="x.pem")})
    assert p12.column == f"{TGT}.ssl_cert_name"


def test_duplicate_names_are_reported_on_every_row_naming_the_others() -> None:
    rows = {3: typed(name="Wave-1"), 4: typed(name="other"), 6: typed(name="wave-1"), 9: typed(name="WAVE-1")}
    findings = validate_rows(rows)
    assert {f.code for f in findings} == {"duplicate_name"}
    by_row = {f.row: f.message for f in findings}
    assert set(by_row) == {3, 6, 9}
    assert "6, 9" in by_row[3] and "3, 9" in by_row[6] and "3, 6" in by_row[9]
    assert validate_rows({3: typed(name="Wave-1"), 4: typed(name="Wave-2")}) == []


def test_one_finding_per_row_and_rule_however_wide_the_rule() -> None:
    rows = {r: typed(name=f"task-{r}", bind_eip=False) for r in range(3, 203)}
    findings = validate_rows(rows)
    assert len(findings) == 200
    assert {(f.code, f.column) for f in findings} == {("cross_field.eip_bind", "bind_eip")}


def test_a_bad_value_does_not_hide_other_checks_on_its_column() -> None:
    rows = {3: typed(name="t-003", source_endpoint__db_port=0), 4: typed(name="t-004", source_endpoint__db_port=None),
            5: typed(name="t-005", source_endpoint__db_port=70000)}
    findings = validate_rows(rows, {(4, f"{SRC}.db_port")})
    assert sorted((f.row, f.code) for f in findings) == [(3, "range"), (5, "range")]


def test_conditional_mandatory_rules_see_blank_cells() -> None:
    """ignore_na=False: a wide check must not skip a row because some of its cells are blank."""
    row = dr(multi_write=None, description=None, node_num=None, tags=None)
    assert {f.code for f in validate_rows({3: row})} == {"cross_field.dr_multi_write"}


def test_messages_never_echo_secrets() -> None:
    secret = "S3cr3t-Key-Not-B64!"
    findings = validate_rows({3: typed(source_endpoint__ssl_cert_key=secret)})
    assert findings and all(secret not in f.message for f in findings)


CROSS_CASES = [c for c in CASES if c[0] in schema.CROSS_CHECKS]


@pytest.mark.parametrize(("code", "case", "broken", "kept"), CROSS_CASES, ids=[f"{c[0]}: {c[1]}" for c in CROSS_CASES])
def test_every_failing_row_gets_its_rules_own_explanation(code: str, case: str, broken: dict[str, object],
                                                          kept: dict[str, object]) -> None:
    """The vectorised test and the row-by-row explanation of a rule are written apart: if they
    drifted, a failing row would have no explanation. It must name a cell of the rule's own."""
    check = schema.CROSS_CHECKS[code]
    row = {k: broken.get(k) for k in fields.KEYS}
    frame = schema.typed_frame({3: row})
    assert bool(check.fails(frame[list(check.inputs)]).iloc[0])
    context = check.prepare(frame) if check.prepare else None
    explained = check.explain(3, row, context)
    assert explained, f"{code} failed the row but explains nothing"
    for column, message in explained:
        assert column in check.inputs and message


def test_connection_incomplete_is_one_warning_per_side_naming_its_blank_columns() -> None:
    findings = validate_rows({5: typed(source_endpoint__ip=None, source_endpoint__db_password=None,
                                       target_endpoint__db_user=None)})
    assert {(f.code, f.severity) for f in findings} == {("connection_incomplete", Severity.WARNING)}
    by_column = {f.column: f.sentence for f in findings}
    assert set(by_column) == {f"{SRC}.ip", f"{TGT}.db_user"}  # the first blank cell of each side
    source, target = by_column[f"{SRC}.ip"], by_column[f"{TGT}.db_user"]
    assert source.startswith("Source IP address and Password are blank")
    assert "User" not in source.split(":")[0] and "source" in source
    assert target.startswith("Destination User is blank")
    assert target.endswith("until it is filled in") and source.endswith("until they are filled in")
    for sentence in (source, target):  # one sentence; the code has its own column
        assert "." not in sentence and "prepare" in sentence and "connection_incomplete" not in sentence


def test_connection_incomplete_is_exactly_what_prepare_cannot_test() -> None:
    """The warning and prepare's refusal to test a connection come from one list of columns."""
    from bulkimport import prepare

    rows = [typed(), typed(source_endpoint__db_password=None), typed(target_endpoint__ip=None),
            dr(source_endpoint__db_user=None), down(target_endpoint__db_password=None),
            mongo(source_endpoint__ip=None, target_endpoint__ip=None)]
    for row in rows:
        warned = any(f.code == "connection_incomplete" for f in validate_rows({3: row}))
        assert warned == (prepare._missing_connection_fields(row) is not None), row


def test_every_failing_cell_of_a_column_is_reported() -> None:
    """pandera's built-in `str_length`, `str_matches` and `isin` run the field rules: each of
    several failing cells in one column is its own finding (the case an earlier note said
    pandera missed, see docs/validation.md)."""
    rows = {3: typed(name="abcd"), 4: typed(name="ab"), 5: typed(name="zz"), 6: typed(name="x!y"),
            7: typed(name="good-1", engine_type="oracle"), 8: typed(name="good-2", engine_type="db2")}
    found = sorted((f.row, f.code) for f in validate_rows(rows))
    assert found == [(4, "length"), (5, "length"), (6, "length"), (6, "pattern"), (7, "enum"), (8, "enum")]


def test_a_fields_pattern_and_forbidden_characters_are_its_rules() -> None:
    """A catalogue entry's `pattern` and `forbidden` are all it takes to get the checks."""
    az = dataclasses.replace(fields.FIELDS["master_az"], pattern=r"^[A-Za-z][A-Za-z0-9_-]*$",
                             pattern_message="pattern:name", forbidden="#")
    checks = schema.cell_checks(az)
    assert [c.code for c in checks] == ["pattern", "pattern"]
    cells = pd.Series(["az1", "9az", "az#"], index=[3, 4, 5], dtype=object)
    assert [c.check(cells).check_output.tolist() for c in checks] == [[True, False, False], [True, True, False]]
    assert str(checks[0].message(az, "9az")).startswith("Primary task AZ may contain only letters")
    assert str(checks[1].message(az, "az#")) == "Primary task AZ must not contain # (none of #)"
    assert checks[1].message(az, "az#").render("zh-cn").startswith("主任务可用区")
    assert schema.cell_checks(fields.FIELDS["master_az"]) == ()


def test_patterns_live_in_the_catalogue() -> None:
    assert fields.FIELDS["name"].pattern == fields.NAME_PATTERN
    assert fields.FIELDS["description"].forbidden == fields.DESCRIPTION_FORBIDDEN
    for f in fields.CATALOGUE:
        if f.kind in (fields.Kind.UUID, fields.Kind.ENTERPRISE_PROJECT):
            assert f.pattern, f"{f.key} has no pattern"
        if f.pattern is not None and f.kind is fields.Kind.TEXT:  # says in words what the pattern allows
            assert f.pattern_message in MESSAGES, f.key
