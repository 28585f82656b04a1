"""Findings: typed records of what is wrong (or worth a look) in a workbook.

Modelled on frictionless' errors: every finding has a stable `code` that tests, scripts and
the README can rely on, the Excel row number, the column key and a human note. Codes never
change meaning; wording may.

Every text a finding can show is here, once, in both languages of `fields.LANGUAGES`: the
meaning of each code (`CODES`) and each message (`MESSAGES`, by message id; the id starts
with its finding's code). A finding keeps its message as a `Message` (id and arguments), so
it is written in the workbook's language wherever it is shown (cell comment, `error_msg`,
Findings sheet, terminal); `Finding.message` is its en-us text.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum
from string import Formatter

from bulkimport import fields

EN = "en-us"
ZH = "zh-cn"
_formatter = Formatter()


class Severity(StrEnum):
    ERROR = "error"  # the row is INVALID and is not sent
    WARNING = "warning"  # reported, the row is still sent


@dataclass(frozen=True, slots=True)
class Text:
    """One text in both languages (`en` for en-us, `zh` for zh-cn)."""

    en: str
    zh: str

    def for_language(self, language: str) -> str:
        return self.zh if language == ZH else self.en


#: Stable finding codes and what they mean (cross-field codes are in fields.RULES).
CODES: dict[str, Text] = {
    "missing": Text("A mandatory field is blank (or a password cell holds ****** copied from a results workbook).",
                    "必填项为空（或密码单元格中是从结果工作簿复制来的******）。"),
    "enum": Text("The value is not one of the allowed values.", "取值不在允许的范围内。"),
    "type": Text("The value is not of the column's type (whole number, true/false), or Excel made it a date.",
                 "取值类型不对（整数、true/false），或被Excel变成了日期。"),
    "range": Text("A number is outside its range (port 1-65535, nodes 1-32, auto-stop days 14-100).",
                  "数值超出范围（端口1-65535，节点数1-32，自动结束天数14-100）。"),
    "length": Text("A text is shorter or longer than allowed (name 4-50, description up to 256).",
                   "文本长度不符合要求（名称4-50个字符，描述最多256个字符）。"),
    "pattern": Text("Characters or a shape the API refuses (name starts with a letter; description without "
                    "!<>'&\"\\).",
                    "包含接口不接受的字符或格式（名称须以字母开头；描述不能包含!<>'&\"\\）。"),
    "uuid": Text("The value is not a UUID.", "取值不是UUID。"),
    "ip": Text("The value is not an IPv4 or IPv6 address.", "取值不是IPv4或IPv6地址。"),
    "base64": Text("The SSL certificate is not valid Base64.", "SSL证书不是有效的Base64。"),
    "tags": Text("Not key=value;..., over 20 tags, a key or value too long or with other characters, "
                 "or a repeated key.",
                 "不是key=value;...格式、超过20个标签、键或值过长或含有其他字符，或键重复。"),
    "enterprise_project": Text("More than one enterprise project, or an invalid one.",
                               "填写了多个企业项目，或企业项目ID无效。"),
    "objects": Text("Objects to replicate are not database[.table] entries separated by ';', a name is too long, "
                    "or an entry is repeated or covered by another.",
                    "迁移对象不是以;分隔的库[.表]条目、名称过长，或条目重复或已被其他条目包含。"),
    "duplicate_name": Text("Another row has the same task name (names are case-insensitive).",
                           "另一行使用了相同的任务名称（名称不区分大小写）。"),
    "env_reference": Text("A password or certificate cell looks like an env:NAME reference but is not a valid one "
                          "(ENV:NAME, env: NAME, env:NAME-X); it is never sent as a password.",
                          "密码或证书单元格看起来像env:NAME引用，但不是有效的引用（ENV:NAME、env: NAME、"
                          "env:NAME-X）；它不会被当作密码提交。"),
    "excel_error": Text("The cell holds an Excel error (#N/A, #REF!, #DIV/0!, #VALUE!, #NAME?, #NUM!, #NULL!), "
                        "as a formula's result or typed; it is never read as blank.",
                        "单元格中是Excel错误值（#N/A、#REF!、#DIV/0!、#VALUE!、#NAME?、#NUM!、#NULL!），"
                        "无论是公式结果还是直接输入；不会被当作空值。"),
    "merged_cells": Text("Merged cells span several task rows; each row needs its own value.",
                         "合并单元格跨越了多个任务行；每一行都需要自己的值。"),
    "hidden_row": Text("The row is hidden (by a filter or by hand); it is still checked and sent.",
                       "该行被隐藏（筛选或手动隐藏）；它仍会被检查和提交。"),
    "formula_no_value": Text("The cell holds a formula with no saved value; type the value instead.",
                             "单元格中的公式没有保存的值；请直接输入值。"),
    "unknown_column": Text("A column the template does not know; it is ignored.", "模板中没有的列；将被忽略。"),
    "stale_template": Text("The workbook was made from another template version, or its catalogue hash differs.",
                           "工作簿来自其他版本的模板，或其字段目录哈希不同。"),
    "default_applied": Text("A blank field was filled with the API's default (task_type: FULL_INCR_TRANS).",
                            "空白字段已填入接口默认值（task_type：FULL_INCR_TRANS）。"),
    "drift": Text("Since its task was created, the row's cells changed (the task was not), or a task this campaign "
                  "created is no longer named in the workbook (renamed or removed row).",
                  "任务创建后该行的单元格有改动（任务本身未改），或本批次创建的任务已不在工作簿中（行被改名或删除）。"),
}

#: Every message a finding can carry, by message id (`code` or `code:variant`), in both
#: languages. Placeholders are `str.format` fields; a `Label` argument is the column's label
#: and a `Message` argument a nested text, each in the language being written.
MESSAGES: dict[str, Text] = {
    # a problem glued to the column's label
    "labelled": Text("{label}: {text}", "{label}：{text}"),
    "value.secret": Text("the value", "该值"),
    "value.blank": Text("blank", "空"),
    # parsing a cell (parse.py)
    "type:date": Text("Excel turned this cell into a date or time; format the column as Text and retype the value",
                      "Excel把此单元格变成了日期或时间；请把该列设为文本格式后重新输入"),
    "type:boolean": Text("{value} is not true or false", "{value}不是true或false"),
    "type:integer": Text("{value} is not a whole number", "{value}不是整数"),
    "missing": Text("{label} is mandatory", "{label}为必填项"),
    "note:retype_secret": Text("The password is not written back ({mask}): type it again, or better write "
                                  "env:NAME to read it from environment variable NAME when sending.",
                                  "密码不会写回（{mask}）：请重新输入，最好写成env:NAME，发送时从环境变量NAME读取。"),
    "note:failed_rows_heading": Text("Failed rows of this campaign: fix them and submit this workbook again",
                                        "本批次的失败行：修改后重新提交本工作簿"),
    "missing:masked": Text("holds {mask}: secrets are masked in results workbooks; type it again or write env:NAME",
                           "内容为{mask}：结果工作簿中的密码已被遮盖；请重新输入，或写成env:NAME"),
    "env_reference": Text("looks like an env:NAME reference but is not a valid one, so it is neither resolved nor "
                          "sent as a password: write env: in lower case, then the variable's name (letters, digits "
                          "and _, not starting with a digit), with no spaces; a literal password cannot start "
                          "with env:",
                          "看起来像env:NAME引用但不是有效的引用，因此既不会被解析，也不会被当作密码提交：请写小写的env:，"
                          "后面紧跟环境变量名（字母、数字和_，不以数字开头），不要有空格；密码本身不能以env:开头"),
    "tags:pair": Text("tag {part} is not key=value; write tags as key=value pairs separated by ';'",
                      "标签{part}不是key=value格式；请写成以;分隔的key=value"),
    "enterprise_project:several": Text(
        "{n} enterprise projects given; a task belongs to one enterprise project at most",
        "填写了{n}个企业项目；一个任务最多属于一个企业项目"),
    "objects:empty_name": Text("entry {entry} has an empty name; write database or database.table, entries "
                               "separated by ';'",
                               "条目{entry}中有空名称；请写成库或库.表，条目之间用;分隔"),
    "objects:levels": Text("entry {entry} has {n} levels; at most database.schema.table (PostgreSQL) or "
                           "database.table",
                           "条目{entry}有{n}级；最多为库.模式.表（PostgreSQL）或库.表"),
    "default_applied": Text("{label} is blank; the API's default {default} is used",
                            "{label}为空；使用接口默认值{default}"),
    "excel_error": Text("{label} holds the Excel error {value}; fix the formula or type the value itself",
                        "{label}中是Excel错误值{value}；请修正公式或直接输入值"),
    # single-cell rules (schema.py)
    "length:between": Text("{label} must be {lo}-{hi} characters long; it has {n}",
                           "{label}的长度须为{lo}-{hi}个字符；当前为{n}个"),
    "length:at_most": Text("{label} must be at most {hi} characters long; it has {n}",
                           "{label}最多{hi}个字符；当前为{n}个"),
    "length:at_least": Text("{label} must be at least {lo} characters long; it has {n}",
                            "{label}至少{lo}个字符；当前为{n}个"),
    "range": Text("{label} must be from {lo} to {hi}; got {value}", "{label}须在{lo}到{hi}之间；当前为{value}"),
    "enum": Text("{label}: {value} is not allowed; use one of: {allowed}",
                 "{label}：不允许{value}；可选值：{allowed}"),
    "pattern:name": Text("{label} may contain only letters, digits, - and _, and must start with a letter",
                         "{label}只能包含字母、数字、-和_，且须以字母开头"),
    "pattern:forbidden": Text("{label} must not contain {bad} (none of {forbidden})",
                                "{label}不能包含{bad}（不能包含{forbidden}中的任何字符）"),
    "uuid": Text("{label}: {value} is not a UUID (like 352ad828-3467-4f03-987a-c55a5a9dd417)",
                 "{label}：{value}不是UUID（格式如352ad828-3467-4f03-987a-c55a5a9dd417）"),
    "ip": Text("{label}: {value} is not an IPv4 or IPv6 address", "{label}：{value}不是IPv4或IPv6地址"),
    "base64": Text("{label} is not valid Base64 (give the certificate content Base64-encoded, or env:NAME)",
                   "{label}不是有效的Base64（请填写Base64编码的证书内容，或env:NAME）"),
    "tags:not_pairs": Text("tags must be key=value pairs separated by ';'", "标签须为以;分隔的key=value"),
    "tags:too_many": Text("{n} tags given; at most {max} are allowed", "填写了{n}个标签；最多允许{max}个"),
    "tags:key_long": Text("tag key {key} is longer than {max} characters", "标签键{key}超过{max}个字符"),
    "tags:key_chars": Text("tag key {key} may contain only letters, digits, - and _",
                           "标签键{key}只能包含字母、数字、-和_"),
    "tags:value_long": Text("value of tag {key} is longer than {max} characters", "标签{key}的值超过{max}个字符"),
    "tags:value_chars": Text("value of tag {key} may contain only letters, digits, - and _",
                             "标签{key}的值只能包含字母、数字、-和_"),
    "tags:repeated": Text("tag key {key} appears more than once", "标签键{key}出现了多次"),
    "objects:name_long": Text("name {name}... in entry {entry} is longer than {max} characters",
                              "条目{entry}中的名称{name}...超过{max}个字符"),
    "objects:twice": Text("entry {entry} is given twice", "条目{entry}重复填写"),
    "objects:covered": Text("entry {entry} is already covered by {by}", "条目{entry}已包含在{by}中"),
    "enterprise_project": Text("{label}: {value} is not one enterprise project ID",
                               "{label}：{value}不是一个有效的企业项目ID"),
    "check_failed": Text("{label}: {code} check failed", "{label}：{code}检查未通过"),
    # cross-field and cross-row rules (schema.py; their statements are fields.RULES)
    "side.source": Text("source", "源库"),
    "side.destination": Text("destination", "目标库"),
    "cross_field.engine_scenario": Text("engine {engine} serves {serves}, not scenario {scenario}",
                                        "引擎{engine}用于{serves}，不能用于场景{scenario}"),
    "cross_field.engine_db_type": Text("engine {engine} needs a {expected} {side}, not {own}",
                                       "引擎{engine}要求{side}为{expected}，而不是{own}"),
    "cross_field.eip_bind": Text("network type eip needs Bind EIP (bind_eip) = true",
                                 "网络类型为eip时，绑定EIP（bind_eip）须为true"),
    "cross_field.dr_no_vpc": Text("network type vpc is not allowed for disaster recovery (cloudDataGuard)",
                                  "灾备场景（cloudDataGuard）不能选择vpc网络"),
    "cross_field.dr_multi_write": Text("Dual-active DR (multi_write) is mandatory for disaster recovery: true for "
                                       "dual-active, false for single-active",
                                       "灾备场景须填写双主灾备（multi_write）：双主为true，单主为false"),
    "cross_field.single_active_task_type": Text("single-active DR (multi_write false) allows only task mode {mode}",
                                                "单主灾备（multi_write为false）只支持迁移模式{mode}"),
    "cross_field.cloud_side_instance": Text("{label} is mandatory for direction {direction} (the {side} is the "
                                            "cloud instance)",
                                            "方向为{direction}时{label}为必填项（{side}是云上实例）"),
    "cross_field.dr_standby_readonly": Text("disaster recovery with direction up (this cloud is the standby) needs "
                                            "Destination read-only (is_target_readonly) = true",
                                            "灾备场景方向为up（本云为备）时，目标库只读（is_target_readonly）须为true"),
    "cross_field.readonly_scope": Text("{label} applies only to a MySQL destination with direction up ({why}); "
                                       "leave it blank",
                                       "{label}仅适用于目标为MySQL且方向为up的任务（{why}）；请留空"),
    "cross_field.readonly_scope:direction": Text("direction is {direction}", "方向为{direction}"),
    "cross_field.readonly_scope:target": Text("the destination is {target}", "目标库为{target}"),
    "cross_field.az_mysql_only": Text("{label} is supported for MySQL engines only ({engines}), not {engine}",
                                      "{label}仅支持MySQL类引擎（{engines}），不支持{engine}"),
    "cross_field.az_pair": Text("{label} takes effect only together with {other}; fill both or neither",
                                "{label}须与{other}同时填写才生效；请都填或都不填"),
    "cross_field.ssl_checksum": Text("{label} is mandatory when the source uses SSL", "源库启用SSL时{label}为必填项"),
    "cross_field.ssl_password_p12": Text("the {side} has an SSL certificate password, which goes with a .p12 "
                                         "certificate, but {label} is {shown}",
                                         "{side}填写了SSL证书密码，这需要.p12证书，但{label}为{shown}"),
    "cross_field.cluster_mode_mongodb": Text("{label} applies to MongoDB endpoints only; the {side} is {kind}",
                                             "{label}仅适用于MongoDB数据库；{side}为{kind}"),
    "cross_field.mongodb_cluster_nodes": Text("a MongoDB source with a cluster mode is a cluster: Nodes / shards "
                                              "(node_num) is mandatory (the number of source shards, 1-32)",
                                              "填写了集群模式的MongoDB源库是集群：节点数（node_num）为必填项"
                                              "（源库分片数，1-32）"),
    "cross_field.objects_depth": Text("{label}: {entries} does not fit engine {engine}, which takes {shape}",
                                      "{label}：{entries}不符合引擎{engine}，该引擎接受{shape}"),
    "cross_field.objects_depth:two": Text("database or database.table", "库或库.表"),
    "cross_field.objects_depth:mongodb": Text("database or database.collection", "库或库.集合"),
    "cross_field.objects_depth:postgresql": Text("database, database.schema or database.schema.table",
                                                 "库、库.模式或库.模式.表"),
    "cross_field.objects_depth:three": Text("database, database.schema or database.table", "库、库.模式或库.表"),
    "cross_field.objects_dr": Text("disaster recovery (cloudDataGuard) replicates the whole instance: leave "
                                   "Objects to replicate (objects) blank",
                                   "灾备（cloudDataGuard）复制整个实例：迁移对象（objects）须留空"),
    "duplicate_name": Text("task name {name} is also used on row {rows} (names are case-insensitive)",
                           "任务名称{name}在第{rows}行也被使用（名称不区分大小写）"),
    "duplicate_name:rows": Text("task name {name} is also used on rows {rows} (names are case-insensitive)",
                                "任务名称{name}在第{rows}行也被使用（名称不区分大小写）"),
    "connection_incomplete": Text("{labels} is blank: the task is still created, but its {side} connection test "
                                  "(bulkimport prepare) cannot run until it is filled in",
                                  "{labels}为空：任务仍会创建，但在填写之前无法运行{side}的连接测试"
                                  "（bulkimport prepare）"),
    "connection_incomplete:many": Text("{labels} are blank: the task is still created, but its {side} connection "
                                       "test (bulkimport prepare) cannot run until they are filled in",
                                       "{labels}为空：任务仍会创建，但在填写之前无法运行{side}的连接测试"
                                       "（bulkimport prepare）"),
    # reading the workbook (workbook reading)
    "unknown_column": Text("column {letter} ({key}) is not a template column; it is kept in copies but ignored",
                           "第{letter}列（{key}）不是模板中的列；它会保留在副本中，但会被忽略"),
    "stale_template:version": Text("the workbook was made from template version {version}, older than this "
                                   "tool's {current}: its rows are still checked with this tool's rules, but its "
                                   "dropdowns, help and highlights are older; for current ones, run `bulkimport "
                                   "template` and paste the rows into the new workbook as values",
                                   "工作簿来自模板版本{version}，早于本工具的{current}：其中的行仍按本工具的规则检查，"
                                   "但下拉列表、帮助和高亮是旧的；如需最新的，请运行`bulkimport template`，"
                                   "再把这些行以“仅粘贴值”的方式粘贴到新工作簿中"),
    "stale_template:newer": Text("the workbook was made from template version {version}, newer than this tool's "
                                 "{current}: its rows are checked with older rules; update bulkimport",
                                 "工作簿来自模板版本{version}，新于本工具的{current}：其中的行会按较旧的规则检查；"
                                 "请更新bulkimport"),
    "stale_template:catalogue": Text("the workbook was made from a template of version {version} whose columns "
                                     "or rules differ from this tool's: its rows are still checked with this "
                                     "tool's rules, but its dropdowns, help and highlights may be out of date; for "
                                     "current ones, run `bulkimport template` and paste the rows into the new "
                                     "workbook as values",
                                     "工作簿来自版本为{version}的模板，其列或规则与本工具不同：其中的行仍按本工具的"
                                     "规则检查，但下拉列表、帮助和高亮可能已过时；如需最新的，请运行`bulkimport "
                                     "template`，再把这些行以“仅粘贴值”的方式粘贴到新工作簿中"),
    "hidden_row": Text("row {row} is hidden (by a filter or by hand); it is checked and sent like every other row",
                       "第{row}行被隐藏（筛选或手动隐藏）；它会和其他行一样被检查和提交"),
    "merged_cells": Text("merged cells {ref}: each row needs its own value; unmerge the cells and type the value "
                         "in every row",
                         "合并单元格{ref}：每一行都需要自己的值；请取消合并，并在每一行输入值"),
    "formula_no_value": Text("cell {cell} holds a formula with no saved value; type the value itself (or open and "
                             "save the file in Excel)",
                             "单元格{cell}中的公式没有保存的值；请直接输入值（或用Excel打开并保存文件）"),
    # what drifted since creation (submit)
    "drift:row": Text("task {name} ({task_id}): {detail}", "任务{name}（{task_id}）：{detail}"),
    "drift:gone": Text("task {name} ({task_id}), created by this campaign, is no longer in the workbook (renamed or "
                       "removed row?); it still exists",
                       "本批次创建的任务{name}（{task_id}）已不在工作簿中（行被改名或删除？）；该任务仍然存在"),
    # how findings are listed
    "warning": Text("Warning: {text}", "警告：{text}"),
    # Notes the tool writes itself into result columns (error_msg) and reports, by `note(...)`:
    # the reasons of submit, status, prepare, start and rollback. A server's message inside
    # one is an argument, never translated; codes and task IDs are arguments too.
    "note:sheet_changed": Text("the sheet no longer matches what was sent: {fields} differ (the task was not "
                               "changed)",
                               "工作表与已发送的内容不再一致：{fields}不同（任务本身未改动）"),
    "note:status_not_asked": Text("task_status not shown ({why}); `bulkimport status` asks for the current one",
                                  "未显示task_status（{why}）；`bulkimport status`会查询当前状态"),
    "note:why_dry_run": Text("dry run: the server was not asked", "试运行：未询问服务端"),
    "note:why_stopped": Text("the run stopped before the server was asked", "运行在询问服务端之前已停止"),
    "note:why_query_failed": Text("the status query failed: {reason}", "状态查询失败：{reason}"),
    "note:why_task_unknown": Text("the server does not know this task now: {reason}",
                                  "服务端目前不知道此任务：{reason}"),
    "note:no_answer": Text("no answer", "无应答"),
    "note:no_status": Text("no status", "无状态"),
    "note:doubt_looked_up": Text("in doubt from an earlier run: it is looked up before sending",
                                 "先前运行的结果存疑：发送前会先查询该任务"),
    "note:not_confirmed": Text("not confirmed: nothing was sent", "未确认：未发送任何请求"),
    "note:no_task": Text("the ledger shows no task created for this row: nothing was done",
                         "台账显示此行没有创建任务：未做任何操作"),
    "note:status_not_in_answer": Text("the server's status answer did not include this task",
                                      "服务端的状态应答中没有此任务"),
    # start
    "note:start_not_created": Text("not created: the ledger shows no task created for this row",
                                   "未创建：台账显示此行没有创建任务"),
    "note:task_unknown": Text("the server does not know this task ({reason})", "服务端不知道此任务（{reason}）"),
    "note:already_started": Text("already started ({status}): not sent again", "已启动（{status}）：不会再次发送"),
    "note:not_configuration": Text("the task is {status}, not CONFIGURATION", "任务状态为{status}，不是CONFIGURATION"),
    "note:precheck_not_passed": Text("pre-check not passed ({what}): run bulkimport prepare first",
                                     "预检查未通过（{what}）：请先运行bulkimport prepare"),
    "note:precheck_never_run": Text("never run", "从未运行"),
    "note:precheck_running": Text("still running", "仍在进行"),
    "note:precheck_not_confirmed": Text("not confirmed started", "未确认已开始"),
    "note:start_recent": Text("a start request was sent {age}s ago and the task is still CONFIGURATION: its outcome "
                              "is not known yet; run start again after {grace}s (it is never sent twice meanwhile)",
                              "启动请求已于{age}秒前发送，任务仍为CONFIGURATION：结果尚不可知；请在{grace}秒后"
                              "再次运行start（在此期间不会重复发送）"),
    "note:start_kept_refusing": Text("not started (the service kept refusing: {reason}); run start again",
                                     "未启动（服务一直拒绝：{reason}）；请再次运行start"),
    "note:no_usable_answer": Text("no usable answer", "无可用应答"),
    "note:answer_left_out": Text("the answer did not include this task", "应答中没有此任务"),
    "note:refused_no_reason": Text("refused without a reason", "被拒绝，未给出原因"),
    "note:start_doubt_unasked": Text("in doubt ({message}) and the status could not be asked: {error}; run start "
                                     "again",
                                     "结果存疑（{message}），且无法查询状态：{error}；请再次运行start"),
    "note:start_doubt_still": Text("in doubt ({message}); the task is still {status}: run start again (it asks the "
                                   "server before sending)",
                                   "结果存疑（{message}）；任务仍为{status}：请再次运行start（发送前会先询问服务端）"),
    # rollback
    "note:already_deleted": Text("already deleted on the server", "服务端上已删除"),
    "note:still_releasing": Text("still {status} after waiting {seconds}s for the release; run rollback again later",
                                 "等待释放{seconds}秒后仍为{status}；请稍后再次运行rollback"),
    "note:rollback_stopped": Text("rollback stopped: {error}", "回滚已停止：{error}"),
    "note:skip_not_created": Text("the workbook does not say CREATED (run status first to confirm it)",
                                  "工作簿中不是CREATED（请先运行status确认）"),
    "note:skip_no_ledger": Text("not in the ledger", "不在台账中"),
    "note:skip_ledger_state": Text("ledger state is {state}", "台账状态为{state}"),
    "note:skip_other_task": Text("the ledger records task {task_id} for this name, not this one",
                                 "台账记录的此名称的任务是{task_id}，不是这个"),
    "note:skip_not_ours": Text("result {result}: not a task this campaign created",
                               "结果为{result}：不是本批次创建的任务"),
    "note:answer_missing_task": Text("the server's answer did not include this task", "服务端的应答中没有此任务"),
    "note:no_reason": Text("no reason given", "未给出原因"),
    "note:stopped": Text("stopped: {error}", "已停止：{error}"),
    # submit's exactly-once engine (a task found by name, retries, refusals)
    "note:created_after": Text("created at {when}, after our request", "创建于{when}，晚于我们的请求"),
    "note:details_unreadable": Text("its details could not be read to compare", "无法读取其详情进行比较"),
    "note:details_unreadable_because": Text("its details could not be read to compare ({error})",
                                            "无法读取其详情进行比较（{error}）"),
    "note:not_what_was_sent": Text("not what this campaign sent ({fields} differ)",
                                   "与本批次发送的内容不同（{fields}不同）"),
    "note:name_taken_by": Text("name taken by task {task_id} ({reason})", "名称已被任务{task_id}占用（{reason}）"),
    "note:name_taken": Text("name already taken by task {ids}", "名称已被任务{ids}占用"),
    "note:doubt_lookup_failed": Text("in doubt and could not be looked up: {error}", "结果存疑且无法查询：{error}"),
    "note:doubt_ambiguous": Text("in doubt and {n} tasks carry this name: {ids}",
                                 "结果存疑，且有{n}个任务使用此名称：{ids}"),
    "note:lookup_failed": Text("{message}; lookup failed: {error}", "{message}；查询失败：{error}"),
    "note:interrupted_before": Text("interrupted before this row was sent", "在发送此行之前被中断"),
    "note:still_refused": Text("not created: still refused after {attempts} attempts in {seconds}s ({reason})",
                               "未创建：{seconds}秒内尝试{attempts}次后仍被拒绝（{reason}）"),
    "note:kept_failing": Text("not created: the server kept failing for {seconds}s ({reason}); a look-up confirmed "
                              "the task does not exist",
                              "未创建：服务端持续失败{seconds}秒（{reason}）；查询已确认该任务不存在"),
    "note:not_created_after": Text("not created after {attempts} attempts", "尝试{attempts}次后仍未创建"),
    "note:no_task_id": Text("the reply carried no task id", "应答中没有任务ID"),
    "note:not_mentioned": Text("the reply did not mention this task", "应答中没有提到此任务"),
    "note:credentials_stop": Text("{reason}; nothing more was sent - fix the credentials and run again",
                                  "{reason}；之后未再发送任何请求——请修正凭证后重新运行"),
    "note:credentials_refused": Text("the server refused the credentials ({detail})", "服务端拒绝了凭证（{detail}）"),
    "note:request_refused": Text("the request was refused", "请求被拒绝"),
    "note:internal_error": Text("stopped after an internal error: {error}", "内部错误后已停止：{error}"),
    "note:internal_error_row": Text("{error}; a re-run looks it up before sending",
                                    "{error}；重新运行时会在发送前先查询"),
    # prepare
    "note:endpoint": Text("{side} database {where}", "{side}{where}"),
    "note:connection_needs": Text("{side} database: the connection test needs {keys} (blank in the workbook)",
                                  "{side}：连接测试需要{keys}（工作簿中为空）"),
    "note:could_not_connect": Text("{endpoint} could not connect: {reason}", "{endpoint}无法连接：{reason}"),
    "note:objects_refused": Text("object selection refused: {reason}", "对象选择被拒绝：{reason}"),
    "note:precheck_not_started": Text("pre-check could not start: {reason}", "预检查无法启动：{reason}"),
    "note:precheck_unreadable": Text("the pre-check result could not be read", "无法读取预检查结果"),
    "note:precheck_warnings": Text("warnings: {items}", "警告：{items}"),
    "note:precheck_failed": Text("pre-check failed: {items}", "预检查未通过：{items}"),
    "note:no_item_named": Text("no item named", "未指明检查项"),
    "note:still_creating": Text("still CREATING: wait for CONFIGURATION (bulkimport status --watch), then run "
                                "prepare again",
                                "仍为CREATING：请等待任务进入CONFIGURATION（bulkimport status --watch），"
                                "然后再次运行prepare"),
    "note:server_unknown_task": Text("the server does not know this task", "服务端不知道此任务"),
    "note:cannot_prepare": Text("the task is {status}: it cannot be prepared", "任务状态为{status}：无法准备"),
    "note:past_configuration": Text("the task is {status}: past CONFIGURATION, not prepared again",
                                    "任务状态为{status}：已过CONFIGURATION阶段，不再准备"),
    "note:row_has_errors": Text("the row has errors, so its task cannot be prepared: {problems}",
                                "该行有错误，因此其任务无法准备：{problems}"),
    "note:precheck_still_running": Text("pre-check still running when prepare stopped waiting; run prepare again",
                                        "prepare停止等待时预检查仍在进行；请再次运行prepare"),
    # the cloud identity fact of a campaign (who acted in the cloud), shown in the report
    "note:identity_simulator": Text("simulator (generated token)", "模拟器（生成的令牌）"),
    "note:identity_iam_user": Text("IAM user {user}", "IAM用户{user}"),
    "note:identity_iam_user_domain": Text("IAM user {user} (domain {domain})", "IAM用户{user}（帐号{domain}）"),
    "note:identity_aksk": Text("AK/SK credentials", "AK/SK访问密钥"),
    "note:identity_token": Text("IAM token (OS_AUTH_TOKEN)", "IAM令牌（OS_AUTH_TOKEN）"),
    # the region fact of a campaign on the simulator (`--simulate`)
    "note:region_simulated": Text("simulated", "模拟器"),
}


@dataclass(frozen=True, slots=True)
class Label:
    """A message argument that is a column: written as its label in the message's language."""

    key: str

    def for_language(self, language: str) -> str:
        f = fields.FIELDS.get(self.key)
        return f.label_for(language) if f is not None else self.key


@dataclass(frozen=True, slots=True)
class Labels:
    """A message argument naming several columns of one endpoint, as a sentence does: en-us
    "Source IP address, user and password" (the side named once), zh-cn the labels joined by 、."""

    keys: tuple[str, ...]

    def for_language(self, language: str) -> str:
        labels = [Label(k).for_language(language) for k in self.keys]
        if language == ZH:
            return "、".join(labels)
        names = labels[:1] + [label.split(" ", 1)[-1] for label in labels[1:]]
        return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


@dataclass(frozen=True, slots=True)
class Message:
    """A message by id (see `MESSAGES`) with its arguments, written in any language on demand."""

    id: str
    args: tuple[tuple[str, object], ...] = ()

    def render(self, language: str = EN) -> str:
        template = MESSAGES[self.id].for_language(language)
        return template.format(**{k: _argument(v, language) for k, v in self.args})

    def __str__(self) -> str:
        return self.render(EN)


def _argument(value: object, language: str) -> object:
    if isinstance(value, Message):
        return value.render(language)
    if isinstance(value, Label | Labels):
        return value.for_language(language)
    return value


def msg(message_id: str, **args: object) -> Message:
    """`Message(message_id, args)`; an unknown id fails here, where the finding is made."""
    if message_id not in MESSAGES:
        raise KeyError(f"no message {message_id!r} in findings.MESSAGES")
    return Message(message_id, tuple(args.items()))


def note(language: str, message_id: str, **args: object) -> str:
    """A note the tool writes itself (a reason in `error_msg`, a fact the report shows), in
    `language`: `msg(message_id, **args)` rendered. Its arguments (server messages, codes,
    task IDs) are written as they are."""
    return msg(message_id, **args).render(language)


def joined(language: str, texts: Iterable[str | None]) -> str | None:
    """Sentences of one cell joined the way `row_errors` joins them ("; ", in zh-cn "；"); None
    when there is none."""
    parts = [t for t in texts if t]
    return ("；" if language == ZH else "; ").join(parts) or None


def retold(text: str, message_ids: Iterable[str], language: str) -> str:
    """`text`, written by one of `message_ids` in any language, told again in `language`; any
    other text as it is. For facts stored once and shown in the report's language (the cloud
    identity of the Summary sheet), which a report rebuilt with `--language` reads back."""
    for message_id in message_ids:
        for template in (MESSAGES[message_id].en, MESSAGES[message_id].zh):
            pattern = "".join(re.escape(literal) + (f"(?P<{name}>.+?)" if name else "")
                              for literal, name, _, _ in _formatter.parse(template))
            found = re.fullmatch(pattern, text)
            if found:
                return note(language, message_id, **found.groupdict())
    return text


def language_of(value: str | None) -> str:
    """A language of `fields.LANGUAGES` (en-us for anything else: blank, unknown, an old workbook)."""
    text = (value or "").strip().lower()
    return text if text in fields.LANGUAGES else EN


#: Codes that never make a row INVALID (cross-field rules carry their own severity).
WARNING_CODES: frozenset[str] = frozenset({"hidden_row", "unknown_column", "stale_template", "default_applied",
                                           "drift"})


def row_errors(findings: Iterable[Finding], language: str = EN) -> dict[int, tuple[str, str]]:
    """Per row, its errors as the result columns show them: (`error_code`: the codes,
    comma-separated, each once; `error_msg`: one sentence per finding in `language`,
    joined by "; ", in zh-cn by "；"). Codes never change with the language."""
    codes: dict[int, dict[str, None]] = {}
    texts: dict[int, list[str]] = {}
    for f in findings:
        if f.row is not None and f.severity == Severity.ERROR:
            codes.setdefault(f.row, {})[f.code] = None
            texts.setdefault(f.row, []).append(f.sentence_for(language))
    separator = "；" if language == ZH else "; "
    return {row: (",".join(codes[row]), separator.join(texts[row])) for row in codes}


@dataclass(frozen=True, slots=True)
class Finding:
    """One problem, on one cell (or one row when `column` is None).

    `message` is the en-us text; `text`, when the finding was made from the catalogue
    (`Finding.of`), writes it in either language (`message_for`, `sentence_for`)."""

    row: int | None  # Excel row number (1-based), None for workbook-level findings
    column: str | None  # catalogue key, or the header of an unknown column
    code: str
    message: str
    severity: Severity = Severity.ERROR
    text: Message | None = field(default=None, compare=False, repr=False)

    @classmethod
    def of(cls, row: int | None, column: str | None, code: str, text: Message,
           severity: Severity = Severity.ERROR) -> Finding:
        """A finding whose message comes from `MESSAGES` (so it can be written in zh-cn too)."""
        return cls(row, column, code, text.render(EN), severity, text)

    def message_for(self, language: str) -> str:
        return self.text.render(language) if self.text is not None and language != EN else self.message

    @property
    def sentence(self) -> str:
        """The finding as one sentence a DBA reads, in en-us (see `sentence_for`)."""
        return self.sentence_for(EN)

    def sentence_for(self, language: str) -> str:
        """The finding as one sentence a DBA reads: the column's label and the problem, once.

        Messages that already start with the label are kept; others get it in front. The
        code and the key are not part of it: they have their own columns.
        """
        message = self.message_for(language)
        f = fields.FIELDS.get(self.column or "")
        if f is None:
            return message
        label = f.label_for(language)
        if message.casefold().startswith(label.casefold()):
            return message
        return msg("labelled", label=label, text=message).render(language)

    def listed_for(self, language: str) -> str:
        """The sentence as a list shows it: a warning says so ("Warning: ...")."""
        sentence = self.sentence_for(language)
        if self.severity == Severity.ERROR:
            return sentence
        return msg("warning", text=sentence).render(language)

    def to_dict(self, language: str = EN) -> dict[str, object]:
        return {"row": self.row, "column": self.column, "code": self.code,
                "message": self.message_for(language), "severity": str(self.severity)}
