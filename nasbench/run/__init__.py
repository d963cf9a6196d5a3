"""The harness: runs a study's strategies under one protocol, durably and resumably.

Modules, one concern each:

* :mod:`~nasbench.run.plan`: the runs of a study and the results directory they go into;
* :mod:`~nasbench.run.session`: a study's space and evaluators, set up once per process;
* :mod:`~nasbench.run.loop`: one run's loop (replay, then live execution, then the final
  protocol);
* :mod:`~nasbench.run.records`: typed trial and final records, their log form and columns;
* :mod:`~nasbench.run.executors`: in-process and Dask execution;
* :mod:`~nasbench.run.writer`: the driver's writer, the only writer of a results directory;
* :mod:`~nasbench.run.tables`: the Parquet tables, once every run is done;
* :mod:`~nasbench.run.driver`: :func:`run_study`, which ties them together.

Paths of the results directory belong to :mod:`nasbench.store`.
"""

from __future__ import annotations

from nasbench.run.driver import finish, run_study
from nasbench.run.plan import RunSpec, StudyOutcome, run_specs

__all__ = ["RunSpec", "StudyOutcome", "finish", "run_specs", "run_study"]
