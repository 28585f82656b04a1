"""The one exception tree of the tool: every error it raises on purpose is a BulkImportError,
so the CLI maps each to its one-line message and exit code in one place (`bulkimport.cli.main`).

An error carries its en-us text as a `str.format` template and the values that fill it
(`InputError("{path}: no such file", path=path)`), not a finished sentence: `str(error)` is
the en-us line (logs, scripts, tests), and `error.said("zh-cn")` is the same line in the
run's language, through the terminal's one table of texts (`terminal._ZH`). So the raise
sites never know languages, and a test finds every template in the source and asks for its
zh-cn text. An error raised with a finished f-string (no values) is said as it is: English.
"""

from __future__ import annotations

from bulkimport.outcomes import ExitCode


class Phrase:
    """An en-us `str.format` template and its values, said in a language when printed: an error's
    message, or a part of one (a reason another error quotes) that is said in the same language."""

    __slots__ = ("params", "template")

    def __init__(self, template: str, /, **params: object) -> None:
        self.template = template
        self.params = params

    def __str__(self) -> str:
        return self.said("en-us")

    def __repr__(self) -> str:
        return f"Phrase({self.template!r}, **{self.params!r})"

    def said(self, language: str) -> str:
        """The text in `language` (en-us, or zh-cn when the table has it), values filled in
        (a value that is itself a Phrase is said in the same language)."""
        from bulkimport.terminal import say, translate

        if not self.params:  # a finished line: braces in it are text, not placeholders
            return translate(language, self.template)
        values = {k: v.said(language) if isinstance(v, Phrase) else v for k, v in self.params.items()}
        return say(language, self.template, **values)


class BulkImportError(Exception):
    """Base class: the message is shown to the operator as one line (see the module docstring)."""

    exit_code: int = ExitCode.SOME_FAILED

    def __init__(self, message: str | Phrase = "", /, **params: object) -> None:
        self.template_text = message if isinstance(message, Phrase) else Phrase(message, **params)
        super().__init__(str(self.template_text))

    @property
    def template(self) -> str:
        """The en-us template (what `terminal._ZH` is keyed by)."""
        return self.template_text.template

    @property
    def params(self) -> dict[str, object]:
        return self.template_text.params

    def said(self, language: str) -> str:
        """The message in `language` (the CLI prints it after `bulkimport: error: `)."""
        return self.template_text.said(language)


class InputError(BulkImportError):
    """The input cannot be used at all (missing file, not a workbook, no task sheet,
    mandatory column missing, bad option, unusable ledger). Nothing was sent."""

    exit_code = ExitCode.UNUSABLE_INPUT


class OutputWriteError(BulkImportError):
    """An output could not be written AFTER requests were sent (a disk filled up): the
    outcomes are in the ledger, and a re-run rebuilds the files. Exit code 3: run the same
    command again."""

    exit_code = ExitCode.INCOMPLETE
