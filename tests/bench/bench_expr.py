"""Compiled expressions against hand-written torch: Swish and AddSign (issue target: <= 1.5x).

Run: ``.venv/bin/python tests/bench/bench_expr.py`` (one torch thread; prints both timings
and the ratio for each expression and tensor size).
"""

from __future__ import annotations

import timeit

import torch

from nasbench.expr import compile_expr, parse


def _best(fn, *args, number: int) -> float:
    """Best of 7 repeats, seconds per call."""
    return min(timeit.repeat(lambda: fn(*args), number=number, repeat=7)) / number


def main() -> None:
    torch.set_num_threads(1)
    swish = compile_expr(parse("x * sigmoid(x)"), ["x"])
    addsign = compile_expr(parse("(1 + sign(g) * sign(m)) * g"), ["g", "m"])

    def swish_hand(x):
        return x * torch.sigmoid(x)

    def addsign_hand(g, m):
        return (1 + torch.sign(g) * torch.sign(m)) * g

    print(f"{'expression':<10} {'elements':>9} {'hand us':>9} {'compiled us':>12} {'ratio':>6}")
    for n in (1_000, 32_768, 1_000_000):
        x, y = torch.randn(n), torch.randn(n)
        number = max(20, 2_000_000 // n)
        assert torch.equal(swish(x), swish_hand(x))
        assert torch.equal(addsign(x, y), addsign_hand(x, y))
        for name, hand, compiled, args in (("swish", swish_hand, swish, (x,)),
                                           ("addsign", addsign_hand, addsign, (x, y))):
            h = _best(hand, *args, number=number)
            c = _best(compiled, *args, number=number)
            print(f"{name:<10} {n:>9} {h * 1e6:>9.2f} {c * 1e6:>12.2f} {c / h:>6.2f}")


if __name__ == "__main__":
    main()
