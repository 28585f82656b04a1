"""The README documents what users and scripts rely on: every finding code, every result
value and result column, and the two set-up commands."""

from __future__ import annotations

from pathlib import Path

from bulkimport import fields, findings
from bulkimport.outcomes import RESULT_COLUMNS, Result

README = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")


def test_every_finding_code_is_documented() -> None:
    codes = set(findings.CODES) | {r.code for r in fields.RULES}
    missing = sorted(c for c in codes if f"`{c}`" not in README)
    assert not missing


def test_rule_severities_match_the_catalogue() -> None:
    for rule in fields.RULES:
        if rule.code.startswith("cross_field."):
            assert f"| `{rule.code}` | {rule.severity} |" in README


def test_result_values_and_columns_are_documented() -> None:
    for value in Result:
        assert f"`{value}`" in README or value in README
    for column in RESULT_COLUMNS:
        assert f"`{column}`" in README


def test_set_up_commands_come_first() -> None:
    assert README.index("make demo") < README.index("## The workflow")
    assert README.index("make test") < README.index("## The workflow")
