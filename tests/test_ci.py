"""CI runs the real programs (issue 13.8): `.ci/run` installs LibreOffice, Chromium and a font
for Chinese (issue 11: the zh-cn report) when they are missing, and the tests that need them
fail rather than skip when CI is set.

`.ci/run` is exercised with stand-ins for `apt-get`, `make` and `id` on PATH, so nothing is
installed or built here; the stand-ins record how they were called.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from conftest import require_program

RUN = Path(__file__).resolve().parent.parent / ".ci" / "run"


def _stub(folder: Path, name: str, body: str) -> None:
    path = folder / name
    path.write_text(f"#!/bin/sh\n{body}\n")
    path.chmod(0o755)


def run_ci(tmp_path: Path, present: tuple[str, ...], *, zh_fonts: str = "WenQuanYi Micro Hei") -> list[str]:
    """Run .ci/run with only `present` of soffice/chromium/python3/fc-list on PATH; return the
    calls logged.

    A `python3` stand-in that exits 0 plays a Python that imports LibreOffice's `uno`; an
    `fc-list` stand-in lists `zh_fonts`, as fontconfig does when a font for Chinese is installed."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    log = tmp_path / "calls.log"
    for name in ("apt-get", "make"):
        _stub(bin_dir, name, f'echo "{name} $*" >> {log}')
    _stub(bin_dir, "id", "echo 0")
    for name in present:
        _stub(bin_dir, name, f"echo '{zh_fonts}'" if name == "fc-list" else "exit 0")
    # Only the stand-ins and the shell's basic tools: no real soffice/chromium can be found.
    basics = tmp_path / "basics"
    basics.mkdir()
    for tool in ("bash", "dirname", "timeout", "cat"):
        real = subprocess.run(["sh", "-c", f"command -v {tool}"], capture_output=True, text=True).stdout.strip()
        if real:
            (basics / tool).symlink_to(real)
    env = {"PATH": f"{bin_dir}:{basics}", "HOME": str(tmp_path)}
    proc = subprocess.run([str(basics / "bash"), str(RUN)], env=env, capture_output=True, text=True, timeout=60,
                          stdin=subprocess.DEVNULL)
    assert proc.returncode == 0, proc.stderr
    return log.read_text().splitlines() if log.exists() else []


def test_ci_installs_what_is_missing_then_runs_make_test(tmp_path: Path) -> None:
    calls = run_ci(tmp_path, present=())
    assert calls[0] == "apt-get update -q"
    assert calls[1].startswith("apt-get install -y -q")
    assert set(calls[1].split()[4:]) == {"libreoffice-calc-nogui", "python3-uno", "chromium", "fonts-wqy-microhei"}
    assert calls[-1] == "make test"


def test_ci_installs_nothing_when_all_are_there(tmp_path: Path) -> None:
    assert run_ci(tmp_path, present=("soffice", "chromium", "python3", "fc-list")) == ["make test"]


def test_ci_installs_only_the_missing_one(tmp_path: Path) -> None:
    calls = run_ci(tmp_path, present=("soffice", "python3", "fc-list"))
    assert calls == ["apt-get update -q", "apt-get install -y -q chromium", "make test"]


def test_ci_installs_the_uno_bridge_when_libreoffice_is_there_without_it(tmp_path: Path) -> None:
    """A machine with LibreOffice but no python3-uno would fail the Mark-Invalid-Data test."""
    calls = run_ci(tmp_path, present=("soffice", "chromium", "fc-list"))
    assert calls == ["apt-get update -q", "apt-get install -y -q python3-uno", "make test"]


def test_ci_installs_a_font_for_chinese_when_fontconfig_lists_none(tmp_path: Path) -> None:
    """Without one the zh-cn report prints boxes: fontconfig present but listing no font for
    zh, or no fontconfig at all, both install fonts-wqy-microhei."""
    for case, present in (("none", ("soffice", "chromium", "python3", "fc-list")),
                          ("no-fontconfig", ("soffice", "chromium", "python3"))):
        (tmp_path / case).mkdir()
        calls = run_ci(tmp_path / case, present=present, zh_fonts="")
        assert calls == ["apt-get update -q", "apt-get install -y -q fonts-wqy-microhei", "make test"], case


def test_a_missing_program_fails_under_ci_and_skips_elsewhere(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="CI must run this test"):
        require_program("no-such-program-bulkimport")
    monkeypatch.delenv("CI")
    with pytest.raises(pytest.skip.Exception):
        require_program("no-such-program-bulkimport")
    assert Path(require_program("sh")).name == "sh"
