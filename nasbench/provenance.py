"""What produced a result, beyond the config: installed packages, executor, data checksums.

:func:`environment_record` is recorded in every results directory's manifest (key
``environment``) and :func:`compare_environments` says which parts of two records differ, so
that ``nasbench verify`` can tell a user why a re-execution may not match (a library upgraded,
another table read) before it compares a single trial.
"""

from __future__ import annotations

import hashlib
import importlib.metadata as md
import json
from functools import lru_cache
from pathlib import Path
from typing import Any


def installed_packages() -> dict[str, str]:
    """Every installed distribution, name (normalised) -> version, sorted by name."""
    return dict(_installed())


@lru_cache(maxsize=1)
def _installed() -> tuple[tuple[str, str], ...]:
    # Read once per process: scanning every distribution's metadata takes ~0.4 s, and a
    # process (a sweep, a verification) writes many manifests.
    found: dict[str, str] = {}
    for dist in md.distributions():
        name, version = name_version(dist)
        if not name:
            continue
        found.setdefault(name.lower().replace("_", "-"), version)
    return tuple(sorted(found.items()))


def name_version(dist: md.Distribution) -> tuple[str | None, str]:
    """A distribution's ``Name`` and ``Version`` from the head of its metadata file (what
    ``dist.metadata`` gives, without parsing the whole file as an e-mail message: a tenth
    of the time)."""
    text = dist.read_text("METADATA") or dist.read_text("PKG-INFO")
    if not text:
        return None, ""
    head: dict[str, str] = {}
    for line in text.splitlines():
        if not line.strip():
            break  # the headers end at the first blank line
        key, sep, value = line.partition(":")
        if sep and key in ("Name", "Version") and key not in head:
            head[key] = value.strip()
            if len(head) == 2:
                break
    return head.get("Name"), head.get("Version", "")


def _digest(value: Any) -> str:
    text = json.dumps(value, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def _file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def data_checksums(data_dir: Path | None) -> dict[str, dict[str, Any]]:
    """For every benchmark table nasbench knows: where it is read from and its SHA-256.

    Shipped tables take their checksum from the shipped manifest (checked by ``nasbench data
    verify``); a table read from the data directory or an import is hashed here, and one
    converted from original source files lists each source file's hash.
    """
    from nasbench import data
    from nasbench.errors import DataNotFoundError

    shipped = data.manifest().get("files", {})
    out: dict[str, dict[str, Any]] = {}
    for stem in data.shipped_descriptions():
        try:
            where = data.find_table(stem, data_dir)
        except DataNotFoundError:
            continue
        entry: dict[str, Any] = {"origin": where.origin, "path": str(where.path)}
        if where.origin == "shipped":
            entry["sha256"] = shipped.get(f"tables/{stem}.parquet", {}).get("sha256")
        elif where.origin == "source":
            from nasbench.data import recipes

            entry["sha256"] = {str(p.relative_to(where.path)): _file_sha256(p)
                               for p in recipes.RECIPES[stem].source_paths(where.path)}
        else:
            entry["sha256"] = _file_sha256(where.path)
        out[stem] = entry
    return out


def environment_record(data_dir: Path | None, *, executor: str | None = None,
                       workers: int = 1) -> dict[str, Any]:
    """The manifest's ``environment``: installed package set (with its hash), executor and
    worker count, and the checksums of the benchmark tables the study can read.

    Args:
        data_dir: the study's data directory (``None``: ``$NASBENCH_DATA`` or shipped tables).
        executor: where runs executed (default: ``in-process`` for one worker, else
            ``local-cluster``; or a Dask scheduler's address).
        workers: the number of worker processes.
    """
    packages = installed_packages()
    return {
        "packages": packages,
        "packages_sha256": _digest(packages),
        "executor": executor or ("in-process" if workers <= 1 else "local-cluster"),
        "workers": int(workers),
        "data": data_checksums(data_dir),
    }


def compare_environments(recorded: dict[str, Any] | None,
                         current: dict[str, Any]) -> list[str]:
    """One line per difference between a recorded environment and the current one.

    The executor and worker count are reported but never change results (the harness's
    promise); packages and data checksums may.
    """
    if not recorded:
        return ["the directory's manifest records no environment (made by an older nasbench)"]
    lines: list[str] = []
    if recorded.get("packages_sha256") != current.get("packages_sha256"):
        old, new = recorded.get("packages", {}), current.get("packages", {})
        changed = [f"{n} {old.get(n, '(absent)')} -> {new.get(n, '(absent)')}"
                   for n in sorted(set(old) | set(new)) if old.get(n) != new.get(n)]
        shown = "; ".join(changed[:8]) + ("; ..." if len(changed) > 8 else "")
        lines.append(f"installed packages differ ({len(changed)}): {shown}")
    old_data, new_data = recorded.get("data", {}), current.get("data", {})
    for stem in sorted(set(old_data) | set(new_data)):
        a, b = old_data.get(stem, {}), new_data.get(stem, {})
        if a.get("sha256") != b.get("sha256"):
            lines.append(f"data table '{stem}' differs: recorded {a.get('origin', 'absent')} "
                         f"{a.get('path', '')}, now {b.get('origin', 'absent')} "
                         f"{b.get('path', '')}")
    return lines
