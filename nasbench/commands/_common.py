"""Conventions every command shares, so that options mean the same thing everywhere.

* Positional arguments: ``STUDY`` (a study file), ``DIR`` (a results directory), ``NAME`` (a
  registry name, see ``nasbench list``).
* ``--out DIR``: where results go. A command that runs a study (``run``, ``protocols``,
  ``zero-cost validate``) refuses an ``--out`` that already holds results unless ``--resume``
  is given, and ``--resume`` refuses an ``--out`` that does not exist: a mistyped directory
  never silently starts a fresh study.
* ``--data-dir DIR``: where benchmark tables and datasets are read (default
  ``$NASBENCH_DATA``, then the tables shipped with nasbench).
* ``--quiet``: no progress output. Results are still printed.
* ``--set KEY=VALUE``: change one key of the study before it is validated, e.g.
  ``--set budget.evaluations=2 --set study.seeds=1`` for a quick try of a study. The results
  record the changed config, so they never pass for the study as written.
"""

from __future__ import annotations

import argparse
import json
import shlex
import sys
from pathlib import Path

from nasbench.errors import UserError


def add_data_dir(p: argparse.ArgumentParser, note: str = "") -> None:
    """The ``--data-dir DIR`` option; ``note`` says what it overrides or reads."""
    p.add_argument("--data-dir", metavar="DIR",
                   help="directory overriding the shipped benchmark tables and holding data "
                   f"nasbench does not ship{note} (default $NASBENCH_DATA)")


def add_quiet(p: argparse.ArgumentParser) -> None:
    """The ``--quiet`` option: no progress output."""
    p.add_argument("--quiet", action="store_true", help="no progress output")


def add_out_resume(p: argparse.ArgumentParser, default: str) -> None:
    """``--out DIR`` and ``--resume`` of a command that runs a study."""
    p.add_argument("--out", metavar="DIR", help=f"results directory (default: {default})")
    p.add_argument("--resume", action="store_true",
                   help="continue the study in --out (without --resume an --out that holds "
                   "results is refused)")
    add_quiet(p)


def add_set(p: argparse.ArgumentParser) -> None:
    """The ``--set KEY=VALUE`` option (repeatable)."""
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                   help="change a key of the study, e.g. --set budget.evaluations=2 (a TOML "
                   "value; repeatable)")


def data_dir(args: argparse.Namespace) -> Path | None:
    """``--data-dir`` as a path, else the default data directory."""
    from nasbench.data import default_data_dir

    value = getattr(args, "data_dir", None)
    return Path(value).expanduser() if value else default_data_dir()


def check_out(out: Path, resume: bool) -> None:
    """Refuse ``--resume`` of a directory that does not exist, and an ``--out`` that holds
    something without ``--resume``."""
    if resume and not out.is_dir():
        raise UserError(f"--resume: {out} does not exist, so there is nothing to continue. "
                        "Check the path, or drop --resume to start the study there.")
    if resume or not out.is_dir() or not any(out.iterdir()):
        return
    manifests = [out / "manifest.json", *out.glob("*/manifest.json")]  # a study, or protocols
    held = next((m for m in manifests if m.is_file()), None)
    if held is None:
        raise UserError(f"{out} exists and is not a nasbench results directory. Choose another "
                        "--out.")
    try:
        study = json.loads(held.read_text()).get("study", "?")
    except (OSError, ValueError):
        study = "?"
    raise UserError(f"{out} already holds results of study '{study}'. Pass --resume to "
                    "continue them, or choose another directory with --out.")


def command_line(argv: list[str] | None = None) -> str:
    """The command the user typed, to record in the manifest and to repeat in messages."""
    argv = sys.argv[1:] if argv is None else argv
    return shlex.join(["nasbench", *argv])


def positive_workers(workers: int) -> int:
    if workers < 1:
        raise UserError(f"--workers must be at least 1, got {workers}.")
    return workers
