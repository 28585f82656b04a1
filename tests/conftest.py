"""Shared test fixtures."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture
def repo() -> Path:
    return REPO


def require_program(*names: str) -> str:
    """The path of the first of `names` on PATH. When none is installed: a FAILURE under CI
    (the environment variable CI is set: `.ci/run` installs LibreOffice and Chromium, so a
    missing one means the install broke and the real programs were not tried), a clean skip
    on a developer's machine."""
    for name in names:
        found = shutil.which(name)
        if found:
            return found
    _not_installed(" / ".join(names))
    raise AssertionError("unreachable")


def _not_installed(what: str) -> None:
    """A failure under CI (`.ci/run` installs `what`), a skip elsewhere."""
    if os.environ.get("CI"):
        pytest.fail(f"{what} is not installed, but CI must run this test with it (.ci/run installs it)")
    pytest.skip(f"{what} is not installed (CI installs it and runs this test)")


def cjk_font_files() -> list[str]:
    """The files of the fonts fontconfig offers for Simplified Chinese (`fc-list :lang=zh`);
    none (or no fontconfig): a failure under CI, which installs one, a skip elsewhere."""
    fc_list = shutil.which("fc-list")
    found = []
    if fc_list:
        listed = subprocess.run([fc_list, ":lang=zh", "file"], capture_output=True, text=True, timeout=60).stdout
        found = sorted({line.strip().rstrip(":") for line in listed.splitlines() if line.strip()})
    if not found:
        _not_installed("a font for Chinese (fc-list :lang=zh)")
    return found


@pytest.fixture
def soffice() -> str:
    """LibreOffice's command-line program (Debian package libreoffice-calc-nogui)."""
    return require_program("soffice", "libreoffice")


@pytest.fixture
def chromium() -> str:
    """Headless Chromium (Debian package chromium)."""
    return require_program("chromium", "chromium-browser")


@pytest.fixture
def cjk_fonts() -> list[str]:
    """The files of the installed fonts for Simplified Chinese (Debian package fonts-wqy-microhei)."""
    return cjk_font_files()
