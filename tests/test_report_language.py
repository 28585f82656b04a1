"""The sign-off report in the campaign's language (issue 11.9): headings, labels, tiles, the
outcome line and the sign-off block in zh-cn for a zh-cn campaign; codes, keys and server
messages unchanged."""

from __future__ import annotations

import re
import string
from dataclasses import replace
from pathlib import Path

import pytest
from fixtures.html_tree import parse
from test_outputs import CREATED_FAILED, CREATED_OK, PENDING, REJECTED, ROWS
from test_report import make_campaign

from bulkimport import report
from bulkimport.report import render_html, summarise, summary_sheet_rows

CJK = re.compile(r"[\u4e00-\u9fff]")
SOURCE = Path(report.__file__).read_text(encoding="utf-8")


def _report_texts() -> set[str]:
    """Every en-us text the report writes: the literals it passes to `_t`, and the values of
    its word tables."""
    texts = set(re.findall(r'_t\(\s*\w+(?:\.\w+)?,\s*"((?:[^"\\]|\\.)*)"', SOURCE))
    texts |= set(re.findall(r'\bt\(\s*"((?:[^"\\]|\\.)*)"', SOURCE))
    texts = {t.encode().decode("unicode_escape") if "\\u" in t else t for t in texts}
    tables = [report.REHEARSAL_TITLES, report.REHEARSAL_NOTES, report._DEFAULT_REASONS, report._FACT_LABELS,
              report._LAUNCH_HEADS]
    for table in tables:
        texts |= set(table.values())
    texts.add(report._CANNOT_SIGN)
    texts |= set(report._OWN_KEYS)  # count keys shown in the report's language
    texts |= set(report._YES_NO)  # true/false facts shown as yes/no words
    texts |= {title for title, _, _ in (*report._COUNT_GROUPS, *report._BREAKDOWN_GROUPS)}
    for summary in _all_kinds():
        texts |= {label for label, _, _ in report._tiles(summary)}
    return texts


def _all_kinds() -> list[report.Summary]:
    campaign = make_campaign()
    rollback = replace(campaign, command="submit, status, rollback", step="rollback")
    launched = [{**CREATED_OK, "connection": "OK", "precheck": "PASSED", "start": "STARTED", "progress": "40"}]
    return [
        summarise(campaign, ROWS, drift=["row 3: the sheet changed"]),
        summarise(replace(campaign, dry_run="true"), [*ROWS, {**CREATED_OK, "result": "DRY_RUN"}]),
        summarise(replace(campaign, endpoint="http://simulator.localhost"), ROWS),
        summarise(rollback, [{**CREATED_OK, "result": "DELETED"}, {**CREATED_FAILED, "result": "DELETE_FAILED"},
                             REJECTED]),
        summarise(campaign, launched),
        summarise(campaign, []),
    ]


def test_every_text_of_the_report_has_its_zh_cn_text() -> None:
    missing = sorted(t for t in _report_texts() if t and t not in report._ZH)
    assert missing == []
    for en, zh in report._ZH.items():
        assert CJK.search(zh) or zh != en, en  # "{rows}：{parts}" differs only by its full-width colon
        fields_en = {n for _, n, _, _ in string.Formatter().parse(en) if n}
        fields_zh = {n for _, n, _, _ in string.Formatter().parse(zh) if n}
        assert fields_en == fields_zh, en


@pytest.mark.parametrize("index", range(6))
def test_a_zh_cn_report_has_zh_cn_headings_tiles_and_signoff(index: int) -> None:
    summary = replace(_all_kinds()[index], language="zh-cn")
    summary = replace(summary, outcome=report.outcome_line(summary))
    page = parse(render_html(summary))
    assert page.find("html").attrs["lang"] == "zh-CN"
    assert CJK.search(page.find("h1").text)
    for heading in page.find_all("h2"):
        assert CJK.search(heading.text), heading.text
    for th in page.find_all("th"):
        assert not th.text.strip() or CJK.search(th.text) or th.text.strip() in {"SHA-256"}, th.text
    for tile in page.find_all("div", class_="tile"):
        assert CJK.search(tile.find("div", class_="l").text)
    assert CJK.search(page.by_id("outcome").text)
    sheet = summary_sheet_rows(summary)
    assert CJK.search(sheet[0][0])


def test_zh_cn_keeps_codes_keys_and_server_messages() -> None:
    campaign = replace(make_campaign(), language="zh-cn")
    summary = summarise(campaign, [CREATED_OK, CREATED_FAILED, PENDING, REJECTED])
    assert summary.language == "zh-cn"
    assert summary.outcome == "4行：2个已创建（1个仍在创建中），1个创建后失败，1个未创建"
    page = parse(render_html(summary))
    failed = page.by_id("tasks-failed").rows()
    assert failed[0][4:] == [CREATED_FAILED["error_code"], CREATED_FAILED["error_msg"]]  # as the server sent them
    rejected = page.by_id("not-created").rows()
    assert rejected[0][3:] == ["DRS.M00277", "The task name already exists."]
    signoff = page.by_id("signoff")
    assert [th.text for th in signoff.find_all("th", class_="role")][1:] == ["编制人", "审核人", "批准人"]
    assert "意见" in signoff.text
    # the Summary sheet still reads back: keys in column A, counts as group.value
    sheet = summary_sheet_rows(summary)
    keys = [row[0] for row in sheet if len(row) >= 2]
    assert "command" in keys and "result.CREATED" in keys
    assert summary.to_dict()["counts"]["by_result"] == summarise(make_campaign(), summary_rows()).counts.by_result


def summary_rows() -> list[dict[str, object]]:
    return [CREATED_OK, CREATED_FAILED, PENDING, REJECTED]


def test_language_defaults_to_the_campaigns_and_can_be_overridden() -> None:
    zh = replace(make_campaign(), language="zh-cn")
    assert summarise(zh, ROWS).language == "zh-cn"
    assert summarise(zh, ROWS, language="en-us").language == "en-us"
    assert summarise(replace(make_campaign(), language=""), ROWS).language == "en-us"
    assert summarise(make_campaign(), ROWS, language="zh-cn").to_dict()["language"] == "zh-cn"
