"""Benchmark: parameters and FLOPs of directly built networks against the published figures.

The unit tests check every published entry through per-operation increments measured on real
networks; this script builds every network itself and prints the agreement, side by side with
the published numbers:

* NAS-Bench-201, C=16, N=5: the 725 cells of NAS-Bench-Suite-Zero on CIFAR-10, CIFAR-100 and
  ImageNet16-120 (``params`` in millions, ``flops`` in MFLOPs, counted with the
  ``suite_zero`` convention);
* NAS-Bench-Macro: all 6,561 entries (``params``, ``flops`` with the ``nb_macro`` convention);
* DARTS (second order) at 36 channels and 20 cells: 3.3M parameters in the paper.

Run it on an otherwise idle machine, a table at a time (it takes tens of minutes on two cores)::

    for t in cifar10 cifar100 ImageNet16-120 darts; do
        python tests/bench/bench_network_sizes.py --tables $t \
            --no-header
    done
    for k in 1 2 3 4 5 6 7 8; do
        python tests/bench/bench_network_sizes.py --tables macro --part $k/8 \
            --no-header
    done
"""

from __future__ import annotations

import argparse
import ast
import time
from pathlib import Path

import torch
from nasbench.spaces.darts import DARTS_V2, EVAL_SIZE, DartsSpace
from nasbench.spaces.nasbench_macro import NasBenchMacroSpace
from nasbench.spaces.nb201 import Nb201Space, from_naslib

from nasbench.data import default_data_dir
from nasbench.data.records import macro_records, suite_zero_records
from nasbench.netstats import count_flops, count_params

_NB201_DATASETS = {"cifar10": ((3, 32, 32), 10), "cifar100": ((3, 32, 32), 100),
                   "ImageNet16-120": ((3, 16, 16), 120)}


def _row(name: str, n: int, params_ok: int, flops_ok: int, worst: tuple[int, int],
         seconds: float) -> str:
    return (f"| {name} | {n} | {params_ok}/{n} | {flops_ok}/{n} | {worst[0]} | {worst[1]} | "
            f"{seconds:.0f} |")


def nb201(data_dir: Path | None, dataset: str, limit: int | None) -> str:
    records = suite_zero_records(data_dir)
    space, (shape, classes) = Nb201Space(), _NB201_DATASETS[dataset]
    start, p_ok, f_ok, worst = time.perf_counter(), 0, 0, (0, 0)
    entries = list(records[dataset].items())[:limit]
    for key, rec in entries:
        arch = from_naslib(ast.literal_eval(key))
        net = space.build(arch, input_shape=shape, num_classes=classes)
        dp = count_params(net) - round(rec["params"]["score"] * 1e6)
        df = count_flops(net, shape, convention="suite_zero") - round(rec["flops"]["score"] * 1e6)
        p_ok, f_ok = p_ok + (dp == 0), f_ok + (df == 0)
        worst = (max(worst[0], abs(dp)), max(worst[1], abs(df)))
    return _row(f"NAS-Bench-201 {dataset}", len(entries), p_ok, f_ok, worst,
                time.perf_counter() - start)


def nasbench_macro(data_dir: Path | None, limit: int | None, part: tuple[int, int]) -> str:
    records = macro_records(data_dir)
    space = NasBenchMacroSpace()
    start, p_ok, f_ok, worst = time.perf_counter(), 0, 0, (0, 0)
    entries = list(records.items())[part[0]::part[1]][:limit]
    for code, rec in entries:
        net = space.build(space.from_string(code), input_shape=(3, 32, 32), num_classes=10)
        dp = count_params(net) - rec["params"]
        df = count_flops(net, (3, 32, 32), convention="nb_macro") - rec["flops"]
        p_ok, f_ok = p_ok + (dp == 0), f_ok + (df == 0)
        worst = (max(worst[0], abs(dp)), max(worst[1], abs(df)))
    label = "" if part[1] == 1 else f" (part {part[0] + 1} of {part[1]})"
    return _row(f"NAS-Bench-Macro cifar10{label}", len(entries), p_ok, f_ok, worst,
                time.perf_counter() - start)


def darts() -> str:
    space = DartsSpace()
    net = space.build(space.from_string(DARTS_V2), input_shape=(3, 32, 32), num_classes=10,
                      **EVAL_SIZE)
    return (f"DARTS_V2, 36 channels, 20 cells, CIFAR-10: {count_params(net):,} parameters "
            f"without the auxiliary head (paper: 3.3M), "
            f"{count_params(net, include_auxiliary=True):,} with it; "
            f"{count_flops(net, (3, 32, 32)) / 1e6:.1f} MFLOPs (nb201 convention)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, default=default_data_dir())
    parser.add_argument("--limit", type=int, default=None, help="entries per table (all)")
    parser.add_argument("--tables", nargs="+", default=[*_NB201_DATASETS, "macro", "darts"],
                        choices=[*_NB201_DATASETS, "macro", "darts"],
                        help="what to check (all); one at a time keeps each run short")
    parser.add_argument("--part", default="1/1", help="K/N: NAS-Bench-Macro entries K, K+N, ...")
    parser.add_argument("--no-header", action="store_true", help="omit the table header")
    args = parser.parse_args()
    torch.set_num_threads(1)
    if not args.no_header:
        print("| table | entries | params equal | FLOPs equal | max params diff | "
              "max FLOPs diff | seconds |")
        print("|---|---|---|---|---|---|---|")
    for table in args.tables:
        if table in _NB201_DATASETS:
            print(nb201(args.data_dir, table, args.limit), flush=True)
        elif table == "macro":
            k, n = map(int, args.part.split("/"))
            print(nasbench_macro(args.data_dir, args.limit, (k - 1, n)), flush=True)
        else:
            print(f"\n{darts()}; torch {torch.__version__}, 1 thread", flush=True)


if __name__ == "__main__":
    main()
