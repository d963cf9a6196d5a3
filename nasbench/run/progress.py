"""Progress of a study: a bar over its planned trials on a terminal, periodic lines elsewhere."""

from __future__ import annotations

import sys
import time


class Progress:
    """A progress bar over the study's planned trials.

    Each run counts for its planned trials (its evaluation budget, plus its final-protocol
    repeats): a run that stops early is topped up when it ends, and trials beyond the plan
    (a cost-budgeted run, repeated architectures) do not push the bar past its total.
    """

    def __init__(self, planned: dict[str, int], enabled: bool, label: str) -> None:
        self.total = sum(planned.values())
        self.done = 0
        self.enabled = enabled
        self.label = label
        self._left = dict(planned)
        self._bar = None
        self._last_line = time.monotonic()
        if enabled and sys.stderr.isatty():
            from tqdm import tqdm

            self._bar = tqdm(total=self.total, unit="trial", desc=label, dynamic_ncols=True,
                             smoothing=0.1)

    def trials(self, run_id: str, n: int) -> None:
        """``n`` trials of run ``run_id`` were logged."""
        left = self._left.get(run_id, 0)
        step = min(n, left)
        if step <= 0:
            return
        self._left[run_id] = left - step
        self.done += step
        if self._bar is not None:
            self._bar.update(step)
        elif self.enabled and time.monotonic() - self._last_line >= 10.0:
            self._last_line = time.monotonic()
            print(f"{self.label}: {self.done}/{self.total} trials", file=sys.stderr, flush=True)

    def run_done(self, run_id: str) -> None:
        """Run ``run_id`` ended: count what was left of its plan (and forget the run)."""
        self.trials(run_id, self._left.get(run_id, 0))
        self._left.pop(run_id, None)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
