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
    "report (JSON): {path}": "报告（JSON）：{path}",
    "wrote {path} ({n} columns, {language}, template version {version})":
        "已写入{path}（{n}列，{language}，模板版本{version}）",
    "interrupted": "已中断",
    "interrupted: finishing the requests in flight (Ctrl-C again to abort)":
        "已中断：正在完成发送中的请求（再按一次Ctrl-C则立即中止）",
    "(no name)": "（无名称）",
    "{tasks} of this campaign is still on the server and not in this workbook's rollback: {names}":
        "本次活动还有{tasks}仍在服务端，且不在此工作簿的回滚范围内：{names}",
    "{tasks} of this campaign are still on the server and not in this workbook's rollback: {names}":
        "本次活动还有{tasks}仍在服务端，且不在此工作簿的回滚范围内：{names}",
    " (this failed-rows workbook rolls back only its own rows)": "（此失败行工作簿只回滚其自身的行）",
    "WARNING: --insecure: TLS certificates are NOT verified; anyone on the network path can impersonate the "
    "endpoint and read the token and database passwords.":
        "警告：--insecure：不验证TLS证书；网络路径上的任何人都可以冒充端点并读取令牌和数据库密码。",
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
    "{rows} will not be started:": "{rows}不会启动：",
    "Start the {tasks} listed above?": "启动上面列出的{tasks}？",
    "{tasks} created by this campaign will be DELETED:": "本次活动创建的{tasks}将被删除：",
    "{rows} with a task ID left alone:": "{rows}有任务ID但不处理：",
    "Delete the {tasks} listed above, in project {project} at {endpoint}?":
        "删除上面列出的{tasks}（{endpoint}上的项目{project}）？",
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
    # errors (errors.Phrase): the en-us templates the code raises, and their zh-cn text
    "{path}: not a results workbook (it has no result column); give the workbook that validate, submit, status or "
    "rollback wrote":
        "{path}：不是结果工作簿（没有result列）；请指定validate、submit、status或rollback写出的工作簿",
    "{path}: no such file": "{path}：文件不存在",
    "{path}: is a directory, not a workbook": "{path}：是文件夹，不是工作簿",
    "{path}: cannot be read ({reason})": "{path}：无法读取（{reason}）",
    "{path}: the file is empty (0 bytes)": "{path}：文件为空（0字节）",
    "{path}: the workbook is password-protected (encrypted); save a copy without a password to open and use that":
        "{path}：工作簿受密码保护（已加密）；请另存一份不带密码的副本并使用该副本",
    "{path}: is a legacy Excel 97-2003 (.xls) file; open it in Excel or LibreOffice and save as .xlsx":
        "{path}：是旧版Excel 97-2003（.xls）文件；请在Excel或LibreOffice中打开并另存为.xlsx",
    "{path}: is not an Excel workbook (it looks like text or CSV); save it as .xlsx":
        "{path}：不是Excel工作簿（看起来是文本或CSV）；请另存为.xlsx",
    "{path}: cannot be read as a workbook: its parts are damaged or it is not an Excel or OpenDocument spreadsheet "
    "(open it in Excel or LibreOffice and save it again)":
        "{path}：无法作为工作簿读取：其内容已损坏，或不是Excel或OpenDocument电子表格（请在Excel或LibreOffice中打开"
        "并重新保存）",
    "{path}: no sheet named {sheet} (sheets: {names})": "{path}：没有名为{sheet}的工作表（现有工作表：{names}）",
    "{path}: no task sheet: no sheet named {jobs} and no sheet with a row of column keys (sheets: {names}); use "
    "--sheet NAME":
        "{path}：没有任务工作表：既没有名为{jobs}的工作表，也没有带列键行的工作表（现有工作表：{names}）；请使用--s"
        "heet "
        "NAME",
    "{path}: several sheets look like task sheets ({listed}): each has a row of column keys; use --sheet NAME to "
    "pick one":
        "{path}：有多个工作表像任务工作表（{listed}）：每个都有列键行；请用--sheet NAME选择其中一个",
    "{path}: sheet {sheet}: column {key} appears twice (columns {first} and {second})":
        "{path}：工作表{sheet}：列{key}出现了两次（第{first}列和第{second}列）",
    "{path}: sheet {sheet}: mandatory column {key} is missing (and {n} more: {more})":
        "{path}：工作表{sheet}：缺少必填列{key}（另有{n}列：{more}）",
    "{path}: sheet {sheet}: mandatory column {key} is missing": "{path}：工作表{sheet}：缺少必填列{key}",
    "{path}: sheet {sheet} cannot be read: its cells are damaged (open the workbook in Excel or LibreOffice and "
    "save it again)":
        "{path}：工作表{sheet}无法读取：其单元格已损坏（请在Excel或LibreOffice中打开工作簿并重新保存）",
    "{path}: sheet {sheet} is empty": "{path}：工作表{sheet}为空",
    "{path}: sheet {sheet} has no key row (a row of column keys such as name, db_use_type, engine_type) in its "
    "first {n} rows":
        "{path}：工作表{sheet}的前{n}行中没有列键行（由name、db_use_type、engine_type等列键组成的一行）",
    "{path}: sheet {sheet} has no task rows below its key row": "{path}：工作表{sheet}的列键行下面没有任务行",
    "{path}: is the input workbook; refusing to overwrite it (choose another --out)":
        "{path}：是输入工作簿；拒绝覆盖（请选择其他--out）",
    "{path}: cannot be read: it is not a complete .xlsx file (a damaged or truncated zip archive)":
        "{path}：无法读取：不是完整的.xlsx文件（zip压缩包已损坏或被截断）",
    "{path}: not a readable workbook (the file is damaged, or not an Excel or OpenDocument spreadsheet)":
        "{path}：不是可读取的工作簿（文件已损坏，或不是Excel或OpenDocument电子表格）",
    "{path}: refusing to overwrite the input workbook; choose another --out path":
        "{path}：拒绝覆盖输入工作簿；请选择其他--out路径",
    "{path}: cannot be written ({reason})": "{path}：无法写入（{reason}）",
    "cannot write {path}: {reason}": "无法写入{path}：{reason}",
    "{label} {path}: {blocker} is a file, not a folder; choose another path":
        "{label} {path}：{blocker}是文件，不是文件夹；请选择其他路径",
    "{label} {path}: cannot write in {folder} ({reason}); choose a writable folder":
        "{label} {path}：无法在{folder}中写入（{reason}）；请选择可写的文件夹",
    "{label} {path} is a folder; give a file name": "{label} {path}是文件夹；请给出文件名",
    "{label} {path} exists and is not a workbook; not replacing it (choose another path, or --force)":
        "{label} {path}已存在且不是工作簿；不会替换它（请选择其他路径，或使用--force）",
    "{label} {path} holds {n} filled task row(s) and no result columns: it is an operator's workbook, not one of "
    "this tool's outputs; not replacing it (choose another path, or --force)":
        "{label} "
        "{path}有{n}行已填写的任务行且没有结果列：这是操作员的工作簿，不是本工具的输出；不会替换它（请选择其他路径"
        "，或使用--force）",
    "{label} {path}: cannot be read ({reason})": "{label} {path}：无法读取（{reason}）",
    "{label} {path} is not a SQLite database; choose another path": "{label} {path}不是SQLite数据库；请选择其他路径",
    "{label} {path} is the input workbook; refusing to overwrite it (choose another path)":
        "{label} {path}是输入工作簿；拒绝覆盖（请选择其他路径）",
    "{label} and {other} are the same path ({path}); each output needs its own":
        "{label}和{other}是同一路径（{path}）；每个输出都需要自己的路径",
    "{label} {path}: the name must end in {allowed}": "{label} {path}：文件名必须以{allowed}结尾",
    "{label} {path} is a file, not a folder; choose another path": "{label} {path}是文件，不是文件夹；请选择其他路径",
    "{label} {path}: the file is not writable; choose another path": "{label} {path}：文件不可写；请选择其他路径",
    "ledger in use by another bulkimport run (pid {pid}): {path}":
        "台账正被另一个bulkimport运行使用（pid {pid}）：{path}",
    "{path}: ledger schema {schema} is newer than this tool ({ours})":
        "{path}：台账结构版本{schema}比本工具的（{ours}）更新",
    "{path}: not a usable ledger ({reason})": "{path}：不是可用的台账（{reason}）",
    "the ledger {path} is not this workbook's: it belongs to campaign {theirs}, the workbook to campaign {ours}; "
    "give the campaign's --ledger PATH":
        "台账{path}不属于此工作簿：它属于活动{theirs}，而工作簿属于活动{ours}；请用--ledger PATH指定该活动的台账",
    "{path} records {what} {recorded}, but this run would use {chosen}; check --endpoint/--region/--project-id (or "
    "add --force)":
        "{path}记录的{what}是{recorded}，但本次运行将使用{chosen}；请检查--endpoint/--region/--project-id（或加上--"
        "force）",
    "the endpoint": "端点",
    "the project": "项目",
    "{path}: this campaign ran on the simulator; add --simulate (and --simulator-state PATH)":
        "{path}：此活动是在模拟器上运行的；请加上--simulate（以及--simulator-state PATH）",
    "give --endpoint URL or --region REGION: there is no campaign ledger at {path} to take it from (a workbook "
    "never decides where credentials go)":
        "请指定--endpoint URL或--region REGION：{path}处没有可供读取的活动台账（工作簿从不决定凭据发往何处）",
    "give --endpoint URL or --region REGION: the ledger {path} has sent to several endpoints":
        "请指定--endpoint URL或--region REGION：台账{path}已向多个端点发送过请求",
    "give --endpoint URL or --region REGION: the ledger {path} has sent nothing yet":
        "请指定--endpoint URL或--region REGION：台账{path}尚未发送过任何请求",
    "--simulator-state needs --simulate": "--simulator-state需要与--simulate一起使用",
    "--ca-bundle {path}: no such file": "--ca-bundle {path}：文件不存在",
    "TLS to {url} failed, the certificate cannot be verified ({reason}); give the CA with --ca-bundle PATH (or "
    "--insecure for a test endpoint you trust); nothing was sent":
        "到{url}的TLS连接失败，证书无法验证（{reason}）；请用--ca-bundle "
        "PATH指定CA（或对可信的测试端点使用--insecure）；没有发送任何请求",
    "{what} {url} is plain http:// to another machine: credentials would travel unencrypted; use https:// (or "
    "--insecure for a test endpoint you trust)":
        "{what} "
        "{url}是发往其他机器的明文http://：凭据将以未加密方式传输；请使用https://（或对可信的测试端点使用--insecure"
        "）",
    "{name} is empty": "{name}为空",
    "{name} must be an http:// or https:// URL": "{name}必须是http://或https:// URL",
    "IAM password login needs a project: set --project-id, {id_var} or {name_var}":
        "IAM密码登录需要项目：请设置--project-id、{id_var}或{name_var}",
    "give --project-id or set {name}": "请指定--project-id或设置{name}",
    "the project id may hold only letters, digits, '-' and '_' (at most 64)":
        "项目ID只能包含字母、数字、'-'和'_'（最多64个字符）",
    "IAM password login is incomplete: set {names}": "IAM密码登录信息不完整：请设置{names}",
    "AK/SK signing needs both {ak} and {sk}": "AK/SK签名需要同时设置{ak}和{sk}",
    "no credentials: set {token}; or {password} and {domain}; or {ak} and {sk}":
        "没有凭据：请设置{token}；或设置{password}和{domain}；或设置{ak}和{sk}",
    "{ak} and {sk} must both be set": "{ak}和{sk}必须同时设置",
    "IAM at {url} refused the password login of user {user} in domain {domain} ({detail})":
        "{url}处的IAM拒绝了域{domain}中用户{user}的密码登录（{detail}）",
    "--region {region} is not a region id (like eu-de or ap-southeast-1); known: {known}":
        "--region {region}不是区域ID（例如eu-de或ap-southeast-1）；已知区域：{known}",
    "give --endpoint URL or --region REGION (or --simulate)": "请指定--endpoint URL或--region REGION（或--simulate）",
    "{where}: refers to environment variable {name}, which is not set": "{where}：引用的环境变量{name}未设置",
    "{where}: refers to environment variable {name}, which is set but empty":
        "{where}：引用的环境变量{name}已设置但为空",
    "no ledger at {path}: prepare works on the tasks the ledger shows this tool created (give --ledger PATH, the "
    "one submit used)":
        "{path}处没有台账：prepare只处理台账显示由本工具创建的任务（请用--ledger PATH指定submit使用的台账）",
    "{path}: the ledger shows no task created for any row of this workbook":
        "{path}：台账显示此工作簿的任何一行都没有创建任务",
    "concurrency must be between 1 and {most}, not {n}": "并发数必须在1到{most}之间，而不是{n}",
    "no ledger at {path}: start works on the tasks the ledger shows this tool created and pre-checked (give "
    "--ledger PATH)":
        "{path}处没有台账：start只处理台账显示由本工具创建并已预检查的任务（请用--ledger PATH指定）",
    "--at {at}: not a time; write ISO 8601 such as 2026-12-01T22:00 (UTC) or 2026-12-01T23:00+01:00":
        "--at {at}：不是时间；请按ISO 8601书写，例如2026-12-01T22:00（UTC）或2026-12-01T23:00+01:00",
    "--at {at} is in the past ({utc}); leave --at out to start now": "--at {at}已经过去（{utc}）；要立即启动请省略--at",
    "no ledger at {path}: rollback deletes only tasks the ledger shows this tool created (give --ledger PATH)":
        "{path}处没有台账：rollback只删除台账显示由本工具创建的任务（请用--ledger PATH指定）",
    "the ledger {path} knows none of the {tasks} of {name} for project {project} at {endpoint}: it belongs to "
    "another campaign; give the campaign's --ledger":
        "台账{path}不知道{name}中端点{endpoint}上项目{project}的任何已创建任务（{tasks}）：它属于另一个活动；请用--"
        "ledger指定该活动的台账",
    "{path}: no created task (a CREATED row with a task_id) in this workbook":
        "{path}：此工作簿中没有已创建的任务（带task_id的CREATED行）",
    "start starts replication: nothing was started; confirm with --yes when stdin is not a terminal":
        "start会启动复制：没有启动任何任务；标准输入不是终端时请用--yes确认",
    "rollback deletes tasks: confirm with --yes when stdin is not a terminal":
        "rollback会删除任务：标准输入不是终端时请用--yes确认",
    "give --endpoint URL, --region REGION or --simulate (or --os-cloud NAME with a region_name)":
        "请指定--endpoint URL、--region REGION或--simulate（或带region_name的--os-cloud NAME）",
    "--simulate sends to a local simulator: leave out --endpoint and --region":
        "--simulate发送到本地模拟器：请省略--endpoint和--region",
    "--endpoint {url} is not a valid URL (check the brackets around an IPv6 address)":
        "--endpoint {url}不是有效的URL（请检查IPv6地址两边的方括号）",
    "--endpoint {url} must be an http:// or https:// URL with a host":
        "--endpoint {url}必须是带主机名的http://或https:// URL",
    "--endpoint {url} must not carry a query or fragment": "--endpoint {url}不能带查询参数或片段",
    "--endpoint must not carry user credentials; use the environment variables":
        "--endpoint不能包含用户凭据；请使用环境变量",
    "--endpoint {url} has an invalid port": "--endpoint {url}的端口无效",
    "--ca-bundle {path} is not a PEM file of CA certificates (no BEGIN CERTIFICATE block)":
        "--ca-bundle {path}不是CA证书的PEM文件（没有BEGIN CERTIFICATE块）",
    "--ca-bundle {path} is not a PEM file of CA certificates TLS can load ({reason})":
        "--ca-bundle {path}不是TLS可加载的CA证书PEM文件（{reason}）",
    "{what} {url} is not a usable URL ({reason})": "{what} {url}不是可用的URL（{reason}）",
    "CA bundle {path} does not exist": "CA证书包{path}不存在",
    "unknown template language {language} (choose from {languages})": "未知的模板语言{language}（可选：{languages}）",
    "{path}: the template must be an .xlsx file": "{path}：模板必须是.xlsx文件",
    "{path} is a directory": "{path}是文件夹",
    "language must be one of {languages}, not {language}": "语言必须是{languages}之一，而不是{language}",
    "max attempts must be at least 1": "最大尝试次数至少为1",
    "{name} must be a finite number of seconds above 0, not {value}": "{name}必须是大于0的有限秒数，而不是{value}",
    "{name} must be a finite number of seconds from 0, not {value}": "{name}必须是不小于0的有限秒数，而不是{value}",
    "batch size must be between 1 and {most}, not {n}": "批大小必须在1到{most}之间，而不是{n}",
    "IAM at {url} could not be reached ({reason})": "无法连接{url}处的IAM（{reason}）",
    "IAM at {url} answered HTTP {status}": "{url}处的IAM返回HTTP {status}",
    "{path}: refused: the archive holds {n} files (a workbook has a few dozen; the limit is {most})":
        "{path}：已拒绝：压缩包内有{n}个文件（工作簿通常只有几十个；上限为{most}）",
    "{path}: refused as a zip bomb: {why}; a real workbook is far smaller (see docs/validation.md for the limits)":
        "{path}：被当作zip炸弹拒绝：{why}；真实的工作簿要小得多（限制见docs/validation.md）",
    "{path}: cannot be read: {member} inside it is encrypted": "{path}：无法读取：其中的{member}已加密",
    "{path}: cannot be read: {member} inside it uses compression method {method}, which Excel and LibreOffice "
    "never write":
        "{path}：无法读取：其中的{member}使用了压缩方法{method}，Excel和LibreOffice从不使用这种方法",
    "{path}: refused: a sheet's data spans {rows} rows and {columns} columns ({cells} cells; the limit is {most}): "
    "delete the stray cells far below or to the right of your data":
        "{path}：已拒绝：某个工作表的数据跨越{rows}行、{columns}列（{cells}个单元格；上限为{most}）：请删除数据下方"
        "或右侧很远处的零散单元格",
    "--os-cloud / OS_CLOUD needs the openstacksdk package (pip install openstacksdk)":
        "--os-cloud / OS_CLOUD需要openstacksdk包（pip install openstacksdk）",
    "--os-cloud {name}: no readable clouds.yaml (looked in {files}, ...; OS_CLIENT_CONFIG_FILE names another)":
        "--os-cloud {name}：没有可读取的clouds.yaml（已查找{files}等；可用OS_CLIENT_CONFIG_FILE指定其他文件）",
    "--os-cloud {name}: no such cloud in {file}": "--os-cloud {name}：{file}中没有此云",
    "--os-cloud {name}: cannot read clouds.yaml ({kind}: {reason})":
        "--os-cloud {name}：无法读取clouds.yaml（{kind}：{reason}）",
    "--os-cloud {name}: clouds.yaml is not valid ({reason})": "--os-cloud {name}：clouds.yaml无效（{reason}）",
    "--os-cloud {name}: auth_type token needs auth.token in {file}":
        "--os-cloud {name}：auth_type token需要{file}中的auth.token",
    "--os-cloud {name}: the cloud in {file} lacks {keys} (needed for an IAM password login)":
        "--os-cloud {name}：{file}中的云缺少{keys}（IAM密码登录需要）",
    "{operation} failed: {detail}: {message}": "{operation}失败：{detail}：{message}",
    "{operation} failed: {detail}": "{operation}失败：{detail}",
    # the companion calls a DrsError names (drs/client.py)
    "{operation} (after {attempts} attempts)": "{operation}（尝试{attempts}次后）",
    "DRS API call": "DRS API调用",
    "listing {scenario} tasks": "列出{scenario}任务",
    "querying task status": "查询任务状态",
    "querying task details": "查询任务详情",
    "deleting tasks": "删除任务",
    "testing connections": "测试连接",
    "selecting objects": "选择迁移对象",
    "starting pre-checks": "启动预检查",
    "querying pre-check results": "查询预检查结果",
    "querying task progress": "查询任务进度",
    "could not write the {what} ({reason}); the ledger {ledger} holds every outcome: {rebuild}":
        "无法写入{what}（{reason}）；台账{ledger}保存了所有结果：{rebuild}",
    "could not write the {what} ({reason}); nothing was lost on the server: {rebuild}":
        "无法写入{what}（{reason}）；服务端没有丢失任何内容：{rebuild}",
    "results workbook and report": "结果工作簿和报告",
    "run the same command again to write them": "再次运行同一命令即可写出它们",
    "run rollback again to write them (deleted tasks are found deleted)":
        "再次运行rollback即可写出它们（已删除的任务会被识别为已删除）",
    "run the same status command again to write them": "再次运行同一status命令即可写出它们",
    "run the same command again to write the results (created rows come back as ALREADY_CREATED; nothing is sent "
    "twice)":
        "再次运行同一命令即可写出结果（已创建的行会显示为ALREADY_CREATED；不会重复发送）",
    # errors: end
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


def say(language: str, text: str, /, **args: object) -> str:
    """`text` (en-us, a `str.format` template) in `language`, filled in with `args`."""
    template = _ZH.get(text, text) if language == "zh-cn" else text
    return template.format(**args)


def translate(language: str, text: str) -> str:
    """`text` in `language` when it is one of the terminal's own texts, taken as it is (no
    placeholders filled): for a line already made (a progress label, a run's closing message)."""
    return _ZH.get(text, text) if language == "zh-cn" else text


def labelled(language: str, label: str, value: object) -> str:
    """`results: PATH` (en-us) / `结果工作簿：PATH` (zh-cn): a closing line's label said in the
    language, with the colon zh-cn text uses (the other zh-cn lines, `报告：…`, have it too)."""
    return f"{say(language, label)}{'：' if language == 'zh-cn' else ': '}{value}"


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
