"""Load time of every shipped table, each in a fresh process (not a test).

    python tests/bench/bench_tables.py [--repeat 5]

For each table it prints the best of ``--repeat`` fresh processes: the time to read the
Parquet file and, for a benchmark, to build its architecture index through the benchmark as
the tabular evaluator does (space bound, every dataset's columns), and the same including
the imports (pyarrow, nasbench). Issue target: under 0.5 s per table.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys

CHILD = r"""
import json, sys, time
t0 = time.perf_counter()
from nasbench.data import read_table, shipped_descriptions
import pyarrow.parquet  # noqa: F401
stem = sys.argv[1]
d = shipped_descriptions()[stem]
t1 = time.perf_counter()
if d.get("kind") == "benchmark":
    from nasbench.evaluators.table_benchmark import benchmark_class
    from nasbench.registry import load_plugins
    space = load_plugins().spaces.get(d["space"])()
    t1 = time.perf_counter()
    bench = benchmark_class(stem, d)()
    bench.bind_space(space)
    n = len(bench.load(None, bench.datasets()))
else:
    n = read_table(stem).num_rows
t2 = time.perf_counter()
print(json.dumps({"rows": n, "load": t2 - t1, "with_imports": t2 - t0}))
"""


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--repeat", type=int, default=5)
    args = p.parse_args()
    from nasbench.data import shipped_descriptions

    print(f"{'table':20} {'rows':>7} {'load s':>8} {'incl. imports, plugins s':>25}")
    for stem in shipped_descriptions():
        runs = [json.loads(subprocess.run([sys.executable, "-c", CHILD, stem], check=True,
                                          capture_output=True, text=True).stdout)
                for _ in range(args.repeat)]
        best = min(runs, key=lambda r: r["load"])
        print(f"{stem:20} {best['rows']:>7,} {best['load']:>8.3f} "
              f"{min(r['with_imports'] for r in runs):>25.3f}")


if __name__ == "__main__":
    main()
