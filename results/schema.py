"""Reading a results directory: the tables the harness writes and what their columns mean.

See ``docs/results.md`` for the full schema. Analysis code should go through
:func:`load_results`, which checks that the directory is complete and returns the tables
together with the manifest that explains them.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from nasbench.errors import UserError

if TYPE_CHECKING:
    import pandas as pd


@dataclass(frozen=True)
class Results:
    """One results directory: its tables and manifest."""

    directory: Path
    manifest: dict[str, Any]
    runs: pd.DataFrame
    trials: pd.DataFrame | None

    @property
    def search_metric(self) -> str:
        return self.manifest["search_metric"]

    @property
    def report_metrics(self) -> list[str]:
        return list(self.manifest["report_metrics"])

    @property
    def study(self) -> str:
        return self.manifest["study"]


def load_results(directory: str | Path, *, trials: bool = True) -> Results:
    """Load ``runs.parquet`` (and ``trials.parquet``) with the manifest of ``directory``.

    Raises:
        UserError: when the directory is not a complete nasbench results directory.
    """
    import pandas as pd

    directory = Path(directory)
    manifest_path = directory / "manifest.json"
    if not manifest_path.is_file():
        raise UserError(
            f"{directory} is not a nasbench results directory (no manifest.json). Pass the "
            "directory that 'nasbench run' printed."
        )
    manifest = json.loads(manifest_path.read_text())
    runs_path = directory / "runs.parquet"
    if not runs_path.is_file():
        raise UserError(
            f"{directory} holds a study whose runs are not all done (no runs.parquet). Finish it "
            f"with: nasbench run --resume --out {directory} <study.toml>"
        )
    runs = pd.read_parquet(runs_path)
    trial_df = pd.read_parquet(directory / "trials.parquet") if trials else None
    return Results(directory, manifest, runs, trial_df)
