"""Outputs a DBA can act on and a lead can sign without being misled (issue 11): rehearsals
marked, failed tasks looking failed, result columns in view, one sentence per finding, a
report that says what it is about."""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path

import openpyxl
import pytest
from fixtures.html_tree import parse
from test_report import make_campaign, make_results_workbook, random_rows

from bulkimport.campaign import file_sha256
from bulkimport.report import (
    build_report,
    css_string,
    duration_text,
    outcome_line,
    readable_time,
    render_html,
    summarise,
    summary_sheet_rows,
)
from bulkimport.results_book import row_tint

CREATED_OK = {"source_row": 3, "name": "wave1-ok", "result": "CREATED", "task_id": "aaaa-1111-jb01",
              "task_status": "CONFIGURATION", "db_use_type": "migration", "engine_type": "mysql"}
CREATED_FAILED = {"source_row": 4, "name": "wave1-broken", "result": "CREATED", "task_id": "bbbb-2222-jb01",
                  "task_status": "CREATE_FAILED", "error_code": "DRS.M05004",
                  "error_msg": "The source database cannot be reached.", "db_use_type": "migration",
                  "engine_type": "mysql"}
PENDING = {"source_row": 5, "name": "wave1-slow", "result": "CREATED", "task_id": "cccc-3333-jb01",
           "task_status": "CREATING", "db_use_type": "sync", "engine_type": "mysql"}
REJECTED = {"source_row": 6, "name": "wave1-taken", "result": "REJECTED", "error_code": "DRS.M00277",
            "error_msg": "The task name already exists.", "db_use_type": "sync", "engine_type": "postgresql"}
INVALID = {"source_row": 7, "name": "wave1-typo", "result": "INVALID", "error_code": "enum",
           "error_msg": "Engine: mysqll is not allowed", "db_use_type": "migrate", "engine_type": "mysqll"}
ROWS = [CREATED_OK, CREATED_FAILED, PENDING, REJECTED, INVALID]


# -- 1. rehearsals ------------------------------------------------------------------------------

@pytest.mark.parametrize(("facts", "banner"), [
    ({"dry_run": "true"}, "DRY RUN \u2014 nothing was sent"),
    ({"endpoint": "http://simulator.localhost"}, "REHEARSAL \u2014 nothing was created"),
])
def test_a_rehearsal_report_says_so_and_cannot_be_signed(facts: dict, banner: str) -> None:
    summary = summarise(replace(make_campaign(), **facts), ROWS)
    page = parse(render_html(summary))
    assert page.find("title").text.startswith(banner)
    assert page.find("h1").text.startswith(banner)
    assert banner in page.by_id("rehearsal").text
    signoff = page.by_id("signoff")
    assert "cannot be signed" in signoff.text
    assert not signoff.find_all("td", class_="sig") and "Signature" not in signoff.text
    sheet = summary_sheet_rows(summary)
    assert sheet[1] == [banner] and sheet.styles[1] == "banner" and sheet.active


def test_a_real_campaign_has_no_banner_and_a_signoff_with_a_decision() -> None:
    page = parse(render_html(summarise(make_campaign(), ROWS)))
    assert page.by_id("rehearsal") is None
    signoff = page.by_id("signoff")
    assert len(signoff.find_all("td", class_="sig")) == 3
    assert [d.text for d in signoff.find_all("td", class_="decision")] == ["\u2610 approved \u2610 rejected"] * 3
    assert "Comments" in signoff.text and len(signoff.find_all("div", class_="line")) >= 3


def test_a_rehearsal_results_workbook_opens_on_its_banner(tmp_path: Path) -> None:
    results = make_results_workbook(tmp_path, random_rows(8), replace(make_campaign(), dry_run="true"))
    wb = openpyxl.load_workbook(results)
    assert wb.active.title == "Summary"
    summary = wb["Summary"]
    assert summary["A2"].value == "DRY RUN \u2014 nothing was sent"
    assert summary["A2"].font.b and summary["A2"].fill.fgColor.rgb.endswith("C62828")
    assert wb["Jobs"].sheet_properties.tabColor.rgb.endswith("C62828")
    assert "DRY RUN" in wb["Jobs"].oddHeader.center.text


def test_a_real_results_workbook_opens_on_its_tasks(tmp_path: Path) -> None:
    wb = openpyxl.load_workbook(make_results_workbook(tmp_path, random_rows(8), make_campaign()))
    assert wb.active.title == "Jobs"
    assert not any(str(c.value or "").startswith(("DRY RUN", "REHEARSAL")) for c in wb["Summary"]["A"])


# -- 2. a task that failed after creation looks failed --------------------------------------------

def test_failed_tasks_come_first_with_the_services_reason() -> None:
    page = parse(render_html(summarise(make_campaign(), ROWS)))
    sections = [s.attrs.get("id") for s in page.find_all("section") if s.attrs.get("id")]
    assert sections.index("failed") < sections.index("created") < sections.index("not-created-rows")
    assert page.by_id("failed").find("h2").text == "Tasks failed (1)"
    (failed,) = page.by_id("tasks-failed").rows()
    assert failed[1:4] == ["wave1-broken", "bbbb-2222-jb01", "CREATE_FAILED"]
    assert failed[-2:] == ["DRS.M05004", "The source database cannot be reached."]
    created_names = [r[1] for r in page.by_id("tasks").rows()]
    assert created_names == ["wave1-ok", "wave1-slow"]  # the failed one is not listed as created


def test_tiles_colour_failed_and_pending() -> None:
    page = parse(render_html(summarise(make_campaign(), ROWS)))
    tiles = {t.find("div", class_="l").text: t for t in page.find_all("div", class_="tile")}
    assert "bad" in tiles["Tasks failed"].classes and tiles["Tasks failed"].find("div", class_="n").text == "1"
    assert "warn" in tiles["Tasks pending"].classes
    assert tiles["Tasks created"].find("div", class_="n").text == "2"
    quiet = parse(render_html(summarise(make_campaign(), [CREATED_OK])))
    tiles = {t.find("div", class_="l").text: t for t in quiet.find_all("div", class_="tile")}
    assert tiles["Tasks failed"].classes == {"tile"}


@pytest.mark.parametrize(("result", "status", "colour"), [
    ("CREATED", "CREATE_FAILED", "#FFC7CE"), ("ALREADY_CREATED", "INCRE_TRANSFER_FAILED", "#FFC7CE"),
    ("CREATED", "CREATING", "#FFEB9C"), ("CREATED", "CONFIGURATION", "#C6EFCE"), ("CREATED", None, "#C6EFCE"),
    ("REJECTED", None, "#FFC7CE"), ("DELETED", "DELETED", "#C6EFCE"),
])
def test_row_colour_follows_the_tasks_health(result: str, status: str | None, colour: str) -> None:
    assert row_tint(result, status) == colour


def test_results_workbook_rules_colour_failed_tasks_red(tmp_path: Path) -> None:
    results = make_results_workbook(tmp_path, [{k: v for k, v in r.items() if k != "source_row"} for r in ROWS],
                                    make_campaign())
    ws = openpyxl.load_workbook(results)["Jobs"]
    keys = [c.value for c in ws[2]]
    status_col = openpyxl.utils.get_column_letter(keys.index("task_status") + 1)
    rules = {rule.dxf.fill.bgColor.rgb[-6:]: rule.formula[0] for cf in ws.conditional_formatting for rule in cf.rules}
    assert f'RIGHT(${status_col}3,7)="_FAILED"' in rules["FFC7CE"]
    assert f'${status_col}3="CREATING"' in rules["FFEB9C"]
    assert "NOT(" in rules["C6EFCE"]  # green only when the task has not failed


# -- 3. the task and its result in view ---------------------------------------------------------

def test_summary_sheet_is_readable_as_opened(tmp_path: Path) -> None:
    wb = openpyxl.load_workbook(make_results_workbook(tmp_path, random_rows(20), make_campaign()))
    ws = wb["Summary"]
    assert ws["A1"].value.startswith("DRS bulk import") and ws["A1"].font.b
    assert ws.column_dimensions["A"].width >= 28 and ws.column_dimensions["B"].width >= 64
    sections = [c.value for c in ws["A"] if c.font.b and c.font.sz and c.font.sz >= 12]
    assert "Campaign facts" in sections and "Counts" in sections
    counts = [c for c in ws["B"] if isinstance(c.value, int)]
    assert counts and all(c.number_format == "#,##0" for c in counts)


# -- 4. one finding, one sentence --------------------------------------------------------------

def test_invalid_enum_values_are_not_scenarios_or_engines() -> None:
    counts = summarise(make_campaign(), ROWS).counts
    assert "migrate" not in counts.by_scenario and "mysqll" not in counts.by_engine
    assert counts.by_scenario["(invalid value)"].rows == 1
    assert counts.by_engine["(invalid value)"].rows == 1


def test_reasons_keep_the_code_in_its_own_column() -> None:
    page = parse(render_html(summarise(make_campaign(), ROWS)))
    rows = {r[1]: r for r in page.by_id("not-created").rows()}
    assert rows["wave1-taken"][3:] == ["DRS.M00277", "The task name already exists."]


# -- 5. each report says what it is about ---------------------------------------------------------

def test_outcome_line_at_the_top() -> None:
    summary = summarise(make_campaign(), ROWS)
    assert outcome_line(summary) == "5 rows: 2 created (1 still creating), 1 failed after creation, 2 not created"
    page = parse(render_html(summary))
    assert page.by_id("outcome").text == summary.outcome
    one = summarise(make_campaign(), [CREATED_OK])
    assert one.outcome == "1 row: 1 created, 0 not created"


def test_a_rollback_report_reads_as_a_rollback() -> None:
    campaign = replace(make_campaign(), command="submit, status, rollback", step="rollback",
                       step_at="2026-11-21T10:00:00+00:00", step_by="dba2")
    rows = [{**CREATED_OK, "result": "DELETED", "task_status": "DELETED"},
            {**CREATED_FAILED, "result": "DELETE_FAILED", "error_msg": "still releasing"},
            REJECTED]
    summary = summarise(campaign, rows)
    page = parse(render_html(summary))
    assert page.find("h1").text == "DRS bulk import \u2014 rollback report"
    tiles = {t.find("div", class_="l").text: t.find("div", class_="n").text
             for t in page.find_all("div", class_="tile")}
    assert tiles == {"Rows": "3", "Tasks deleted": "1", "Failed to delete": "1", "Rows not touched": "1"}
    assert "Tasks created" not in page.text
    assert page.by_id("delete-failed").find("h2").text == "Tasks that failed to delete (1)"
    assert summary.outcome == "3 rows: 1 task deleted, 1 failed to delete, 1 not touched"
    assert "2026-11-21 10:00:00 UTC by dba2" in page.find("p", class_="sub").text


def test_facts_are_readable_with_duration_identity_and_results_file(tmp_path: Path) -> None:
    campaign = replace(make_campaign(), cloud_user="IAM user dba-bot (domain acme)")
    results = make_results_workbook(tmp_path, random_rows(10), campaign)
    files = build_report(results, out_dir=tmp_path / "rep")
    page = parse(files.html.read_text(encoding="utf-8"))
    facts = {td.attrs["data-fact"]: td.text for td in page.find_all("td") if "data-fact" in td.attrs}
    assert facts["started_at"] == "2026-11-20 09:00:00 UTC"
    assert facts["duration"] == "4 min 10 s"
    assert facts["cloud_user"] == "IAM user dba-bot (domain acme)"
    assert facts["operator"] == "dba1"
    assert facts["results_file"] == results.name
    assert facts["results_sha256"] == file_sha256(results)


def test_printed_pages_are_numbered_under_a_running_header() -> None:
    page = render_html(summarise(make_campaign(), ROWS))
    style = parse(page).find("style").text
    assert re.search(r'@bottom-right\s*{\s*content:\s*"Page " counter\(page\) " of " counter\(pages\)', style)
    assert re.search(r"@top-left\s*{\s*content:\s*\"wave7\\2e xlsx\"|@top-left\s*{\s*content:\s*\"wave7.xlsx\"",
                     style)
    assert "0f0f0f0f" in style.split("@top-right")[1].split("}")[0]


def test_css_strings_cannot_break_out_of_the_style() -> None:
    text = css_string('a"b</style><script>x</script>\\')
    assert '"' not in text[1:-1] and "<" not in text and ">" not in text and "\\\\" not in text


def test_times_and_durations() -> None:
    assert readable_time("2026-11-20T09:00:00+00:00") == "2026-11-20 09:00:00 UTC"
    assert readable_time("not a time") == "not a time"
    assert duration_text("2026-11-20T09:00:00+00:00", "2026-11-20T11:05:00+00:00") == "2 h 5 min"
    assert duration_text("2026-11-20T09:00:00+00:00", "") == ""


# -- 2. status: failed rows named on the terminal and written to their own workbook ------------------

def test_status_names_failed_tasks_and_writes_them_to_a_failed_rows_workbook(tmp_path: Path) -> None:
    import json

    from click.testing import CliRunner
    from fixtures.campaign import PROJECT, create_tasks, record_created, write_results_workbook

    from bulkimport.cli.status import command as status_command
    from bulkimport.drs import TokenAuth
    from bulkimport.simulator import FaultConfig, Simulator
    from bulkimport.target import Target

    token = "outputs-test-token-1"
    with Simulator(token=token, faults=FaultConfig(transition_delay=0.05)) as sim:
        target = Target(endpoint=sim.base_url, ledger_endpoint=sim.base_url, project_id=PROJECT,
                        auth=TokenAuth(token), ledger_path=tmp_path / "ledger.sqlite")
        good = create_tasks(sim, ["good-1", "good-2"])
        bad = create_tasks(sim, [f"bad-{i:02d}" for i in range(25)], fail=True)
        ids = {**good, **bad}
        record_created(target, ids)
        rows = [{"name": n, "result": "CREATED", "task_id": i, "task_status": "CREATING"} for n, i in ids.items()]
        results = write_results_workbook(tmp_path, rows, target)
        args = [str(results), "--ledger", str(target.ledger_path), "--report-dir", str(tmp_path / "rep"),
                "--out", str(tmp_path / "s.xlsx"), "--watch", "--interval", "0.05", "--timeout", "20", "-q",
                "--json"]
        result = CliRunner().invoke(status_command, args, standalone_mode=False, env={"OS_AUTH_TOKEN": token})
    assert result.exception is None, result.output
    assert result.return_value == 1
    err = result.stderr
    assert "25 tasks failed after creation:" in err
    listed = re.findall(r"row +\d+  (bad-\d\d)", err)
    assert listed == [f"bad-{i:02d}" for i in range(20)]  # a screenful ...
    assert "... and 5 more" in err  # ... then how many more
    assert "CREATE_FAILED" in err
    failed_path = tmp_path / "s-failed.xlsx"
    assert json.loads(result.stdout)["failed_workbook"] == str(failed_path)
    assert f"bulkimport rollback {failed_path}" in err and f"bulkimport submit {failed_path}" in err
    ws = openpyxl.load_workbook(failed_path)["Jobs"]
    keys = [c.value for c in ws[2]]
    names = [ws.cell(r, keys.index("name") + 1).value for r in range(3, ws.max_row + 1)]
    assert names == sorted(bad)
    assert {ws.cell(r, keys.index("task_status") + 1).value for r in range(3, ws.max_row + 1)} == {"CREATE_FAILED"}


# -- 8. the terminal says what will and did happen ----------------------------------------------

class _Notes:
    """A Progress that keeps its notes, to see what the operator was told and when."""

    def __init__(self) -> None:
        self.notes: list[str] = []

    def start(self, total: int, label: str) -> None:
        pass

    def update(self, done: int, counts: object) -> None:
        pass

    def note(self, text: str) -> None:
        self.notes.append(text)

    def finish(self) -> None:
        pass


def test_submit_lists_invalid_rows_before_the_prompt_and_rejected_rows_after(tmp_path: Path) -> None:
    from test_submit import env, make_book, options, task_row

    from bulkimport.simulator import Simulator
    from bulkimport.submit import not_created_lines, submit_workbook

    rows = [task_row("good-row-1"), task_row("bad"), *[task_row(f"w{i:02d}", **{"source_endpoint.db_port": 0})
                                                        for i in range(22)], task_row("taken-name")]
    progress = _Notes()
    seen_at_prompt: list[str] = []
    with Simulator() as sim:
        import requests
        from test_submit import PROJECT, _wire_job
        requests.post(f"{sim.base_url}/v3/{PROJECT}/jobs/batch-creation", headers={"X-Auth-Token": sim.token},
                      json={"jobs": [_wire_job("Taken-Name")]}, timeout=10)
        outcome = submit_workbook(make_book(tmp_path / "in.xlsx", rows), options(sim, tmp_path), env=env(sim),
                                  progress=progress,
                                  confirm=lambda plan: seen_at_prompt.extend(progress.notes) or True)
    assert seen_at_prompt[0] == "23 rows invalid, not sent (see the results workbook's Findings sheet):"
    assert re.match(r"  row +4  bad +Task name must be 4-50 characters long", seen_at_prompt[1])
    assert seen_at_prompt[21] == "  ... and 3 more"
    assert any(n.startswith("plan: 2 tasks to create") for n in seen_at_prompt)
    after = not_created_lines(outcome)
    assert after[0] == "1 row not created (rejected, unknown or not sent):"
    assert "taken-name" in after[1] and "REJECTED: " in after[1]


def test_rollback_plan_fits_the_terminal_and_the_prompt_names_the_target(tmp_path: Path) -> None:
    from bulkimport.rollback import RollbackItem, RollbackPlan, Skipped, confirm_question, plan_lines
    from bulkimport.target import Target

    long_name = "a-really-long-task-name-that-fills-fifty-chars-xyz"
    items = [RollbackItem(3 + i, 3 + i, long_name, f"{i:08d}-6a4b-4e8e-9c6f-2e7c0a1bjb01", "CONFIGURATION",
                          "force_terminate, wait, delete") for i in range(3)]
    plan = RollbackPlan(tmp_path / "r.xlsx", None, items, [Skipped(9, "foreign", "x" * 36, "not in the ledger")])
    for width in (80, 100, 130):
        lines = list(plan_lines(plan, width))
        assert max(len(line) for line in lines) <= width, (width, lines)
        assert lines[0] == "3 tasks created by this campaign will be DELETED:"
        assert sum(items[0].task_id in line for line in lines) == 1
    target = Target(endpoint="https://drs.eu-de.otc.t-systems.com", ledger_endpoint="x", project_id="p-123",
                    auth=None)
    question = confirm_question(plan, target)
    assert question == "Delete the 3 tasks listed above, in project p-123 at https://drs.eu-de.otc.t-systems.com?"
    one = RollbackPlan(tmp_path / "r.xlsx", None, items[:1], [])
    assert "the 1 task listed above, in" in confirm_question(one, target)
    zh = RollbackPlan(tmp_path / "r.xlsx", None, items, [], language="zh-cn")
    assert next(iter(plan_lines(zh, 80))) == "本次活动创建的3个任务将被删除："
    assert confirm_question(zh, target) == "删除上面列出的3个任务（https://drs.eu-de.otc.t-systems.com上的项目p-123）？"


# -- 5. the failed-rows workbook is a template, ready to fix ------------------------------------------

def _failed_rows_workbook(tmp_path: Path) -> Path:
    from test_submit import env, make_book, options, task_row

    from bulkimport.simulator import Simulator
    from bulkimport.submit import submit_workbook

    rows = [task_row("good-row-1"), task_row("bad", **{"source_endpoint.db_port": 0,
                                                        "source_endpoint.db_password": "Sup3r-Secret!"}),
            task_row("good-row-2"), task_row("Bad-2", **{"engine_type": "mysqll"})]
    with Simulator() as sim:
        outcome = submit_workbook(make_book(tmp_path / "in.xlsx", rows), options(sim, tmp_path), env=env(sim))
    assert outcome.failed_path is not None
    return outcome.failed_path


def test_failed_rows_workbook_is_a_template_holding_only_the_rows_to_fix(tmp_path: Path) -> None:
    from bulkimport import fields
    from bulkimport.template import write_template

    failed = _failed_rows_workbook(tmp_path)
    wb = openpyxl.load_workbook(failed)
    template = openpyxl.load_workbook(write_template(tmp_path / "t.xlsx"))
    assert {"Jobs", "Instructions", "Fields", "_lists", "_meta"} <= set(wb.sheetnames)
    ws, tws = wb["Jobs"], template["Jobs"]
    keys = [c.value for c in ws[2]]
    assert keys[:2] == ["name", "result"] and ws.freeze_panes == "C3"
    names = [ws.cell(r, 1).value for r in range(3, ws.max_row + 1) if ws.cell(r, 1).value]
    assert names == ["bad", "Bad-2"]
    # The same dropdowns and input help as the template, on the same columns (by key).
    def validations(sheet: openpyxl.worksheet.worksheet.Worksheet) -> dict[str, tuple]:
        head = [c.value for c in sheet[2]]

        def by_key(match: re.Match[str]) -> str:  # a cell the formula reads, named by its column's key
            return f"[{head[openpyxl.utils.column_index_from_string(match.group(1)) - 1]}]"

        out = {}
        for dv in sheet.data_validations.dataValidation:
            col = openpyxl.utils.column_index_from_string(re.match(r"[A-Z]+", str(dv.sqref)).group())
            formula = re.sub(r"(?<!!)\$([A-Z]+)3\b", by_key, dv.formula1 or "")
            out[head[col - 1]] = (dv.type, formula, dv.promptTitle)
        return out
    assert validations(ws) == validations(tws)
    # Group colours and widths as the template's.
    for key in ("name", "engine_type", "source_endpoint.ip"):
        col, tcol = keys.index(key) + 1, [c.value for c in tws[2]].index(key) + 1
        assert ws.cell(1, col).fill.fgColor.rgb == tws.cell(1, tcol).fill.fgColor.rgb
    # The problems: red with one sentence; the password: amber, retype or env:NAME.
    port = ws.cell(3, keys.index("source_endpoint.db_port") + 1)
    assert port.fill.fgColor.rgb.endswith("FF6B6B") and port.comment.text.startswith("Source Port must be")
    password = ws.cell(3, keys.index("source_endpoint.db_password") + 1)
    assert password.value == fields.SECRET_MASK and password.fill.fgColor.rgb.endswith("FFC000")
    assert "env:NAME" in password.comment.text and "type it again" in password.comment.text
    assert "Sup3r-Secret!" not in failed.read_bytes().decode("latin-1")
    assert ws.cell(3, keys.index("result") + 1).value == "INVALID"
    assert "Source Port" in ws.cell(3, keys.index("error_msg") + 1).value
    # The campaign's facts travel with it (not the whole campaign's counts).
    summary = {r[0]: r[1] for r in wb["Summary"].iter_rows(values_only=True) if r[0]}
    assert summary["command"] == "submit" and not any(str(k).startswith("result.") for k in summary)


def test_failed_rows_workbook_reads_back_and_keeps_its_dropdowns_in_libreoffice(tmp_path: Path,
                                                                               soffice: str) -> None:
    import subprocess

    from bulkimport.validate import validate_workbook

    failed = _failed_rows_workbook(tmp_path)
    validation = validate_workbook(failed)
    assert [validation.rows[r]["name"] for r in validation.rows] == ["bad", "Bad-2"]
    out = tmp_path / "lo"
    subprocess.run([soffice, "--headless", "--norestore", f"-env:UserInstallation={(tmp_path / 'p').as_uri()}",
                    "--convert-to", "xlsx:Calc MS Excel 2007 XML", "--outdir", str(out), str(failed)],
                   capture_output=True, timeout=180, check=False)
    ws = openpyxl.load_workbook(out / failed.name)["Jobs"]
    keys = [c.value for c in ws[2]]
    engine = openpyxl.utils.get_column_letter(keys.index("engine_type") + 1)
    scenario = openpyxl.utils.get_column_letter(keys.index("db_use_type") + 1)
    lists = [dv for dv in ws.data_validations.dataValidation if dv.type == "list"]
    engine_list = next(dv for dv in lists if str(dv.sqref).startswith(f"{engine}3"))
    assert engine_list.formula1.startswith('INDIRECT("engines_"') and f"${scenario}3" in engine_list.formula1
    direction = next(dv for dv in lists if str(dv.sqref).startswith(
        f"{openpyxl.utils.get_column_letter(keys.index('job_direction') + 1)}3"))
    assert direction.formula1.replace("$", "").lower().startswith("_lists!")
    assert validate_workbook(out / failed.name).rows.keys() == validation.rows.keys()
