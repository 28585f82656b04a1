"""The notes the tool writes itself, in the campaign's language (issue 11.9).

A zh-cn campaign gets its reasons in zh-cn wherever the tool wrote them: the `error_msg` notes
of submit, status, prepare, start and rollback, the drift note and the drift lines, the cloud
identity fact, and the report's own count keys. Server messages, codes, keys, task IDs and the
result column names are never translated.

Every such note is a `note:` entry of findings.MESSAGES (both languages, one place). The list
of texts checked here is derived from the source: a reason written as a plain English literal
in a module that writes result columns fails `test_no_note_is_written_as_a_bare_english_literal`.
"""

from __future__ import annotations

import ast
import json
import re
from pathlib import Path

import openpyxl
import pytest
from fixtures.html_tree import parse
from test_language import _book, _jobs, _submitted_zh_campaign, run

from bulkimport import campaign as campaign_module
from bulkimport.findings import EN, MESSAGES, ZH, retold

PACKAGE = Path(campaign_module.__file__).resolve().parent
CJK = re.compile(r"[\u4e00-\u9fff]")

#: The modules whose texts go into result columns (error_msg) and reports.
NOTE_MODULES = ("submit/run.py", "submit/engine.py", "status.py", "prepare.py", "start.py", "rollback.py")

#: Calls whose text arguments are not written into a workbook: errors and terminal lines (the
#: terminal's own words are terminal.say's, see test_language), output labels, the notes' own table.
_NOT_A_NOTE_CALLS = frozenset({"InputError", "OutputWriteError", "write_failed", "say", "msg", "note", "Output",
                               "DrsError", "BulkImportError", "ValueError", "TypeError", "KeyError",
                               "RuntimeError", "AssertionError"})
#: Literals of these modules that the terminal prints and no workbook holds, by module.
_TERMINAL_ONLY: dict[str, frozenset[str]] = {
    "submit/run.py": frozenset({
        "not confirmed: nothing was sent",  # the run's message (the rows get note:not_confirmed)
        "interrupted: requests in flight were finished and recorded; the rest was not sent",
    }),
    "status.py": frozenset({
        "run the same command again to write them",  # the `rebuild` hint of a failed write
        "run the same status command again to write them",
    }),
    "rollback.py": frozenset({
        "wait for release, delete", "none (already deleted)",  # the plan's actions
        "run rollback again to write them (deleted tasks are found deleted)",
        " of this campaign  still on the server and not in this workbook's rollback: ",  # the closing message
        " (this failed-rows workbook rolls back only its own rows)",
    }),
}
#: Three or more words: a sentence someone reads (a key, code or single word is not one).
_SENTENCE = re.compile(r"[A-Za-z]{2,}(?:[ (`]+[A-Za-z]+){2,}")


def _callee(call: ast.Call) -> str:
    func = call.func
    return func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else ""


def bare_english_literals(source: str) -> list[tuple[int, str]]:
    """(line, text) of every string literal or f-string of `source` that reads as an English
    sentence and is neither a docstring nor an argument of a call that is no note."""
    tree = ast.parse(source)
    parents = {child: node for node in ast.walk(tree) for child in ast.iter_child_nodes(node)}
    docstrings = {node.body[0].value for node in ast.walk(tree)
                  if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef)
                  and node.body and isinstance(node.body[0], ast.Expr) and isinstance(node.body[0].value, ast.Constant)}
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            if node in docstrings or isinstance(parents.get(node), ast.JoinedStr):
                continue
            text = node.value
        elif isinstance(node, ast.JoinedStr):
            text = "".join(str(v.value) for v in node.values if isinstance(v, ast.Constant))
        else:
            continue
        if not _SENTENCE.search(text):
            continue
        up = parents.get(node)
        while up is not None and not isinstance(up, ast.FunctionDef | ast.Module):
            if isinstance(up, ast.Raise) or (isinstance(up, ast.Call) and _callee(up) in _NOT_A_NOTE_CALLS):
                break
            up = parents.get(up)
        else:
            found.append((node.lineno, text))
    return found


@pytest.mark.parametrize("module", NOTE_MODULES)
def test_no_note_is_written_as_a_bare_english_literal(module: str) -> None:
    """Every reason these modules write comes from findings.MESSAGES (note(...) / msg(...)),
    so it has its zh-cn text; an English literal is allowed only for the terminal."""
    source = (PACKAGE / module).read_text(encoding="utf-8")
    bare = [(line, text) for line, text in bare_english_literals(source)
            if text not in _TERMINAL_ONLY.get(module, frozenset())]
    assert bare == [], f"{module}: write these through findings.note(language, 'note:...')"


def test_the_scan_finds_a_bare_note() -> None:
    """The scan above can fail: a reason written as a literal, even inside an f-string, is found."""
    source = ('def f(row, status, language):\n'
              '    """A docstring is not a note at all."""\n'
              '    row.error_msg = f"the task is {status}: it cannot be prepared"\n'
              '    row.skip = note(language, "note:no_task")\n'
              '    raise InputError("a message on the terminal, for zh-terminal")\n')
    assert bare_english_literals(source) == [(3, "the task is : it cannot be prepared")]


def test_every_note_has_a_zh_cn_text_with_the_same_placeholders() -> None:
    notes = [k for k in MESSAGES if k.startswith("note:")]
    assert len(notes) > 15
    for key in notes:
        words = re.sub(r"\{\w+\}", "", MESSAGES[key].zh)
        assert CJK.search(words) or not words.strip(), key  # "{side}{where}" has no word of its own


def test_the_cloud_identity_is_recorded_in_en_us_and_told_in_either_language() -> None:
    class TokenAuth:
        pass

    class PasswordAuth:
        username, domain = "dba-zhang", "acme"

    token = campaign_module.cloud_identity(TokenAuth())
    assert token == "IAM token (OS_AUTH_TOKEN)"
    assert retold(token, campaign_module.IDENTITY_NOTES, ZH) == "IAM令牌（OS_AUTH_TOKEN）"
    user = campaign_module.cloud_identity(PasswordAuth())
    assert user == "IAM user dba-zhang (domain acme)"
    zh = retold(user, campaign_module.IDENTITY_NOTES, ZH)
    assert zh == "IAM用户dba-zhang（帐号acme）"
    # read back from a zh-cn Summary sheet, told again in en-us; anything else stays as it is
    assert retold(zh, campaign_module.IDENTITY_NOTES, EN) == user
    assert retold("someone else", campaign_module.IDENTITY_NOTES, ZH) == "someone else"


def _report(document: dict[str, object]) -> dict[str, object]:
    path = document["report"]["json"] if "report" in document else document["report_json"]  # type: ignore[index]
    return json.loads(Path(str(path)).read_text(encoding="utf-8"))


def test_a_zh_cn_resubmit_writes_its_notes_and_drift_in_zh_cn(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    """A zh-cn workbook submitted, one created row changed, submitted again: the drift note,
    the task_status note, the drift lines of the report, the Findings sheet, and the cloud
    identity fact are zh-cn; the status of that campaign carries the drift lines on in zh-cn."""
    monkeypatch.chdir(tmp_path)
    state = tmp_path / "sim.sqlite"
    first = _submitted_zh_campaign(tmp_path, state, capsys)
    book = _book(tmp_path, "zh-cn")  # the same four rows ...
    wb = openpyxl.load_workbook(book)
    ws = wb["Jobs"]
    keys = [c.value for c in ws[2]]
    ws.cell(row=6, column=keys.index("description") + 1, value="changed after creation")  # ... row 6 edited
    wb.save(book)
    code, stdout, _ = run(["submit", str(book), "--simulate", "--simulator-state", str(state), "--yes", "--json",
                           "--out", str(tmp_path / "again.xlsx")], capsys)
    document = json.loads(stdout)
    keys, rows, _ = _jobs(tmp_path / "again.xlsx")
    at = {k: i for i, k in enumerate(keys)}
    again = rows[3]
    assert again[at["result"]] == "ALREADY_CREATED"
    assert again[at["error_msg"]] == "工作表与已发送的内容不再一致：description不同（任务本身未改动）"
    assert again[at["task_status"]]  # asked of the server, so no "not shown" note
    findings = openpyxl.load_workbook(tmp_path / "again.xlsx", read_only=True)["Findings"]
    drift = [r for r in findings.iter_rows(values_only=True) if r[4] == "drift"]
    assert drift and drift[0][5] == "warning"  # code and severity stay
    assert drift[0][6].startswith("任务wave-zh-04（") and "description不同" in drift[0][6]
    report = _report(document)
    assert report["drift"] == [f"第6行：{drift[0][6]}"]
    assert report["campaign"]["cloud_user"] == "simulator (generated token)"  # the fact as recorded ...
    page = parse(Path(document["report_html"]).read_text(encoding="utf-8"))
    shown = {td.attrs.get("data-fact"): td.text for td in page.find_all("td") if td.attrs.get("data-fact")}
    assert shown["cloud_user"] == "模拟器（生成的令牌）"  # ... and as the zh-cn report shows it
    assert (report["campaign"]["region"], shown["region"]) == ("simulated", "模拟器")
    assert (report["campaign"]["dry_run"], shown["dry_run"]) == ("false", "否")
    assert "第6行：任务wave-zh-04" in page.by_id("drift").text
    summary = openpyxl.load_workbook(tmp_path / "again.xlsx", read_only=True)["Summary"]
    facts = {r[0]: r[1] for r in summary.iter_rows(values_only=True) if r and r[0]}
    assert facts["cloud_user"] == "模拟器（生成的令牌）"
    assert facts["dry_run"] == "false"  # read back by `report` (a rehearsal's banner), never reworded

    # status of the re-submitted campaign: the drift lines and the carried findings, in zh-cn
    code, stdout, _ = run(["status", str(tmp_path / "again.xlsx"), "--out", str(tmp_path / "st.xlsx"),
                           "--simulate", "--simulator-state", str(state), "--json", "-q"], capsys)
    report = _report(json.loads(stdout))
    assert report["drift"] == [f"第6行：{drift[0][6]}"]
    carried = [r for r in openpyxl.load_workbook(tmp_path / "st.xlsx", read_only=True)["Findings"]
               .iter_rows(values_only=True)][1:]
    assert [r[6] for r in carried if r[4] == "drift"] == [drift[0][6]]  # once, not twice
    assert [r[6] for r in carried if r[4] == "range"] == ["源库端口须在1到65535之间；当前为70000"]
    # ... and `report --language en-us` of it: the report's own words in en-us, the sheet's as written
    code, _, _ = run(["report", str(tmp_path / "st.xlsx"), "--out-dir", str(tmp_path / "en"), "--language", "en-us"],
                     capsys)
    english = json.loads((tmp_path / "en" / "st-report.json").read_text(encoding="utf-8"))
    assert english["drift"] == [f"row 6: {drift[0][6]}"]
    assert english["campaign"]["cloud_user"] == "simulator (generated token)"
    assert english["campaign"]["region"] == "simulated"  # read back from the zh-cn Summary sheet
    assert first.exists()


def _findings_lines(path: Path) -> list[tuple[object, ...]]:
    """(source_row, column, code, severity, message) of every line of a workbook's Findings sheet."""
    from bulkimport.book_read import findings_sheet_lines

    read = findings_sheet_lines(path)
    assert read is not None
    at, lines = read
    return [tuple(line[at[k]] for k in ("source_row", "column", "code", "severity", "message")) for line in lines]


def test_a_zh_cn_findings_sheet_reads_back_and_status_carries_each_line_once(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    """The Findings sheet of a zh-cn campaign (zh-cn messages; codes, keys and severities as
    they are) reads back through book_read: each finding on its own row, its sentence as
    written (no label put in front twice), and status carries every line over once, hop after
    hop, with its red cell and zh-cn comment; what reading finds again (an unknown column,
    whose letter moves in each copy) is listed once, not once per copy."""
    from bulkimport.book_read import read_findings_sheet, read_workbook

    monkeypatch.chdir(tmp_path)
    book = _book(tmp_path, "zh-cn")
    wb = openpyxl.load_workbook(book)
    ws = wb["Jobs"]
    extra = ws.max_column + 1
    for row, value in ((1, "my notes"), (2, "my_notes"), (3, "call the DBA first")):
        ws.cell(row=row, column=extra, value=value)
    wb.save(book)
    _, stdout, _ = run(["submit", str(book), "--simulate", "--simulator-state", str(tmp_path / "sim.sqlite"), "--yes",
                        "--json", "--out", str(tmp_path / "results.xlsx")], capsys)
    results = Path(json.loads(stdout)["results_workbook"])
    written = _findings_lines(results)
    assert {(r[2], r[3]) for r in written} >= {("range", "error"), ("duplicate_name", "error"),
                                               ("cross_field.eip_bind", "error"), ("unknown_column", "warning")}
    assert all(CJK.search(str(r[4])) for r in written)

    carried = read_findings_sheet(read_workbook(results))
    port = next(f for f in carried if f.code == "range")
    assert (port.row, port.column, port.severity) == (3, "source_endpoint.db_port", "error")
    assert port.sentence_for(ZH) == "源库端口须在1到65535之间；当前为70000"  # as written, not labelled twice
    assert {f.code for f in carried} == {r[2] for r in written}

    common = ["--simulate", "--simulator-state", str(tmp_path / "sim.sqlite"), "--json", "-q"]
    run(["status", str(results), "--out", str(tmp_path / "st.xlsx"), *common], capsys)
    run(["status", str(tmp_path / "st.xlsx"), "--out", str(tmp_path / "st2.xlsx"), *common], capsys)
    for hop in ("st.xlsx", "st2.xlsx"):
        lines = _findings_lines(tmp_path / hop)
        assert [r[2] for r in lines].count("unknown_column") == 1, hop
        assert sorted(r for r in lines if r[2] != "unknown_column") == sorted(
            r for r in written if r[2] != "unknown_column"), hop
        keys, rows, comments = _jobs(tmp_path / hop)
        assert comments[(0, "source_endpoint.db_port")] == "源库端口须在1到65535之间；当前为70000"
        assert rows[0][keys.index("error_code")] == "range"


@pytest.fixture
def sim():
    from test_submit import TOKEN

    from bulkimport.simulator import FaultConfig, Simulator
    from bulkimport.simulator.testing import fast_launch_faults

    with Simulator(token=TOKEN, faults=FaultConfig(**fast_launch_faults(retry_after=0))) as server:
        yield server


def test_prepare_start_and_rollback_of_a_zh_cn_campaign_write_their_notes_in_zh_cn(sim, tmp_path: Path) -> None:
    """The reasons prepare, start and rollback write themselves are zh-cn for a zh-cn
    campaign; what the server said (codes, pre-check items, refusals) stays as it was sent."""
    from test_launch import calls, env, launch_row, prepare, rows_by_name, start, target
    from test_submit import options

    from bulkimport.rollback import execute_rollback, plan_lines, plan_rollback
    from bulkimport.simulator.testing import fail_connection, fail_precheck, refuse_start
    from bulkimport.submit import submit_workbook
    from bulkimport.template import write_template

    rows = [launch_row("zh-ok", 61), launch_row("zh-conn", 62), launch_row("zh-pc", 63),
            launch_row("zh-nopw", 64, **{"target_endpoint.db_password": None}), launch_row("zh-refused", 65),
            launch_row("1-invalid", 66)]
    book = write_template(tmp_path / "wave-zh.xlsx", language="zh-cn", rows=rows)
    submitted = submit_workbook(book, options(sim, tmp_path), env=env(sim))
    assert [o.result for o in submitted.rows] == ["CREATED"] * 5 + ["INVALID"]
    fail_connection(sim, host="10.0.0.62")
    fail_precheck(sim, "zh-pc", "srcDbPrivilegesIsEnough")
    refuse_start(sim, "zh-refused")

    prepared = prepare(sim, tmp_path, book)
    assert prepared.language == "zh-cn"
    by_name = rows_by_name(prepared.results_path)
    assert by_name["zh-ok"]["error_msg"] is None
    assert str(by_name["zh-conn"]["error_msg"]).startswith("源库10.0.0.62:3306无法连接：")
    assert by_name["zh-pc"]["error_code"] == "srcDbPrivilegesIsEnough"  # the server's item, as sent
    assert str(by_name["zh-pc"]["error_msg"]).startswith("预检查未通过：srcDbPrivilegesIsEnough")
    assert by_name["zh-nopw"]["error_msg"] == "目标库：连接测试需要target_endpoint.db_password（工作簿中为空）"
    assert by_name["1-invalid"]["result"] == "INVALID" and CJK.search(str(by_name["1-invalid"]["error_msg"]))

    started = start(sim, tmp_path, prepared.results_path)
    assert started.language == "zh-cn"
    result = {r.name: r for r in started.rows}
    assert result["zh-ok"].start == "STARTED" and result["zh-ok"].error_msg is None
    assert result["zh-conn"].error_msg == "预检查未通过（从未运行）：请先运行bulkimport prepare"
    assert result["zh-pc"].error_msg == "预检查未通过（FAILED）：请先运行bulkimport prepare"
    assert result["zh-refused"].start == "START_FAILED"
    assert result["zh-refused"].error_code == "DRS.M01504" and not CJK.search(str(result["zh-refused"].error_msg))
    assert result["1-invalid"].error_msg == "未创建：台账显示此行没有创建任务"
    again = start(sim, tmp_path, started.results_path, run="2")
    assert {r.name: r.error_msg for r in again.rows}["zh-ok"].startswith("已启动（")
    written = rows_by_name(again.results_path)
    assert str(written["zh-ok"]["error_msg"]).startswith("已启动（") and written["zh-ok"]["error_msg"].endswith(
        "）：不会再次发送")
    assert len({j["job_id"] for r in calls(sim, "start") for j in r["body"]["jobs"]}) == 2  # ok and refused, once

    # rollback: a row that names a task this campaign did not create is left alone, said in zh-cn
    wb = openpyxl.load_workbook(again.results_path)
    ws = wb["Jobs"]
    keys = [c.value for c in ws[2]]
    ws.cell(row=8, column=keys.index("task_id") + 1, value="0b5a7c9e-0000-4000-8000-00000000beef")
    wb.save(again.results_path)
    plan = plan_rollback(again.results_path, target(sim, tmp_path))
    assert plan.language == "zh-cn"
    assert [s.reason for s in plan.skipped] == ["结果为INVALID：不是本批次创建的任务"]
    assert any("结果为INVALID" in line for line in plan_lines(plan))
    outcome = execute_rollback(plan, target(sim, tmp_path), out_path=tmp_path / "rb.xlsx",
                               report_dir=tmp_path / "reports", release_timeout=30, interval=0.05)
    assert outcome.language == "zh-cn" and outcome.counts["DELETED"] == 5
    assert {str(r["result"]) for r in rows_by_name(tmp_path / "rb.xlsx").values() if r["task_id"]} >= {"DELETED"}


def test_submits_own_reasons_are_zh_cn_for_a_zh_cn_workbook(tmp_path: Path) -> None:
    """The exactly-once engine's reasons (here: a service that throttles every request until
    the attempts run out) are written in the workbook's language; the server's code stays."""
    from test_submit import TOKEN, env, options, task_row

    from bulkimport.simulator import FaultConfig, Simulator
    from bulkimport.submit import submit_workbook
    from bulkimport.template import write_template

    with Simulator(token=TOKEN, faults=FaultConfig(transition_delay=0, retry_after=0)) as server:
        server.set_faults(rate_429=1.0)
        book = write_template(tmp_path / "zh.xlsx", language="zh-cn", rows=[task_row("zh-throttled")])
        outcome = submit_workbook(book, options(server, tmp_path, max_attempts=3), env=env(server))
    assert outcome.exit_code == 3
    row = outcome.rows[0]
    assert row.result == "NOT_SENT" and row.error_code
    assert re.fullmatch(r"未创建：\d+秒内尝试3次后仍被拒绝（.+）", str(row.error_msg)), row.error_msg
    keys, rows, _ = _jobs(outcome.results_path)
    assert rows[0][keys.index("error_msg")] == row.error_msg


def test_a_failed_status_query_during_a_zh_cn_resubmit_is_noted_in_zh_cn(tmp_path: Path) -> None:
    """A re-submit asks the server for the created rows' task_status; when that query fails
    the column stays blank and the row says why, in the workbook's language (the failed call's
    own frame too); the server's code inside it stays as sent."""
    from test_submit import TOKEN, env, options, task_row

    from bulkimport.simulator import FaultConfig, Simulator
    from bulkimport.submit import submit_workbook
    from bulkimport.template import write_template

    with Simulator(token=TOKEN, faults=FaultConfig(transition_delay=0, retry_after=0)) as server:
        book = write_template(tmp_path / "zh.xlsx", language="zh-cn", rows=[task_row("zh-made")])
        first = submit_workbook(book, options(server, tmp_path), env=env(server))
        assert [o.result for o in first.rows] == ["CREATED"]
        server.set_faults(next=["status:500"] * 10)
        again = submit_workbook(book, options(server, tmp_path, out=tmp_path / "again.xlsx", max_attempts=2),
                                env=env(server))
    row = again.rows[0]
    assert row.result == "ALREADY_CREATED" and row.task_status is None
    assert str(row.error_msg).startswith("未显示task_status（状态查询失败：")
    assert str(row.error_msg).endswith("）；`bulkimport status`会查询当前状态")
    assert "HTTP 500 DRS.M00004" in str(row.error_msg)  # the server's code, as sent
