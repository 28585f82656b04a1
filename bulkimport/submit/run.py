"""Orchestration of `submit`: where the requests go, Ctrl-C, validation, the ledger, the
engine's run, and the results workbook and report."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bulkimport import fields, payload
from bulkimport.campaign import Campaign, now_iso
from bulkimport.errors import InputError, OutputWriteError
from bulkimport.findings import EN, Finding, Message, Severity, joined, language_of, msg, note, row_errors
from bulkimport.ledger import (
    Ledger,
    LedgerEntry,
    LedgerError,
    ledger_lock,
)
from bulkimport.outcomes import Result, exit_code_for
from bulkimport.outputs import FILE, FOLDER, LEDGER, WORKBOOK, Output, check_outputs, write_failed
from bulkimport.progress import NullProgress, Progress, in_language
from bulkimport.submit.engine import Engine, _Item
from bulkimport.submit.model import DRIFT, FAILED_RESULTS, Plan, RowOutcome, SubmitOptions, SubmitOutcome, Timings
from bulkimport.target import (
    DEFAULT_LEDGER,
    DEMO_PROJECT_ID,
    REPORTS_DIR,
    SIMULATOR_ENDPOINT,
    Target,
    check_tls,
    cloud_target,
    scrubber,
    simulated_target,
    simulator_ledger_path,
)
from bulkimport.terminal import row_lines, rows_word, say, screenful, tasks_word

if TYPE_CHECKING:  # the report module is imported when a report is written (start-up time)
    from bulkimport.book_read import WorkbookData
    from bulkimport.drs.auth import Auth
    from bulkimport.report import Summary
    from bulkimport.validate import Validation

# -- where the requests go -------------------------------------------------------------------

@contextlib.contextmanager
def _target(options: SubmitOptions, env: Mapping[str, str], *, need_auth: bool) -> Iterator[Target]:
    """The Target the options describe; starts the simulator for `--simulate` (except for a
    dry run, which sends nothing)."""
    if options.simulate:
        if not need_auth:
            ledger_path = options.ledger
            if ledger_path is None and options.simulator_state is not None:
                ledger_path = simulator_ledger_path(options.simulator_state)
            yield Target(endpoint=SIMULATOR_ENDPOINT, ledger_endpoint=SIMULATOR_ENDPOINT,
                         project_id=options.project_id or DEMO_PROJECT_ID, auth=None,
                         ledger_path=ledger_path, region="simulated")
            return
        with simulated_target(options.simulator_state, project_id=options.project_id,
                              ledger_path=options.ledger) as target:
            yield target
        return
    yield cloud_target(endpoint=options.endpoint, region=options.region, project_id=options.project_id, env=env,
                       ledger_path=options.ledger, ca_bundle=options.ca_bundle, insecure=options.insecure,
                       need_auth=need_auth)


# -- Ctrl-C ----------------------------------------------------------------------------------

@contextlib.contextmanager
def stop_on_interrupt(on_first: Callable[[], None] | None = None) -> Iterator[threading.Event]:
    """A first Ctrl-C sets the returned event (finish what is in flight, send nothing new);
    a second one raises KeyboardInterrupt as usual. Only the main thread can own SIGINT;
    elsewhere the event is returned without a handler."""
    stop = threading.Event()
    if threading.current_thread() is not threading.main_thread():
        yield stop
        return

    def handler(signum: int, frame: object) -> None:
        if stop.is_set():
            raise KeyboardInterrupt
        stop.set()
        if on_first is not None:
            on_first()

    previous = signal.signal(signal.SIGINT, handler)
    try:
        yield stop
    finally:
        signal.signal(signal.SIGINT, previous)


# -- the library function ------------------------------------------------------------------

def _default_out(path: Path, dry_run: bool) -> Path:
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    kind = "dry-run" if dry_run else "submit"
    return REPORTS_DIR / f"{path.stem}-{kind}-{stamp}.xlsx"


def submit_outputs(options: SubmitOptions, out: Path) -> list[Output]:
    """Every path `submit` writes, for `check_outputs` before anything is sent: the results
    and failed-rows workbooks, the dry-run file, the report folder and files, the ledger and
    the simulator's state."""
    outputs = [Output(out, "--out" if options.out else "results workbook", WORKBOOK, suffixes=(".xlsx",)),
               Output(failed_path_for(out), "failed-rows workbook", WORKBOOK)]
    if options.dry_run:
        outputs.append(Output(dry_run_path_for(out), "dry-run file", FILE))
    report_dir = Path(options.report_dir)
    outputs += [Output(report_dir, "--report-dir", FOLDER),
                Output(report_dir / f"{out.stem}-report.html", "sign-off report", FILE),
                Output(report_dir / f"{out.stem}-report.json", "sign-off report (JSON)", FILE)]
    ledger = options.ledger
    if ledger is None and options.simulate and options.simulator_state is not None:
        ledger = simulator_ledger_path(options.simulator_state)
    elif ledger is None and not options.simulate:
        ledger = DEFAULT_LEDGER
    if ledger is not None:
        outputs.append(Output(Path(ledger), "--ledger" if options.ledger else "ledger", LEDGER,
                              create=not options.dry_run))
    if options.simulate and options.simulator_state is not None:
        outputs.append(Output(Path(options.simulator_state), "--simulator-state", LEDGER,
                              create=not options.dry_run))
    return outputs


def failed_path_for(out: Path) -> Path:
    return out.with_name(f"{out.stem}-failed.xlsx")


def dry_run_path_for(out: Path) -> Path:
    return out.with_name(f"{out.stem}-requests.json")


def _summary(campaign: Campaign, outcomes: Sequence[RowOutcome], book: WorkbookData,
             typed: Mapping[int, Mapping[str, object]], drift: Sequence[Finding]) -> Summary:
    """The sign-off summary: the report's content, and (through `summary_sheet_rows`) the
    Summary sheet in the report's own layout, so `bulkimport report` reads it back."""
    from bulkimport.report import drift_line, summarise

    rows = []
    for outcome in outcomes:
        row = typed.get(outcome.row, {})
        rows.append({**outcome.columns(), "name": outcome.name, "db_use_type": row.get("db_use_type"),
                     "engine_type": row.get("engine_type"), "source_row": book.source_row(outcome.row)})
    language = language_of(campaign.language)
    lines = [drift_line(book.source_row(f.row) if f.row else None, f.sentence_for(language), language) for f in drift]
    return summarise(campaign, rows, drift=lines)


def _announce_invalid(validation: Validation, outcomes: Mapping[int, RowOutcome], progress: Progress) -> None:
    """With the plan, before the confirmation: the rows still invalid (a row this tool
    already created is not), which will not be sent, each with its first problem (a
    screenful, then how many more). Printed only once the target and secrets are settled, so
    an unusable option still ends in one line."""
    invalid = {r for r, o in outcomes.items() if o.result is Result.INVALID}
    first: dict[int, str] = {}
    for f in validation.findings:
        if f.row in invalid and f.severity == "error":
            first.setdefault(f.row, f.sentence_for(validation.language))
    if not first:
        return
    book = validation.book
    progress.note(say(validation.language, "{rows} invalid, not sent (see the results workbook's Findings sheet):",
                      rows=rows_word(validation.language, len(first))))
    no_name = say(validation.language, "(no name)")
    listed = [(book.source_row(r), validation.rows[r].get("name") or no_name, first[r]) for r in sorted(first)]
    for line in screenful(row_lines(listed, 110, validation.language), language=validation.language):
        progress.note(line)


def not_created_lines(outcome: SubmitOutcome, width: int = 110) -> list[str]:
    """After the run: the rows the server refused or whose fate is open, with their reasons."""
    wanted = (Result.REJECTED, Result.UNKNOWN, Result.NOT_SENT)
    rows = [r for r in outcome.rows if r.result in wanted]
    if not rows:
        return []
    language = outcome.campaign.language
    lines = [say(language, "{rows} not created (rejected, unknown or not sent):",
                 rows=rows_word(language, len(rows)))]
    lines += screenful(row_lines(((r.row, r.name or say(language, "(no name)"),
                                   f"{r.result}: {r.error_msg or r.error_code or ''}".rstrip(": "))
                                  for r in rows), width, language), language=language)
    return lines


def _write_dry_run(path: Path, target: Target, batches: Sequence[Sequence[_Item]], language: str) -> Path:
    """The exact request bodies, secrets masked, one entry per request."""
    path.parent.mkdir(parents=True, exist_ok=True)
    document = {
        "method": "POST",
        "url": f"{target.endpoint.rstrip('/')}/v3/{target.project_id}/jobs/batch-creation",
        "headers": {"Content-Type": "application/json", "X-Language": language},
        "requests": [payload.batch_body([i.masked for i in batch]) for batch in batches],
    }
    path.write_text(json.dumps(document, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return path


class _SimulatedEnv(dict):
    """For `--simulate` only: an unset env: variable resolves to a placeholder (the simulator
    has no databases to log in to), so a demo workbook with references runs anywhere."""

    PLACEHOLDER = "simulated-password"

    def __init__(self, env: Mapping[str, str]) -> None:
        super().__init__(env)
        self.missing: set[str] = set()

    def __missing__(self, name: str) -> str:
        self.missing.add(name)
        return self.PLACEHOLDER

    def __getitem__(self, name: str) -> str:
        value = super().get(name)
        return value if value and value.strip() else self.__missing__(name)


def _resolve_secrets(items: Sequence[_Item], env: Mapping[str, str], language: str = EN) -> list[str]:
    """Build every wire body before the first request, so an unset env: variable stops the
    run with nothing sent (InputError, exit 2). Returns the secret values for scrubbing."""
    secrets: list[str] = []
    for item in items:
        item.wire = payload.resolve_job(item.masked, item.typed, env,
                                        where=say(language, "row {row}", row=item.row))
        secrets.extend(payload.secret_values(item.wire))
    return secrets


def target_identity(target: Target) -> str:
    from bulkimport.status import target_identity as identity

    return identity(target)


def submit_workbook(path: str | Path, options: SubmitOptions, *, progress: Progress | None = None,
                    env: Mapping[str, str] = os.environ, confirm: Callable[[Plan], bool] | None = None,
                    stop: threading.Event | None = None) -> SubmitOutcome:
    """Validate the workbook and create its valid rows' tasks exactly once.

    `confirm` is asked with the plan before anything is sent (None: go ahead); `stop`, once
    set (Ctrl-C), lets in-flight requests finish and sends nothing more. Raises InputError
    (exit 2) for unusable input, before anything is sent.
    """
    from bulkimport.report import summary_sheet_rows, write_report
    from bulkimport.results_book import write_failed_rows, write_results
    from bulkimport.validate import validate_workbook

    if not (options.simulate or options.endpoint or options.region):
        from bulkimport.drs.clouds import cloud_region

        region = cloud_region(env)  # the OS_CLOUD cloud's region_name stands in for --region
        if region:
            options = replace(options, region=region)
    options.check()
    progress = progress or NullProgress()
    stop = stop or threading.Event()
    timings = Timings()
    path = Path(path)
    out = Path(options.out) if options.out else _default_out(path, options.dry_run)
    check_outputs(submit_outputs(options, out), inputs=[path], force=options.force)
    validation = validate_workbook(path, options.sheet, language=options.language)
    book = validation.book
    # One language for the run: --language, else the workbook's template language.
    options = replace(options, language=validation.language)
    progress = in_language(progress, validation.language)
    campaign = Campaign(command="submit", input_file=str(path), input_sha256=book.sha256,
                        template_version=book.template_version or "", batch_size=str(options.batch_size),
                        concurrency=str(options.concurrency), dry_run="true" if options.dry_run else "false",
                        language=validation.language)

    outcomes: dict[int, RowOutcome] = {}
    items: list[_Item] = []
    errors = row_errors(validation.findings, validation.language)
    for row, typed in validation.rows.items():
        name = typed.get("name")
        if row in validation.invalid:
            code, text = errors.get(row, (None, None))
            outcomes[row] = RowOutcome(row, None if name is None else str(name), Result.INVALID,
                                       error_code=code, error_msg=text)
            continue
        masked = payload.build_job(typed)
        items.append(_Item(row=row, typed=typed, masked=masked, use_types=(str(typed.get("db_use_type")),)))

    message: str | None = None
    interrupted = False
    plan: Plan | None = None
    dry_run_path: Path | None = None
    with contextlib.ExitStack() as stack:
        target = stack.enter_context(_target(options, env, need_auth=not options.dry_run))
        if not options.dry_run and target.ledger_path is not None:
            # One run per ledger, from before the first request to the last ledger write.
            stack.enter_context(ledger_lock(target.ledger_path))
        campaign.endpoint, campaign.project_id, campaign.region = (
            target.ledger_endpoint, target.project_id, target.region)
        _record_campaign_identity(campaign, target, create=not options.dry_run)
        campaign.cloud_user = target_identity(target) if target.auth is not None or target.simulator else ""
        ledger_exists = target.ledger_path is not None and target.ledger_path.exists()
        if ledger_exists:
            _already_created_wins_over_invalid(target, outcomes)
        if options.dry_run:
            entries = _read_ledger(target, items) if ledger_exists else {}
            to_send = []
            for item in items:
                entry = entries.get(item.key)
                if entry is not None and entry.exists:
                    outcomes[item.row] = _already(item, entry, validation.language)
                else:
                    to_send.append(item)
                    doubt = note(validation.language, "note:doubt_looked_up") if (
                        entry is not None and entry.doubtful) else None
                    outcomes[item.row] = RowOutcome(item.row, item.name, Result.DRY_RUN, error_msg=doubt)
            batches = list(payload.chunk(to_send, options.batch_size))
            plan = Plan(target.display, target.project_id, len(to_send), len(batches),
                        already_created=len(items) - len(to_send), invalid=len(validation.invalid),
                        batch_size=options.batch_size, concurrency=options.concurrency,
                        language=validation.language)
            _announce_invalid(validation, outcomes, progress)
            progress.note(say(validation.language, "dry run: ") + plan.line())
            dry_run_path = _write_dry_run(dry_run_path_for(out), target, batches, validation.language)
            rows = [outcomes[r] for r in validation.rows]
            exit_code = 1 if validation.invalid else 0
            ledger_path = target.ledger_path if ledger_exists else None
        else:
            engine_outcomes, plan, message, interrupted = _run(
                items, target, options, env, progress, confirm, stop, timings, len(validation.invalid),
                announce=lambda: _announce_invalid(validation, outcomes, progress))
            outcomes.update(engine_outcomes)
            rows = [outcomes[r] for r in validation.rows]
            exit_code = exit_code_for(r.result for r in rows)
            ledger_path = None if target.ledger_temporary else target.ledger_path
        drift = _drift(target, rows, validation, progress)
        # After the drift warnings, which quote the rows' own notes.
        if options.dry_run:
            _status_not_asked(outcomes, msg("note:why_dry_run"), validation.language)
        elif message is None and not stop.is_set():
            _ask_task_status(target, options, outcomes)
        else:
            _status_not_asked(outcomes, msg("note:why_stopped"), validation.language)
        rows = [outcomes[r] for r in validation.rows]

    campaign.finished_at = now_iso()
    timings.finished = time.monotonic()
    report_content = _summary(campaign, rows, book, validation.rows, drift)
    findings = [*validation.findings, *drift]
    summary = {"Summary": summary_sheet_rows(report_content)}
    appended = {o.row: o.columns() for o in rows}
    failed_rows = [o.row for o in rows if o.result in FAILED_RESULTS]
    failed_path = None
    try:
        results_path = write_results(out, book, appended, findings, extra_sheets=summary,
                                     language=validation.language)
        if failed_rows:
            failed_path = write_failed_rows(failed_path_for(out), book, appended, findings, failed_rows,
                                            extra_sheets=summary, language=validation.language)
        report = write_report(report_content, Path(results_path).stem, options.report_dir,
                              results_path=results_path)
    except (OSError, InputError) as exc:
        if options.dry_run:
            raise
        # Requests were sent: exit 2 ("nothing sent") would be a lie. The ledger has every answer.
        error = exc if isinstance(exc, OSError) else OSError(str(exc))
        raise OutputWriteError(write_failed(
            "results", error, ledger=ledger_path,
            rebuild="run the same command again to write the results (created rows come back as "
                    "ALREADY_CREATED; nothing is sent twice)")) from None
    return SubmitOutcome(rows=rows, campaign=campaign, exit_code=exit_code, results_path=Path(results_path),
                         failed_path=Path(failed_path) if failed_path else None, dry_run_path=dry_run_path,
                         ledger_path=ledger_path, report_html=report.html, report_json=report.json,
                         plan=plan, timings=timings,
                         interrupted=interrupted, message=message)


def _login(auth: Auth | None) -> None:
    """Log in before planning, so refused credentials end the run with nothing sent (exit 2).
    An IAM that cannot be reached now is left to the requests, which then count as not sent."""
    from bulkimport.drs import AuthUnavailable

    login = getattr(auth, "login", None)
    if login is not None:
        with contextlib.suppress(AuthUnavailable):
            login()


def _drift(target: Target, rows: Sequence[RowOutcome], validation: Validation, progress: Progress) -> list[Finding]:
    """Drift warnings for this run, also shown on the terminal (see drift_findings)."""
    path = target.ledger_path
    if path is None or not path.exists():
        return []
    try:
        with Ledger(path) as ledger:
            entries = ledger.entries(target.ledger_endpoint, target.project_id)
    except LedgerError:
        return []
    names = [str(t.get("name")) for t in validation.rows.values() if t.get("name")]
    found = drift_findings(rows, entries, names)
    for finding in found:
        language, message = validation.language, finding.sentence_for(validation.language)
        if finding.row:
            row = say(language, "row {row}", row=validation.book.source_row(finding.row))
            progress.note(say(language, "drift: {row}: {message}", row=row, message=message))
        else:
            progress.note(say(language, "drift: {message}", message=message))
    return found


def _record_campaign_identity(campaign: Campaign, target: Target, *, create: bool) -> None:
    """The campaign ID (made by the ledger on first use) and the ledger's absolute path go into
    the results workbook, so `status`, `rollback`, `prepare` and `start` find this ledger
    without --ledger and refuse another campaign's."""
    path = target.ledger_path
    if path is None or (not create and not path.exists()):
        return
    with Ledger(path) as ledger:  # an unusable ledger is a LedgerError: exit 2, nothing sent
        campaign.campaign_id = ledger.campaign_id() if create else (ledger.recorded_campaign_id() or "")
    target.campaign_id = campaign.campaign_id
    if not target.ledger_temporary:
        campaign.ledger = str(path.resolve())


def _read_ledger(target: Target, items: Sequence[_Item]) -> dict[str, LedgerEntry]:
    if target.ledger_path is None:
        return {}
    with Ledger(target.ledger_path) as ledger:
        return ledger.lookup(target.ledger_endpoint, target.project_id, [i.name for i in items])


def _already_created_wins_over_invalid(target: Target, outcomes: dict[int, RowOutcome]) -> None:
    """A row whose task this tool already created needs nothing sent, so what is wrong with
    it now (typically the ****** a results workbook shows for its password) does not matter:
    it is ALREADY_CREATED, which lets an operator feed a results workbook straight back."""
    invalid = {o.name.strip().lower(): o for o in outcomes.values() if o.result is Result.INVALID and o.name}
    if not invalid or target.ledger_path is None:
        return
    with Ledger(target.ledger_path) as ledger:
        entries = ledger.lookup(target.ledger_endpoint, target.project_id, list(invalid))
    for key, entry in entries.items():
        if entry.exists:
            old = invalid[key]
            outcomes[old.row] = RowOutcome(old.row, old.name, Result.ALREADY_CREATED, task_id=entry.task_id,
                                           child_ids=entry.child_ids, task_status=entry.task_status,
                                           submitted_at=entry.sent_at, request_id=entry.request_id)


def _status_not_asked(outcomes: dict[int, RowOutcome], why: Message, language: str) -> None:
    """ALREADY_CREATED rows whose status was not asked now: blank, and the row says so (in
    `language`). The ledger's status is the one last seen (often CREATING, minutes or days
    ago); shown as current it would tell a DBA a failed task is still being created."""
    for row, o in list(outcomes.items()):
        if o.result is Result.ALREADY_CREATED:
            outcomes[row] = replace(o, task_status=None, error_msg=joined(language, (
                o.error_msg, note(language, "note:status_not_asked", why=why))))


def _ask_task_status(target: Target, options: SubmitOptions, outcomes: dict[int, RowOutcome]) -> None:
    """The current task_status of the ALREADY_CREATED rows, asked of the server with the
    batch-status query `status` uses (100 IDs a request), instead of the ledger's last-seen
    one. A task the server no longer knows, or a query that fails, leaves the column blank and
    says why in error_msg."""
    from bulkimport.errors import BulkImportError
    from bulkimport.status import query_states
    from bulkimport.target import make_client

    already = {row: o for row, o in outcomes.items() if o.result is Result.ALREADY_CREATED and o.task_id}
    if not already:
        return
    language = options.language or EN
    scrub = scrubber(target.secrets)  # server text, as `status` scrubs it
    try:
        with contextlib.closing(make_client(target, options.retry_policy(),
                                            timeout=(options.connect_timeout, options.timeout))) as client:
            states = query_states(client, [o.task_id for o in already.values() if o.task_id], language)
    except BulkImportError as exc:
        reason = scrub(exc.said(language)) or msg("note:no_answer")
        _status_not_asked(already, msg("note:why_query_failed", reason=reason), language)
        outcomes.update(already)
        return
    for row, o in already.items():
        state = states[o.task_id]  # type: ignore[index]
        if state.status:
            outcomes[row] = replace(o, task_status=state.status)
        else:
            why = msg("note:why_task_unknown", reason=scrub(state.error_msg) or msg("note:no_status"))
            outcomes[row] = replace(o, task_status=None, error_msg=joined(language, (
                o.error_msg, note(language, "note:status_not_asked", why=why))))


def _already(item: _Item, entry: LedgerEntry, language: str) -> RowOutcome:
    """A row whose task the ledger shows created; its note (in `language`) says when the sheet drifted."""
    drifted = tuple(_drifted_fields(item.masked, entry.payload_masked))
    return RowOutcome(item.row, item.name, Result.ALREADY_CREATED, task_id=entry.task_id, child_ids=entry.child_ids,
                      task_status=entry.task_status, submitted_at=entry.sent_at, request_id=entry.request_id,
                      error_msg=note(language, "note:sheet_changed", fields=", ".join(drifted)) if drifted else None,
                      drifted=drifted)


def _flatten(job: Mapping[str, Any], prefix: str = "") -> dict[str, str]:
    flat: dict[str, str] = {}
    for key, value in job.items():
        if isinstance(value, Mapping):
            flat.update(_flatten(value, f"{prefix}{key}."))
        elif value not in (None, "", [], {}):
            flat[f"{prefix}{key}"] = json.dumps(value, sort_keys=True, ensure_ascii=False)
    return flat


def _drifted_fields(now: Mapping[str, Any], sent: Mapping[str, Any] | None) -> list[str]:
    """Fields whose value in the sheet differs from the ledger's masked copy of what was sent.
    Secrets are never compared (the ledger holds none), nor the name's case."""
    if not sent:
        return []
    mine, theirs = _flatten(now), _flatten(sent)
    skip = {*fields.SECRET_KEYS, "name"}
    return sorted(k for k in mine.keys() | theirs.keys() if k not in skip and mine.get(k) != theirs.get(k))


def drift_findings(outcomes: Iterable[RowOutcome], ledger_entries: Iterable[LedgerEntry],
                   workbook_names: Iterable[str]) -> list[Finding]:
    """Warnings (terminal, Findings sheet, report) about what drifted since the tasks were
    created: created rows whose cells changed, and tasks of the campaign whose names left
    the workbook (renamed or removed rows: a renamed row creates a second task)."""
    found = [Finding.of(o.row, None, DRIFT, msg("drift:row", name=o.name, task_id=o.task_id,
                                                detail=msg("note:sheet_changed", fields=", ".join(o.drifted))),
                        Severity.WARNING)
             for o in outcomes if o.result is Result.ALREADY_CREATED and o.drifted]
    present = {n.strip().lower() for n in workbook_names}
    for entry in ledger_entries:
        if entry.exists and entry.name.strip().lower() not in present:
            found.append(Finding.of(None, None, DRIFT, msg("drift:gone", name=entry.name, task_id=entry.task_id),
                                    Severity.WARNING))
    return found


def _run(items: list[_Item], target: Target, options: SubmitOptions, env: Mapping[str, str], progress: Progress,
         confirm: Callable[[Plan], bool] | None, stop: threading.Event, timings: Timings,
         invalid: int, announce: Callable[[], None] = lambda: None,
         ) -> tuple[dict[int, RowOutcome], Plan, str | None, bool]:
    """Ledger check, reconciliation of rows left in doubt, plan, confirmation, sending."""
    from bulkimport.drs import DrsClient

    assert target.ledger_path is not None  # only a simulated dry run has none
    with contextlib.closing(Ledger(target.ledger_path)) as ledger:
        entries = ledger.lookup(target.ledger_endpoint, target.project_id, [i.name for i in items])
        outcomes: dict[int, RowOutcome] = {}
        doubtful: list[_Item] = []
        fresh: list[_Item] = []
        for item in items:
            entry = entries.get(item.key)
            if entry is not None and entry.exists:
                outcomes[item.row] = _already(item, entry, options.language or EN)
            elif entry is not None and entry.doubtful:
                item.maybe_ours = True
                sent_type = (entry.payload_masked or {}).get("db_use_type")
                if sent_type:
                    item.use_types = tuple(dict.fromkeys((*item.use_types, str(sent_type))))
                doubtful.append(item)
            else:
                fresh.append(item)
        # Secrets first: an unset env: variable must stop the run before any request.
        if doubtful or fresh:
            check_tls(target)
            _login(target.auth)
        resolve_env = _SimulatedEnv(env) if target.simulator is not None else env
        secrets = _resolve_secrets([*doubtful, *fresh], resolve_env, options.language or EN)
        if isinstance(resolve_env, _SimulatedEnv) and resolve_env.missing:
            progress.note(say(options.language or EN, "simulate: {names} not set; the simulator gets a placeholder "
                                                      "instead", names=", ".join(sorted(resolve_env.missing))))
        scrub = scrubber([*secrets, *target.secrets])
        client = DrsClient(target.endpoint, target.project_id, target.sending_auth,
                           language=options.language or "en-us", verify=target.verify,
                           timeout=(options.connect_timeout, options.timeout), pool_size=options.concurrency + 2,
                           retry=options.retry_policy())
        with client:
            engine = Engine(client, ledger, target, options, stop, progress, scrub, timings)
            engine.outcomes.update(outcomes)
            engine.count(outcomes.values())
            if doubtful:
                progress.note(say(options.language or EN, "looking up {tasks} left in doubt by an earlier run",
                                  tasks=tasks_word(options.language or EN, len(doubtful))))
                fresh = engine.reconcile(doubtful, earlier_run=True) + fresh
                fresh.sort(key=lambda i: i.row)
            reconciled = {o.row for o in engine.outcomes.values()} - set(outcomes)
            batches = list(payload.chunk(fresh, options.batch_size))
            plan = Plan(target.display, target.project_id, len(fresh), len(batches),
                        already_created=len(outcomes) + sum(1 for r in reconciled
                                                            if engine.outcomes[r].result is Result.ALREADY_CREATED),
                        unknown=sum(1 for r in reconciled if engine.outcomes[r].result is Result.UNKNOWN),
                        invalid=invalid, batch_size=options.batch_size, concurrency=options.concurrency,
                        language=options.language or EN)
            announce()
            progress.note(say(plan.language, "plan: ") + plan.line())
            if fresh and confirm is not None and not confirm(plan):
                for item in fresh:
                    engine.outcomes[item.row] = RowOutcome(item.row, item.name, Result.NOT_SENT,
                                                           error_msg=note(plan.language, "note:not_confirmed"))
                return engine.outcomes, plan, "not confirmed: nothing was sent", False
            if fresh:
                progress.start(len(items), "submitting")
                engine.run(batches)
                progress.finish()
            message = engine.fatal
            interrupted = stop.is_set() and message is None  # stopped by the operator, not by a failure
            if interrupted:
                message = "interrupted: requests in flight were finished and recorded; the rest was not sent"
            return engine.outcomes, plan, message, interrupted
