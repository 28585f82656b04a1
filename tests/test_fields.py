"""The catalogue covers every field of Tables 4-6 of the API page, once."""

from __future__ import annotations

from fixtures.api_reference import CREATE_JOB_REQ, ENDPOINT, api_table

from bulkimport import fields


def test_every_api_field_has_exactly_one_column_per_place() -> None:
    job = api_table(CREATE_JOB_REQ)
    endpoint = api_table(ENDPOINT)
    job_fields = [name for name, _ in job]
    expected = [f for f in job_fields if f not in ("source_endpoint", "target_endpoint", "sys_tags")]
    expected += ["enterprise_project_id"]  # sys_tags' one cell
    expected += [f"{ep}.{name}" for ep in fields.ENDPOINTS for name, _ in endpoint]
    assert sorted(fields.CREATION_KEYS) == sorted(expected)
    assert len(fields.KEYS) == len(set(fields.KEYS))
    # Every other column feeds a later stage (prepare/start), never the creation body.
    later = {f.key for f in fields.CATALOGUE if f.stage is not fields.Stage.CREATE}
    assert "objects" in later and not later & set(expected)


def test_mandatory_api_fields_are_mandatory_columns() -> None:
    """A field the page marks mandatory is a mandatory column (the endpoints are objects, not cells;
    task_type is mandatory on the page but has a documented default, so a blank cell is filled)."""
    job = api_table(CREATE_JOB_REQ)
    for name, mandatory in job:
        if name in fields.FIELDS:
            column = fields.FIELDS[name]
            assert column.mandatory == mandatory or (mandatory and column.default is not None), name


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
