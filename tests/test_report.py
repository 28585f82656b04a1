"""The sign-off report: its numbers, its tables, its safety, and that it renders in a browser."""

from __future__ import annotations

import hashlib
import html
import json
import os
import random
import re
import shutil
import subprocess
import sys
import uuid
from collections import Counter
from dataclasses import replace
from pathlib import Path

import openpyxl
import pytest
import xlsxwriter
from click.testing import CliRunner

from bulkimport import fields
from bulkimport.book_read import read_workbook
from bulkimport.campaign import Campaign
from bulkimport.cli.report import command as report_command
from bulkimport.errors import InputError
from bulkimport.report import (
    build_report,
    render_html,
    summarise,
    summary_sheet_rows,
    task_health,
)
from bulkimport.results_book import write_results

PASSWORD = "S3cr3t-Pa55w0rd!"
INPUT_COLUMNS = (*fields.REQUIRED_COLUMNS, "source_endpoint.db_password", "description")
#: Values for the mandatory columns a test does not care about.
FILLER = {"job_direction": "up", "net_type": "eip", "customize_sutnet_id": "352ad828-3467-4f03-987a-c55a5a9dd417",
          "node_type": "high"}


def make_campaign() -> Campaign:
    return Campaign(command="submit", input_file="wave7.xlsx", input_sha256="0f" * 32, template_version="2026.11.1",
                    endpoint="https://drs.eu-de.otc.t-systems.com", region="eu-de",
                    project_id="054ba152d480d55b2f5dc0069e7ddef0", operator="dba1",
                    started_at="2026-11-20T09:00:00+00:00", finished_at="2026-11-20T09:04:10+00:00",
                    batch_size="10", concurrency="4", dry_run="false", language="en-us")


def random_rows(n: int, seed: int = 7) -> list[dict]:
    """Rows as a results workbook would hold them, with a mix of every outcome."""
    rng = random.Random(seed)
    rows = []
    for i in range(n):
        result = rng.choice(["CREATED"] * 5 + ["ALREADY_CREATED", "REJECTED", "INVALID", "UNKNOWN", "NOT_SENT"])
        engine = rng.choice(fields.ENGINE_TYPES)
        scenario = rng.choice(fields.ENGINE_SCENARIOS[engine])
        row = {"source_row": i + 3, "name": f"w{i // 8 + 1}-{engine}-{i:03d}".lower(),
               "db_use_type": scenario, "engine_type": engine, "result": result}
        if result in ("CREATED", "ALREADY_CREATED"):
            row["task_id"] = str(uuid.UUID(int=rng.getrandbits(128)))[:-4] + "jb01"
            row["task_status"] = rng.choice(["CREATING", "CONFIGURATION", "CREATE_FAILED", "FULL_TRANSFER_STARTED"])
            if row["task_status"] == "CREATE_FAILED":
                row.update(error_code="DRS.M05004", error_msg="The source database cannot be reached.")
        elif result == "REJECTED":
            row.update(error_code="DRS.M00277", error_msg="The task name already exists.")
        rows.append(row)
    return rows


def write_input(path: Path, rows: list[dict]) -> Path:
    """An operator workbook in the template's shape: labels row, keys row, data."""
    wb = xlsxwriter.Workbook(str(path))
    ws = wb.add_worksheet("Jobs")
    for col, key in enumerate(INPUT_COLUMNS):
        ws.write_string(0, col, fields.FIELDS[key].label)
        ws.write_string(1, col, key)
    for r, row in enumerate(rows, start=2):
        for col, key in enumerate(INPUT_COLUMNS):
            value = row.get(key, FILLER.get(key))
            if value is not None:
                ws.write_string(r, col, str(value))
    wb.close()
    return path


def make_results_workbook(tmp_path: Path, rows: list[dict], campaign: Campaign) -> Path:
    """A results workbook as submit writes it: operator columns, result columns, Summary sheet."""
    source = write_input(tmp_path / "wave7.xlsx", [{**r, "source_endpoint.db_password": PASSWORD} for r in rows])
    book = read_workbook(source)
    appended = {}
    for excel_row, row in zip(book.cells, rows, strict=True):
        appended[excel_row] = {k: row.get(k) for k in ("result", "task_id", "task_status", "error_code", "error_msg")}
    summary = summarise(campaign, [{**r, "source_row": book.source_row(x)} for x, r in zip(book.cells, rows,
                                                                                            strict=True)])
    return write_results(tmp_path / "wave7-results.xlsx", book, appended, book.findings,
                         extra_sheets={"Summary": summary_sheet_rows(summary)})


def html_counts(page: str, kind: str) -> dict[str, int]:
    """The numbers the HTML shows in one count table."""
    return {html_key: int(n) for html_key, n in
            re.findall(rf'data-kind="{kind}" data-key="([^"]*)">(\d+)<', page)}


# -- summarise ------------------------------------------------------------------------------

def test_counts_equal_the_rows() -> None:
    rows = random_rows(120)
    summary = summarise(make_campaign(), rows)
    counts = summary.counts
    assert counts.rows == 120
    assert counts.by_result == dict(Counter(r["result"] for r in rows))
    assert sum(counts.by_result.values()) == 120
    assert counts.by_task_status == dict(Counter(r["task_status"] for r in rows if r.get("task_status")))
    created = [r for r in rows if r["result"] in ("CREATED", "ALREADY_CREATED")]
    assert counts.created == len(created) == len(summary.tasks)
    assert counts.not_created == 120 - len(created) == len(summary.not_created)
    for groups, column in ((counts.by_scenario, "db_use_type"), (counts.by_engine, "engine_type")):
        expected = Counter(r[column] for r in rows)
        assert {k: v.rows for k, v in groups.items()} == dict(expected)
        assert sum(v.created for v in groups.values()) == len(created)
    failed = sum(1 for r in created if r["task_status"] == "CREATE_FAILED")
    pending = sum(1 for r in created if r["task_status"] == "CREATING")
    assert counts.by_health.get("failed", 0) == failed
    assert counts.by_health.get("pending", 0) == pending


def test_tables_follow_the_operators_row_order() -> None:
    rows = random_rows(40)
    shuffled = rows[:]
    random.Random(1).shuffle(shuffled)
    summary = summarise(make_campaign(), shuffled)
    task_rows = [t.source_row for t in summary.tasks]
    other_rows = [t.source_row for t in summary.not_created]
    assert task_rows == sorted(task_rows) and other_rows == sorted(other_rows)
    assert {t.task_id for t in summary.tasks} == {r["task_id"] for r in rows if r.get("task_id")}


def test_every_row_not_created_has_a_reason() -> None:
    rows = [
        {"source_row": 5, "name": "taken", "result": "REJECTED", "error_code": "DRS.M00277",
         "error_msg": "name already taken by task abc"},
        {"source_row": 4, "name": "bad-port", "result": "INVALID"},
        {"source_row": 6, "name": "lost", "result": "UNKNOWN"},
    ]
    not_created = {r.name: r for r in summarise(make_campaign(), rows).not_created}
    reasons = {name: r.reason for name, r in not_created.items()}
    # One sentence; the code has its own column, never glued into the text.
    assert reasons["taken"] == "name already taken by task abc"
    assert not_created["taken"].error_code == "DRS.M00277"
    assert "Findings" in reasons["bad-port"]
    assert "reconcile" in reasons["lost"]


@pytest.mark.parametrize(("status", "health"), [
    ("CREATING", "pending"), ("CONFIGURATION", "healthy"), ("FULL_TRANSFER_STARTED", "healthy"),
    ("INCRE_TRANSFER_STARTED", "healthy"), ("CREATE_FAILED", "failed"), ("INCRE_TRANSFER_FAILED", "failed"),
    ("RELEASE_RESOURCE_COMPLETE", "gone"), ("DELETED", "gone"), ("RELEASE_CHILD_TRANSFER_STARTED", "gone"),
    (None, None),
])
def test_task_health_follows_the_design(status: str | None, health: str | None) -> None:
    assert task_health(status) == health


def test_no_secret_column_reaches_any_rendering() -> None:
    rows = [{**r, "source_endpoint.db_password": PASSWORD, "target_endpoint.ssl_cert_key": PASSWORD}
            for r in random_rows(10)]
    summary = summarise(make_campaign(), rows)
    for text in (json.dumps(summary.to_dict()), render_html(summary), repr(summary_sheet_rows(summary))):
        assert PASSWORD not in text


# -- HTML ------------------------------------------------------------------------------------

def test_server_text_is_escaped() -> None:
    nasty = '<script>alert("x")</script><img src=http://evil.example/x.png>'
    rows = [{"source_row": 3, "name": "t<b>1", "result": "REJECTED", "error_code": "DRS.M00007", "error_msg": nasty},
            {"source_row": 4, "name": "ok-1", "result": "CREATED", "task_id": '"><svg onload=x>',
             "task_status": "CONFIGURATION"}]
    page = render_html(summarise(make_campaign(), rows))
    assert "<script" not in page and "<img" not in page and "<b>" not in page and "<svg onload" not in page
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in page


def test_html_is_self_contained_and_printable() -> None:
    page = render_html(summarise(make_campaign(), random_rows(30)))
    # Nothing to fetch: no scripts, no stylesheets, no images, no CSS urls or imports.
    for marker in ("<script", "<link", "<img", "url(", "@import", "<iframe"):
        assert marker not in page
    assert re.search(r"@page\s*{[^}]*size:\s*A4", page)
    assert "@media print" in page
    assert "<svg" in page  # the chart is inline
    signoff = page[page.index('class="signoff"'):]
    for role in ("Prepared by", "Reviewed by", "Approved by"):
        assert role in signoff
    for column in ("Name", "Date", "Signature"):
        assert f">{column}</th>" in signoff


def test_html_numbers_equal_the_summary() -> None:
    summary = summarise(make_campaign(), random_rows(80, seed=3))
    page = render_html(summary)
    assert html_counts(page, "result") == summary.counts.by_result
    assert html_counts(page, "task_status") == summary.counts.by_task_status
    assert html_counts(page, "scenario") == {k: v.rows for k, v in summary.counts.by_scenario.items()}
    assert page.count('<tr><td class="num">') == len(summary.tasks) + len(summary.not_created)


# -- Summary sheet ----------------------------------------------------------------------------

def test_summary_sheet_starts_with_the_campaign_facts_and_reads_back() -> None:
    campaign = make_campaign()
    rows = summary_sheet_rows(summarise(campaign, random_rows(20)))
    facts = campaign.rows()
    assert rows[0][0] == "DRS bulk import \u2014 sign-off report"
    start = next(i for i, r in enumerate(rows) if r and r[0] == "command")
    assert [r[:2] for r in rows[start:start + len(facts)]] == facts
    assert Campaign.from_rows(rows) == campaign
    counts = dict((r[0], r[1]) for r in rows[start + len(facts):] if len(r) == 2)
    assert counts["rows"] == 20
    assert sum(v for k, v in counts.items() if k.startswith("result.")) == 20


# -- from a results workbook --------------------------------------------------------------------

def test_report_rebuilt_from_workbook_equals_the_workbook(tmp_path: Path) -> None:
    rows = random_rows(60, seed=11)
    campaign = make_campaign()
    results = make_results_workbook(tmp_path, rows, campaign)
    files = build_report(results, out_dir=tmp_path / "reports")
    assert files.html == tmp_path / "reports" / "wave7-results-report.html"
    summary = json.loads(files.json.read_text(encoding="utf-8"))

    # Count the workbook independently, with openpyxl, through its key row.
    ws = openpyxl.load_workbook(results, read_only=True)["Jobs"]
    grid = list(ws.iter_rows(values_only=True))
    keys = list(grid[1])
    data = [dict(zip(keys, r, strict=False)) for r in grid[2:]]
    assert summary["counts"]["rows"] == len(data) == 60
    assert summary["counts"]["by_result"] == dict(Counter(r["result"] for r in data))
    assert summary["counts"]["by_task_status"] == dict(Counter(r["task_status"] for r in data if r["task_status"]))
    assert [t["task_id"] for t in summary["tasks"]] == [r["task_id"] for r in data if r["task_id"]]
    assert [t["source_row"] for t in summary["tasks"]] == [int(r["source_row"]) for r in data if r["task_id"]]
    assert summary["campaign"] == {k: v for k, v in campaign.rows()}

    page = files.html.read_text(encoding="utf-8")
    assert html_counts(page, "result") == summary["counts"]["by_result"]
    assert PASSWORD not in page and PASSWORD not in files.json.read_text(encoding="utf-8")


def test_report_of_a_missing_workbook_is_an_input_error(tmp_path: Path) -> None:
    with pytest.raises(InputError):
        build_report(tmp_path / "nope.xlsx", out_dir=tmp_path)


def test_report_command(tmp_path: Path) -> None:
    results = make_results_workbook(tmp_path, random_rows(12), make_campaign())
    out = tmp_path / "out"
    result = CliRunner().invoke(report_command, [str(results), "--out-dir", str(out), "--json"],
                                standalone_mode=False)
    assert result.exception is None and result.return_value == 0
    assert (out / "wave7-results-report.html").is_file()
    assert json.loads(result.stdout)["counts"]["rows"] == 12


def test_report_command_missing_file_exits_2(tmp_path: Path) -> None:
    proc = subprocess.run([str(Path(sys.executable).parent / "bulkimport"), "report", str(tmp_path / "x.xlsx"),
                           "--out-dir", str(tmp_path)], capture_output=True, text=True)
    assert proc.returncode == 2
    assert proc.stderr.count("\n") == 1 and "Traceback" not in proc.stderr


# -- in a browser ---------------------------------------------------------------------------

MM = 72 / 25.4  # PDF points per millimetre


def pdf_margins(pdf: Path) -> list[tuple[str, str]]:
    """Per printed page, the text in its top and in its bottom margin (the report's @page
    margins are 16 mm), read back from the PDF with pypdf by where each piece is drawn."""
    import pypdf

    pages = []
    for page in pypdf.PdfReader(pdf).pages:
        height = float(page.mediabox.height)
        top: list[str] = []
        bottom: list[str] = []

        def visit(text: str, cm: list[float], tm: list[float], _font: object, _size: object,
                  top: list[str] = top, bottom: list[str] = bottom, height: float = height) -> None:
            y = tm[4] * cm[1] + tm[5] * cm[3] + cm[5]
            if y > height - 16 * MM:
                top.append(text)
            elif y < 16 * MM:
                bottom.append(text)

        page.extract_text(visitor_text=visit)
        pages.append(("".join(top), "".join(bottom)))
    return pages


#: Print to PDF without Chromium's own header and footer (date, title, file URL): the report's
#: @page margin boxes are the header and footer.
PDF_OPTIONS = ("--no-pdf-header-footer",)


def run_chromium(chromium: str, tmp_path: Path, page: Path, *extra: str, env: dict[str, str] | None = None) -> None:
    base = [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
            "--disable-component-update", "--disable-sync", "--no-first-run", f"--user-data-dir={tmp_path / 'ud'}"]
    subprocess.run([*base, *extra, page.resolve().as_uri()], capture_output=True, timeout=120, check=False, env=env)


def test_report_renders_in_headless_chromium(tmp_path: Path, repo: Path, chromium: str) -> None:
    """Renders the first A4 page to a PNG for review (copied to docs/ when
    BULKIMPORT_UPDATE_SCREENSHOT=1) and prints it to A4 PDF: every printed page carries the
    running header (campaign, input SHA-256) and its number, read back from the PDF."""
    digest = hashlib.sha256(b"wave7.xlsx as the operator saved it").hexdigest()
    results = make_results_workbook(tmp_path, random_rows(36, seed=5), replace(make_campaign(), input_sha256=digest))
    files = build_report(results, out_dir=tmp_path / "reports")
    shot, pdf = tmp_path / "report-first-page.png", tmp_path / "report.pdf"
    for extra in ([f"--screenshot={shot}", "--window-size=1240,1754"], [f"--print-to-pdf={pdf}", *PDF_OPTIONS]):
        run_chromium(chromium, tmp_path, files.html, *extra)
    assert shot.is_file() and shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert shot.stat().st_size > 20_000  # a blank page compresses to a few kB
    assert pdf.is_file() and pdf.read_bytes()[:5] == b"%PDF-"
    # Chromium draws @page margin boxes (@top-left etc., since Chromium 131): the printout
    # needs no header/footer template, and --no-pdf-header-footer drops only Chromium's own
    pages = pdf_margins(pdf)
    assert len(pages) >= 2, "the report of 36 rows should print on several A4 pages"
    for number, (header, footer) in enumerate(pages, start=1):
        assert "wave7.xlsx" in header and f"input SHA-256 {digest}" in header, (number, header)
        assert f"Page {number} of {len(pages)}" in footer, (number, footer)
        assert "sign-off report" in footer and "file://" not in header + footer
    if os.environ.get("BULKIMPORT_UPDATE_SCREENSHOT") == "1":
        shutil.copyfile(shot, repo / "docs" / "report-screenshot.png")


def test_a_rehearsals_printed_pages_each_carry_its_banner(tmp_path: Path, chromium: str) -> None:
    """A dry run's report printed to A4: the banner heads every page and titles its footer, so
    no single printed page can pass for a real campaign's."""
    results = make_results_workbook(tmp_path, random_rows(36, seed=5), replace(make_campaign(), dry_run="true"))
    files = build_report(results, out_dir=tmp_path / "reports")
    pdf = tmp_path / "dry-run.pdf"
    run_chromium(chromium, tmp_path, files.html, f"--print-to-pdf={pdf}", *PDF_OPTIONS)
    pages = pdf_margins(pdf)
    assert len(pages) >= 2
    for number, (header, footer) in enumerate(pages, start=1):
        assert "DRY RUN \u2014 nothing was sent" in header and "wave7.xlsx" in header, (number, header)
        assert f"Page {number} of {len(pages)}" in footer and "DRY RUN" in footer, (number, footer)


CJK = re.compile(r"[\u4e00-\u9fff]")


def _block_fonts_config(tmp_path: Path, files: list[str]) -> Path:
    """A fontconfig file that offers every font but `files`: a machine with no font for Chinese."""
    rejected = "".join(f"<glob>{html.escape(f)}</glob>" for f in files)
    conf = tmp_path / "no-cjk-fonts.conf"
    conf.write_text('<?xml version="1.0"?>\n<!DOCTYPE fontconfig SYSTEM "urn:fontconfig:fonts.dtd">\n<fontconfig>'
                    '<include ignore_missing="yes">/etc/fonts/fonts.conf</include>'
                    f"<selectfont><rejectfont>{rejected}</rejectfont></selectfont></fontconfig>\n")
    return conf


def cjk_drawn_by(pdf: Path) -> tuple[Counter[str], str]:
    """Per font of the PDF, how many Chinese characters it draws, and the PDF's whole text.

    A character drawn by a font that has no glyph for it (a box, "tofu") is drawn with that
    font's .notdef glyph, which carries no text: pypdf extracts nothing for it."""
    import pypdf

    drawn: Counter[str] = Counter()
    text: list[str] = []
    for page in pypdf.PdfReader(pdf).pages:
        def visit(piece: str, _cm: object, _tm: object, font: dict | None, _size: object) -> None:
            text.append(piece)
            if CJK.search(piece):
                name = str((font or {}).get("/BaseFont") or (font or {}).get("/Subtype"))
                drawn[name.split("+", 1)[-1]] += len(CJK.findall(piece))

        page.extract_text(visitor_text=visit)
    return drawn, "".join(text)


def test_a_zh_cn_report_in_chromium_prints_chinese_glyphs_not_boxes(tmp_path: Path, repo: Path, chromium: str,
                                                                     cjk_fonts: list[str]) -> None:
    """The zh-cn report in Chromium: its A4 PDF holds the Chinese title and headings as text,
    drawn by an embedded font for Chinese (not boxes), and its screenshot differs from the same
    page rendered on a machine without such a font (where every character is a box)."""
    from fixtures.html_tree import parse

    results = make_results_workbook(tmp_path, random_rows(36, seed=5), replace(make_campaign(), language="zh-cn"))
    files = build_report(results, out_dir=tmp_path / "reports")
    page = parse(files.html.read_text(encoding="utf-8"))
    headings = [page.find("h1").text, *(h.text for h in page.find_all("h2"))]
    assert all(CJK.search(h) for h in headings)
    renders = {}
    for case, env in (("fonts", None), ("no-cjk-font", {**os.environ, "FONTCONFIG_FILE": str(
            _block_fonts_config(tmp_path, cjk_fonts))})):
        shot, pdf = tmp_path / f"{case}.png", tmp_path / f"{case}.pdf"
        for extra in ([f"--screenshot={shot}", "--window-size=1240,1754"], [f"--print-to-pdf={pdf}", *PDF_OPTIONS]):
            run_chromium(chromium, tmp_path / case, files.html, *extra, env=env)
        renders[case] = (shot.read_bytes(), *cjk_drawn_by(pdf))

    shot, drawn, text = renders["fonts"]
    squeezed = re.sub(r"\s+", "", text)
    for heading in headings:
        assert re.sub(r"\s+", "", heading) in squeezed, heading
    # The PDF names a font by its PostScript name (WenQuanYiMicroHei, NotoSansCJKsc-Regular, ...).
    families = {line.split("=", 1)[-1].strip()
                for line in subprocess.run(["fc-list", ":lang=zh", "postscriptname"], capture_output=True, text=True,
                                           timeout=60).stdout.splitlines() if "=" in line}
    # Regular text is drawn by the font for Chinese itself; bold text by Type3 copies of its
    # glyphs that Chromium makes when it thickens a font that has no bold face.
    assert set(drawn) <= families | {"/Type3"} and set(drawn) & families, drawn
    assert sum(drawn.values()) > 200  # headings, labels, tiles, sign-off: not a stray character
    assert shot[:8] == b"\x89PNG\r\n\x1a\n" and len(shot) > 20_000

    blocked_shot, blocked_drawn, _ = renders["no-cjk-font"]
    assert not blocked_drawn, "without a font for Chinese the PDF should hold boxes: the check above would miss them"
    assert blocked_shot != shot
    if os.environ.get("BULKIMPORT_UPDATE_SCREENSHOT") == "1":
        shutil.copyfile(tmp_path / "fonts.png", repo / "docs" / "report-screenshot-zh-cn.png")
