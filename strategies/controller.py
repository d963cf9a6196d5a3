"""An autoregressive LSTM controller over a search space's decisions (NAS-RL and ENAS).

The controller of Zoph & Le (ICLR 2017) and Pham et al. (ICML 2018): a stacked LSTM emits one
softmax per decision, and the token it samples is fed back, through an embedding, as its next
input. It walks :meth:`~nasbench.api.SearchSpace.next_decision` and nothing else, so it works
on any space whose architectures are sequences of categorical choices, including spaces whose
later decisions depend on earlier ones (variable depth, skip-connection anchors): the space
says which decision comes next, and the controller grows a softmax head and an embedding for
each decision name the first time the space names it.

Cost on a tabular run matters, so sampling runs in numpy on views of the torch weights, and at
update time the log-probabilities of the whole batch are recomputed in one pass (teacher
forcing). The sampled
tokens come from the strategy's generator, and every weight is initialised from it too, so a run
is reproducible and a run restored from :meth:`LstmController.state_dict` continues exactly.
torch is imported when a controller is built, never when this module is imported; all torch
work runs on one thread (tiny matrices: more threads only add contention).

Options follow the published controllers: hidden size and layers (NAS-RL: 35 units, 2 layers;
ENAS code: 64 units, 1 layer), uniform initialisation range (0.08 / 0.1), a logit temperature
and tanh constant (ENAS: ``logits = c * tanh(logits / T)``), an entropy bonus, and a moving
average baseline (:class:`~nasbench.strategies.policy_gradient.MovingAverageBaseline`).

Introspection (Adam & Lorraine, "Understanding Neural Architecture Search Techniques", 2019):
with ``record``, every architecture :meth:`LstmController.sample` returns is stored with its
*hidden state* (the top layer's hidden vector at the step that drew the last decision, the rows
of the study's heat map) and its *embedding* (the top layer's hidden and cell vectors after the
last choice is fed back: the whole architecture read by the controller), as plain lists;
:meth:`LstmController.encode` computes both for any architecture. With ``memory_size > 0`` the
controller keeps a replay buffer of the architectures it sampled (from update
``memory_fill_start``; once full, each new one replaces a uniformly drawn entry) and, from
update ``memory_start``, adds ``memory_weight`` times the mean negative log-likelihood of
``memory_batch`` architectures drawn from the buffer to every policy-gradient loss: the study's
memorisation regulariser, which makes the hidden state depend on earlier decisions.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from nasbench.strategies.policy_gradient import MovingAverageBaseline
from nasbench.strategies.threads import one_torch_thread
from nasbench.strategies.validity import draw_valid

from nasbench.api import Architecture, Decision, SearchSpace
from nasbench.params import param

if TYPE_CHECKING:
    import numpy as np
    import torch


@dataclass(frozen=True, slots=True)
class ControllerConfig:
    """Hyper-parameters of an :class:`LstmController` (see the module docstring)."""

    hidden_size: int = 35
    num_layers: int = 2
    init_range: float = 0.08
    learning_rate: float = 6e-4
    temperature: float = 1.0
    tanh_constant: float | None = None
    entropy_weight: float = 0.0
    baseline_decay: float = 0.95
    record: bool = False
    memory_size: int = 0
    memory_fill_start: int = 0
    memory_start: int = 0
    memory_batch: int = 100
    memory_weight: float = 1.0


def _draw(probs: np.ndarray, u: float) -> int:
    """Inverse-CDF draw of an index from ``probs`` with the uniform ``u``."""
    total = 0.0
    target = u * float(probs.sum())
    for i, p in enumerate(probs.tolist()):
        total += p
        if target < total:
            return i
    return len(probs) - 1


class _Adam:
    """Adam (Kingma & Ba, ICLR 2015) as ``torch.optim.Adam`` computes it (no weight decay,
    per-parameter step counts), in numpy on views of the torch tensors: the controller's
    tensors are tiny, and torch's per-operation overhead (and its optimiser, which imports its
    compiler stack on the first step) would cost more than the arithmetic.
    """

    def __init__(self, learning_rate: float, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8) -> None:
        self.learning_rate = learning_rate
        self.betas = betas
        self.eps = eps
        self.params: list[Any] = []
        self.moments: list[tuple[Any, Any]] = []
        self.steps: list[int] = []
        self._views: list[tuple[Any, Any, Any]] = []
        """numpy views of each tensor and its moments, (re)built when tensors change."""

    def add(self, params: Sequence[Any]) -> None:
        import torch

        for p in params:
            self.params.append(p)
            self.moments.append((torch.zeros_like(p), torch.zeros_like(p)))
            self.steps.append(0)

    def step(self, grads: Sequence[Any]) -> None:
        """One step with ``grads`` (numpy arrays aligned with :attr:`params`; ``None`` leaves
        a tensor and its moments alone, as autograd's missing gradient does)."""
        import numpy as np

        beta1, beta2 = self.betas
        if len(self._views) != len(self.params):
            self._views = [(p.detach().numpy(), m.numpy(), v.numpy())
                           for p, (m, v) in zip(self.params, self.moments, strict=True)]
        for i, ((p, m, v), g) in enumerate(zip(self._views, grads, strict=True)):
            if g is None:
                continue
            self.steps[i] += 1
            t = self.steps[i]
            m *= beta1
            m += (1 - beta1) * g
            v *= beta2
            v += (1 - beta2) * (g * g)
            denom = np.sqrt(v)
            denom *= 1 / math.sqrt(1 - beta2**t)
            denom += self.eps
            p += (-self.learning_rate / (1 - beta1**t)) * (m / denom)

    def state_dict(self) -> dict[str, Any]:
        return {"moments": [(m.clone(), v.clone()) for m, v in self.moments],
                "steps": list(self.steps)}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.moments = [(m.clone(), v.clone()) for m, v in state["moments"]]
        self.steps = [int(t) for t in state["steps"]]
        self._views = []


@dataclass(slots=True)
class _Head:
    """The parameters of one decision: input embedding, softmax weight and bias, as torch
    parameters and as numpy views of the same memory."""

    choices: int
    params: tuple[Any, Any, Any]
    views: tuple[Any, Any, Any]


class LstmController:
    """A stacked-LSTM policy over the decision sequence of ``space``.

    Args:
        space: the search space whose :meth:`next_decision` walk the controller follows.
        rng: the strategy's generator; every initial weight and every sampled token comes
            from it.
        config: hyper-parameters.
    """

    def __init__(self, space: SearchSpace, rng: np.random.Generator,
                 config: ControllerConfig | None = None) -> None:
        import torch

        self.space = space
        self.rng = rng
        self.config = config or ControllerConfig()
        self.baseline = MovingAverageBaseline(self.config.baseline_decay)
        self.updates = 0
        self.records: list[dict[str, Any]] = []
        self.memory: list[Architecture] = []
        h = self.config.hidden_size
        with one_torch_thread():
            self._cells = [torch.nn.LSTMCell(h, h) for _ in range(self.config.num_layers)]
            self._start = torch.nn.Parameter(torch.zeros(h))
            with torch.no_grad():
                for p in self._core_parameters():
                    p.copy_(self._uniform(tuple(p.shape)))
        self._numpy_start = self._start.detach().numpy()
        self._numpy_cells = [
            tuple(p.detach().numpy() for p in (c.weight_ih, c.weight_hh, c.bias_ih, c.bias_hh))
            for c in self._cells
        ]
        self._heads: dict[str, _Head] = {}
        self._optimizer = self._new_optimizer()

    # -- parameters -----------------------------------------------------------------------------
    def _core_parameters(self) -> list[torch.nn.Parameter]:
        return [self._start, *(p for cell in self._cells for p in cell.parameters())]

    def _new_optimizer(self) -> _Adam:
        optimizer = _Adam(self.config.learning_rate)
        optimizer.add(self._core_parameters())
        return optimizer

    def _uniform(self, shape: tuple[int, ...]) -> torch.Tensor:
        import torch

        r = self.config.init_range
        return torch.from_numpy(self.rng.uniform(-r, r, size=shape).astype("float32"))

    def _head(self, decision: Decision) -> _Head:
        """The parameters of ``decision``, created (from the generator) on first use."""
        head = self._heads.get(decision.name)
        n = len(decision.choices)
        if head is None:
            h = self.config.hidden_size
            head = self._add_head(
                decision.name, tuple(self._uniform(shape) for shape in ((n, h), (n, h), (n,)))
            )
        elif head.choices != n:
            raise ValueError(
                f"space '{self.space.name}' named decision {decision.name!r} with {n} choices, "
                f"after naming it with {head.choices}; a decision name must keep its choices"
            )
        return head

    def _numpy_head(self, decision: Decision) -> tuple[Any, Any, Any]:
        return self._head(decision).views

    def _add_head(self, name: str, values: tuple[Any, ...]) -> _Head:
        import torch

        params = tuple(torch.nn.Parameter(v) for v in values)
        head = _Head(int(values[2].shape[0]), params,  # type: ignore[arg-type]
                     tuple(p.detach().numpy() for p in params))  # type: ignore[arg-type]
        self._heads[name] = head
        self._optimizer.add(params)
        return head

    @property
    def decision_names(self) -> tuple[str, ...]:
        """Decisions the controller has met, in the order it met them."""
        return tuple(self._heads)

    # -- the policy -----------------------------------------------------------------------------
    def _shape_logits(self, logits: torch.Tensor) -> torch.Tensor:
        c = self.config
        if c.temperature != 1.0:
            logits = logits / c.temperature
        if c.tanh_constant is not None:
            logits = c.tanh_constant * logits.tanh()
        return logits

    def _step(self, x: torch.Tensor, state: list[Any]) -> torch.Tensor:
        """One LSTM step through every layer; ``state`` is updated in place."""
        for i, cell in enumerate(self._cells):
            state[i] = cell(x, state[i])
            x = state[i][0]
        return x

    def sample(self) -> Architecture:
        """An architecture drawn from the policy, drawn again while the space rejects it
        (:mod:`nasbench.strategies.validity`); recorded and remembered when the
        configuration asks for it."""
        arch = draw_valid(self.space, self._sample_sequence, "the LSTM controller")
        c = self.config
        if c.record:
            hidden, embedding = self.encode(arch)
            self.records.append({"arch": list(arch), "update": self.updates,
                                 "hidden": hidden.tolist(), "embedding": embedding.tolist()})
        if c.memory_size and self.updates >= c.memory_fill_start:
            if len(self.memory) < c.memory_size:
                self.memory.append(arch)
            else:
                self.memory[int(self.rng.integers(c.memory_size))] = arch
        return arch

    def _numpy_layers(self) -> list[tuple[Any, Any, Any]]:
        return [(w_ih, w_hh, b_ih + b_hh) for w_ih, w_hh, b_ih, b_hh in self._numpy_cells]

    def encode(self, arch: Architecture) -> tuple[np.ndarray, np.ndarray]:
        """The controller's reading of ``arch`` with its current weights (teacher forcing).

        Returns:
            ``hidden``: the top layer's hidden vector at the step that draws the last
            decision (``hidden_size`` values); ``embedding``: the top layer's hidden and cell
            vectors after the last choice is fed back (``2 * hidden_size`` values).
        """
        import numpy as np

        decisions = self._decisions_of(arch)
        size = self.config.hidden_size
        layers = self._numpy_layers()
        hidden = [np.zeros(size, np.float32) for _ in layers]
        memory = [np.zeros(size, np.float32) for _ in layers]
        x = self._numpy_start
        last = x
        for t in range(len(decisions) + 1):
            for i, (w_ih, w_hh, bias) in enumerate(layers):
                gates = w_ih @ x + w_hh @ hidden[i] + bias
                sig = 1.0 / (1.0 + np.exp(-gates))
                memory[i] = (sig[size:2 * size] * memory[i]
                             + sig[:size] * np.tanh(gates[2 * size:3 * size]))
                hidden[i] = x = sig[3 * size:] * np.tanh(memory[i])
            if t == len(decisions):
                break
            last = x
            x = self._numpy_head(decisions[t])[0][arch[t]]
        return last.copy(), np.concatenate([hidden[-1], memory[-1]])

    def _sample_sequence(self) -> Architecture:
        """A decision sequence drawn from the policy.

        Runs in numpy on views of the torch weights (they share memory, so the views follow
        every optimiser step): a step of a 35-unit LSTM is a few small matrix-vector products,
        and torch's per-operation overhead would cost several times more than the arithmetic.
        """
        import numpy as np

        walk = self.space.next_decision
        size = self.config.hidden_size
        layers = self._numpy_layers()
        hidden = [np.zeros(size, np.float32) for _ in layers]
        memory = [np.zeros(size, np.float32) for _ in layers]
        x = self._numpy_start
        arch: Architecture = ()
        while (decision := walk(arch)) is not None:
            for i, (w_ih, w_hh, bias) in enumerate(layers):
                gates = w_ih @ x + w_hh @ hidden[i] + bias
                sig = 1.0 / (1.0 + np.exp(-gates))
                memory[i] = (sig[size:2 * size] * memory[i]
                             + sig[:size] * np.tanh(gates[2 * size:3 * size]))
                hidden[i] = x = sig[3 * size:] * np.tanh(memory[i])
            embedding, weight, bias_out = self._numpy_head(decision)
            logits = weight @ x + bias_out
            if self.config.temperature != 1.0:
                logits = logits / self.config.temperature
            if self.config.tanh_constant is not None:
                logits = self.config.tanh_constant * np.tanh(logits)
            if decision.excluded:
                logits = logits.copy()
                logits[list(decision.excluded)] = -np.inf
            choice = _draw(np.exp(logits - logits.max()), float(self.rng.random()))
            arch = (*arch, choice)
            x = embedding[choice]
        return arch

    def _decisions_of(self, arch: Architecture) -> list[Decision]:
        """The decision behind each choice of ``arch``, from the space's walk."""
        decisions = []
        for t in range(len(arch)):
            decision = self.space.next_decision(arch[:t])
            if decision is None:
                raise ValueError(f"{arch!r} is longer than the decision walk of "
                                 f"space '{self.space.name}'")
            decisions.append(decision)
        if self.space.next_decision(arch) is not None:
            raise ValueError(f"{arch!r} ends before the decision walk of '{self.space.name}'")
        return decisions

    def log_prob_and_entropy(self, archs: Sequence[Architecture]
                             ) -> tuple[torch.Tensor, torch.Tensor]:
        """Log-probability and summed per-step entropy of each architecture, with autograd.

        These are the policy's own, before any redraw for a space's rules (:meth:`sample`);
        choices a decision excludes have probability 0 and the others share the rest. The
        batch runs through the LSTM together (teacher forcing); sequences of different
        lengths are padded at the end, which cannot change their earlier outputs. Each
        decision's head is applied once to every position where that decision was taken.
        """
        import torch

        m = len(archs)
        walks = [self._decisions_of(a) for a in archs]
        length = max(len(w) for w in walks)
        # Positions (step, sequence, choice) grouped by decision name, and the choices each
        # position excludes (most decisions exclude none).
        groups: dict[str, tuple[list[int], list[int], list[int]]] = {}
        excluded: dict[str, list[tuple[int, ...]]] = {}
        for k, (arch, walk) in enumerate(zip(archs, walks, strict=True)):
            for t, decision in enumerate(walk):
                self._head(decision)
                steps, seqs, choices = groups.setdefault(decision.name, ([], [], []))
                steps.append(t)
                seqs.append(k)
                choices.append(arch[t])
                excluded.setdefault(decision.name, []).append(decision.excluded)
        h = self.config.hidden_size
        inputs = torch.zeros(length, m, h)
        inputs = inputs.index_put(
            (torch.zeros(m, dtype=torch.long), torch.arange(m)), self._start.expand(m, h)
        )
        for name, (steps, seqs, choices) in groups.items():
            later = [i for i, t in enumerate(steps) if t + 1 < length]
            if later:
                inputs = inputs.index_put(
                    (torch.tensor([steps[i] + 1 for i in later]),
                     torch.tensor([seqs[i] for i in later])),
                    self._heads[name].params[0][torch.tensor([choices[i] for i in later])],
                )
        state: list[Any] = [None] * len(self._cells)
        outputs = torch.stack([self._step(inputs[t], state) for t in range(length)])
        log_prob = torch.zeros(m)
        entropy = torch.zeros(m)
        for name, (steps, seqs, choices) in groups.items():
            _, weight, bias = self._heads[name].params
            hidden = outputs[torch.tensor(steps), torch.tensor(seqs)]
            logits = self._shape_logits(torch.nn.functional.linear(hidden, weight, bias))
            mask = None
            if any(excluded[name]):
                mask = torch.zeros(logits.shape, dtype=torch.bool)
                for row, out in enumerate(excluded[name]):
                    mask[row, list(out)] = True
                logits = logits.masked_fill(mask, -math.inf)
            log_softmax = torch.log_softmax(logits, -1)
            index = torch.tensor(seqs)
            chosen = log_softmax.gather(1, torch.tensor(choices).unsqueeze(1)).squeeze(1)
            log_prob = log_prob.index_add(0, index, chosen)
            # An excluded choice has probability 0 and adds nothing; masking its log first
            # keeps 0 * -inf (nan) out of the forward and the backward pass.
            safe = log_softmax if mask is None else log_softmax.masked_fill(mask, 0.0)
            terms = log_softmax.exp() * safe
            step_entropy = -terms.sum(-1)
            entropy = entropy.index_add(0, index, step_entropy)
        return log_prob, entropy

    def reinforce(self, archs: Sequence[Architecture], rewards: Sequence[float]) -> float:
        """One policy-gradient step on a batch: (1/m) sum_k grad log P(arch_k) (R_k - b).

        The baseline is the moving average of the rewards of earlier batches (the first batch
        is centred on its own mean); the batch's rewards are folded into it afterwards, in
        order. With the memorisation regulariser on (see the module docstring), its term is
        added. Returns the loss.
        """
        import numpy as np
        from nasbench.strategies.controller_grad import log_prob_entropy_grad

        if not archs:
            return 0.0
        if not self.baseline.ready:
            self.baseline.update(sum(rewards) / len(rewards))
        b = self.baseline.value()
        c = self.config
        m = len(archs)
        advantages = np.array([r - b for r in rewards], np.float32)
        w_entropy = np.full(m, -c.entropy_weight / m, np.float32)
        log_prob, entropy, grads = log_prob_entropy_grad(self, archs, -advantages / m,
                                                         w_entropy)
        loss = -float((log_prob * advantages).mean())
        if c.entropy_weight:
            loss -= c.entropy_weight * float(entropy.mean())
        replay = self._replay()
        if replay:
            n = len(replay)
            replay_log_prob, _, replay_grads = log_prob_entropy_grad(
                self, replay, np.full(n, -c.memory_weight / n, np.float32),
                np.zeros(n, np.float32))
            grads.add(replay_grads)
            loss -= c.memory_weight * float(replay_log_prob.mean())
        ordered = [grads.start, *(g for cell in grads.cells for g in cell)]
        for name in self._heads:  # the optimiser's order: core, then heads as they were added
            ordered.extend(grads.heads.get(name, [None, None, None]))
        self._optimizer.step(ordered)
        for r in rewards:
            self.baseline.update(r)
        self.updates += 1
        return loss

    def _replay(self) -> list[Architecture]:
        """Architectures the memorisation term reconstructs at this update (none when off)."""
        c = self.config
        if not c.memory_size or self.updates < c.memory_start or not self.memory:
            return []
        n = min(c.memory_batch, len(self.memory))
        return [self.memory[i] for i in self.rng.choice(len(self.memory), n, replace=False)]

    def memorisation_loss(self, archs: Sequence[Architecture]) -> float:
        """Mean negative log-likelihood of ``archs`` under the policy (no gradient): how well
        the controller reproduces them."""
        import torch

        with one_torch_thread(), torch.no_grad():
            return float(-self.log_prob_and_entropy(archs)[0].mean())

    # -- persistence ----------------------------------------------------------------------------
    def state_dict(self) -> dict[str, Any]:
        """Weights, optimiser state, baseline: everything but the generator (the caller's)."""
        return {
            "core": [p.detach().clone() for p in self._core_parameters()],
            "heads": [(name, [p.detach().clone() for p in head.params])
                      for name, head in self._heads.items()],
            "optimizer": self._optimizer.state_dict(),
            "baseline": self.baseline.state_dict(),
            "updates": self.updates,
            "memory": [list(a) for a in self.memory],
            "records": list(self.records),
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        import torch

        with torch.no_grad():
            for p, saved in zip(self._core_parameters(), state["core"], strict=True):
                p.copy_(saved)
        self._heads = {}
        self._optimizer = self._new_optimizer()
        for name, values in state["heads"]:
            self._add_head(name, tuple(v.clone() for v in values))
        self._optimizer.load_state_dict(state["optimizer"])
        self.baseline.load_state_dict(state["baseline"])
        self.updates = int(state["updates"])
        self.memory = [tuple(int(v) for v in a) for a in state.get("memory", [])]
        self.records = [dict(r) for r in state.get("records", [])]


_STUDY = "Adam & Lorraine 2019 (ENAS on PTB)"


@dataclass(frozen=True)
class IntrospectionParams:
    """Strategy parameters that record what a controller learns and switch on the
    memorisation regulariser (see the module docstring). Start points are counted in the
    strategy's unit (``memory_unit``: controller updates, or epochs for ENAS)."""

    record_states: bool = param(
        False, doc="record the hidden state and the embedding of every sampled architecture "
        "(kept in the strategy's state as plain lists)")
    memorise: bool = param(
        False, doc="add the memorisation regulariser: reconstruct past samples from a replay "
        "buffer", published=f"{_STUDY}: off in ENAS, on in their variant")
    memory_size: int = param(10_000, doc="replay buffer size (architectures)", ge=1,
                             published=f"{_STUDY}: up to 10,000")
    memory_fill_start: int = param(
        5, doc="start filling the buffer after this many updates (ENAS: epochs)", ge=0,
        published=f"{_STUDY}: after 5 epochs")
    memory_start: int = param(
        10, doc="add the reconstruction loss from this update on (ENAS: epoch)", ge=0,
        published=f"{_STUDY}: from the 10th epoch")
    memory_batch: int = param(100, doc="buffer architectures reconstructed per update", ge=1,
                              published=f"{_STUDY}: 100")
    memory_weight: float = param(1.0, doc="weight of the reconstruction loss", ge=0,
                                 published=f"{_STUDY}: 1 (L = L_PG + L_Sup)")

    def introspection(self, per_unit: int = 1) -> dict[str, Any]:
        """The :class:`ControllerConfig` fields these parameters set; ``per_unit`` converts
        the start points to controller updates (ENAS: updates per epoch)."""
        if not self.memorise:
            return {"record": self.record_states}
        return {"record": self.record_states, "memory_size": self.memory_size,
                "memory_fill_start": self.memory_fill_start * per_unit,
                "memory_start": self.memory_start * per_unit,
                "memory_batch": self.memory_batch, "memory_weight": self.memory_weight}
