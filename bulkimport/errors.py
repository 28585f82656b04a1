"""The one exception tree of the tool: every error it raises on purpose is a BulkImportError,
so the CLI maps each to its one-line message and exit code in one place (`bulkimport.cli.main`)."""

from __future__ import annotations

from bulkimport.outcomes import ExitCode


class BulkImportError(Exception):
    """Base class: the message is shown to the operator as one line."""

    exit_code: int = ExitCode.SOME_FAILED


class InputError(BulkImportError):
    """The input cannot be used at all (missing file, not a workbook, no task sheet,
    mandatory column missing, bad option, unusable ledger). Nothing was sent."""

    exit_code = ExitCode.UNUSABLE_INPUT


class OutputWriteError(BulkImportError):
    """An output could not be written AFTER requests were sent (a disk filled up): the
    outcomes are in the ledger, and a re-run rebuilds the files. Exit code 3: run the same
    command again."""

    exit_code = ExitCode.INCOMPLETE
