"""Compiled expressions against hand-written torch: Swish and AddSign (issue target: <= 1.5x).

Run: ``.venv/bin/python tests/bench/bench_expr.py`` (one torch thread; prints both timings
and the ratio for each expression and tensor size; the best of 15 interleaved repeats).
"""

from __future__ import annotations

import timeit

import torch

from nasbench.expr import compile_expr, parse


def _best_pair(first, second, args, *, number: int, repeats: int = 15) -> tuple[float, float]:
    """Best seconds per call of each function, their timings interleaved so that load on a
    shared machine hits both alike."""
    a, b = [], []
    for _ in range(repeats):
        a.append(timeit.timeit(lambda: first(*args), number=number) / number)
        b.append(timeit.timeit(lambda: second(*args), number=number) / number)
    return min(a), min(b)


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
            h, c = _best_pair(hand, compiled, args, number=number)
            print(f"{name:<10} {n:>9} {h * 1e6:>9.2f} {c * 1e6:>12.2f} {c / h:>6.2f}")


if __name__ == "__main__":
    main()
