"""Chinese all the way (issue 11.9): a zh-cn template gets zh-cn messages in the cell
comments, `error_msg`, the Findings sheet, the report and the terminal, from the template's
language; `--language` overrides it. Codes, keys and the result column names never change."""

from __future__ import annotations

import json
import re
from pathlib import Path

import openpyxl
import pytest
from fixtures.books import base_row
from fixtures.html_tree import parse

from bulkimport import fields
from bulkimport.cli import main
from bulkimport.outcomes import RESULT_COLUMNS
from bulkimport.template import write_template

CJK = re.compile(r"[\u4e00-\u9fff]")

#: Three broken rows (a port out of range, a duplicate name, a cross-field rule) and a good one.
ROWS = [
    base_row(name="wave-zh-01", **{"source_endpoint.db_port": "70000"}),
    base_row(name="wave-zh-02", bind_eip="false"),
    base_row(name="WAVE-zh-02"),
    base_row(name="wave-zh-04"),
]


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exc:
        main(argv)
    out, err = capsys.readouterr()
    return int(exc.value.code or 0), out, err


def _book(tmp_path: Path, language: str) -> Path:
    return write_template(tmp_path / f"wave-{language}.xlsx", language=language, rows=ROWS)


def _jobs(path: Path) -> tuple[list[str], list[list[object]], dict[tuple[int, str], str]]:
    """(keys, data rows, comments by (data row index, key)) of a written copy's Jobs sheet."""
    ws = openpyxl.load_workbook(path)["Jobs"]
    grid = [list(r) for r in ws.iter_rows(values_only=True)]
    keys = [str(k) for k in grid[1]]
    comments = {}
    for row in ws.iter_rows(min_row=3):
        for cell in row:
            if cell.comment is not None:
                comments[(cell.row - 3, keys[cell.column - 1])] = cell.comment.text
    return keys, grid[2:], comments


def _findings_messages(path: Path) -> list[str]:
    ws = openpyxl.load_workbook(path, read_only=True)["Findings"]
    return [str(r[6]) for r in list(ws.iter_rows(values_only=True))[1:]]


def test_a_zh_cn_template_gets_zh_cn_comments_error_msg_and_terminal(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    book = _book(tmp_path, "zh-cn")
    out = tmp_path / "zh-validated.xlsx"
    code, stdout, err = run(["validate", str(book), "--out", str(out), "--json"], capsys)
    assert code == 1
    keys, rows, comments = _jobs(out)
    # the result columns keep their names (the acceptance contract), codes stay codes
    assert {"result", "error_code", "error_msg"} <= set(keys)
    assert {k for k in keys if k not in fields.FIELDS} <= {*RESULT_COLUMNS, "source_row"}
    at = {k: i for i, k in enumerate(keys)}
    first = rows[0]
    assert first[at["result"]] == "INVALID" and first[at["error_code"]] == "range"
    assert first[at["error_msg"]] == "源库端口须在1到65535之间；当前为70000"
    assert comments[(0, "source_endpoint.db_port")] == "源库端口须在1到65535之间；当前为70000"
    assert set(rows[1][at["error_code"]].split(",")) == {"cross_field.eip_bind", "duplicate_name"}
    assert CJK.search(rows[1][at["error_msg"]]) and "eip" in rows[1][at["error_msg"]]
    assert "；" in rows[1][at["error_msg"]]  # two sentences, joined the Chinese way
    assert "任务名称'wave-zh-02'在第5行也被使用" in rows[1][at["error_msg"]]
    assert rows[3][at["result"]] == "VALID" and not rows[3][at["error_msg"]]
    for text in comments.values():
        assert CJK.search(text), text
    assert all(CJK.search(m) for m in _findings_messages(out))
    # the terminal summary, and the --json messages (codes unchanged)
    assert "共4行，1行有效，3行无效" in err and "源库端口须在1到65535之间" in err
    document = json.loads(stdout)
    assert document["language"] == "zh-cn"
    assert {f["code"] for f in document["findings"]} >= {"range", "duplicate_name", "cross_field.eip_bind"}
    assert all(CJK.search(f["message"]) for f in document["findings"])


def test_language_en_us_overrides_the_templates(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    book = _book(tmp_path, "zh-cn")
    out = tmp_path / "en-validated.xlsx"
    code, _, err = run(["validate", str(book), "--out", str(out), "--language", "en-us"], capsys)
    assert code == 1
    keys, rows, comments = _jobs(out)
    at = {k: i for i, k in enumerate(keys)}
    assert rows[0][at["error_msg"]] == "Source Port must be from 1 to 65535; got 70000"
    assert comments[(0, "source_endpoint.db_port")] == "Source Port must be from 1 to 65535; got 70000"
    assert not any(CJK.search(m) for m in _findings_messages(out))
    assert "4 rows, 1 valid, 3 invalid" in err and not CJK.search(err.split("\n")[0])


def test_an_en_us_template_is_english_unless_zh_cn_is_asked_for(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    book = _book(tmp_path, "en-us")
    plain, chinese = tmp_path / "plain.xlsx", tmp_path / "chinese.xlsx"
    run(["validate", str(book), "--out", str(plain)], capsys)
    run(["validate", str(book), "--out", str(chinese), "--language", "zh-cn"], capsys)
    keys, rows, _ = _jobs(plain)
    assert rows[0][keys.index("error_msg")] == "Source Port must be from 1 to 65535; got 70000"
    keys, rows, _ = _jobs(chinese)
    assert rows[0][keys.index("error_msg")] == "源库端口须在1到65535之间；当前为70000"
    assert rows[0][keys.index("error_code")] == "range"


def test_a_zh_cn_campaign_reports_in_zh_cn_and_report_can_switch(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    state = tmp_path / "sim.sqlite"
    code, stdout, err = _submit(tmp_path, "zh-cn", state, capsys)
    assert code == 1  # three invalid rows
    assert "3行无效，不会发送" in err
    assert "中创建1个任务，1个请求（批大小10，并发" in err and "；3行无效" in err  # the plan line
    assert "结果工作簿：" in err and "签核报告：" in err  # the closing lines, paths as they are
    document = json.loads(stdout)
    results = Path(document["results_workbook"])
    keys, rows, comments = _jobs(results)
    at = {k: i for i, k in enumerate(keys)}
    assert rows[0][at["result"]] == "INVALID" and rows[0][at["error_msg"]] == "源库端口须在1到65535之间；当前为70000"
    assert rows[3][at["result"]] == "CREATED"
    page = parse(Path(document["report_html"]).read_text(encoding="utf-8"))
    assert page.find("h1").text.startswith("演练")  # a simulated campaign, in zh-cn
    assert all(CJK.search(h.text) for h in page.find_all("h2"))
    assert page.by_id("outcome").text.startswith("4行：")
    summary = openpyxl.load_workbook(results, read_only=True)["Summary"]
    facts = {r[0]: r[1] for r in summary.iter_rows(values_only=True) if r and r[0]}
    assert facts["language"] == "zh-cn"
    # the failed-rows workbook (the three invalid rows, ready to fix) speaks zh-cn too
    failed = openpyxl.load_workbook(document["failed_workbook"])
    assert CJK.search(str(failed["Summary"]["A1"].value))
    notes = [c.comment.text for row in failed["Jobs"].iter_rows(min_row=3) for c in row if c.comment]
    assert notes and all(CJK.search(n) for n in notes)
    assert any("密码不会写回" in n for n in notes)  # the retype-the-password note

    # `report` rebuilt from the workbook alone keeps the campaign's language ...
    code, _, err = run(["report", str(results), "--out-dir", str(tmp_path / "again")], capsys)
    assert code == 0 and err.startswith("报告：") and "报告（JSON）：" in err
    again = parse((tmp_path / "again" / f"{results.stem}-report.html").read_text(encoding="utf-8"))
    assert again.find("h1").text == page.find("h1").text
    # ... and --language en-us switches it; codes and the server's texts are the same
    code, _, _ = run(["report", str(results), "--out-dir", str(tmp_path / "en"), "--language", "en-us"], capsys)
    english = parse((tmp_path / "en" / f"{results.stem}-report.html").read_text(encoding="utf-8"))
    assert english.find("h1").text.startswith("REHEARSAL")
    assert english.by_id("outcome").text.startswith("4 rows: ")
    assert [r[3] for r in english.by_id("not-created").rows()] == [r[3] for r in again.by_id("not-created").rows()]


def _submit(tmp_path: Path, language: str, state: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    """`_book` in `language` submitted on the simulator (state in `state`): exit code, stdout (JSON), stderr."""
    book = _book(tmp_path, language)
    return run(["submit", str(book), "--simulate", "--simulator-state", str(state), "--yes", "--json"], capsys)


def _submitted_zh_campaign(tmp_path: Path, state: Path, capsys: pytest.CaptureFixture[str]) -> Path:
    """A zh-cn workbook submitted on the simulator (state in `state`); its results workbook."""
    _, stdout, _ = _submit(tmp_path, "zh-cn", state, capsys)
    return Path(json.loads(stdout)["results_workbook"])


def test_status_of_a_zh_cn_campaign_goes_on_in_zh_cn_unless_told_otherwise(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    state = tmp_path / "sim.sqlite"
    results = _submitted_zh_campaign(tmp_path, state, capsys)
    common = ["--simulate", "--simulator-state", str(state), "--json", "-q"]
    code, stdout, _ = run(["status", str(results), "--out", str(tmp_path / "st.xlsx"), *common], capsys)
    assert code in (0, 3)  # 3 while the simulator's task is still CREATING
    report = json.loads(Path(json.loads(stdout)["report"]["json"]).read_text(encoding="utf-8"))
    assert report["language"] == "zh-cn" and report["outcome"].startswith("4行：")
    assert report["campaign"]["language"] == "zh-cn"
    keys, rows, _ = _jobs(tmp_path / "st.xlsx")
    assert rows[0][keys.index("error_code")] == "range"  # the code, whatever the language
    # --language en-us on a follow-up: an English report, and the choice is recorded
    code, stdout, _ = run(["status", str(tmp_path / "st.xlsx"), "--out", str(tmp_path / "st-en.xlsx"),
                           "--language", "en-us", *common], capsys)
    report = json.loads(Path(json.loads(stdout)["report"]["json"]).read_text(encoding="utf-8"))
    assert report["language"] == "en-us" and report["outcome"].startswith("4 rows: ")
    summary = openpyxl.load_workbook(tmp_path / "st-en.xlsx", read_only=True)["Summary"]
    facts = {r[0]: r[1] for r in summary.iter_rows(values_only=True) if r and r[0]}
    assert facts["language"] == "en-us"


def test_every_terminal_text_has_its_zh_cn_text() -> None:
    """Every en-us text the commands pass to terminal.say (literals in the source, and the
    labels of submit's closing lines) has a zh-cn entry with the same placeholders."""
    import string

    from bulkimport import terminal

    package = Path(terminal.__file__).parent
    texts: set[str] = set()
    for path in package.rglob("*.py"):
        source = path.read_text(encoding="utf-8")
        # say(language, "text" "more text", ...): adjacent literals joined as Python joins them
        for call in re.findall(r'\bsay\(\s*\w+,\s*((?:"(?:[^"\\]|\\.)*"\s*)+)', source):
            texts.add("".join(re.findall(r'"((?:[^"\\]|\\.)*)"', call)))
        texts |= set(re.findall(r'\(\("([a-z -]+)", outcome\.', source))
        texts |= set(re.findall(r'\("([a-z -]+)", outcome\.(?:failed_path|dry_run_path|ledger_path|report_html)',
                                source))
        # progress labels and fixed notes, which progress.in_language translates as they are
        texts |= set(re.findall(r'progress\.start\([^,()]+(?:\([^()]*\))?,\s*"([^"]+)"\)', source))
        texts |= set(re.findall(r'progress\.note\("([^"{}]+)"\)', source))
    assert len(texts) > 15
    missing = sorted(t for t in texts if t not in terminal._ZH)
    assert missing == []
    for en, zh in terminal._ZH.items():
        assert CJK.search(zh), en
        names = [{n for _, n, _, _ in string.Formatter().parse(t) if n} for t in (en, zh)]
        assert names[0] == names[1], en


def test_rollback_of_a_zh_cn_campaign_speaks_zh_cn(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    state = tmp_path / "sim.sqlite"
    results = _submitted_zh_campaign(tmp_path, state, capsys)
    code, _, err = run(["rollback", str(results), "--simulate", "--simulator-state", str(state), "--yes", "-q",
                        "--out", str(tmp_path / "rb.xlsx"), "--report-dir", str(tmp_path / "rep")], capsys)
    assert code == 0
    assert "本次活动创建的1个任务将被删除：" in err  # the plan, before the prompt
    assert "1个任务已删除，0个删除失败" in err and "报告：" in err
    page = parse((tmp_path / "rep" / "rb-report.html").read_text(encoding="utf-8"))
    assert "回滚报告" in page.find("h1").text
    assert page.by_id("outcome").text.startswith("4行：1个已删除")


def test_start_plan_and_prompt_speak_the_campaigns_language(tmp_path: Path) -> None:
    """The list and the question before tasks are started are read by the same DBA as the rest."""
    from bulkimport.start import SKIPPED, StartPlan, StartRow, confirm_question, plan_lines

    rows = [StartRow(3, 3, "task-one", "id-1"), StartRow(4, 4, "task-two", "id-2", start=SKIPPED,
                                                         error_msg="pre-check not passed")]
    en = StartPlan(tmp_path / "p.xlsx", None, rows)  # type: ignore[arg-type]
    assert list(plan_lines(en))[0] == "1 task whose pre-check passed will be STARTED now:"
    assert confirm_question(en) == "Start the 1 task listed above?"
    assert "1 row will not be started:" in list(plan_lines(en))  # a count, grammatical
    zh = StartPlan(tmp_path / "p.xlsx", None, rows, at_text="2026-12-01T02:00:00Z", language="zh-cn")  # type: ignore[arg-type]
    lines = list(plan_lines(zh))
    assert lines[0] == "预检查已通过的1个任务将于2026-12-01T02:00:00Z（UTC）启动："
    assert any(line == "1行不会启动：" for line in lines)
    assert confirm_question(zh) == "启动上面列出的1个任务？"


def test_progress_and_row_lists_of_a_zh_cn_campaign_are_in_zh_cn(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    """The lines a DBA watches while the run goes (progress on stderr, plain lines when stderr is
    not a terminal) and the row lists say 第N行 for a zh-cn campaign; names and codes stay."""
    monkeypatch.chdir(tmp_path)
    book = _book(tmp_path, "zh-cn")
    state = tmp_path / "sim.sqlite"
    code, stdout, err = run(["submit", str(book), "--simulate", "--simulator-state", str(state), "--yes",
                             "--json"], capsys)
    assert code == 1
    assert "正在提交: 1/1 (已创建 1)" in err  # the progress line: label and count words
    invalid = err[err.index("3行无效，不会发送"):].splitlines()[1:4]
    assert [line.split()[:2] for line in invalid] == [["第3行", "wave-zh-01"], ["第4行", "wave-zh-02"],
                                                       ["第5行", "WAVE-zh-02"]]
    assert not re.search(r"\brow\b", err)
    results = Path(json.loads(stdout)["results_workbook"])
    code, _, err = run(["status", str(results), "--simulate", "--simulator-state", str(state),
                        "--out", str(tmp_path / "st.xlsx")], capsys)
    assert re.search(r"^任务状态: [01]/1 \([a-z_]+ 1\)$", err, re.M)  # the server's status code stays
    code, _, err = run(["rollback", str(results), "--simulate", "--simulator-state", str(state), "--yes",
                        "--out", str(tmp_path / "rb.xlsx")], capsys)
    assert code == 0
    assert re.search(r"^  第6行 +wave-zh-04$", err, re.M)  # the plan's list
    assert "正在强制结束1个任务" in err and "正在删除1个任务" in err
    assert not re.search(r"\brow\b", err)


def test_progress_and_row_lists_of_an_en_us_campaign_are_unchanged(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    state = tmp_path / "sim.sqlite"
    code, stdout, err = _submit(tmp_path, "en-us", state, capsys)
    assert code == 1
    assert "\nsubmitting: 1/1 (created 1)\n" in err
    assert re.search(r"^  row     3  wave-zh-01 +Source Port must be from 1 to 65535; got 70000$", err, re.M)
    assert not CJK.search(err)
    results = Path(json.loads(stdout)["results_workbook"])
    _, _, err = run(["rollback", str(results), "--simulate", "--simulator-state", str(state), "--yes",
                     "--out", str(tmp_path / "rb.xlsx")], capsys)
    assert re.search(r"^  row     6  wave-zh-04$", err, re.M)
    assert "\nforce-terminating 1 task\n" in err and "\ndeleting 1 task\n" in err
    assert not CJK.search(err)


def test_a_zh_cn_row_label_keeps_names_in_line() -> None:
    """第N行 takes the nine columns of `row     N`, a CJK character counting two."""
    from bulkimport.terminal import display_width, row_label, row_lines

    assert row_label("en-us", 7) == "row     7"
    assert [display_width(row_label("zh-cn", n)) for n in (7, 12345)] == [9, 9]
    lines = row_lines([(7, "a", "x"), (12345, "b", "y")], 80, "zh-cn")
    assert [display_width(line[:line.index(n)]) for line, n in zip(lines, "ab", strict=True)] == [11, 11]


# -- bulkimport: error: lines ---------------------------------------------------------------------

#: Raise sites whose message is a finished f-string (said as it is: English), per module, and
#: why. A new error raised that way fails the test below: give it a template and its zh-cn text
#: (`InputError("{path}: ...", path=path)` and an entry in terminal._ZH), or add it here on purpose.
ENGLISH_ONLY = {
    # the simulator's own command (a developer's tool, not the operator's workflow)
    "cli/simulator.py": 3,
    # invariants of the ledger an operator cannot cause (a secret in a payload, a second send)
    "ledger.py": 4,
}
#: A DRS call that failed (DrsError, exit 3) is said in zh-cn around the operation's name and
#: the server's own code and message, which are never translated.


def _raise_sites() -> tuple[list[tuple[str, int, str, set[str]]], dict[str, int]]:
    """(module, line, template, keyword names) of every error made with a literal template, and
    the count per module of errors made from a finished string (an f-string or a call)."""
    import ast
    import importlib
    import pkgutil

    import bulkimport
    from bulkimport.errors import BulkImportError
    from bulkimport.parse import ParseError

    for module in pkgutil.walk_packages(bulkimport.__path__, "bulkimport."):
        importlib.import_module(module.name)  # every subclass of BulkImportError defined

    def subclasses(cls: type) -> set[str]:
        return {cls.__name__}.union(*(subclasses(s) for s in cls.__subclasses__()))

    # ParseError carries a findings.MESSAGES message (both languages there), not a template
    names = (subclasses(BulkImportError) - {ParseError.__name__}) | {"Phrase"}
    package = Path(bulkimport.__file__).parent
    templates: list[tuple[str, int, str, set[str]]] = []
    finished: dict[str, int] = {}
    def literal(node: ast.AST | None) -> str | None:
        return node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else None

    def called(node: ast.AST) -> str:
        func = node.func if isinstance(node, ast.Call) else None
        return func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else ""

    for path in sorted(package.rglob("*.py")):
        module = path.relative_to(package).as_posix()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            # outputs.write_failed(what, ..., rebuild=...) says both texts as they are
            if isinstance(node, ast.FunctionDef):
                defaults = dict(zip([a.arg for a in node.args.kwonlyargs], node.args.kw_defaults, strict=True))
                if literal(defaults.get("rebuild")):
                    templates.append((module, node.lineno, str(literal(defaults["rebuild"])), set()))
            if not isinstance(node, ast.Call):
                continue
            for keyword in node.keywords:
                if keyword.arg == "rebuild" and literal(keyword.value):
                    templates.append((module, node.lineno, str(literal(keyword.value)), set()))
            if called(node) == "write_failed" and literal(node.args[0] if node.args else None):
                templates.append((module, node.lineno, str(literal(node.args[0])), set()))
            if called(node) not in names or not node.args:
                continue
            first = node.args[0]
            if literal(first) is not None:
                templates.append((module, node.lineno, str(literal(first)), {k.arg for k in node.keywords if k.arg}))
            elif isinstance(first, ast.JoinedStr | ast.BinOp) or (isinstance(first, ast.Call)
                                                                  and called(first) != "write_failed"):
                finished[module] = finished.get(module, 0) + 1
    return templates, finished


def test_every_error_template_has_its_zh_cn_text() -> None:
    """Every error the tool raises with a template (found in the source, as the MESSAGES test
    finds findings) has its zh-cn text with the same placeholders, filled by the raise site;
    errors from finished strings are exactly the ones ENGLISH_ONLY owns up to."""
    import string

    from bulkimport import terminal
    from bulkimport.errors import Phrase

    templates, finished = _raise_sites()
    assert len(templates) > 80
    missing = sorted({t for _, _, t, _ in templates if t not in terminal._ZH})
    assert missing == []
    for module, line, template, keywords in templates:
        placeholders = {n for _, n, _, _ in string.Formatter().parse(template) if n}
        assert placeholders <= keywords, f"{module}:{line}: {template}"
        if keywords:  # said in zh-cn the way the CLI says it (a value named like say's own arguments too)
            assert CJK.search(Phrase(template, **dict.fromkeys(keywords, "x")).said("zh-cn")), template
    assert finished == ENGLISH_ONLY


def _error(stderr: str) -> str:
    lines = [line for line in stderr.splitlines() if line.startswith("bulkimport: error: ")]
    assert len(lines) == 1, stderr
    return lines[0].removeprefix("bulkimport: error: ")


def test_errors_of_a_zh_cn_run_are_said_in_zh_cn(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    """The errors a DBA with a zh-cn workbook meets: the prefix and exit code 2 stay (scripts grep
    them), the message is Chinese; paths, options and variable names stay as they are."""
    import threading

    from bulkimport.ledger import ledger_lock
    from bulkimport.target import simulator_ledger_path

    monkeypatch.chdir(tmp_path)
    for name in ("OS_AUTH_TOKEN", "OS_AUTH_URL", "OS_USERNAME", "OS_PASSWORD", "OS_USER_DOMAIN_NAME",
                 "OS_DOMAIN_NAME", "HUAWEICLOUD_SDK_AK", "HUAWEICLOUD_SDK_SK", "OS_CLOUD", "OS_PROJECT_ID"):
        monkeypatch.delenv(name, raising=False)
    book = _book(tmp_path, "zh-cn")
    # an output that is the input (the workbook's language is peeked at for the error)
    code, _, err = run(["validate", str(book), "--out", str(book)], capsys)
    assert code == 2 and _error(err) == f"--out {book}是输入工作簿；拒绝覆盖（请选择其他路径）"
    # no credentials
    code, _, err = run(["submit", str(book), "--region", "eu-de", "--project-id", "p1", "--yes"], capsys)
    assert code == 2 and _error(err).startswith("没有凭据：请设置OS_AUTH_TOKEN；")
    # a missing file: English, unless --language says which (the file cannot tell)
    code, _, err = run(["validate", str(tmp_path / "nope.xlsx")], capsys)
    assert code == 2 and _error(err) == f"{tmp_path / 'nope.xlsx'}: no such file"
    code, stdout, err = run(["validate", str(tmp_path / "nope.xlsx"), "--language", "zh-cn", "--json"], capsys)
    assert code == 2 and _error(err) == f"{tmp_path / 'nope.xlsx'}：文件不存在"
    assert json.loads(stdout) == {"exit_code": 2, "error": f"{tmp_path / 'nope.xlsx'}：文件不存在",
                                  "error_en": f"{tmp_path / 'nope.xlsx'}: no such file"}
    # not a results workbook (status of the template itself): nothing to do
    state = tmp_path / "sim.sqlite"
    code, _, err = run(["status", str(book), "--simulate", "--simulator-state", str(state)], capsys)
    assert code == 2 and _error(err) == f"{book}：此工作簿中没有已创建的任务（带task_id的CREATED行）"

    results = _submitted_zh_campaign(tmp_path, state, capsys)
    # the campaign ran on the simulator; another endpoint is refused
    code, _, err = run(["status", str(results), "--region", "eu-de"], capsys)
    assert code == 2 and "记录的端点是http://simulator.localhost，但本次运行将使用https://" in _error(err)
    # a rollback nobody can confirm
    code, _, err = run(["rollback", str(results), "--simulate", "--simulator-state", str(state),
                        "--out", str(tmp_path / "rb.xlsx")], capsys)
    assert code == 2 and _error(err) == "rollback会删除任务：标准输入不是终端时请用--yes确认"
    # the ledger held by another run
    held, release = threading.Event(), threading.Event()

    def hold() -> None:
        with ledger_lock(simulator_ledger_path(state)):
            held.set()
            release.wait(30)

    holder = threading.Thread(target=hold)
    holder.start()
    try:
        assert held.wait(30)
        code, _, err = run(["status", str(results), "--simulate", "--simulator-state", str(state)], capsys)
    finally:
        release.set()
        holder.join(30)
    assert code == 2 and _error(err).startswith("台账正被另一个bulkimport运行使用（pid ")


def test_errors_of_an_en_us_run_are_unchanged(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    book = _book(tmp_path, "en-us")
    code, stdout, err = run(["validate", str(book), "--out", str(book), "--json"], capsys)
    assert code == 2
    assert _error(err) == f"--out {book} is the input workbook; refusing to overwrite it (choose another path)"
    assert json.loads(stdout) == {"exit_code": 2, "error": _error(err)}  # no error_en: it is English
    code, _, err = run(["status", str(book), "--simulate", "--simulator-state", str(tmp_path / "s.sqlite")], capsys)
    assert code == 2 and _error(err) == f"{book}: no created task (a CREATED row with a task_id) in this workbook"
    # --language zh-cn on an en-us workbook says it in zh-cn
    code, _, err = run(["validate", str(book), "--out", str(book), "--language", "zh-cn"], capsys)
    assert code == 2 and _error(err) == f"--out {book}是输入工作簿；拒绝覆盖（请选择其他路径）"


def test_an_error_is_english_in_str_and_said_in_the_runs_language() -> None:
    """The raise site names no language: str() is the en-us line, said() the run's."""
    from bulkimport.errors import InputError, Phrase

    error = InputError("{path}: no such file", path="w.xlsx")
    assert str(error) == "w.xlsx: no such file" and error.said("zh-cn") == "w.xlsx：文件不存在"
    assert error.said("en-us") == str(error)
    nested = InputError("{path} records {what} {recorded}, but this run would use {chosen}; check "
                        "--endpoint/--region/--project-id (or add --force)", path="r.xlsx",
                        what=Phrase("the project"), recorded="p1", chosen="p2")
    assert "记录的项目是p1" in nested.said("zh-cn") and "records the project p1" in str(nested)
    plain = InputError("a {brace} in a finished line")  # no values: braces are text
    assert str(plain) == plain.said("zh-cn") == "a {brace} in a finished line"


def test_prepare_writes_a_rows_reasons_in_the_campaigns_language_not_the_templates(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    """A zh-cn template submitted with --language en-us is an en-us campaign: prepare's own
    validation of it must not write the rows it leaves alone in the template's Chinese."""
    monkeypatch.chdir(tmp_path)
    state = tmp_path / "sim.sqlite"
    book = _book(tmp_path, "zh-cn")
    _, stdout, _ = run(["submit", str(book), "--simulate", "--simulator-state", str(state), "--yes", "--json",
                        "--language", "en-us"], capsys)
    results = Path(json.loads(stdout)["results_workbook"])
    run(["prepare", str(results), "--simulate", "--simulator-state", str(state), "-q",
         "--out", str(tmp_path / "p.xlsx")], capsys)
    keys, rows, _ = _jobs(tmp_path / "p.xlsx")
    invalid = [r for r in rows if r[keys.index("result")] == "INVALID"]
    assert invalid and invalid[0][keys.index("error_msg")].startswith("Source Port must be from 1 to 65535; got 70000")
    assert not any(CJK.search(str(r[keys.index("error_msg")] or "")) for r in rows)
