"""Shared test fixtures."""

from __future__ import annotations

import os
import shutil
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
    what = " / ".join(names)
    if os.environ.get("CI"):
        pytest.fail(f"{what} is not installed, but CI must run this test with it (.ci/run installs it)")
    pytest.skip(f"{what} is not installed (CI installs it and runs this test)")


@pytest.fixture
def soffice() -> str:
    """LibreOffice's command-line program (Debian package libreoffice-calc-nogui)."""
    return require_program("soffice", "libreoffice")


@pytest.fixture
def chromium() -> str:
    """Headless Chromium (Debian package chromium)."""
    return require_program("chromium", "chromium-browser")
