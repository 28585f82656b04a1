"""`bulkimport template [PATH] [--language en-us|zh-cn] [--force]`: writes the blank Excel template.

Replacing a blank template is deliberate (regenerating it in place is how it follows the
catalogue), but a file that holds task rows, or is not a workbook at all, is an operator's
work: it is only replaced with `--force`.
"""

from __future__ import annotations

from pathlib import Path

import click

from bulkimport import fields
from bulkimport.outcomes import ExitCode
from bulkimport.outputs import Output, check_outputs
from bulkimport.template import DEFAULT_LANGUAGE, DEFAULT_PATH, LANGUAGES, write_template


@click.command(name="template")
@click.argument("path", required=False, default=str(DEFAULT_PATH),
                type=click.Path(dir_okay=False, path_type=Path))
@click.option("--language", type=click.Choice(LANGUAGES), default=DEFAULT_LANGUAGE, show_default=True,
              help="Language of labels, help, instructions and the Fields sheet (row-2 keys never change).")
@click.option("--force", is_flag=True, help="Replace PATH even when it holds task rows or is not a workbook.")
def command(path: Path, language: str, force: bool) -> int:
    """Write the blank Excel template to PATH (default templates/drs-jobs-template.xlsx).

    Parent folders are created. An existing blank template is replaced; a file holding task
    rows (or anything that is not a workbook) only with --force.
    """
    check_outputs([Output(path, "PATH", "workbook", suffixes=(".xlsx",))], force=force)
    written = write_template(path, language=language)
    from bulkimport.terminal import say

    click.echo(say(language, "wrote {path} ({n} columns, {language}, template version {version})", path=written,
                   n=len(fields.KEYS), language=language, version=fields.TEMPLATE_VERSION))
    return ExitCode.OK
