"""Start-up time of the commands people type most: `zoo --help`, `zoo list`, `zoo plugins`.

Target: `zoo list` at most 0.25 s median on a 2-core CPU, with neither torch nor numpy imported.
Each command runs in a fresh process, `--runs` times after one warm-up run (which also fills the
registry cache); medians are printed, and the slowest imports of one `zoo list` are listed.

    python benchmarks/startup.py
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time

# As users run it: with compiled bytecode cached (some shells set PYTHONDONTWRITEBYTECODE, which
# makes every start compile every module from source, about 50 ms more here).
ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


def timed(args: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "zoo", *args], check=True, capture_output=True, env=ENV)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    for command in (["--help"], ["list"], ["plugins"]):
        timed(command)
        times = [timed(command) for _ in range(args.runs)]
        print(f"zoo {' '.join(command):<8} median {statistics.median(times):.3f} s  "
              f"(min {min(times):.3f}, max {max(times):.3f}, {args.runs} runs)")
    trace = subprocess.run([sys.executable, "-X", "importtime", "-m", "zoo", "list"],
                           capture_output=True, text=True, env=ENV)
    rows = []
    for line in trace.stderr.splitlines():
        parts = line.split("|")
        if len(parts) == 3 and parts[1].strip().isdigit():
            rows.append((int(parts[1]), parts[2].rstrip()))
    print("slowest imports of `zoo list` (cumulative microseconds):")
    for micros, name in sorted(rows, reverse=True)[:8]:
        print(f"  {micros:>8,}  {name.strip()}")


if __name__ == "__main__":
    main()
