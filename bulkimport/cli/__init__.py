"""The `bulkimport` command: a thin click shell over the library.

Each sub-command lives in its own module under `bulkimport.cli` and is imported only when
it runs, so `bulkimport --help` and `bulkimport template` do not pay for pandas/pandera.
Commands only parse options, call library functions and print; every error the operator
can cause ends as one line on stderr with the documented exit code, never a traceback.
"""

from __future__ import annotations

import importlib
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


def fail(message: str, code: int = ExitCode.UNUSABLE_INPUT) -> None:
    """Print one line on stderr and exit with `code`."""
    click.echo(f"bulkimport: error: {message}", err=True)
    sys.exit(code)


def main(argv: list[str] | None = None) -> None:
    """Console-script entry point: maps our errors and Ctrl-C to exit codes.

    Sub-commands return their exit code (an int) rather than calling sys.exit, so they
    stay callable from tests through click's CliRunner as well.
    """
    try:
        code = cli.main(args=argv, prog_name="bulkimport", standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("bulkimport: interrupted", err=True)
        sys.exit(ExitCode.INCOMPLETE)
    except click.ClickException as exc:
        exc.show()
        sys.exit(ExitCode.UNUSABLE_INPUT if exc.exit_code == 2 else exc.exit_code)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except BulkImportError as exc:
        fail(str(exc), exc.exit_code)
    except KeyboardInterrupt:
        click.echo("bulkimport: interrupted", err=True)
        sys.exit(ExitCode.INCOMPLETE)
    sys.exit(code if isinstance(code, int) else ExitCode.OK)
