"""What the commands print on a terminal: grammatical counts, lists that fit a screen.

The library builds these lines (so tests and scripts get the same text); the CLI modules
only print them. Lists are cut at a screenful with "... and N more", because a campaign of
2,000 rows must not scroll its confirmation prompt out of sight.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

#: Lines of a list shown before "... and N more".
SCREENFUL = 20
#: The narrowest terminal a list is laid out for (rollback's plan fits 80-130 columns).
MIN_WIDTH = 80


#: The terminal's own words in zh-cn, by their en-us text (`say`). Finding sentences come
#: from findings.MESSAGES; codes, paths and server messages are never translated.
_ZH: dict[str, str] = {
    "{path}: sheet {sheet}: {rows}, {valid} valid, {invalid} invalid ({errors} errors, {warnings} warnings)":
        "{path}：工作表{sheet}：共{rows}，{valid}行有效，{invalid}行无效（{errors}个错误，{warnings}个警告）",
    "{n} rows": "{n}行",
    "findings by code: {counts}": "按代码统计的问题：{counts}",
    "row {row}": "第{row}行",
    "workbook": "工作簿",
    "{code}, warning": "{code}，警告",
    "... and {n} more (see the Findings sheet)": "……另有{n}条（见Findings工作表）",
    "annotated copy: {path}": "标注副本：{path}",
    "{rows} invalid, not sent (see the results workbook's Findings sheet):":
        "{rows}无效，不会发送（见结果工作簿的Findings工作表）：",
    # submit's closing lines
    "no rows": "没有行",
    "{rows} not created (rejected, unknown or not sent):": "{rows}未创建（被拒绝、结果未知或未发送）：",
    "results": "结果工作簿",
    "failed rows": "失败行工作簿",
    "request bodies": "请求体",
    "ledger": "台账",
    "sign-off report": "签核报告",
    # status
    "{n} tasks": "{n}个任务",
    "{tasks}: {healthy} healthy, {pending} still creating, {failed} failed":
        "{tasks}：{healthy}个正常，{pending}个仍在创建中，{failed}个失败",
    ", {gone} gone (deleted or released)": "，{gone}个已消失（已删除或已释放）",
    " (gave up waiting after {timeout}s)": "（等待{timeout}秒后放弃）",
    " (interrupted: the statuses received so far are written)": "（已中断：已写入目前收到的状态）",
    "{tasks} failed after creation:": "{tasks}创建后失败：",
    "failed rows: {path}": "失败行工作簿：{path}",
    "to create them again (a failed task keeps its name until it is deleted):":
        "重新创建这些任务（失败的任务在删除之前会占用其名称）：",
    "  1. bulkimport rollback {path}   # deletes just these failed tasks":
        "  1. bulkimport rollback {path}   # 只删除这些失败的任务",
    "  2. fix the rows in {name} (retype the passwords shown as ****** or use env:NAME)":
        "  2. 修改{name}中的行（重新输入显示为******的密码，或使用env:NAME）",
    "report: {path}": "报告：{path}",
    # prepare, start, rollback
    "{tasks}: {passed} pre-check passed, {failed} failed, {pending} still pending":
        "{tasks}：{passed}个预检查通过，{failed}个失败，{pending}个仍在进行",
    ", {unknown} unknown": "，{unknown}个结果未知",
    "; {rows} not created (untouched)": "；{rows}未创建（未处理）",
    "{started} started, {refused} refused, {skipped} skipped":
        "{started}个已启动，{refused}个被拒绝，{skipped}个已跳过",
    ", {unknown} unknown (run start again)": "，{unknown}个结果未知（请再次运行start）",
    "{tasks} deleted, {failed} failed to delete": "{tasks}已删除，{failed}个删除失败",
    ", {unfinished} unfinished": "，{unfinished}个未完成",
    # plans and confirmation prompts
    "{n} requests": "{n}个请求",
    "{tasks} to create in project {project} at endpoint {endpoint}, {requests} "
    "(batch size {size}, concurrency {concurrency})":
        "在端点{endpoint}的项目{project}中创建{tasks}，{requests}（批大小{size}，并发{concurrency}）",
    "{n} already created": "{n}行已创建",
    "{n} found on the server after an earlier interrupted run": "{n}行在先前中断的运行之后已在服务端找到",
    "{n} in doubt and not checkable now": "{n}行结果存疑且目前无法核实",
    "{n} invalid": "{n}行无效",
    "plan: ": "计划：",
    "dry run: ": "演练：",
    "Send these requests?": "发送这些请求？",
    "now": "立即",
    "at {at} (UTC)": "于{at}（UTC）",
    "{tasks} whose pre-check passed will be STARTED {when}:": "预检查已通过的{tasks}将{when}启动：",
    "{n} row(s) are not sent:": "{n}行不发送：",
    "Start these {tasks}?": "启动这{tasks}？",
    "{tasks} created by this campaign will be DELETED:": "本次活动创建的{tasks}将被删除：",
    "{rows} with a task ID left alone:": "{rows}有任务ID但不处理：",
    "Delete these {tasks} in project {project} at {endpoint}?": "删除{endpoint}上项目{project}中的这{tasks}？",
}


def say(language: str, text: str, **args: object) -> str:
    """`text` (en-us, a `str.format` template) in `language`, filled in with `args`."""
    template = _ZH.get(text, text) if language == "zh-cn" else text
    return template.format(**args)


def rows_word(language: str, n: int) -> str:
    """`1 row` / `2 rows` in en-us, `2行` in zh-cn."""
    return plural(n, "row") if language != "zh-cn" else say(language, "{n} rows", n=n)


def tasks_word(language: str, n: int) -> str:
    """`1 task` / `2 tasks` in en-us, `2个任务` in zh-cn."""
    return plural(n, "task") if language != "zh-cn" else say(language, "{n} tasks", n=n)


def requests_word(language: str, n: int) -> str:
    """`1 request` / `2 requests` in en-us, `2个请求` in zh-cn."""
    return plural(n, "request") if language != "zh-cn" else say(language, "{n} requests", n=n)


def plural(n: int, word: str, many: str | None = None) -> str:
    """`1 task`, `2 tasks`, `0 tasks`."""
    return f"{n} {word if n == 1 else (many or word + 's')}"


def clip(text: object, width: int) -> str:
    """`text` cut to `width` characters, the cut marked with an ellipsis."""
    value = "" if text is None else " ".join(str(text).split())
    return value if len(value) <= width else value[: max(width - 1, 0)] + "\u2026"


def screenful(lines: Sequence[str], limit: int = SCREENFUL, *, indent: str = "  ") -> list[str]:
    """At most `limit` lines, then one line saying how many more there are."""
    shown = [indent + line for line in lines[:limit]]
    if len(lines) > limit:
        shown.append(f"{indent}... and {len(lines) - limit} more")
    return shown


def row_lines(rows: Iterable[tuple[object, object, object]], width: int = MIN_WIDTH) -> list[str]:
    """`row  NAME  reason` lines of a list of (source row, name, reason), within `width`."""
    out = []
    for row, name, reason in rows:
        head = f"row {row!s:>5}  {clip(name, 30):<30}  "
        out.append(head + clip(reason, max(width - len(head) - 2, 20)))
    return out
