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
    "... and {n} more": "……另有{n}行",
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
    "start cancelled: nothing was started": "已取消启动：没有启动任何任务",
    "rollback cancelled: nothing was deleted": "已取消回滚：没有删除任何任务",
    "nothing to roll back: no task this tool created is listed in the workbook":
        "没有可回滚的内容：工作簿中没有列出本工具创建的任务",
    "not confirmed: nothing was sent": "未确认：没有发送任何请求",
    "interrupted: requests in flight were finished and recorded; the rest was not sent":
        "已中断：正在发送的请求已完成并记录；其余未发送",
    # progress (progress.in_language translates the labels and count words; notes are said here)
    "submitting": "正在提交",
    "preparing": "正在准备",
    "starting": "正在启动",
    "task status": "任务状态",
    "retrying {tasks}: {reason}": "重试{tasks}：{reason}",
    "simulate: {names} not set; the simulator gets a placeholder instead": "模拟：{names}未设置；模拟器收到占位值",
    "looking up {tasks} left in doubt by an earlier run": "正在查找先前运行中结果存疑的{tasks}",
    "drift: {message}": "漂移：{message}",
    "drift: {row}: {message}": "漂移：{row}：{message}",
    "pre-check running for {tasks}; results every {interval}s for up to {timeout}s":
        "{tasks}的预检查正在进行；每{interval}秒查看一次结果，最多{timeout}秒",
    "interrupted: keeping the statuses received so far": "已中断：保留目前收到的状态",
    "force-terminating {tasks}": "正在强制结束{tasks}",
    "deleting {tasks}": "正在删除{tasks}",
}

#: The words of progress counts (`progress.in_language`), by the lower-cased count name: the
#: rows' results and prepare's verdicts. DRS task statuses are the server's codes: never translated.
_COUNT_WORDS_ZH: dict[str, str] = {
    "created": "已创建",
    "already_created": "已存在",
    "rejected": "被拒绝",
    "unknown": "结果未知",
    "not_sent": "未发送",
    "invalid": "无效",
    "passed": "通过",
    "failed": "失败",
    "pending": "进行中",
}


def say(language: str, text: str, **args: object) -> str:
    """`text` (en-us, a `str.format` template) in `language`, filled in with `args`."""
    template = _ZH.get(text, text) if language == "zh-cn" else text
    return template.format(**args)


def translate(language: str, text: str) -> str:
    """`text` in `language` when it is one of the terminal's own texts, taken as it is (no
    placeholders filled): for a line already made (a progress label, a run's closing message)."""
    return _ZH.get(text, text) if language == "zh-cn" else text


def count_word(language: str, name: str) -> str:
    """A progress count's name (`created`, `passed`) in `language`; others (codes) as they are."""
    return _COUNT_WORDS_ZH.get(name.lower(), name) if language == "zh-cn" else name


def row_label(language: str, row: object) -> str:
    """`row     7` (en-us) / `第7行` (zh-cn), nine columns wide (a CJK character takes two), so
    the names after it line up."""
    if language != "zh-cn":
        return f"row {row!s:>5}"
    label = say(language, "row {row}", row=row)
    return label + " " * max(0, 9 - display_width(label))


def display_width(text: str) -> int:
    """Terminal columns `text` takes: a CJK character (or full-width punctuation) takes two."""
    return len(text) + sum(1 for c in text if "\u2e80" <= c <= "\ua4cf" or "\uac00" <= c <= "\ud7a3"
                           or "\uf900" <= c <= "\ufaff" or "\ufe30" <= c <= "\ufe4f" or "\uff00" <= c <= "\uff60")


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


def screenful(lines: Sequence[str], limit: int = SCREENFUL, *, indent: str = "  ",
              language: str = "en-us") -> list[str]:
    """At most `limit` lines, then one line saying how many more there are."""
    shown = [indent + line for line in lines[:limit]]
    if len(lines) > limit:
        shown.append(indent + say(language, "... and {n} more", n=len(lines) - limit))
    return shown


def row_lines(rows: Iterable[tuple[object, object, object]], width: int = MIN_WIDTH,
              language: str = "en-us") -> list[str]:
    """`row  NAME  reason` lines of a list of (source row, name, reason), within `width`;
    "row N" in `language` (`第N行`), names and reasons as they are."""
    out = []
    for row, name, reason in rows:
        head = f"{row_label(language, row)}  {clip(name, 30):<30}  "
        out.append(head + clip(reason, max(width - display_width(head) - 2, 20)))
    return out
