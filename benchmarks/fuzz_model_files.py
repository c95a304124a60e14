"""Long run of the model-file mutation fuzzer (``tests/saving/model_fuzzer.py``).

    .venv/bin/python benchmarks/fuzz_model_files.py --count 3000 --seed 1 [--inflate-every 500] [--workers 2] [--families]

Prints one line per BAD mutant as it is found and a summary (counts per outcome, BAD kinds with
examples) at the end; exit status 1 when any mutant is BAD. CI runs a fixed-seed few hundred
(``tests/saving/test_fuzz_model_files.py``).
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests"))

from saving import model_fuzzer  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--count", type=int, default=3000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--workers", type=int, default=2, help="child processes (at most 2)")
    parser.add_argument("--inflate-every", type=int, default=500,
                        help="one mutant in N is a .keras whose weights member inflates by 3 GiB of zeros (0: none)")
    parser.add_argument("--timeout", type=float, default=model_fuzzer.TIMEOUT_S)
    parser.add_argument("--json", help="write every result here")
    parser.add_argument("--families", action="store_true",
                        help="also mutate recurrent, attention and tf_formats files (model_fuzzer.FAMILY_*)")
    args = parser.parse_args()
    start = time.time()

    def progress(done: int, m: model_fuzzer.Mutant, r: dict) -> None:
        if r["outcome"] == "BAD":
            print(f"BAD #{m.index} {m.seed}: {m.mutation}: {r['why']}: {r.get('error', '')[:300]}", flush=True)
        if done % 250 == 0:
            print(f"... {done} mutants, {time.time() - start:.0f} s", flush=True)

    results = model_fuzzer.run(args.count, args.seed, args.workers, args.timeout, args.inflate_every, progress,
                                families=args.families)
    summary = model_fuzzer.summarize(results)
    clean = summary["counts"].get("OK", 0) + summary["counts"].get("REFUSED", 0)
    print(f"\n{clean}/{len(results)} clean {summary['counts']} in {time.time() - start:.0f} s (seed {args.seed})")
    for why, examples in sorted(summary["bad"].items(), key=lambda kv: -len(kv[1])):
        print(f"\n{len(examples)} x {why}")
        for e in examples[:5]:
            print("   ", e)
    if args.json:
        with open(args.json, "w") as f:
            json.dump([{"index": m.index, "seed": m.seed, "mutation": m.mutation, **r} for m, r in results], f, indent=1)
    return 1 if summary["bad"] else 0


if __name__ == "__main__":
    sys.exit(main())
