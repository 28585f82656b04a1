"""The catalogue covers every field of Tables 4-6 of the API page, once."""

from __future__ import annotations

import re
from pathlib import Path

from bulkimport import fields

SPEC = Path(__file__).resolve().parents[2] / "shared" / "spec" / "drs-v3-batch-creation.txt"


def _table_params(text: str, title: str, next_title: str) -> list[str]:
    """Parameter names of one table of the API page (the line after each blank-separated row)."""
    block = text.split(title, 1)[1].split(next_title, 1)[0]
    lines = [ln.strip() for ln in block.splitlines()]
    names = []
    for i, line in enumerate(lines):
        if line in ("Yes", "No") and i >= 2 and re.fullmatch(r"[a-z_]+", lines[i - 2]):
            names.append(lines[i - 2])
    return names


def test_every_api_field_has_exactly_one_column_per_place() -> None:
    text = SPEC.read_text() if SPEC.exists() else None
    job_fields = [
        "name", "db_use_type", "engine_type", "job_direction", "bind_eip", "customize_sutnet_id",
        "is_target_readonly", "net_type", "node_type", "node_num", "source_endpoint", "target_endpoint",
        "task_type", "tags", "description", "multi_write", "sys_tags", "expired_days", "master_az", "slave_az",
    ]
    endpoint_fields = [
        "db_type", "az_code", "region", "inst_id", "vpc_id", "subnet_id", "security_group_id", "project_id",
        "db_password", "db_port", "db_user", "inst_name", "ip", "mongo_ha_mode", "ssl_cert_password",
        "ssl_cert_check_sum", "ssl_cert_key", "ssl_cert_name", "ssl_link", "cluster_mode",
    ]
    if text is not None:  # the page itself is the referee when it is beside the repo
        assert _table_params(text, "Table 4 CreateJobReq", "Table 5 Endpoint") == job_fields
        assert _table_params(text, "Table 5 Endpoint", "Table 6 ResourceTag") == endpoint_fields
    expected = [f for f in job_fields if f not in ("source_endpoint", "target_endpoint", "sys_tags")]
    expected += ["enterprise_project_id"]  # sys_tags' one cell
    expected += [f"{ep}.{f}" for ep in fields.ENDPOINTS for f in endpoint_fields]
    assert sorted(fields.KEYS) == sorted(expected)
    assert len(fields.KEYS) == len(set(fields.KEYS))


def test_api_spelling_is_kept() -> None:
    assert "customize_sutnet_id" in fields.FIELDS


def test_enumerated_fields_have_values_and_defaults_are_allowed() -> None:
    for f in fields.CATALOGUE:
        if f.kind in (fields.Kind.ENUM, fields.Kind.BOOLEAN):
            assert f.allowed, f.key
        if f.default is not None:
            assert f.default in f.allowed


def test_secrets_are_the_passwords_and_keys() -> None:
    assert {f.attribute for f in fields.CATALOGUE if f.secret} == {
        "db_password", "ssl_cert_password", "ssl_cert_key"}


def test_every_rule_names_real_columns() -> None:
    for rule in fields.RULES:
        assert set(rule.columns) <= set(fields.KEYS), rule.code


def test_chinese_texts_exist_for_every_label_help_group_and_rule() -> None:
    for f in fields.CATALOGUE:
        assert f.label_zh and f.help_zh, f.key
    for group in fields.Group:
        assert set(fields.GROUP_HELP[group]) == {"en-us", "zh-cn"}
    for rule in fields.RULES:
        assert rule.text_zh and rule.text_for("zh-cn") != rule.text_for("en-us"), rule.code
