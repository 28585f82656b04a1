"""`bulkimport simulator` serves the API over loopback until stopped."""

from __future__ import annotations

import re
import subprocess
import sys
import time

import requests


def test_simulator_command_serves_and_accepts_its_token() -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "bulkimport", "simulator", "--port", "0", "--token", "demo-token", "--seed", "3"],
        stderr=subprocess.PIPE, text=True,
    )
    try:
        line = proc.stderr.readline()
        match = re.search(r"(http://127\.0\.0\.1:\d+)", line)
        assert match, line
        base = match.group(1)
        deadline = time.monotonic() + 10
        reply = None
        while time.monotonic() < deadline:
            try:
                reply = requests.post(f"{base}/v3/p1/jobs", json={"db_use_type": "migration", "cur_page": 1,
                                                                    "per_page": 10},
                                      headers={"X-Auth-Token": "demo-token"}, timeout=5)
                break
            except requests.ConnectionError:
                time.sleep(0.1)
        assert reply is not None and reply.status_code == 200
        assert reply.json()["total_record"] == 0
        # a token given on the command line is never echoed back
        assert "demo-token" not in line
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_simulator_command_rejects_half_an_aksk_pair() -> None:
    proc = subprocess.run([sys.executable, "-m", "bulkimport", "simulator", "--access-key", "AK"],
                          capture_output=True, text=True, timeout=30)
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
