"""Benchmark: `prepare` of 1,000 created tasks against the simulator with 100 ms added latency.

The tasks are first created (not measured). `prepare` then asks their status, tests 2,000
endpoints, selects objects, starts 1,000 pre-checks and polls their results, at most 10 tasks
a request with `--concurrency` requests in flight. The ideal is what a client that spends no
time of its own would need: requests sent / concurrency x latency, plus the pre-check's own
duration (the simulator's `--precheck-duration`). The measured figure is the launch phase
(first request to last answer), with prepare's total wall time beside it, as bench_submit does
for the submission phase.

    .venv/bin/python benchmarks/bench_prepare.py
    .venv/bin/python benchmarks/bench_prepare.py --tasks 2000 --concurrency 8 --precheck-duration 2

Target: within 1.3x of the ideal.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from bench_submit import PROJECT, TOKEN, _free_port, _row, _wait_ready  # noqa: E402

from bulkimport.drs import RetryPolicy  # noqa: E402
from bulkimport.prepare import prepare_workbook  # noqa: E402
from bulkimport.submit import SubmitOptions, submit_workbook  # noqa: E402
from bulkimport.target import cloud_target  # noqa: E402
from bulkimport.template import write_template  # noqa: E402


def _launch_row(i: int) -> dict[str, object]:
    row = _row(i)
    row.update({"target_endpoint.ip": f"10.200.{i // 256 % 256}.{i % 256}", "target_endpoint.db_port": 3306})
    return row


def _start_simulator(port: int, latency: float, precheck_duration: float) -> subprocess.Popen:
    args = [sys.executable, "-m", "bulkimport", "simulator", "--port", str(port), "--token", TOKEN,
            "--latency", str(latency), "--transition-delay", "0", "--precheck-duration", str(precheck_duration)]
    return _wait_ready(subprocess.Popen(args, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL), port)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", type=int, default=1000)
    parser.add_argument("--latency", type=float, default=0.1)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--precheck-duration", type=float, default=2.0)
    parser.add_argument("--interval", type=float, default=0.25, help="prepare's --interval")
    args = parser.parse_args()

    port = _free_port()
    process = _start_simulator(port, args.latency, args.precheck_duration)
    endpoint = f"http://127.0.0.1:{port}"
    env = {**os.environ, "OS_AUTH_TOKEN": TOKEN, "SRC_PW": "bench-src", "TGT_PW": "bench-tgt"}
    try:
        with tempfile.TemporaryDirectory(prefix="bench-prepare-") as tmp:
            work = Path(tmp)
            book = write_template(work / "bench.xlsx", rows=[_launch_row(i) for i in range(args.tasks)])
            created = submit_workbook(book, SubmitOptions(endpoint=endpoint, project_id=PROJECT, concurrency=8,
                                                          out=work / "results.xlsx", ledger=work / "ledger.sqlite",
                                                          report_dir=work), env=env)
            if created.counts() != {"CREATED": args.tasks}:
                print(f"submit did not create every task: {created.counts()}", file=sys.stderr)
                return 1
            target = cloud_target(endpoint=endpoint, region=None, project_id=PROJECT, env=env,
                                  ledger_path=work / "ledger.sqlite")
            cpu0, wall0 = time.process_time(), time.perf_counter()
            outcome = prepare_workbook(book, target, out_path=work / "prepared.xlsx", report_dir=work,
                                       timeout=600, interval=args.interval, concurrency=args.concurrency, env=env,
                                       retry=RetryPolicy(attempts=5, base_delay=0.05))
            wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0
    finally:
        process.terminate()
        process.wait(timeout=10)

    if outcome.counts.get("passed") != args.tasks:
        print(f"prepare did not pass every task: {outcome.counts}", file=sys.stderr)
        return 1
    status_requests = -(-args.tasks // 100)  # batch-status pages of 100, asked first
    sent = outcome.requests + status_requests
    minimal = status_requests + 5 * -(-args.tasks // 10)  # so, ta, objects, precheck, one result round
    ideal = sent / args.concurrency * args.latency + args.precheck_duration
    ideal_minimal = minimal / args.concurrency * args.latency + args.precheck_duration
    print(f"prepare: tasks {args.tasks}, requests {sent} (minimum {minimal}), concurrency {args.concurrency}, "
          f"latency {args.latency * 1000:.0f} ms, pre-check duration {args.precheck_duration:g} s, "
          f"interval {args.interval:g} s")
    print(f"  ideal (requests sent)   {ideal:7.2f} s  (requests / concurrency x latency + pre-check duration)")
    print(f"  ideal (minimum)         {ideal_minimal:7.2f} s  (one result round only)")
    phase = outcome.phase_seconds
    print(f"  measured launch phase   {phase:7.2f} s  ({phase / ideal:.2f}x ideal, {phase / ideal_minimal:.2f}x "
          "the minimum; target <= 1.3x) - first request to last answer")
    print(f"  total wall time         {wall:7.2f} s  (reading and validating the workbook, ledger, results "
          "workbook and report included)")
    print(f"  client CPU              {cpu:7.2f} s  ({cpu / args.tasks * 1000:.2f} ms per task)")
    ok = phase <= 1.3 * ideal
    print("PASS" if ok else "MISSED TARGET")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
