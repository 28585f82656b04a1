"""The `submit` command's library: validate, consult the ledger, send batches, reconcile,
collect one outcome per row, write the results.

Exactly once, without an idempotency key (docs/decisions.md "Exactly once"):

* every request is recorded in the ledger (rows `sending`) before it leaves and its answer
  right after it arrives, so a kill at any instant leaves each row either answered or
  findable as `sending`;
* after 429 / DRS.M01503 nothing was created, so the batch is sent again after a backoff;
* after anything else that may have reached the server (5xx, timeout, reset, lost reply,
  a kill) the rows are *in doubt*: they are looked up by name on the server before any of
  them is sent again, and only the ones not found are resent;
* a name the server says exists (DRS.M00277) is adopted only when this tool may have
  created it itself (the row was in doubt); otherwise the row is REJECTED and the foreign
  task is never touched.

The results are matched to rows by task name, never by position.
"""

from __future__ import annotations

from bulkimport.submit.engine import Engine, SubmitClient
from bulkimport.submit.model import FAILED_RESULTS, Plan, RowOutcome, SubmitOptions, SubmitOutcome, Timings
from bulkimport.submit.run import (
    drift_findings,
    dry_run_path_for,
    failed_path_for,
    not_created_lines,
    stop_on_interrupt,
    submit_outputs,
    submit_workbook,
    target_identity,
)

__all__ = [
    "FAILED_RESULTS",
    "Engine",
    "Plan",
    "RowOutcome",
    "SubmitClient",
    "SubmitOptions",
    "SubmitOutcome",
    "Timings",
    "drift_findings",
    "dry_run_path_for",
    "failed_path_for",
    "not_created_lines",
    "stop_on_interrupt",
    "submit_outputs",
    "submit_workbook",
    "target_identity",
]
