"""The LSTM controller's policy-gradient loss and its gradient, computed in numpy.

A REINFORCE update of the controller (:meth:`LstmController.reinforce
<nasbench.strategies.controller.LstmController.reinforce>`) needs the log-probability and the
entropy of a batch of architectures and their gradient with respect to every weight. The
matrices are tiny (35 units, a handful of decisions): through torch's autograd the step is
dominated by per-operation overhead, and on a tabular benchmark, where an evaluation is a
lookup, it was most of a run's time. Here the forward pass keeps what the backward pass needs
and the backward pass is written out (back-propagation through time of a stacked LSTM,
softmax heads grouped by decision), in float32 like torch. The tests compare every gradient
with torch's autograd on the same loss, including logit shaping, excluded choices, sequences of
different lengths, the entropy bonus and the memorisation term.

The loss of a batch is ``sum_k w_k log P(arch_k) + v_k H(arch_k)`` for per-architecture
weights ``w`` and ``v`` chosen by the caller (for REINFORCE: ``w_k = -(R_k - b) / m`` and
``v_k = -entropy_weight / m``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np
    from nasbench.strategies.controller import LstmController

from nasbench.api import Architecture


@dataclass
class Gradients:
    """Gradients of a loss with respect to the controller's weights, as float32 arrays.

    ``heads`` maps a decision name to the gradients of its (embedding, weight, bias); an
    entry is ``None`` for a tensor the loss does not touch (an embedding whose decision is
    never followed by another step in the batch), which, as with autograd, leaves the
    optimiser's state of that tensor alone.
    """

    start: Any
    cells: list[list[Any]]
    heads: dict[str, list[Any]] = field(default_factory=dict)

    def add(self, other: Gradients) -> None:
        """Accumulate ``other`` (the gradient of a second term of the loss) into this one."""
        self.start += other.start
        for mine, theirs in zip(self.cells, other.cells, strict=True):
            for a, b in zip(mine, theirs, strict=True):
                a += b
        for name, grads in other.heads.items():
            if name not in self.heads:
                self.heads[name] = grads
                continue
            mine = self.heads[name]
            for i, g in enumerate(grads):
                if g is None:
                    continue
                mine[i] = g if mine[i] is None else mine[i] + g


def _sigmoid(x: np.ndarray) -> np.ndarray:
    import numpy as np

    return 1.0 / (1.0 + np.exp(-x))


def log_prob_entropy_grad(controller: LstmController, archs: Sequence[Architecture],
                          w_logp: np.ndarray, w_entropy: np.ndarray,
                          ) -> tuple[np.ndarray, np.ndarray, Gradients]:
    """Log-probability and entropy of each architecture under ``controller``, and the
    gradient of ``sum_k w_logp[k] * logp[k] + w_entropy[k] * entropy[k]``.

    The same quantities as :meth:`LstmController.log_prob_and_entropy` (teacher forcing over
    the whole batch, sequences padded at the end, each decision's head applied to every
    position where that decision was taken).
    """
    import numpy as np

    f32 = np.float32
    config = controller.config
    m = len(archs)
    walks = [controller._decisions_of(a) for a in archs]
    length = max(len(w) for w in walks)
    size = config.hidden_size

    groups: dict[str, tuple[list[int], list[int], list[int], list[tuple[int, ...]]]] = {}
    for k, (arch, walk) in enumerate(zip(archs, walks, strict=True)):
        for t, decision in enumerate(walk):
            controller._head(decision)
            steps, seqs, choices, excluded = groups.setdefault(decision.name, ([], [], [], []))
            steps.append(t)
            seqs.append(k)
            choices.append(arch[t])
            excluded.append(decision.excluded)

    # Inputs: the start vector at step 0, then the embedding of the previous choice.
    inputs = np.zeros((length, m, size), f32)
    inputs[0] = controller._numpy_start
    feeds: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]] = {}
    for name, (steps, seqs, choices, _) in groups.items():
        later = [i for i, t in enumerate(steps) if t + 1 < length]
        if later:
            st = np.array([steps[i] + 1 for i in later])
            sq = np.array([seqs[i] for i in later])
            ch = np.array([choices[i] for i in later])
            inputs[st, sq] = controller._heads[name].views[0][ch]
            feeds[name] = (st, sq, ch)

    # Forward through the stacked LSTM, keeping every gate for the backward pass.
    cells = controller._numpy_cells
    layers = len(cells)
    hs = np.zeros((layers, length + 1, m, size), f32)   # hs[l, t + 1]: h after step t
    cs = np.zeros((layers, length + 1, m, size), f32)
    gates_after = np.zeros((layers, length, m, 4 * size), f32)
    x_seq = inputs
    for layer, (w_ih, w_hh, b_ih, b_hh) in enumerate(cells):
        pre_x = x_seq @ w_ih.T + (b_ih + b_hh)           # (length, m, 4h): all steps at once
        for t in range(length):
            pre = pre_x[t] + hs[layer, t] @ w_hh.T
            act = gates_after[layer, t]
            act[:, :2 * size] = _sigmoid(pre[:, :2 * size])
            act[:, 2 * size:3 * size] = np.tanh(pre[:, 2 * size:3 * size])
            act[:, 3 * size:] = _sigmoid(pre[:, 3 * size:])
            cs[layer, t + 1] = act[:, size:2 * size] * cs[layer, t] \
                + act[:, :size] * act[:, 2 * size:3 * size]
            hs[layer, t + 1] = act[:, 3 * size:] * np.tanh(cs[layer, t + 1])
        x_seq = hs[layer, 1:]
    outputs = hs[-1, 1:]                                  # (length, m, h)

    log_prob = np.zeros(m, f32)
    entropy = np.zeros(m, f32)
    d_outputs = np.zeros((length, m, size), f32)
    grads = Gradients(start=np.zeros(size, f32),
                      cells=[[np.zeros_like(p) for p in cell] for cell in cells])
    for name, (steps, seqs, choices, excluded) in groups.items():
        emb, weight, bias = controller._heads[name].views
        st, sq, ch = np.array(steps), np.array(seqs), np.array(choices)
        hidden = outputs[st, sq]                          # (n, h)
        raw = hidden @ weight.T + bias
        u = raw / f32(config.temperature) if config.temperature != 1.0 else raw
        if config.tanh_constant is not None:
            squashed = np.tanh(u)
            z = f32(config.tanh_constant) * squashed
        else:
            z = u
        mask = None
        if any(excluded):
            mask = np.zeros(z.shape, bool)
            for row, out in enumerate(excluded):
                mask[row, list(out)] = True
            z = np.where(mask, -np.inf, z).astype(f32)
        shifted = z - z.max(axis=1, keepdims=True)
        log_softmax = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
        probs = np.exp(log_softmax)
        rows = np.arange(len(steps))
        chosen = log_softmax[rows, ch]
        # An excluded choice has probability 0 and adds nothing (0 * -inf would be nan).
        lp = np.where(mask, f32(0), log_softmax) if mask is not None else log_softmax
        step_entropy = -(probs * lp).sum(axis=1)
        np.add.at(log_prob, sq, chosen)
        np.add.at(entropy, sq, step_entropy)

        # d loss / d z: w (onehot - p) for log P, v * (-p (log p + H)) for the entropy.
        wl = w_logp[sq].astype(f32)[:, None]
        we = w_entropy[sq].astype(f32)[:, None]
        dz = -wl * probs
        dz[rows, ch] += wl[:, 0]
        dz -= we * probs * (lp + step_entropy[:, None])
        if mask is not None:
            dz = np.where(mask, f32(0), dz)
        if config.tanh_constant is not None:
            dz = dz * f32(config.tanh_constant) * (1 - squashed * squashed)
        if config.temperature != 1.0:
            dz = dz / f32(config.temperature)
        d_weight = (dz.T @ hidden).astype(f32)
        d_bias = dz.sum(axis=0).astype(f32)
        np.add.at(d_outputs, (st, sq), dz @ weight)
        grads.heads[name] = [None, d_weight, d_bias]

    # Back-propagation through time, top layer first.
    d_above = d_outputs
    for layer in reversed(range(layers)):
        w_ih, w_hh, _, _ = cells[layer]
        below = inputs if layer == 0 else hs[layer - 1, 1:]
        d_pre = np.zeros((length, m, 4 * size), f32)
        dh_next = np.zeros((m, size), f32)
        dc_next = np.zeros((m, size), f32)
        for t in reversed(range(length)):
            act = gates_after[layer, t]
            i_g, f_g = act[:, :size], act[:, size:2 * size]
            g_g, o_g = act[:, 2 * size:3 * size], act[:, 3 * size:]
            tanh_c = np.tanh(cs[layer, t + 1])
            dh = d_above[t] + dh_next
            dc = dc_next + dh * o_g * (1 - tanh_c * tanh_c)
            dp = d_pre[t]
            dp[:, :size] = dc * g_g * i_g * (1 - i_g)
            dp[:, size:2 * size] = dc * cs[layer, t] * f_g * (1 - f_g)
            dp[:, 2 * size:3 * size] = dc * i_g * (1 - g_g * g_g)
            dp[:, 3 * size:] = dh * tanh_c * o_g * (1 - o_g)
            dc_next = dc * f_g
            dh_next = dp @ w_hh
        flat = d_pre.reshape(-1, 4 * size)
        g_cell = grads.cells[layer]
        g_cell[0] += flat.T @ below.reshape(-1, below.shape[-1])
        g_cell[1] += flat.T @ hs[layer, :-1].reshape(-1, size)
        d_b = flat.sum(axis=0)
        g_cell[2] += d_b
        g_cell[3] += d_b
        d_above = d_pre @ w_ih

    grads.start += d_above[0].sum(axis=0)
    for name, (st, sq, ch) in feeds.items():
        emb = controller._heads[name].views[0]
        d_emb = np.zeros_like(emb)
        np.add.at(d_emb, ch, d_above[st, sq])
        grads.heads[name][0] = d_emb
    return log_prob, entropy, grads
