"""Reinforcement learning as an evaluator: a compact Double DQN loop over gymnasium.

:mod:`nasbench.rl.envs` says which environments are on offer (cheap to import);
:mod:`nasbench.rl.dqn` is the loop (imports torch and gymnasium); :mod:`nasbench.rl.supernet`
is the handle through which one-shot strategies train a weight-sharing Q-network by DQN.
"""
