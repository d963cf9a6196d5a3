"""What every command shares: --version, quiet closed pipes, plugins that fail to load, and
Google's NAS-Bench-101 package installed under the same name."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tests.conftest import ROOT, run_cli

SHIPPED_STUDY = """
[study]
name = "shipped"
seeds = 2
[space]
name = "nbgraph"
[evaluator]
name = "tabular"
dataset = "cora"
search_metric = "valid_acc"
report_metrics = ["test_acc"]
[budget]
evaluations = 5
[[strategies]]
name = "random_search"
"""


def test_version_names_this_nasbench() -> None:
    from nasbench import __version__

    result = run_cli("--version")
    assert result.code == 0 and result.out.strip() == f"nasbench {__version__}"
    assert __version__ != "0+unknown"


@pytest.mark.parametrize("args", [("list",), ("space", "mlp", "--no-unique"), ("--help",)])
def test_a_closed_output_pipe_ends_quietly(args: tuple[str, ...]) -> None:
    """``nasbench list | head``: the reader is gone before we write; no traceback."""
    read, write = os.pipe()
    os.close(read)  # every write now fails with EPIPE, on any machine
    try:
        proc = subprocess.run([sys.executable, "-m", "nasbench.cli", *args], stdout=write,
                              stderr=subprocess.PIPE, text=True, timeout=120)
    finally:
        os.close(write)
    assert "Traceback" not in proc.stderr and "BrokenPipe" not in proc.stderr, proc.stderr
    assert proc.returncode in (0, 141) and proc.stderr == ""


def test_list_params_shows_where_each_default_comes_from() -> None:
    out = run_cli("list", "--params").out
    line = next(ln for ln in out.splitlines() if ln.strip().startswith("population_size ("))
    assert ">= 2" in line and "Default from: NAS-Bench-201 baseline" in line, line


def _dist(site: Path, package: str, version: str, module: str, source: str) -> None:
    """An installed distribution, as pip leaves it: a module and its dist-info."""
    (site / f"{module}.py").write_text(textwrap.dedent(source))
    info = site / f"{package.replace('-', '_')}-{version}.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {package}\nVersion: {version}\n")
    (info / "entry_points.txt").write_text(f"[nasbench]\n{module} = {module}\n")


@pytest.fixture(scope="module")
def broken_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Two plugin packages: one whose import fails, one whose registration and command fail."""
    site = tmp_path_factory.mktemp("broken-site")
    _dist(site, "broken-import-plugin", "0.3", "broken_import",
          "import a_module_nobody_installed  # noqa\n")
    _dist(site, "broken-hook-plugin", "1.2", "broken_hook", """
        from nasbench.hookspecs import hookimpl

        @hookimpl
        def nasbench_register_strategies(registry):
            from a_missing_dependency import Strategy  # noqa

        @hookimpl
        def nasbench_add_cli_commands(subparsers):
            raise RuntimeError("its command is broken too")
        """)
    return site


def _env(site: Path) -> dict[str, str]:
    return {"PYTHONPATH": os.pathsep.join([str(site), str(ROOT)])}


def test_a_broken_plugin_is_listed_and_every_command_still_works(
        broken_site: Path, write_study, tmp_path: Path) -> None:
    env = _env(broken_site)
    listed = run_cli("list", env=env)
    assert listed.code == 0 and "Traceback" not in listed.err, listed.err
    assert ("Broken plugin: 'broken_import' of package broken-import-plugin 0.3 (broken_import) "
            "failed to load: ModuleNotFoundError: No module named 'a_module_nobody_installed'"
            in listed.out)
    assert ("'broken_hook' of package broken-hook-plugin 1.2" in listed.out
            and "No module named 'a_missing_dependency'" in listed.out)
    assert "aging_evolution" in listed.out
    assert ("the commands of plugin 'broken_hook' are unavailable: RuntimeError: its command is "
            "broken too") in listed.err
    as_json = json.loads(run_cli("list", "--json", env=env).out)
    assert {b["distribution"] for b in as_json["broken"]} == {"broken-import-plugin",
                                                                "broken-hook-plugin"}
    assert run_cli("space", "nbgraph", "--no-unique", env=env).code == 0
    out = tmp_path / "ok"
    ran = run_cli("run", str(write_study(SHIPPED_STUDY)), "--out", str(out), "--quiet", env=env)
    assert ran.code == 0, ran.err
    # A study that names what only the broken plugin could provide is told which one it is.
    study = write_study(SHIPPED_STUDY.replace('"random_search"', '"epsilon_greedy"'), "b.toml")
    refused = run_cli("run", str(study), "--out", str(tmp_path / "no"), env=env)
    assert refused.code == 2 and "Traceback" not in refused.err
    assert "unknown strategy 'epsilon_greedy'" in refused.err
    assert "broken-import-plugin 0.3 failed to load" in refused.err


def test_googles_nasbench_is_detected_and_the_way_out_is_said(tmp_path: Path) -> None:
    """Google's NAS-Bench-101 package is a distribution named nasbench too."""
    info = tmp_path / "nasbench-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: nasbench\nVersion: 1.0\n")
    lib = tmp_path / "elsewhere" / "nasbench" / "lib"
    lib.mkdir(parents=True)
    (lib / "model_spec.py").write_text("")
    env = {"PYTHONPATH": os.pathsep.join([str(tmp_path), str(ROOT),
                                          str(tmp_path / "elsewhere")])}
    listed = run_cli("list", env=env)
    assert listed.code == 0, listed.err
    assert "Name clash: Google's NAS-Bench-101 package is installed" in listed.out
    assert f"nasbench 1.0 ({tmp_path})" in listed.out
    assert str(tmp_path / "elsewhere" / "nasbench") in listed.out
    assert "virtual environment of its own" in listed.out
    assert run_cli("--version", env=env).out.strip() != "nasbench 1.0"
    assert "clash" not in json.loads(run_cli("list", "--json").out)


def test_out_and_resume_mean_the_same_for_every_command(write_study, tmp_path: Path) -> None:
    study = str(write_study(SHIPPED_STUDY))
    out = tmp_path / "out"
    assert run_cli("run", study, "--out", str(out), "--quiet").code == 0
    again = run_cli("run", study, "--out", str(out), "--quiet")
    assert again.code == 2 and "already holds results of study 'shipped'" in again.err
    assert "Pass --resume" in again.err
    assert run_cli("run", study, "--out", str(out), "--resume", "--quiet").code == 0
    missing = tmp_path / "typo"
    for command in (["run", study], ["protocols", study],
                    ["zero-cost", "validate", "--cells", "4"]):
        result = run_cli(*command, "--out", str(missing), "--resume")
        assert result.code == 2 and "Traceback" not in result.err, (command, result.err)
        assert f"--resume: {missing} does not exist" in result.err, (command, result.err)
        assert not missing.exists()
