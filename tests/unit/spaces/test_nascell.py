"""The NAS-RL recurrent cell: the space, the LSTM as one of its cells, and a language model
of it trained by the `lightning` evaluator on a corpus generated here."""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pytest
import torch
from nasbench.spaces.nascell import LSTM, NasCellSpace

from nasbench.api import Dataset, DatasetArrays, EvaluatorContext, Trial
from nasbench.errors import InvalidArchitectureError
from nasbench.hookspecs import hookimpl
from nasbench.params import build_params
from nasbench.registry import load_plugins, make_plugin_manager
from nasbench.testing import check_space

VOCAB = 12
CONTEXT = 10


def test_space_conforms_at_every_base() -> None:
    for base in (2, 4, 8):
        space = NasCellSpace(build_params(NasCellSpace.Params, {"base": base}))
        check_space(space, samples=40)
        assert space.size() == 8 ** (2 * base - 1) * 8 * (2 * base - 2) * (2 * base - 1)


def test_lstm_is_a_cell_of_the_space() -> None:
    space = NasCellSpace()
    arch = space.from_string(LSTM)
    assert space.to_string(arch) == LSTM
    assert space.from_string("lstm") == arch
    torch.manual_seed(0)
    hidden, features = 5, 3
    cell = space.build(arch, input_shape=(7, features), num_classes=2, hidden=hidden).cell
    ref = torch.nn.LSTMCell(features, hidden)
    w_i, w_f, w_g, w_o = ref.weight_ih.chunk(4)
    u_i, u_f, u_g, u_o = ref.weight_hh.chunk(4)
    b_i, b_f, b_g, b_o = (ref.bias_ih + ref.bias_hh).chunk(4)
    with torch.no_grad():
        cell.x_proj.weight.zero_()
        cell.x_proj.bias.zero_()
        cell.h_proj.weight.zero_()
        # output gate: leaf 0 (under nodes 8 and 12); forget gate: leaf 4 (under node 10);
        # input gate and candidate: leaves 6 and 7 (under node 11)
        for leaf, w, u, b in ((0, w_o, u_o, b_o), (4, w_f, u_f, b_f), (6, w_i, u_i, b_i),
                              (7, w_g, u_g, b_g)):
            rows = slice(leaf * hidden, (leaf + 1) * hidden)
            cell.x_proj.weight[rows], cell.x_proj.bias[rows] = w, b
            cell.h_proj.weight[rows] = u
    x, h, c = torch.randn(4, features), torch.randn(4, hidden), torch.randn(4, hidden)
    h_cell, c_cell = cell(x, h, c)
    h_ref, c_ref = ref(x, (h, c))
    assert torch.allclose(h_cell, h_ref, atol=1e-6)
    assert torch.allclose(c_cell, c_ref, atol=1e-6)


def test_swapping_children_keeps_the_key() -> None:
    space = NasCellSpace()
    nodes, _inject, cell = LSTM.split("|")
    parts = nodes.split(",")
    # swap the subtrees under node 13 (nodes 10 and 11, with their leaves 4, 5 and 6, 7)
    swapped = [*parts[:4], parts[6], parts[7], parts[4], parts[5], *parts[8:10], parts[11],
               parts[10], *parts[12:]]
    other = f"{','.join(swapped)}|inject=mul:identity@11|{cell}"
    assert space.arch_key(space.from_string(other)) == space.arch_key(space.from_string(LSTM))
    moved = f"{nodes}|inject=mul:identity@11|{cell}"
    assert space.arch_key(space.from_string(moved)) != space.arch_key(space.from_string(LSTM))


@pytest.mark.parametrize("text", ["", "add:tanh|inject=add:tanh@0|cell=0",
                                  LSTM.replace("cell=13", "cell=15"),
                                  LSTM.replace("@10", "@14"), LSTM.replace("mul:", "max:")])
def test_bad_strings_are_refused(text: str) -> None:
    with pytest.raises(InvalidArchitectureError):
        NasCellSpace().from_string(text)


class CountingCorpus(Dataset):
    """A corpus generated here: runs of a counter modulo VOCAB with occasional restarts, so
    that the next token is predictable from the current one most of the time."""

    name: ClassVar[str] = "counting_corpus"
    data_kind: ClassVar[Any] = "sequence"
    input_shape: ClassVar[tuple[int, ...]] = (CONTEXT,)
    num_classes: ClassVar[int] = VOCAB
    task: ClassVar[Any] = "language_model"

    def load(self, data_dir: Path | None) -> DatasetArrays:
        rng = np.random.default_rng(0)
        ids = np.empty(6_000, dtype=np.int64)
        ids[0] = 0
        for i in range(1, len(ids)):
            ids[i] = rng.integers(VOCAB) if rng.random() < 0.1 else (ids[i - 1] + 1) % VOCAB
        n = (len(ids) - 1) // CONTEXT
        x, y = ids[:n * CONTEXT].reshape(n, CONTEXT), ids[1:n * CONTEXT + 1].reshape(n, CONTEXT)
        return DatasetArrays(x[:400], y[:400], x[400:500], y[400:500], x[500:], y[500:],
                             num_classes=VOCAB)


class _CorpusPlugin:
    @hookimpl
    def nasbench_register_datasets(self, registry: Any) -> None:
        registry.add(CountingCorpus)


def test_lightning_trains_a_language_model_of_the_lstm_cell() -> None:
    plugins = load_plugins(make_plugin_manager(plugins=[_CorpusPlugin()]))
    space = plugins.spaces.get("nascell")()
    cls = plugins.evaluators.get("lightning")
    evaluator = cls(build_params(cls.Params, {
        "epochs": 3, "batch_size": 20, "optimizer": "adam", "lr": 0.01, "weight_decay": 0.0,
        "schedule": "constant", "size": {"hidden": 16}, "accelerator": "cpu"}))
    evaluator.bind_plugins(plugins)
    context = EvaluatorContext("counting_corpus", "counting_corpus/valid_ppl",
                               ("counting_corpus/test_ppl",))
    evaluator.setup(space, context)
    lstm = evaluator.evaluate(space, Trial(space.from_string(LSTM)), seed=0)
    assert lstm.status == "ok", lstm.reason
    # a uniform guess has perplexity VOCAB; the corpus's entropy leaves about 1.7
    assert lstm.metrics["counting_corpus/valid_ppl"] < 3
    sampled = evaluator.evaluate(space, Trial(space.sample(np.random.default_rng(1))), seed=0)
    assert sampled.status in ("ok", "diverged")


@pytest.mark.parametrize("strategy", [
    n for n in load_plugins().strategies.names()
    if "supernet" not in load_plugins().strategies.get(n).requires])
def test_black_box_strategies_run_unchanged(strategy: str) -> None:
    from nasbench.testing import check_strategy

    space = NasCellSpace()
    lstm = space.from_string(LSTM)

    def objective(arch):
        """Decisions shared with the LSTM: a landscape with one peak."""
        return float(sum(a == b for a, b in zip(arch, lstm, strict=True)))

    check_strategy(load_plugins().strategies.get(strategy), space, objective=objective,
                   n_trials=12)
