"""Errors that end a command with a clear one-line message instead of a traceback."""

from __future__ import annotations


class BulkImportError(Exception):
    """Base class: the message is shown to the operator as one line."""

    exit_code = 1


class InputError(BulkImportError):
    """The input cannot be used at all (missing file, not a workbook, no task sheet,
    mandatory column missing, bad option). Nothing was sent. Exit code 2."""

    exit_code = 2
