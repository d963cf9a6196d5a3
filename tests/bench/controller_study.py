"""The documented run of the controller-embedding study (``docs/controller.md``).

Run:  NASBENCH_DATA=../shared/data python tests/bench/controller_study.py --out runs/controller
      [--figures docs/figures] [--resamples 1000] [--rnn-sampled 1000] [--no-rnn] ...

``nasbench correlate --study controller-embedding`` runs the same study with the default
configuration; this script exposes the sizes and writes the heat maps as small PNGs too.
The data directory (``$NASBENCH_DATA``) holds the benchmark table (``nb201/``) and, for the
supernet part, ``ptb/ptb.{train,valid,test}.txt`` (a Penn Treebank copy); without it the
part reads the King James Bible of Debian's ``bible-kjv`` package (``--rnn-dataset kjv`` asks for
it directly); ``--no-rnn`` skips that part.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import time
from pathlib import Path

import torch
from nasbench.results.controller_study import ControllerStudyConfig, controller_embedding
from nasbench.results.correlation import CorrelationOptions
from nasbench.results.stats import BootstrapOptions
from nasbench.results.studies import _write


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", required=True, type=Path)
    parser.add_argument("--figures", type=Path)
    parser.add_argument("--no-rnn", action="store_true")
    parser.add_argument("--resamples", type=int, default=1000)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--rnn-dataset", help="corpus of the supernet part (default ptb)")
    parser.add_argument("--rnn-fallback", help="corpus when that one is absent (default kjv)")
    for field in dataclasses.fields(ControllerStudyConfig):
        if field.type in ("int", "float"):
            parser.add_argument(f"--{field.name.replace('_', '-')}",
                                type=int if field.type == "int" else float)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    changes = {f.name: getattr(args, f.name) for f in dataclasses.fields(ControllerStudyConfig)
               if getattr(args, f.name, None) is not None}
    if args.no_rnn:
        changes["rnn_dataset"] = None
    config = dataclasses.replace(ControllerStudyConfig(), **changes)
    data_dir = Path(os.environ["NASBENCH_DATA"]) if "NASBENCH_DATA" in os.environ else None
    t0 = time.perf_counter()
    options = CorrelationOptions(bootstrap=BootstrapOptions(resamples=args.resamples))
    output = controller_embedding(data_dir, options, config, figures=args.figures)
    paths = _write(output, args.out)
    print(f"{paths['markdown']} ({time.perf_counter() - t0:.0f} s)")


if __name__ == "__main__":
    main()
