"""Import time of ``bayes_gmm`` against ``sklearn.mixture``, each in fresh processes.

Run: ``python benchmarks/bench_import.py [--repeats N] [--baseline DIR]``. The two imports
alternate, so both see the same machine load; ``--baseline DIR`` adds another checkout's
``bayes_gmm`` (``git worktree add DIR <commit>``) to the rotation. Also reports which of
PyMC, PyTensor and ArviZ each import brings in.
"""

import argparse
import json
import statistics
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
CODE = """
import sys, time, json
sys.path.insert(0, {path!r})
start = time.perf_counter()
import {module}
seconds = time.perf_counter() - start
heavy = [m for m in ("pymc", "pytensor", "arviz") if m in sys.modules]
print(json.dumps([seconds, heavy]))
"""


def import_once(module, path):
    code = CODE.format(module=module, path=str(path))
    output = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    return json.loads(output.stdout.strip().splitlines()[-1])


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--baseline", type=Path, help="another checkout, for before/after")
    args = parser.parse_args()
    cases = {"bayes_gmm": ("bayes_gmm", HERE.parent), "sklearn.mixture": ("sklearn.mixture", "")}
    if args.baseline is not None:
        cases["bayes_gmm (before)"] = ("bayes_gmm", args.baseline)
    times = {label: [] for label in cases}
    heavy = {}
    for _ in range(args.repeats):
        for label, (module, path) in cases.items():
            seconds, heavy[label] = import_once(module, path)
            times[label].append(seconds)
    reference = statistics.median(times["sklearn.mixture"])
    print(f"{'import':<22}{'median s':>10}{'min s':>8}{'x sklearn':>11}  imports too")
    for label, values in times.items():
        median = statistics.median(values)
        print(
            f"{label:<22}{median:>10.3f}{min(values):>8.3f}{median / reference:>11.2f}  "
            f"{', '.join(heavy[label]) or '-'}"
        )


if __name__ == "__main__":
    main()
