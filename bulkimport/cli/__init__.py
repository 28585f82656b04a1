"""The `bulkimport` command: a thin click shell over the library.

Each sub-command lives in its own module under `bulkimport.cli` and is imported only when
it runs, so `bulkimport --help` and `bulkimport template` do not pay for pandas/pandera.
Commands only parse options, call library functions and print; every error the operator
can cause ends as one line on stderr with the documented exit code, never a traceback.
"""

from __future__ import annotations

import importlib
import json
import sys

import click

from bulkimport.errors import BulkImportError
from bulkimport.outcomes import ExitCode

#: command name -> module under bulkimport.cli that defines `command`
COMMANDS: dict[str, str] = {
    "template": "template",
    "validate": "validate",
    "submit": "submit",
    "status": "status",
    "prepare": "prepare",
    "start": "start",
    "report": "report",
    "rollback": "rollback",
    "simulator": "simulator",
}


class LazyGroup(click.Group):
    """Loads a sub-command's module on first use."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        module_name = COMMANDS.get(cmd_name)
        if module_name is None:
            return None
        try:
            module = importlib.import_module(f"bulkimport.cli.{module_name}")
        except ModuleNotFoundError as exc:
            if exc.name == f"bulkimport.cli.{module_name}":
                return None  # not built yet
            raise
        return module.command


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="bulkimport")
def cli() -> None:
    """Create DRS replication tasks in bulk from an Excel workbook."""


def _wants_json(args: list[str]) -> bool:
    """`--json` anywhere before a `--` separator: errors then also go to stdout as JSON."""
    for arg in args:
        if arg == "--":
            return False
        if arg == "--json":
            return True
    return False


def fail(message: str, code: int = ExitCode.UNUSABLE_INPUT, *, as_json: bool = False,
         english: str | None = None) -> None:
    """Print one line on stderr (and, with --json, an error object on stdout) and exit with `code`.
    `english`: the en-us line when `message` is said in another language (`error_en` in JSON)."""
    line = " ".join(str(message).split())
    click.echo(f"bulkimport: error: {line}", err=True)
    if as_json:
        document: dict[str, object] = {"exit_code": code, "error": line}
        if english is not None and " ".join(english.split()) != line:
            document["error_en"] = " ".join(english.split())
        click.echo(json.dumps(document, ensure_ascii=False))
    sys.exit(code)


#: The argument that names a command's input workbook (its language is the run's language).
_INPUT_PARAMS = ("workbook", "results_workbook")


def error_language(args: list[str]) -> str:
    """The language an error of this run is said in: `--language`, else the language the
    input workbook records (its `_meta` sheet: the template's, or the campaign's for a results
    workbook), else en-us. Read only when an error is printed (the command line parsed again,
    leniently, and the workbook peeked at), so the raise sites need not know it; an input that
    cannot be read (missing, not a workbook) leaves the error in English."""
    from bulkimport.fields import LANGUAGES

    name = next((a for a in args if not a.startswith("-")), "")
    command = cli.get_command(click.Context(cli), name) if name else None
    if command is None:
        return "en-us"
    try:
        with command.make_context(name, args[args.index(name) + 1:], resilient_parsing=True) as ctx:
            params = dict(ctx.params)
    except Exception:  # a command line click cannot make sense of even leniently
        return "en-us"
    language = params.get("language")
    if language in LANGUAGES:
        return str(language)
    path = next((params[p] for p in _INPUT_PARAMS if params.get(p)), None)
    if path is None:
        return "en-us"
    from bulkimport.book_read import recorded_language

    return recorded_language(path) or "en-us"


def usage_message(exc: click.UsageError) -> str:
    """Click's usage error as one line: its message, then where the help is."""
    if isinstance(exc, click.exceptions.NoArgsIsHelpError):
        return f"no command given; choose one of {', '.join(COMMANDS)} (bulkimport --help describes them)"
    message = exc.format_message()
    if exc.ctx is not None:
        message += f" (see '{exc.ctx.command_path} --help')"
    return message


def _interrupted(args: list[str]) -> None:
    """Ctrl-C (or an aborted prompt): one line in the run's language, exit 3."""
    from bulkimport.terminal import say

    click.echo(f"bulkimport: {say(error_language(args), 'interrupted')}", err=True)
    sys.exit(ExitCode.INCOMPLETE)


def main(argv: list[str] | None = None) -> None:
    """Console-script entry point: maps our errors and Ctrl-C to exit codes.

    Sub-commands return their exit code (an int) rather than calling sys.exit, so they
    stay callable from tests through click's CliRunner as well. Every error an operator can
    cause, click's usage errors included, ends as ONE line on stderr (and a JSON error object
    on stdout with --json); `--help` is click's own.
    """
    args = list(sys.argv[1:] if argv is None else argv)
    as_json = _wants_json(args)
    try:
        code = cli.main(args=args, prog_name="bulkimport", standalone_mode=False)
    except click.exceptions.Abort:
        _interrupted(args)
    except click.UsageError as exc:
        fail(usage_message(exc), ExitCode.UNUSABLE_INPUT, as_json=as_json)
    except click.ClickException as exc:
        fail(exc.format_message(), ExitCode.UNUSABLE_INPUT if exc.exit_code == 2 else exc.exit_code,
             as_json=as_json)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except BulkImportError as exc:
        fail(exc.said(error_language(args)), exc.exit_code, as_json=as_json, english=str(exc))
    except KeyboardInterrupt:
        _interrupted(args)
    sys.exit(code if isinstance(code, int) else ExitCode.OK)
