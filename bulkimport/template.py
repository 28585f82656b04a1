"""Writes the Excel template (and workbooks in its layout) from the field catalogue.

Nothing here names a column, an allowed value or a limit: every one of them comes from
`bulkimport.fields`, so a catalogue change reaches the template by regenerating it
(`bulkimport template` or `python -m bulkimport.template`).

Layout of the workbook (readers rely on it; change it only together with `book_read.py`):

* sheet ``Jobs`` (first, active): row 1 holds the column labels (mandatory columns end in
  ``" *"`` and are bold), row 2 the catalogue keys (the API's JSON paths) that readers
  match on, so operators may reorder columns. Data starts at row 3. Both header rows and
  the first column are frozen; header cells are coloured by column group
  (`fields.Group`). Columns with `Field.text_format` are formatted as Text (``@``).
  Data validations (dropdown lists, whole-number ranges, text lengths, and an input
  message on every column) cover rows 3 to `LAST_VALIDATED_ROW` (5002, i.e. 5000 tasks).
  Columns are as wide as their content (`column_width`). While typing, the engine dropdown
  offers the engines of the row's scenario, and conditional formats colour a cell a rule
  makes mandatory (`fields.REQUIRED_WHEN`) while it is blank, and a repeated task name.
* sheet ``Instructions``: the workflow in the template's language.
* sheet ``Fields``: one row per catalogue field (key, label, group, mandatory, type,
  allowed values, default, limits and rule, help), then the cross-field rules of
  `fields.RULES` (code, columns, text, severity).
* sheet ``_lists`` (hidden): the dropdown values, one column per enumerated or boolean
  field, the field's key in row 1 and its allowed values from row 2 down. Dropdowns
  reference these ranges because Excel breaks on inline lists over 255 characters. Then one
  column per scenario with its engines (``engine_type:<scenario>`` in row 1), each under a
  defined name ``engines_<scenario>``; ``engines_`` names the whole engine list.
* sheet ``_meta`` (hidden): key/value rows, the key in column A and the value in column B,
  all written as text:

  ====  ======================  ==========================================
  row   A (key)                 B (value)
  ====  ======================  ==========================================
  1     ``template_version``    `fields.TEMPLATE_VERSION`
  2     ``language``            ``en-us`` or ``zh-cn``
  3     ``catalogue_sha256``    `catalogue_hash()` (SHA-256 hex)
  4     ``jobs_sheet``          ``Jobs``
  5     ``label_row``           ``1``
  6     ``key_row``             ``2``
  7     ``first_data_row``      ``3``
  8     ``last_validated_row``  ``5002``
  9     ``generator``           ``bulkimport.template``
  ====  ======================  ==========================================

Output is deterministic: the same catalogue gives byte-identical files (fixed document
dates and zip timestamps), so a regenerated template shows no spurious git change.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime
from pathlib import Path

import xlsxwriter
from xlsxwriter.utility import xl_col_to_name, xl_rowcol_to_cell
from xlsxwriter.workbook import Workbook
from xlsxwriter.worksheet import Worksheet

from bulkimport import fields
from bulkimport.errors import InputError
from bulkimport.fields import Field, ForbiddenWhen, Group, Kind, RequiredWhen
from bulkimport.outcomes import RESULT_COLUMNS

LANGUAGES = fields.LANGUAGES
DEFAULT_LANGUAGE = "en-us"
DEFAULT_PATH = Path("templates/drs-jobs-template.xlsx")

JOBS_SHEET = "Jobs"
INSTRUCTIONS_SHEET = "Instructions"
FIELDS_SHEET = "Fields"
LISTS_SHEET = "_lists"
META_SHEET = "_meta"

LABEL_ROW = 1
KEY_ROW = 2
FIRST_DATA_ROW = 3
#: Validations reach this Excel row: 5000 tasks, far more than one campaign workbook holds.
LAST_VALIDATED_ROW = 5002

MANDATORY_SUFFIX = " *"

#: Excel's limits on data-validation prompts; longer texts make Excel repair the file.
PROMPT_TITLE_MAX = 32
PROMPT_MESSAGE_MAX = 255

#: Column widths (Excel character units) of the Jobs sheet: a column is as wide as the value a
#: DBA types in it (a 50-character task name, a 36-character UUID), within these bounds; its
#: label wraps instead.
COLUMN_WIDTH_MIN = 10
COLUMN_WIDTH_MAX = 52
#: Characters of a value of these kinds when the field says nothing more: a UUID, an IPv4
#: address (IPv6 ones are cut), an enterprise project ID (a UUID).
_KIND_LENGTH: dict[Kind, int] = {Kind.UUID: 36, Kind.IP: 15, Kind.ENTERPRISE_PROJECT: 36}
_DEFAULT_LENGTH = 16
#: Room for the dropdown arrow beside a list cell's value.
_DROPDOWN_ARROW = 2
#: Points per line of 11-point text: explicit row heights make wrapped text readable in
#: LibreOffice too, which does not grow rows on its own when it opens an .xlsx.
_LINE_HEIGHT = 15

#: Defined names of the dependent engine dropdown: `engines_<scenario>` holds the engines of a
#: scenario, `engines_` (a blank scenario) all of them; the engine column's list is
#: INDIRECT("engines_" & its row's scenario).
ENGINE_LIST_PREFIX = "engines_"
#: The column whose dropdown depends on the scenario (`fields.ENGINE_SCENARIOS`).
DEPENDENT_ENGINE = "engine_type"
_DEFINED_NAME_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_.]*$")

#: Fill of a cell that a rule makes mandatory while it is blank, and of a repeated task name.
_NEEDED_COLOURS = {"bg_color": "#FFC7CE", "font_color": "#9C0006"}

#: Fixed document date so that regenerating the template gives the same bytes.
_FIXED_CREATED = datetime(2026, 1, 1, 0, 0, 0)

#: (label row fill, key row fill) per column group.
_GROUP_COLOURS: dict[Group, tuple[str, str]] = {
    Group.TASK: ("#BDD7EE", "#DDEBF7"),
    Group.NETWORK: ("#C6E0B4", "#E2EFDA"),
    Group.SOURCE: ("#F8CBAD", "#FCE4D6"),
    Group.TARGET: ("#D9C3E9", "#EDE3F4"),
    Group.TAGS: ("#D9D9D9", "#EDEDED"),
    Group.LAUNCH: ("#FFE699", "#FFF2CC"),
}

#: Words of the generated sheets, per language (the field texts come from the catalogue).
_TEXT: dict[str, dict[str, str]] = {
    "en-us": {
        "fields_title": "Field reference (generated from the catalogue, template version {version})",
        "rules_title": "Cross-field and cross-row rules",
        "h_key": "Key (row 2)",
        "h_label": "Label (row 1)",
        "h_group": "Group",
        "h_mandatory": "Mandatory",
        "h_type": "Type",
        "h_allowed": "Allowed values",
        "h_default": "Default when blank",
        "h_limits": "Limits and rule",
        "h_secret": "Secret",
        "h_help": "Help",
        "h_code": "Code",
        "h_columns": "Columns",
        "h_rule": "Rule",
        "h_severity": "Severity",
        "yes": "yes",
        "number_range": "whole number {low}-{high}",
        "length_range": "length {low}-{high}",
        "length_max": "length <= {high}",
        "list_error_title": "Not in the list",
        "list_error": "Allowed values: {values}. `bulkimport validate` will reject anything else.",
        "number_error_title": "Out of range",
        "number_error": "A whole number from {low} to {high}.",
        "length_error_title": "Wrong length",
        "length_error": "Between {low} and {high} characters.",
        "engine_error_title": "Not for this scenario",
        "engine_error": "The engine must serve the row's scenario: {pairs}. `bulkimport validate` will reject "
                        "anything else.",
        "needed_when": "{cell} when {conditions}",
        "needed_value": "{cell} = {value}",
        "forbidden_value": "{cell} = {value}",
        "condition": "{label} = {value}",
        "and": " and ",
    },
    "zh-cn": {
        "fields_title": "字段说明（由字段目录生成，模板版本 {version}）",
        "rules_title": "跨字段与跨行规则",
        "h_key": "键（第2行）",
        "h_label": "列名（第1行）",
        "h_group": "分组",
        "h_mandatory": "必填",
        "h_type": "类型",
        "h_allowed": "可选值",
        "h_default": "留空时的默认值",
        "h_limits": "限制与规则",
        "h_secret": "敏感信息",
        "h_help": "说明",
        "h_code": "规则编码",
        "h_columns": "相关列",
        "h_rule": "规则",
        "h_severity": "级别",
        "yes": "是",
        "number_range": "整数 {low}-{high}",
        "length_range": "长度 {low}-{high}",
        "length_max": "长度 <= {high}",
        "list_error_title": "不在可选值中",
        "list_error": "可选值：{values}。其他值会被 bulkimport validate 拒绝。",
        "number_error_title": "超出范围",
        "number_error": "{low}到{high}之间的整数。",
        "length_error_title": "长度不符",
        "length_error": "长度应为{low}到{high}个字符。",
        "engine_error_title": "与场景不匹配",
        "engine_error": "引擎类型须与本行场景匹配：{pairs}。其他值会被 bulkimport validate 拒绝。",
        "needed_when": "{conditions}时的{cell}",
        "needed_value": "{cell}（须为{value}）",
        "forbidden_value": "{cell}为{value}",
        "condition": "{label}为{value}",
        "and": "且",
    },
}


def _instructions(language: str) -> list[tuple[str, str]]:
    """(style, text) lines of the Instructions sheet; styles: title, heading, text, group:<Group>.

    Column-group descriptions come from the catalogue (`GROUP_HELP`) in both languages.
    """
    version = fields.TEMPLATE_VERSION
    last = LAST_VALIDATED_ROW
    results = ", ".join(RESULT_COLUMNS)
    needed = conditional_cells_text(fields.REQUIRED_WHEN, language)
    forbidden = conditional_cells_text(fields.FORBIDDEN_WHEN, language)
    if language == "zh-cn":
        lines = [
            ("title", f"DRS 批量创建任务模板（模板版本 {version}）"),
            ("heading", "1. 填写"),
            ("text", f"在“{JOBS_SHEET}”工作表中每行填写一个DRS任务，从第{FIRST_DATA_ROW}行开始。"),
            ("text", f"第{LABEL_ROW}行是列名（带 * 的为必填列），第{KEY_ROW}行是接口字段路径。"
                     f"工具按第{KEY_ROW}行识别列：请勿修改第{KEY_ROW}行，但可以调整列的顺序。"),
            ("text", f"下拉列表、整数范围和长度检查覆盖第{FIRST_DATA_ROW}至{last}行。Excel中的检查仅供参考，"
                     "粘贴会覆盖它们；以 bulkimport validate 的结果为准。"),
            ("text", "请直接输入值，不要使用公式。ID类列已设为文本格式，以免Excel把ID变成数字或日期。"),
            ("text", "输入时的提示：“引擎类型”下拉列表只列出本行场景可用的引擎。重复的任务名称显示为粉色。"),
            ("text", f"规则要求填写的单元格在为空（或值不对）时显示为粉色：{needed}。"),
            ("text", f"规则不允许的值也显示为粉色：{forbidden}；以及本行场景不支持的引擎。"),
            ("text", "密码类单元格可以填写 env:变量名（如 env:SRC_DB_PASSWORD），提交时从该环境变量读取密码，"
                     "工作簿中无需保存密码。结果工作簿中不会回写密码（显示******）。"),
            ("text", "IAM令牌从环境变量 OS_AUTH_TOKEN 读取，不要写入工作簿。"),
            ("heading", "2. 校验"),
            ("text", "bulkimport validate 工作簿.xlsx —— 在发送前检查每一行，并生成标注了问题单元格的副本。"),
            ("heading", "3. 提交"),
            ("text", "bulkimport submit 工作簿.xlsx --project-id 项目ID --region 区域（或 --endpoint URL）"
                     "—— 分批创建任务；可先加 --dry-run 演练。"),
            ("heading", "4. 查看结果"),
            ("text", f"结果工作簿保存在 reports/ 目录，每行右侧追加以下列：{results}。"),
            ("text", "bulkimport status 结果工作簿.xlsx —— 刷新任务状态；bulkimport report —— 生成签核报告。"),
            ("heading", "列分组"),
            *[(f"group:{g}", f"{fields.GROUP_LABELS[g][language]}：{fields.GROUP_HELP[g][language]}") for g in Group],
            ("text", f"“{FIELDS_SHEET}”工作表列出每一列的类型、可选值、限制和说明，以及跨字段规则。"),
        ]
    else:
        lines = [
            ("title", f"DRS bulk task template (template version {version})"),
            ("heading", "1. Fill"),
            ("text", f"Fill one row per DRS task on the '{JOBS_SHEET}' sheet, starting at row {FIRST_DATA_ROW}."),
            ("text", f"Row {LABEL_ROW} holds the column labels (mandatory columns end in *), row {KEY_ROW} the API "
                     f"keys. The tool matches columns by row {KEY_ROW}: do not edit it, but you may reorder columns."),
            ("text", f"Dropdowns, number ranges and length checks cover rows {FIRST_DATA_ROW} to {last}. Excel's "
                     "checks are advice only and are lost when cells are pasted over; `bulkimport validate` "
                     "is the authority."),
            ("text", "Type values, not formulas. ID columns are formatted as Text so that Excel does not turn "
                     "IDs into numbers or dates."),
            ("text", "While you type: the Engine dropdown offers only the engines of the row's scenario, and a "
                     "task name used twice turns pink."),
            ("text", f"A cell that a rule makes mandatory turns pink while it is blank (or wrong): {needed}."),
            ("text", f"So does a value a rule forbids: {forbidden}; and an engine the row's scenario does not "
                     "offer."),
            ("text", "Password cells may hold env:NAME (e.g. env:SRC_DB_PASSWORD) instead of the password: it is "
                     "read from environment variable NAME when sending, so the workbook holds no secret. "
                     "Results never show passwords (******)."),
            ("text", "The IAM token is read from environment variable OS_AUTH_TOKEN, never from the workbook."),
            ("heading", "2. Validate"),
            ("text", "bulkimport validate WORKBOOK.xlsx  -- checks every row before anything is sent and writes "
                     "a copy with the problem cells marked."),
            ("heading", "3. Submit"),
            ("text", "bulkimport submit WORKBOOK.xlsx --project-id ID --region REGION (or --endpoint URL)  -- "
                     "creates the tasks in batches; try --dry-run first."),
            ("heading", "4. Read the results"),
            ("text", f"The results workbook goes under reports/, with these columns appended to every row: "
                     f"{results}."),
            ("text", "bulkimport status RESULTS.xlsx refreshes task statuses; bulkimport report builds the "
                     "sign-off report."),
            ("heading", "Column groups"),
            *[(f"group:{g}", f"{fields.GROUP_LABELS[g][language]}: {fields.GROUP_HELP[g][language]}") for g in Group],
            ("text", f"The '{FIELDS_SHEET}' sheet lists every column with its type, allowed values, limits and "
                     "help, and the cross-field rules."),
        ]
    return lines


#: Kept here too: the template is where the hash is written.
catalogue_hash = fields.catalogue_hash


def meta_rows(language: str) -> list[tuple[str, str]]:
    """The `_meta` sheet's key/value rows, in sheet order (row 1 first)."""
    return [
        ("template_version", fields.TEMPLATE_VERSION),
        ("language", language),
        ("catalogue_sha256", catalogue_hash()),
        ("jobs_sheet", JOBS_SHEET),
        ("label_row", str(LABEL_ROW)),
        ("key_row", str(KEY_ROW)),
        ("first_data_row", str(FIRST_DATA_ROW)),
        ("last_validated_row", str(LAST_VALIDATED_ROW)),
        ("generator", "bulkimport.template"),
    ]


def header_label(field: Field, language: str) -> str:
    """Row-1 label: free decoration (readers match on row 2), so mandatory gets ` *`."""
    label = field.label_for(language)
    return label + MANDATORY_SUFFIX if field.mandatory else label


def fit(text: str, limit: int) -> str:
    """Shorten `text` to Excel's `limit`, marking the cut with an ellipsis."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def limits_text(field: Field, language: str) -> str:
    """The limits and free-text rule of a field, for the Fields sheet."""
    words = _TEXT[language]
    parts = []
    if field.minimum is not None and field.maximum is not None:
        parts.append(words["number_range"].format(low=field.minimum, high=field.maximum))
    if field.max_length is not None:
        if field.min_length:
            parts.append(words["length_range"].format(low=field.min_length, high=field.max_length))
        else:
            parts.append(words["length_max"].format(high=field.max_length))
    if field.rule:
        parts.append(field.rule)
    return "; ".join(parts)


def validation_options(field: Field, language: str, list_range: str | None) -> dict[str, object]:
    """xlsxwriter data-validation options for one column: a check where the catalogue has one,
    and always the column's help as input message, because Excel shows it on every cell.

    Errors are warnings, not stops: Excel's checks are advice (lost on paste) and the
    tool's validator is the authority, so an operator is never locked out of a cell.
    """
    words = _TEXT[language]
    options: dict[str, object] = {
        "input_title": fit(field.label_for(language), PROMPT_TITLE_MAX),
        "input_message": fit(field.help_for(language), PROMPT_MESSAGE_MAX),
        "ignore_blank": True,
    }
    if field.allowed:
        options.update(
            validate="list",
            source=list_range,
            error_type="warning",
            error_title=fit(words["list_error_title"], PROMPT_TITLE_MAX),
            error_message=fit(words["list_error"].format(values=", ".join(field.allowed)), PROMPT_MESSAGE_MAX),
        )
    elif field.kind in (Kind.INTEGER, Kind.INTEGER_STRING) and field.minimum is not None and field.maximum is not None:
        options.update(
            validate="integer",
            criteria="between",
            minimum=field.minimum,
            maximum=field.maximum,
            error_type="warning",
            error_title=fit(words["number_error_title"], PROMPT_TITLE_MAX),
            error_message=fit(words["number_error"].format(low=field.minimum, high=field.maximum),
                              PROMPT_MESSAGE_MAX),
        )
    elif field.max_length is not None:
        low = field.min_length or 0
        options.update(
            validate="length",
            criteria="between",
            minimum=low,
            maximum=field.max_length,
            error_type="warning",
            error_title=fit(words["length_error_title"], PROMPT_TITLE_MAX),
            error_message=fit(words["length_error"].format(low=low, high=field.max_length), PROMPT_MESSAGE_MAX),
        )
    else:
        options["validate"] = "any"
    return options


def cell_text(field: Field, value: object) -> str | int | float | None:
    """A row value as it goes in a cell: booleans in the dropdown's spelling, tags as
    `key=value;...`, numbers as numbers, everything else as text. None means blank."""
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return value
    if field.kind is Kind.TAGS and isinstance(value, list | tuple):
        return ";".join(f"{tag['key']}={tag['value']}" for tag in value)
    if isinstance(value, str):
        return value
    raise TypeError(f"{field.key}: cannot write a {type(value).__name__} into a cell")


def _display_width(text: str) -> int:
    """Column width in Excel character units: CJK characters are twice as wide."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _wide(ch: str) -> bool:
    return unicodedata.east_asian_width(ch) in "WF"


def _tokens(text: str) -> list[tuple[str, bool]]:
    """The pieces a line break does not split, each with whether it joins the previous one
    without a space: words, and every CJK character on its own (lines break between them)."""
    out: list[tuple[str, bool]] = []
    for word in text.split():
        run, glued = "", False
        for ch in word:
            if _wide(ch):
                if run:
                    out.append((run, glued))
                    glued = True
                out.append((ch, glued))
                run, glued = "", True
            else:
                run += ch
        if run:
            out.append((run, glued))
    return out


def wrapped_lines(text: str, width: float) -> int:
    """How many lines `text` takes wrapped in a column `width` characters wide (greedy word
    wrap, as Excel and LibreOffice do; a word longer than a line is broken)."""
    capacity = max(int(width) - 1, 1)
    total = 0
    for paragraph in text.split("\n"):
        lines, used = 1, 0
        for token, glued in _tokens(paragraph):
            size = _display_width(token)
            gap = 0 if used == 0 or glued else 1
            if used + gap + size <= capacity:
                used += gap + size
                continue
            if used:
                lines += 1
            extra, used = divmod(size, capacity)
            if used == 0:
                extra, used = extra - 1, capacity
            lines += extra
        total += lines
    return total


def row_height(cells: Iterable[tuple[str, float]], *, minimum_lines: int = 1) -> float:
    """Row height in points that shows every (text, column width) cell of a row wrapped."""
    lines = max([minimum_lines, *(wrapped_lines(text, width) for text, width in cells if text)])
    return lines * _LINE_HEIGHT + 2


def content_length(field: Field) -> int:
    """Characters of the longest value a DBA types in the column, from the catalogue: the
    field's typical length, its dropdown values, its length or number limit, or its kind."""
    if field.typical_length is not None:
        return field.typical_length
    if field.allowed:
        return max(_display_width(value) for value in field.allowed) + _DROPDOWN_ARROW
    if field.max_length is not None:
        return field.max_length
    if field.maximum is not None:
        return len(str(field.maximum))
    return _KIND_LENGTH.get(field.kind, _DEFAULT_LENGTH)


def column_width(field: Field, language: str) -> float:
    """A Jobs column's width: its content (`content_length`) decides, not its label, which
    wraps; the label's longest word still fits, so no word is broken in the middle."""
    longest_word = max((_display_width(t) for t, _ in _tokens(header_label(field, language))), default=0)
    width = max(content_length(field) + 2, longest_word + 2, COLUMN_WIDTH_MIN)
    return min(width, COLUMN_WIDTH_MAX)


def engines_by_scenario() -> dict[str, tuple[str, ...]]:
    """The engines each scenario offers, in the catalogue's engine order (`ENGINE_SCENARIOS`)."""
    return {scenario: tuple(e for e in fields.ENGINE_TYPES if scenario in fields.ENGINE_SCENARIOS[e])
            for scenario in fields.DB_USE_TYPES}


def engine_list_name(scenario: str) -> str:
    """The defined name of a scenario's engine list; refuses a scenario that cannot make a
    valid name (Excel and LibreOffice would drop the name and the dropdown would be empty)."""
    name = ENGINE_LIST_PREFIX + scenario
    if not _DEFINED_NAME_RE.match(name):
        raise ValueError(f"scenario {scenario!r} cannot name an engine list: {name!r} is not a valid defined name")
    return name


def _equals(ref: str, value: str) -> str:
    """A formula test that the cell `ref` holds `value` as the tool reads it: case-insensitive
    and trimmed; true/false also as the booleans Excel and LibreOffice turn typed TRUE into
    (LibreOffice gives a boolean cell the text "1", so it is compared as a boolean)."""
    if value in fields.BOOLEAN_VALUES:
        flag = "TRUE()" if value == "true" else "FALSE()"
        return f'AND(LEN({ref})>0,OR({ref}={flag},TRIM({ref})="{value}"))'
    return f'TRIM({ref})="{value}"'


def required_formula(rule: RequiredWhen, ref: Callable[[str], str]) -> str:
    """The conditional-format formula that is true while `rule.key`'s cell is needed and blank
    (or, with `rule.value`, does not hold it); `ref(key)` gives a column's cell reference in
    the first data row (absolute column, relative row)."""
    tests = [_equals(ref(key), value) for key, value in rule.when]
    target = ref(rule.key)
    tests.append(f"NOT({_equals(target, rule.value)})" if rule.value is not None else f"LEN(TRIM({target}))=0")
    return "=AND(" + ",".join(tests) + ")"


def forbidden_formula(rule: ForbiddenWhen, ref: Callable[[str], str]) -> str:
    """The conditional-format formula that is true while `rule.key`'s cell holds what the
    rule forbids under its conditions (`rule.value`, or any value when that is None)."""
    tests = [_equals(ref(key), value) for key, value in rule.when]
    target = ref(rule.key)
    tests.append(_equals(target, rule.value) if rule.value is not None else f"LEN(TRIM({target}))>0")
    return "=AND(" + ",".join(tests) + ")"


def engine_mismatch_formula(ref: Callable[[str], str]) -> str:
    """True while the engine cell holds an engine its row's scenario does not offer (pasted, or
    kept after the dropdown's warning): the same list INDIRECT gives the dropdown, so the
    highlight and the dropdown cannot disagree."""
    engine, scenario = ref(DEPENDENT_ENGINE), ref("db_use_type")
    return (f'=AND(LEN(TRIM({engine}))>0,'
            f'ISERROR(MATCH(TRIM({engine}),INDIRECT("{ENGINE_LIST_PREFIX}"&TRIM({scenario})),0)))')


def duplicate_formula(ref: str, column: str) -> str:
    """True for a task name that another row of the validated area also holds; COUNTIF is
    case-insensitive like the tool's `duplicate_name` rule."""
    return f"=AND(LEN(TRIM({ref}))>0,COUNTIF({column},{ref})>1)"


def conditional_cells_text(rules: Iterable[RequiredWhen | ForbiddenWhen], language: str) -> str:
    """Cells `REQUIRED_WHEN` makes mandatory, or `FORBIDDEN_WHEN` values, in words (the
    Instructions sheet)."""
    words = _TEXT[language]
    parts = []
    for rule in rules:
        label = fields.FIELDS[rule.key].label_for(language)
        shape = "needed_value" if isinstance(rule, RequiredWhen) else "forbidden_value"
        cell = words[shape].format(cell=label, value=rule.value) if rule.value else label
        conditions = words["and"].join(
            words["condition"].format(label=fields.FIELDS[key].label_for(language), value=value)
            for key, value in rule.when)
        parts.append(words["needed_when"].format(cell=cell, conditions=conditions))
    return ("；" if language == "zh-cn" else "; ").join(parts)


class _Formats:
    """The workbook's cell formats, made once per workbook (xlsxwriter wants that)."""

    def __init__(self, book: Workbook) -> None:
        base = {"valign": "top", "border": 1, "border_color": "#A6A6A6"}
        self.label: dict[tuple[Group, bool], object] = {}
        self.key: dict[Group, object] = {}
        for group, (strong, light) in _GROUP_COLOURS.items():
            for mandatory in (False, True):
                self.label[group, mandatory] = book.add_format(
                    {**base, "bg_color": strong, "bold": mandatory, "text_wrap": True}
                )
            self.key[group] = book.add_format({**base, "bg_color": light, "font_color": "#595959", "font_size": 9})
        self.text = book.add_format({"num_format": "@"})
        self.general = book.add_format({})
        self.title = book.add_format({"bold": True, "font_size": 14})
        self.heading = book.add_format({"bold": True, "font_size": 11, "bg_color": "#DDEBF7"})
        self.wrap = book.add_format({"text_wrap": True, "valign": "top"})
        self.table_head = book.add_format({"bold": True, "bg_color": "#D9D9D9", "border": 1, "valign": "top",
                                          "text_wrap": True})
        self.result_head = book.add_format({**base, "bg_color": "#FFE699", "bold": True})
        self.error = book.add_format({"bg_color": "#FF6B6B", "pattern": 1, "num_format": "@"})
        self.warning = book.add_format({"bg_color": "#FFC000", "pattern": 1, "num_format": "@"})
        self.needed = book.add_format(_NEEDED_COLOURS)
        self.swatch: dict[Group, object] = {
            group: book.add_format({"bg_color": strong, "text_wrap": True, "valign": "top"})
            for group, (strong, _) in _GROUP_COLOURS.items()
        }


def _list_range(col: int, count: int) -> str:
    letter = xl_col_to_name(col)
    return f"='{LISTS_SHEET}'!${letter}$2:${letter}${1 + count}"


def _write_lists(book: Workbook, sheet: Worksheet, columns: tuple[Field, ...]) -> dict[str, str]:
    """Writes each dropdown's values in its own column; returns key -> absolute range.

    Then, for the dependent engine dropdown, one column per scenario with its engines (row 1:
    ``engine_type:<scenario>``), each a defined name `engine_list_name(scenario)`; the name
    for a blank scenario (``engines_``) is the whole engine list.
    """
    ranges: dict[str, str] = {}
    list_fields = [f for f in columns if f.allowed]
    for col, field in enumerate(list_fields):
        sheet.write_string(0, col, field.key)
        for offset, value in enumerate(field.allowed):
            sheet.write_string(1 + offset, col, value)
        ranges[field.key] = _list_range(col, len(field.allowed))
    col = len(list_fields)
    book.define_name(engine_list_name(""), ranges[DEPENDENT_ENGINE])
    for scenario, engines in engines_by_scenario().items():
        sheet.write_string(0, col, f"{DEPENDENT_ENGINE}:{scenario}")
        for offset, value in enumerate(engines):
            sheet.write_string(1 + offset, col, value)
        book.define_name(engine_list_name(scenario), _list_range(col, len(engines)))
        col += 1
    sheet.hide()
    return ranges


def _positions(columns: tuple[Field, ...], extra: Sequence[str]) -> tuple[dict[str, int], dict[str, int]]:
    """Column index of every field and of every extra (result) column: the extras sit right
    after the task name, so a row's outcome is read beside its name."""
    at: dict[str, int] = {}
    extra_at: dict[str, int] = {}
    col = 0
    for field in columns:
        at[field.key] = col
        col += 1
        if field.key == "name":
            for name in extra:
                extra_at[name] = col
                col += 1
    return at, extra_at


def _write_jobs(
    sheet: Worksheet,
    formats: _Formats,
    columns: tuple[Field, ...],
    language: str,
    list_ranges: dict[str, str],
    rows: list[Mapping[str, object]],
    extra: Sequence[str] = (),
) -> None:
    first, last = FIRST_DATA_ROW - 1, LAST_VALIDATED_ROW - 1  # xlsxwriter rows are 0-based
    at, extra_at = _positions(columns, extra)
    labels = []
    for field in columns:
        col = at[field.key]
        label = header_label(field, language)
        width = column_width(field, language)
        labels.append((label, width))
        column_format = formats.text if field.text_format else None
        sheet.set_column(col, col, width, column_format)
        sheet.write_string(LABEL_ROW - 1, col, label, formats.label[field.group, field.mandatory])
        sheet.write_string(KEY_ROW - 1, col, field.key, formats.key[field.group])
        if field.key != DEPENDENT_ENGINE:  # its dropdown depends on the scenario: _write_typing_aids
            sheet.data_validation(first, col, last, col,
                                  validation_options(field, language, list_ranges.get(field.key)))
    sheet.set_row(LABEL_ROW - 1, row_height(labels, minimum_lines=2))
    _write_typing_aids(sheet, formats, at, language)
    for name, col in extra_at.items():
        sheet.set_column(col, col, EXTRA_WIDTHS.get(name, 16), formats.wrap if name == "error_msg" else None)
        sheet.write_string(LABEL_ROW - 1, col, name, formats.result_head)
        sheet.write_string(KEY_ROW - 1, col, name, formats.result_head)
    for offset, row in enumerate(rows):
        excel_row = FIRST_DATA_ROW - 1 + offset
        for field in columns:
            col = at[field.key]
            value = cell_text(field, row.get(field.key))
            cell_format = formats.text if field.text_format else formats.general
            if value is None:
                continue
            if isinstance(value, str):
                sheet.write_string(excel_row, col, value, cell_format)
            else:
                sheet.write_number(excel_row, col, value, cell_format)
    sheet.freeze_panes(KEY_ROW, 1 + (1 if "result" in extra_at else 0))
    sheet.activate()


def _write_typing_aids(sheet: Worksheet, formats: _Formats, at: Mapping[str, int], language: str) -> None:
    """What guides the DBA while typing, at the columns `at` gives (the catalogue's, wherever
    they sit): the engine dropdown offers the engines of the row's scenario, and these cells
    are pink: one a rule makes mandatory (`fields.REQUIRED_WHEN`) while it is blank, one
    holding what a rule forbids (`fields.FORBIDDEN_WHEN`, an engine the scenario does not
    offer), and a repeated task name. Formulas use absolute columns and relative rows
    (written for the first data row)."""
    first, last = FIRST_DATA_ROW - 1, LAST_VALIDATED_ROW - 1

    def ref(key: str) -> str:
        return xl_rowcol_to_cell(first, at[key], col_abs=True)

    words = _TEXT[language]
    engine = fields.FIELDS[DEPENDENT_ENGINE]
    pairs = "; ".join(f"{scenario}: {', '.join(engines)}" for scenario, engines in engines_by_scenario().items())
    options = validation_options(engine, language, f'=INDIRECT("{ENGINE_LIST_PREFIX}"&TRIM({ref("db_use_type")}))')
    options.update(error_title=fit(words["engine_error_title"], PROMPT_TITLE_MAX),
                   error_message=fit(words["engine_error"].format(pairs=pairs), PROMPT_MESSAGE_MAX))
    sheet.data_validation(first, at[engine.key], last, at[engine.key], options)
    criteria: list[tuple[str, str]] = [(rule.key, required_formula(rule, ref)) for rule in fields.REQUIRED_WHEN]
    criteria += [(rule.key, forbidden_formula(rule, ref)) for rule in fields.FORBIDDEN_WHEN]
    criteria.append((DEPENDENT_ENGINE, engine_mismatch_formula(ref)))
    for key, formula in criteria:
        sheet.conditional_format(first, at[key], last, at[key],
                                 {"type": "formula", "criteria": formula, "format": formats.needed})
    name = at["name"]
    column = f"{xl_rowcol_to_cell(first, name, True, True)}:{xl_rowcol_to_cell(last, name, True, True)}"
    sheet.conditional_format(first, name, last, name,
                             {"type": "formula", "criteria": duplicate_formula(ref("name"), column),
                              "format": formats.needed})


def _write_instructions(sheet: Worksheet, formats: _Formats, language: str) -> None:
    width = 120
    sheet.set_column(0, 0, width, formats.wrap)
    for row, (style, text) in enumerate(_instructions(language)):
        # A 14-point title line is about 14/11 as tall and as wide as an 11-point one.
        scale = 14 / 11 if style == "title" else 1
        sheet.set_row(row, row_height([(text, width / scale)]) * scale)
        if style == "title":
            cell_format = formats.title
        elif style == "heading":
            cell_format = formats.heading
        elif style.startswith("group:"):
            cell_format = formats.swatch[Group(style.partition(":")[2])]
        else:
            cell_format = formats.wrap
        sheet.write_string(row, 0, text, cell_format)


def _write_fields(sheet: Worksheet, formats: _Formats, columns: tuple[Field, ...], language: str) -> None:
    words = _TEXT[language]
    heads = ["h_key", "h_label", "h_group", "h_mandatory", "h_type", "h_allowed", "h_default", "h_limits",
             "h_secret", "h_help"]
    widths = [34, 30, 22, 10, 16, 36, 18, 40, 8, 80]
    sheet.write_string(0, 0, words["fields_title"].format(version=fields.TEMPLATE_VERSION), formats.title)
    sheet.set_row(0, 20)
    for col, (head, width) in enumerate(zip(heads, widths, strict=True)):
        sheet.set_column(col, col, width, formats.wrap)
        sheet.write_string(1, col, words[head], formats.table_head)
    sheet.set_row(1, row_height((words[head], width) for head, width in zip(heads, widths, strict=True)))
    row = 2
    for field in columns:
        values = [
            field.key,
            field.label_for(language),
            fields.GROUP_LABELS[field.group][language],
            words["yes"] if field.mandatory else "",
            str(field.kind),
            ", ".join(field.allowed),
            field.default or "",
            limits_text(field, language),
            words["yes"] if field.secret else "",
            field.help_for(language),
        ]
        for col, value in enumerate(values):
            if value:
                sheet.write_string(row, col, value, formats.swatch[field.group] if col == 2 else formats.wrap)
        sheet.set_row(row, row_height(zip(values, widths, strict=True)))
        row += 1
    row += 1
    sheet.write_string(row, 0, words["rules_title"], formats.heading)
    row += 1
    # The rule's sentence spans the middle columns, so it reads on a few wide lines.
    first_text, last_text, severity_col = 2, len(widths) - 3, len(widths) - 2
    text_width = sum(widths[first_text:last_text + 1])
    rule_heads = ((0, "h_code"), (1, "h_columns"), (first_text, "h_rule"), (severity_col, "h_severity"))
    for col, head in rule_heads:
        if col == first_text:
            sheet.merge_range(row, first_text, row, last_text, words[head], formats.table_head)
        else:
            sheet.write_string(row, col, words[head], formats.table_head)
    sheet.set_row(row, row_height((words[head], text_width if col == first_text else widths[col])
                                  for col, head in rule_heads))
    row += 1
    for rule in fields.RULES:
        columns_text, text = ", ".join(rule.columns), rule.text_for(language)
        sheet.write_string(row, 0, rule.code, formats.wrap)
        sheet.write_string(row, 1, columns_text, formats.wrap)
        sheet.merge_range(row, first_text, row, last_text, text, formats.wrap)
        sheet.write_string(row, severity_col, rule.severity, formats.wrap)
        sheet.set_row(row, row_height([(rule.code, widths[0]), (columns_text, widths[1]), (text, text_width),
                                       (rule.severity, widths[severity_col])]))
        row += 1
    sheet.freeze_panes(2, 0)


def _write_meta(sheet: Worksheet, language: str) -> None:
    for row, (key, value) in enumerate(meta_rows(language)):
        sheet.write_string(row, 0, key)
        sheet.write_string(row, 1, value)
    sheet.set_column(0, 1, 24)
    sheet.hide()


#: Widths of the result columns a fix workbook carries beside the task name.
EXTRA_WIDTHS = {"result": 17, "task_status": 26, "task_id": 40, "error_code": 22, "error_msg": 60,
                "source_row": 11}


def write_fix_workbook(
    path: str | Path,
    rows: Sequence[Mapping[str, object]],
    *,
    extra_columns: Sequence[str],
    extra_values: Sequence[Mapping[str, object]],
    notes: Sequence[Mapping[str, tuple[bool, str]]],
    language: str = DEFAULT_LANGUAGE,
    summary: Sequence[Sequence[object]] = (),
) -> Path:
    """A template holding only the rows to fix: the same dropdowns, help, widths, colours and
    Fields / Instructions sheets as `write_template`, each row's result columns beside its
    name, and per cell a note (`notes[i][key]` = (is an error, text)) shown as a red or amber
    cell with a comment. `summary` rows go to a `Summary` sheet (the campaign's facts, so
    follow-up commands find the campaign from this workbook too)."""
    path = Path(path)
    columns = fields.template_columns()
    extra = [c for c in extra_columns if c not in fields.FIELDS]
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        book = xlsxwriter.Workbook(
            str(path),
            {"in_memory": True, "strings_to_formulas": False, "strings_to_urls": False, "strings_to_numbers": False},
        )
        formats = _Formats(book)
        jobs = book.add_worksheet(JOBS_SHEET)
        instructions = book.add_worksheet(INSTRUCTIONS_SHEET)
        reference = book.add_worksheet(FIELDS_SHEET)
        summary_sheet = book.add_worksheet("Summary") if summary else None
        lists = book.add_worksheet(LISTS_SHEET)
        meta = book.add_worksheet(META_SHEET)
        list_ranges = _write_lists(book, lists, columns)
        _write_jobs(jobs, formats, columns, language, list_ranges, list(rows), extra)
        at, extra_at = _positions(columns, extra)
        for offset, values in enumerate(extra_values):
            for name, col in extra_at.items():
                value = values.get(name)
                if value is None or value == "":
                    continue
                if isinstance(value, int | float) and not isinstance(value, bool):
                    jobs.write_number(FIRST_DATA_ROW - 1 + offset, col, value)
                else:
                    jobs.write_string(FIRST_DATA_ROW - 1 + offset, col, str(value),
                                      formats.wrap if name == "error_msg" else None)
        for offset, row_notes in enumerate(notes):
            excel_row = FIRST_DATA_ROW - 1 + offset
            for key, (is_error, text) in row_notes.items():
                if key not in at:
                    continue
                field = fields.FIELDS[key]
                value = cell_text(field, rows[offset].get(key))
                fmt = formats.error if is_error else formats.warning
                if value is None:
                    jobs.write_blank(excel_row, at[key], None, fmt)
                elif isinstance(value, str):
                    jobs.write_string(excel_row, at[key], value, fmt)
                else:
                    jobs.write_number(excel_row, at[key], value, fmt)
                jobs.write_comment(excel_row, at[key], fit(text, 32_000), {"x_scale": 2.5, "y_scale": 1.5})
        last_row = FIRST_DATA_ROW - 1 + max(len(rows), 1) - 1
        jobs.autofilter(KEY_ROW - 1, 0, last_row, len(columns) + len(extra) - 1)
        _write_instructions(instructions, formats, language)
        _write_fields(reference, formats, columns, language)
        if summary_sheet is not None:
            summary_sheet.set_column(0, 0, 30)
            summary_sheet.set_column(1, 1, 70)
            for r, cells in enumerate(summary):
                for c, value in enumerate(cells):
                    if value is not None:
                        if isinstance(value, int | float) and not isinstance(value, bool):
                            summary_sheet.write_number(r, c, value)
                        else:
                            summary_sheet.write_string(r, c, str(value))
        _write_meta(meta, language)
        book.close()
    except OSError as exc:
        raise InputError("cannot write {path}: {reason}", path=path, reason=exc.strerror or exc) from exc
    return path


def write_template(
    path: str | Path = DEFAULT_PATH,
    *,
    language: str = DEFAULT_LANGUAGE,
    rows: Iterable[Mapping[str, object]] = (),
) -> Path:
    """Writes the template to `path` (parent folders created, an existing file replaced:
    a template holds nothing of the operator's) and returns the path.

    `rows` fills the Jobs sheet from row 3: dicts keyed by catalogue key (a typed row or
    plain text), which is how the example workbooks stay in the template's exact layout.
    Raises `InputError` for an unknown language, a non-.xlsx path or an unwritable path.
    """
    if language not in LANGUAGES:
        raise InputError("unknown template language {language} (choose from {languages})", language=repr(language),
                         languages=", ".join(LANGUAGES))
    path = Path(path)
    if path.suffix.lower() != ".xlsx":
        raise InputError("{path}: the template must be an .xlsx file", path=path)
    if path.is_dir():
        raise InputError("{path} is a directory", path=path)
    rows = list(rows)
    unknown = sorted({key for row in rows for key in row} - set(fields.KEYS))
    if unknown:
        raise ValueError(f"rows have keys that are not catalogue columns: {', '.join(unknown)}")

    columns = fields.template_columns()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        book = xlsxwriter.Workbook(
            str(path),
            {"in_memory": True, "strings_to_formulas": False, "strings_to_urls": False, "strings_to_numbers": False},
        )
        book.set_properties({"title": "DRS bulk task template", "created": _FIXED_CREATED,
                             "comments": f"template_version {fields.TEMPLATE_VERSION}"})
        formats = _Formats(book)
        jobs = book.add_worksheet(JOBS_SHEET)
        instructions = book.add_worksheet(INSTRUCTIONS_SHEET)
        reference = book.add_worksheet(FIELDS_SHEET)
        lists = book.add_worksheet(LISTS_SHEET)
        meta = book.add_worksheet(META_SHEET)
        list_ranges = _write_lists(book, lists, columns)
        _write_jobs(jobs, formats, columns, language, list_ranges, rows)
        _write_instructions(instructions, formats, language)
        _write_fields(reference, formats, columns, language)
        _write_meta(meta, language)
        book.close()
    except OSError as exc:
        raise InputError("cannot write {path}: {reason}", path=path, reason=exc.strerror or exc) from exc
    return path


if __name__ == "__main__":
    # `python -m bulkimport.template [PATH] [--language ...]`: the same parsing as the CLI.
    import sys

    from bulkimport.cli import main

    main(["template", *sys.argv[1:]])
