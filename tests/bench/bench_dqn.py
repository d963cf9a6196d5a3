"""The ``dqn`` evaluator against a plain Double-DQN loop on the same network, in one run.

For the smallest (64x64) and the widest (2048x2048) Q-network of the ``mlp`` space, on
CartPole-v1 with one torch thread, under the protocol of ARCHITECTURE.md's figure (replay
50,000, batch 128, a training step every 10 environment steps, Adam, a target copy every 500
steps): environment steps per second of CPU time (``time.process_time``: on a shared machine
wall time mostly measures the neighbours) of a whole ``evaluate`` call (building the network,
training, and its one validation and one test episode, which count against it) and of a plain
loop written here in a few lines, with nothing but the algorithm.

    .venv/bin/python tests/bench/bench_dqn.py [--steps-small 10000] [--steps-wide 1500]
        [--repeats 2]
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch
from torch.nn import functional as F

PROTOCOL = {"buffer_size": 50_000, "batch_size": 128, "lr": 2.5e-4, "target_update": 500,
            "start_e": 1.0, "end_e": 0.05, "exploration_fraction": 0.5,
            "learning_starts": 500, "train_frequency": 10, "gradient_steps": 1, "gamma": 0.99,
            "loss": "mse", "max_grad_norm": 0.0, "eval_episodes": 1, "threads": 1}


def plain_loop(width: int, steps: int, seed: int = 0) -> float:
    """Environment steps per CPU second of a bare Double-DQN loop."""
    import copy

    import gymnasium as gym
    from nasbench.spaces.mlp_net import Mlp

    p = PROTOCOL
    torch.manual_seed(seed)
    net = Mlp([(width, "relu"), (width, "relu")], in_features=4, num_classes=2)
    target = copy.deepcopy(net)
    opt = torch.optim.Adam(net.parameters(), lr=p["lr"])
    env = gym.make("CartPole-v1")
    rng = np.random.default_rng(seed)
    n = p["buffer_size"]
    obs_b = np.zeros((n, 4), np.float32)
    nxt_b = np.zeros((n, 4), np.float32)
    act_b = np.zeros(n, np.int64)
    rew_b = np.zeros(n, np.float32)
    done_b = np.zeros(n, np.float32)
    obs, _ = env.reset(seed=seed)
    t0 = time.process_time()
    for step in range(1, steps + 1):
        eps = max(p["start_e"] + (p["end_e"] - p["start_e"]) * step /
                  (p["exploration_fraction"] * steps), p["end_e"])
        if rng.random() < eps:
            action = int(rng.integers(2))
        else:
            with torch.inference_mode():
                action = int(net(torch.from_numpy(obs).unsqueeze(0)).argmax())
        nxt, reward, term, trunc, _ = env.step(action)
        i = (step - 1) % n
        obs_b[i], nxt_b[i], act_b[i], rew_b[i], done_b[i] = obs, nxt, action, reward, term
        obs = env.reset()[0] if term or trunc else nxt
        if step > p["learning_starts"] and step % p["train_frequency"] == 0:
            idx = rng.integers(0, min(step, n), p["batch_size"])
            o, a, r = torch.from_numpy(obs_b[idx]), torch.from_numpy(act_b[idx]), \
                torch.from_numpy(rew_b[idx])
            nx, d = torch.from_numpy(nxt_b[idx]), torch.from_numpy(done_b[idx])
            with torch.no_grad():
                y = r + p["gamma"] * target(nx).gather(
                    1, net(nx).argmax(1, keepdim=True)).squeeze(1) * (1 - d)
            loss = F.mse_loss(net(o).gather(1, a[:, None]).squeeze(1), y)
            opt.zero_grad()
            loss.backward()
            opt.step()
        if step % p["target_update"] == 0:
            target.load_state_dict(net.state_dict())
    return steps / (time.process_time() - t0)


def evaluator_rate(width: int, steps: int, seed: int = 0) -> float:
    """Training steps per CPU second of a whole ``dqn`` evaluation."""
    from nasbench.evaluators.dqn import DqnEvaluator, DqnParams
    from nasbench.spaces.mlp import MlpParams, MlpSpace

    from nasbench.api import EvaluatorContext, Trial

    space = MlpSpace(MlpParams(widths=(width,), activations=("relu",)))
    evaluator = DqnEvaluator(DqnParams(env_steps=steps, **PROTOCOL))
    evaluator.setup(space, EvaluatorContext("CartPole-v1", "CartPole-v1/valid_return", ()))
    t0 = time.process_time()
    evaluator.evaluate(space, Trial((0, 0, 0, 0)), seed=seed)
    return steps / (time.process_time() - t0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--steps-small", type=int, default=10_000)
    parser.add_argument("--steps-wide", type=int, default=1500)
    parser.add_argument("--repeats", type=int, default=2,
                        help="alternating measurements of each loop; the best one counts")
    args = parser.parse_args()
    torch.set_num_threads(1)
    print(f"torch {torch.__version__}, 1 thread, CartPole-v1, replay 50k, batch 128, "
          "train every 10 steps; steps per CPU second")
    for width, steps in ((64, args.steps_small), (2048, args.steps_wide)):
        # Alternate the two and keep each one's best, so that drifting load on a shared
        # machine does not land on one side only.
        plain = ours = 0.0
        for _ in range(args.repeats):
            plain = max(plain, plain_loop(width, steps))
            ours = max(ours, evaluator_rate(width, steps))
        print(f"{width}x{width}: plain loop {plain:,.0f} steps/s, dqn evaluator "
              f"{ours:,.0f} steps/s, plain/evaluator = {plain / ours:.2f}")


if __name__ == "__main__":
    main()
