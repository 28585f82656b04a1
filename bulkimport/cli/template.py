"""`bulkimport template [PATH] [--language en-us|zh-cn]`: writes the blank Excel template.

Overwriting is deliberate: a template holds nothing of the operator's, and regenerating it
in place is how it follows the catalogue.
"""

from __future__ import annotations

from pathlib import Path

import click

from bulkimport import fields
from bulkimport.outcomes import ExitCode
from bulkimport.template import DEFAULT_LANGUAGE, DEFAULT_PATH, LANGUAGES, write_template


@click.command(name="template")
@click.argument("path", required=False, default=str(DEFAULT_PATH),
                type=click.Path(dir_okay=False, path_type=Path))
@click.option("--language", type=click.Choice(LANGUAGES), default=DEFAULT_LANGUAGE, show_default=True,
              help="Language of labels, help, instructions and the Fields sheet (row-2 keys never change).")
def command(path: Path, language: str) -> int:
    """Write the blank Excel template to PATH (default templates/drs-jobs-template.xlsx).

    Parent folders are created and an existing file is replaced.
    """
    written = write_template(path, language=language)
    click.echo(f"wrote {written} ({len(fields.KEYS)} columns, {language}, template version "
               f"{fields.TEMPLATE_VERSION})")
    return ExitCode.OK
