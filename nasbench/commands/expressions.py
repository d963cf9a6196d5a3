"""``nasbench expressions DIR``: every function a study over an expression space evaluated,
ranked, with the space's references (ReLU, Swish, Adam, AddSign, ...) placed among them."""

from __future__ import annotations

import argparse
from pathlib import Path

from nasbench.commands import plugins as _plugins


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "expressions",
        help="rank every expression a study evaluated and place the known functions")
    p.add_argument("results", help="results directory of a study over an expression space")
    p.add_argument("--top", type=int, default=15, help="rows shown besides the references")
    p.set_defaults(handler=cmd_expressions)


def cmd_expressions(args: argparse.Namespace) -> int:
    from nasbench.results.expressions import rank_expressions, ranking_markdown

    ranking = rank_expressions(args.results, _plugins(args))
    text = ranking_markdown(ranking, top=args.top)
    out = Path(args.results) / "report" / "expressions.md"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(f"# Expressions ranked: {Path(args.results).name}\n\n{text}")
    print(text, end="")
    print(f"\nWritten to {out}")
    return 0
