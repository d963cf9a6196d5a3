"""Every TOML and shell block of the docs runs as written.

What is run, by the fence's info string (in ``docs/*.md`` and ``README.md``):

* ``toml``: parsed. A complete study (``[study]`` and ``[[strategies]]``; a protocol study
  also has ``[variants]``) is saved as the user would save it, loaded, and run with a tiny
  budget through the same ``--set KEY=VALUE`` overrides a user can pass to ``nasbench run``
  and ``nasbench protocols`` (:func:`small`: one seed, three evaluations, one epoch, one final
  repeat, a fixed set of three cells). A fragment holding an ``[evaluator]`` table is completed
  into the smallest study around it and validated.
* ``sh``, ``bash``, ``console``: run with bash in a temporary directory that links
  ``examples/``, ``docs/``, ``tests/`` and ``scripts/``, with ``nasbench`` and the
  environment's ``python`` first on ``PATH``; every command must succeed within
  :data:`SHELL_TIMEOUT` seconds. In ``console`` blocks the commands are the lines that start
  with ``$``.
* ``text``, ``python`` or no info string: not run. Fence as ``text``, with the reason beside
  it, what cannot run here: a cluster, a user's own files, data that is not shipped, or runs of
  minutes.

Data: only what ships with nasbench and the registries' packages, plus ``$NASBENCH_DATA`` when
the environment sets it; a block whose data is absent is skipped with the reason.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from nasbench.errors import ConfigError, DataNotFoundError
from tests.conftest import ROOT

RUN = {"toml", "sh", "bash", "console"}
SHELL_TIMEOUT = 90
_FENCE = re.compile(r"^```([^\n`]*)\n(.*?)^```[ \t]*$", re.S | re.M)


@dataclass(frozen=True)
class Block:
    path: Path
    line: int
    lang: str
    text: str

    def __str__(self) -> str:
        return f"{self.path.relative_to(ROOT)}:{self.line}"


def blocks() -> list[Block]:
    out = []
    for path in [*sorted((ROOT / "docs").glob("*.md")), ROOT / "README.md"]:
        text = path.read_text()
        for m in _FENCE.finditer(text):
            lang = (m.group(1).strip().split() or [""])[0].lower()
            if lang in RUN:
                out.append(Block(path, text[:m.start()].count("\n") + 1, lang, m.group(2)))
    return out


BLOCKS = blocks()


def small(raw: dict[str, Any]) -> list[str]:
    """The ``--set`` overrides that make a study tiny."""
    sets = []
    seeds = raw.get("study", {}).get("seeds")
    if seeds is not None:
        sets.append(f"study.seeds={[seeds[0]] if isinstance(seeds, list) else 1}")
    if "samples" in raw.get("baseline", {}):
        sets.append("baseline.samples=1")
    budget = raw.get("budget", {})
    if "evaluations" in budget:
        sets.append(f"budget.evaluations={min(budget['evaluations'], 3)}")
    for i, strategy in enumerate(raw.get("strategies", [])):
        if strategy.get("name") == "fixed_set" and "sample" in strategy:
            sets.append(f"strategies[{i}].sample={min(strategy['sample'], 3)}")
    if "epochs" in raw.get("evaluator", {}):
        sets.append("evaluator.epochs=1")
    final = raw.get("final", {})
    if "repeats" in final:
        sets.append("final.repeats=1")
    if "epochs" in final.get("evaluator", {}):
        sets.append("final.evaluator.epochs=1")
    return sets


def _data_missing(err: Exception) -> str | None:
    text = str(err)
    if isinstance(err, DataNotFoundError) or "NASBENCH_DATA" in text or "data_dir" in text:
        return text
    return None


def _toml(block: Block, tmp_path: Path) -> None:
    from nasbench.registry import load_plugins

    raw = tomllib.loads(block.text)
    plugins = load_plugins()
    study_file = tmp_path / f"{block.path.stem}-{block.line}.toml"
    study_file.write_text(block.text)
    try:
        if "variants" in raw:
            from nasbench.protocol_study import load_protocol_study, run_protocol_study

            protocols = load_protocol_study(study_file, plugins, overrides=small(raw))
            run_protocol_study(protocols, plugins, tmp_path / "out", progress=False)
        elif "study" in raw and "strategies" in raw:
            from nasbench.protocol import load_study
            from nasbench.run import run_study

            study = load_study(study_file, plugins, overrides=small(raw))
            assert run_study(study, plugins, tmp_path / "out", progress=False).complete
        elif isinstance(raw.get("evaluator"), dict) and "name" in raw["evaluator"]:
            from nasbench.protocol import study_from_dict

            around = {"study": {"seeds": 1}, "space": {"name": "nb201"},
                      "budget": {"evaluations": 1}, "strategies": [{"name": "random_search"}]}
            study_from_dict({**around, **raw}, plugins)
    except (ConfigError, DataNotFoundError) as err:
        reason = _data_missing(err)
        if reason is None:
            raise
        pytest.skip(f"{block} needs data that is not here: {reason}")


def _shell(block: Block, tmp_path: Path) -> None:
    text = block.text
    if block.lang == "console":
        text = "\n".join(line[2:] for line in text.splitlines() if line.startswith("$ "))
    for name in ("examples", "docs", "tests", "scripts"):
        if (ROOT / name).exists():
            (tmp_path / name).symlink_to(ROOT / name)
    env = {**os.environ, "PATH": os.pathsep.join([str(Path(sys.executable).parent),
                                                  os.environ.get("PATH", "")])}
    proc = subprocess.run(["bash", "-euo", "pipefail", "-c", text], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=SHELL_TIMEOUT)
    assert proc.returncode == 0, f"{block} failed:\n{text}\n{proc.stdout}\n{proc.stderr}"


@pytest.mark.parametrize("block", BLOCKS, ids=str)
def test_doc_block_runs_as_written(block: Block, tmp_path: Path) -> None:
    if block.lang == "toml":
        _toml(block, tmp_path)
    else:
        assert shutil.which("bash")
        _shell(block, tmp_path)


def test_blocks_are_found() -> None:
    """The extraction itself: the studies page's full example is among the blocks run."""
    assert any(b.path.name == "studies.md" and "[[strategies]]" in b.text for b in BLOCKS)
    assert all(b.lang in RUN for b in BLOCKS)
