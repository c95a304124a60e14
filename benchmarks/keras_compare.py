"""What the benchmarks that compare kerastorch with Keras 3 in the same run share: the median timer, and a ``main``
that runs the kerastorch side here and, with ``--keras``, the Keras 3 side of the same script in ``.venv-keras`` as a
separate process (``--keras-side``), then prints one markdown table with the ratio keras3 / kerastorch per case."""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from typing import Callable

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def timed(fn: Callable[[], object], reps: int) -> float:
    """The median of ``reps`` timed calls after one warm-up, in ms."""
    fn()
    times = []
    for _ in range(reps):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times) * 1e3


def main(script: str, run_kerastorch: Callable[[int], dict], run_keras: Callable[[int], dict]) -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--keras", action="store_true", help="also run Keras 3 in .venv-keras (separate process)")
    parser.add_argument("--reps", type=int, default=5)
    parser.add_argument("--keras-side", action="store_true", help=argparse.SUPPRESS)
    opts = parser.parse_args()
    if opts.keras_side:
        print(json.dumps(run_keras(opts.reps)))
        return
    mine = run_kerastorch(opts.reps)
    theirs = {}
    if opts.keras:
        python = os.environ.get("KERAS_PYTHON", os.path.join(ROOT, ".venv-keras", "bin", "python"))
        proc = subprocess.run([python, script, "--keras-side", "--reps", str(opts.reps)], capture_output=True,
                              text=True, cwd=ROOT)
        if proc.returncode != 0:
            print(proc.stderr[-2000:])
            sys.exit(1)
        theirs = json.loads(proc.stdout.strip().splitlines()[-1])
    print("| case | kerastorch ms | keras3 ms | keras3/kerastorch |")
    print("|---|---|---|---|")
    for case, ms in mine.items():
        k = theirs.get(case)
        print(f"| {case} | {ms:.1f} | {'-' if k is None else f'{k:.1f}'} | {'-' if k is None else f'{k / ms:.2f}'} |")
