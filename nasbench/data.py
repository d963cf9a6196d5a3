"""Where nasbench finds data that it never ships: benchmark tables and datasets.

The data directory is the study's ``data_dir`` (relative to the study file) or the
``NASBENCH_DATA`` environment variable. Files are looked up below it by a fixed relative path
that each benchmark documents.
"""

from __future__ import annotations

import os
from pathlib import Path

from nasbench.errors import DataNotFoundError

ENV_VAR = "NASBENCH_DATA"


def default_data_dir() -> Path | None:
    """``$NASBENCH_DATA`` if set."""
    env = os.environ.get(ENV_VAR)
    return Path(env).expanduser() if env else None


def locate(data_dir: Path | None, relative: str, what: str) -> Path:
    """The path of ``relative`` below the data directory.

    Raises:
        DataNotFoundError: saying where the file was expected and how to provide it.
    """
    root = data_dir if data_dir is not None else default_data_dir()
    if root is None:
        raise DataNotFoundError(
            f"{what} is read from <data dir>/{relative}, and no data directory is set. "
            f"Set data_dir = \"/path/to/data\" in the [study] table or export "
            f"{ENV_VAR}=/path/to/data."
        )
    path = root / relative
    if not path.is_file():
        raise DataNotFoundError(
            f"{what} was expected at {path}, which does not exist. Put the file there, or "
            f"point [study] data_dir (or ${ENV_VAR}) at the directory that holds {relative}."
        )
    return path
