"""Every finding text exists in both languages, once (issue 11.9).

The lists checked here are derived from the catalogue (findings.CODES, findings.MESSAGES,
fields.RULES) and from the source that makes findings, never written out by hand: a code
or a message added without its zh-cn text fails here.
"""

from __future__ import annotations

import re
import string
from pathlib import Path

import pytest

from bulkimport import fields
from bulkimport.findings import CODES, MESSAGES, Finding, Label, Severity, msg

PACKAGE = Path(__file__).resolve().parent.parent / "bulkimport"
CJK = re.compile(r"[\u4e00-\u9fff]")


def _placeholders(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


def _all_codes() -> set[str]:
    return set(CODES) | {r.code for r in fields.RULES}


def _ids_in_source() -> set[str]:
    """Message ids the code asks for: msg("id", ...) (and f"length:{variant}" spelled out), and
    the catalogue's `pattern_message="id"` (schema.py writes it with msg(f.pattern_message))."""
    ids: set[str] = set()
    for path in PACKAGE.rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        ids |= set(re.findall(r'\bmsg\(\s*"([^"{}]+)"', text))
        for prefix in re.findall(r'\bmsg\(\s*f"([a-z_.]+):\{variant\}"', text):
            ids |= {k for k in MESSAGES if k.startswith(f"{prefix}:")}
        for a, b in re.findall(r'\bmsg\(\s*"([^"]+)" if [^"]+ else "([^"]+)"', text):
            ids |= {a, b}
        ids |= set(re.findall(r'\bpattern_message="([^"]+)"', text))  # a catalogue field's own message
        ids |= set(re.findall(r'"(note:[a-z_]+)"', text))  # the tool's own notes: note(language, "note:...")
    return ids


@pytest.mark.parametrize("code", sorted(_all_codes()))
def test_every_finding_code_has_both_texts(code: str) -> None:
    if code in CODES:
        meaning = CODES[code]
        assert meaning.en and CJK.search(meaning.zh), f"{code}: no zh-cn meaning"
    else:
        rule = fields.RULES_BY_CODE[code]
        assert rule.text and CJK.search(rule.text_zh), f"{code}: no zh-cn rule text"
    # ... and its findings have messages to write, each in both languages
    ids = [m for m in MESSAGES if m == code or m.startswith(f"{code}:")]
    assert ids, f"{code}: no message in findings.MESSAGES"


@pytest.mark.parametrize("message_id", sorted(MESSAGES))
def test_every_message_has_both_texts_with_the_same_placeholders(message_id: str) -> None:
    text = MESSAGES[message_id]
    assert text.en.strip() and text.zh.strip()
    assert CJK.search(text.zh) or message_id == "labelled" or not CJK.search(text.en)
    assert _placeholders(text.en) == _placeholders(text.zh), message_id


def test_every_message_is_used_and_every_used_message_exists() -> None:
    used = _ids_in_source()
    assert used - set(MESSAGES) == set()
    # "labelled"/"warning" and the value/side words are used through helpers, but still by msg("...")
    assert set(MESSAGES) - used == set(), "messages no code asks for: delete them"


def test_a_finding_is_written_in_either_language_with_the_same_code() -> None:
    finding = Finding.of(5, "source_endpoint.db_port", "range",
                         msg("range", label=Label("source_endpoint.db_port"), lo=1, hi=65535, value=70000))
    assert finding.message == "Source Port must be from 1 to 65535; got 70000"
    assert finding.sentence == finding.sentence_for("en-us") == finding.message
    zh = finding.sentence_for("zh-cn")
    assert zh == "源库端口须在1到65535之间；当前为70000"
    assert finding.to_dict("zh-cn")["code"] == finding.to_dict()["code"] == "range"
    warning = Finding.of(7, "master_az", "cross_field.az_pair",
                         msg("cross_field.az_pair", label=Label("master_az"), other=Label("slave_az")),
                         Severity.WARNING)
    assert warning.listed_for("zh-cn").startswith("警告：")
    assert warning.listed_for("en-us").startswith("Warning: ")
