"""Results at leaderboard scale: a tabular study of 1M (or 10M) trials end to end.

Run:  python tests/bench/bench_scale.py [--trials 1000000 10000000] [--workers 2]
      [--out DIR] [--keep] [--no-leaderboard] [--kill 0.25 0.5 0.75]

Each size runs ``examples/nb201_tabular.toml`` (random search and aging evolution on the
NAS-Bench-201 table shipped with nasbench, 100 evaluations per run) with
``--set study.seeds=N``, N = trials / 200 (two strategies x 100 evaluations: 5,000 seeds for
1M trials, 50,000 for 10M), through the ``nasbench run`` command with ``--workers``. Then
``nasbench report --no-figures`` and ``nasbench leaderboard --site`` on the results. Printed per
size: wall time; peak RSS of the driver, of the largest worker, and of the report and
leaderboard processes; files and bytes in the results directory.

Peak RSS is sampled from the process tree every 50 ms (psutil, else /proc), and the driver's
own peak is also read from the kernel (``resource.getrusage`` of the finished child), so a
short spike between samples still shows in the driver's figure. The kernel's figure of a
process includes the peak of the process it was forked from (the high-water mark survives
fork and exec), so this script keeps itself small: it reads no results table itself.

With ``--kill``, the smallest size then runs again, killed by SIGKILL (driver and workers)
at those shares of its log and resumed each time, and its tables are compared with the
uninterrupted study's.

The sizes run one after the other in one invocation, so the ratio of their wall times (the
target: 10M trials within 10x the 1M time) is measured under the same conditions; the load
average of the machine is printed before each size. The last lines repeat the earlier figures
this is compared with (:data:`BASELINES`).
"""

from __future__ import annotations

import argparse
import itertools
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "nb201_tabular.toml"

BASELINES = (
    "previous layout (a log, lock and checkpoint per run; whole-column tables), 2026-12-05, "
    "--workers 2: 1.06M trials 21.8 s, 1.44 GB peak, 15,000 files (210 MB)",
    "one study log and row-group tables, before the memory fixes, 2026-12-05, --workers 2, "
    "loaded machine: 1M trials 132 s, driver 583 MB, workers 162 MB, 8 files; report "
    "12.6 s at 595 MB",
)


def _rss(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/status") as fh:
            for line in fh:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def _children(pid: int) -> list[int]:
    try:
        import psutil

        return [c.pid for c in psutil.Process(pid).children(recursive=True)]
    except ImportError:
        out = []
        for task in Path(f"/proc/{pid}/task").glob("*"):
            try:
                out += [int(c) for c in (task / "children").read_text().split()]
            except OSError:
                continue
        return out + [g for c in out for g in _children(c)]
    except Exception:
        return []


def run_measured(cmd: list[str], root: Path = ROOT, watch: Path | None = None,
                 every: float = 60.0) -> tuple[float, int, int]:
    """Run ``cmd`` (nasbench imported from ``root``): its wall time, its own peak RSS and the
    largest peak of its descendants. With ``watch`` (a results directory), a line every
    ``every`` seconds: elapsed time, current RSS of the process and of its largest
    descendant, and the bytes of ``watch`` (how far a long study has come, and whether its
    memory stays flat)."""
    peaks: dict[int, int] = {}
    now: dict[int, int] = {}
    t = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, env={**os.environ,
                                                                 "PYTHONPATH": str(root)})
    stop = threading.Event()

    def sample() -> None:
        last = time.perf_counter()
        while not stop.is_set():
            now.clear()
            for pid in [proc.pid, *_children(proc.pid)]:
                now[pid] = _rss(pid)
                peaks[pid] = max(peaks.get(pid, 0), now[pid])
            if watch is not None and time.perf_counter() - last >= every:
                last = time.perf_counter()
                mb = 1 / 2**20
                other = max((v for k, v in now.items() if k != proc.pid), default=0)
                print(f"  ... {last - t:7.0f} s: driver {now.get(proc.pid, 0) * mb:.0f} MB, "
                      f"largest worker {other * mb:.0f} MB, "
                      f"{directory_size(watch)[1] * mb:.0f} MB written, "
                      f"load {os.getloadavg()[0]:.1f}", flush=True)
            stop.wait(0.05)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    code = proc.wait()
    wall = time.perf_counter() - t
    stop.set()
    sampler.join()
    if code:
        raise SystemExit(f"{' '.join(cmd)} failed with {code}")
    kernel = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024
    own = max(peaks.get(proc.pid, 0), kernel if kernel > before * 1024 else 0)
    workers = max((v for k, v in peaks.items() if k != proc.pid), default=0)
    return wall, own, workers


def directory_size(path: Path) -> tuple[int, int]:
    """Files and bytes under ``path`` (files that vanish while it is counted are left out:
    a running study removes its runs' checkpoints)."""
    files = sizes = 0
    for p in path.rglob("*"):
        try:
            if p.is_file():
                sizes += p.stat().st_size
                files += 1
        except OSError:
            continue
    return files, sizes


_COMPARE = """
import sys
from pathlib import Path
import pandas as pd
whole, out = Path(sys.argv[1]), Path(sys.argv[2])
same = all(pd.read_parquet(whole / n).drop(columns=["wall_time"]).equals(
    pd.read_parquet(out / n).drop(columns=["wall_time"]))
    for n in ("trials.parquet", "runs.parquet"))
rows = len(pd.read_parquet(out / "trials.parquet", columns=["trial"]))
print("identical" if same else "different", rows)
"""


def killed_and_resumed(nasbench: list[str], seeds: int, workers: int, whole: Path,
                       out: Path, shares: list[float]) -> None:
    """Run the study of ``whole`` again into ``out``, SIGKILL its process group (the driver
    and its workers) once ``study.log`` holds each of ``shares`` of ``whole``'s log (an
    event, not a time), resume it each time, then to the end; print where each kill fell and
    whether the tables equal ``whole``'s (every column but the measured ``wall_time``)."""
    import signal

    shutil.rmtree(out, ignore_errors=True)
    total = (whole / "study.log").stat().st_size
    cmd = [*nasbench, "run", str(EXAMPLE), "--set", f"study.seeds={seeds}", "--workers",
           str(workers), "--out", str(out), "--quiet"]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    log = out / "study.log"
    for i, share in enumerate(sorted(shares)):
        t = time.perf_counter()
        proc = subprocess.Popen([*cmd, *(["--resume"] if i else [])], env=env,
                                stdout=subprocess.DEVNULL, start_new_session=True)
        while (log.stat().st_size if log.exists() else 0) < share * total:
            if proc.poll() is not None:
                raise SystemExit(f"the study ended before its log reached {share:.0%}")
            time.sleep(0.01)
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        done = (out / "runs.parquet").exists()
        print(f"  kill {i + 1}: SIGKILL at {log.stat().st_size / total:.1%} of the log, "
              f"{time.perf_counter() - t:.1f} s after {'resuming' if i else 'starting'}"
              f"{' (the study had finished: too late)' if done else ''}", flush=True)
    t = time.perf_counter()
    subprocess.run([*cmd, "--resume"], env=env, stdout=subprocess.DEVNULL, check=True)
    resumed = time.perf_counter() - t
    # compared in a child process: reading both tables here would grow this process, and a
    # process forked from it starts with this process's peak as its own (the kernel's
    # high-water mark survives fork and exec), which would then read as the next study's
    # peak
    compared = subprocess.run([sys.executable, "-c", _COMPARE, str(whole), str(out)],
                              capture_output=True, text=True, check=True).stdout.split()
    same, rows = compared[0] == "identical", int(compared[1])
    print(f"  resumed to the end in {resumed:.1f} s: {rows:,} trials; tables "
          f"{'identical to' if same else 'DIFFERENT from'} the uninterrupted study's "
          "(every column but wall_time)", flush=True)
    shutil.rmtree(out, ignore_errors=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--trials", type=int, nargs="+", default=[1_000_000, 10_000_000])
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--out", type=Path, default=None)
    ap.add_argument("--keep", action="store_true", help="keep the results directories")
    ap.add_argument("--no-leaderboard", action="store_true",
                    help="skip 'nasbench leaderboard --site' (the report is still measured)")
    ap.add_argument("--kill", type=float, nargs="*", default=None, metavar="SHARE",
                    help="then run the smallest size again, SIGKILLed (driver and workers) "
                    "once its log holds each SHARE of the uninterrupted study's log and "
                    "resumed each time, and compare its tables with the uninterrupted ones "
                    "(e.g. --kill 0.25 0.5 0.75)")
    args = ap.parse_args()
    base = args.out or Path(tempfile.mkdtemp(prefix="bench-scale-"))
    nasbench = [sys.executable, "-m", "nasbench.cli"]
    mb = 1 / 2**20
    walls: dict[int, float] = {}
    print(f"{'trials':>11} {'seeds':>6} {'load':>5} {'run s':>7} {'driver MB':>9} {'worker MB':>9} "
          f"{'files':>5} {'MB':>7} {'report s':>8} {'rep MB':>7} {'board s':>7} {'brd MB':>7}")
    for trials in args.trials:
        seeds = max(1, trials // 200)
        load = os.getloadavg()[0]
        out = base / f"t{trials}"
        shutil.rmtree(out, ignore_errors=True)
        run = run_measured([*nasbench, "run", str(EXAMPLE), "--set", f"study.seeds={seeds}",
                            "--workers", str(args.workers), "--out", str(out), "--quiet"],
                           watch=out)
        files, size = directory_size(out)
        report = run_measured([*nasbench, "report", str(out), "--no-figures", "--no-print",
                               "--quiet", "--out", str(base / f"report{trials}")])
        board = (0.0, 0, 0) if args.no_leaderboard else run_measured(
            [*nasbench, "leaderboard", str(out), "--no-figures", "--site",
             str(base / f"site{trials}")])
        walls[trials] = run[0]
        print(f"{trials:>11,} {seeds:>6} {load:>5.1f} {run[0]:>7.1f} {run[1] * mb:>9.0f} "
              f"{run[2] * mb:>9.0f} "
              f"{files:>5} {size * mb:>7.1f} {report[0]:>8.1f} {max(report[1:]) * mb:>7.0f} "
              f"{board[0]:>7.1f} {max(board[1:]) * mb:>7.0f}", flush=True)
        if args.kill and trials == min(args.trials):
            killed_and_resumed(nasbench, seeds, args.workers, out, base / f"k{trials}",
                               args.kill)
        if not args.keep:
            shutil.rmtree(out, ignore_errors=True)
            shutil.rmtree(base / f"report{trials}", ignore_errors=True)
            shutil.rmtree(base / f"site{trials}", ignore_errors=True)
    sizes = sorted(walls)
    for small, large in itertools.pairwise(sizes):
        print(f"{large:,} / {small:,} trials: wall time x{walls[large] / walls[small]:.2f} "
              f"for x{large / small:g} the trials")
    for line in BASELINES:
        print(f"baseline: {line}")
    if args.out is None and not args.keep:
        shutil.rmtree(base, ignore_errors=True)  # the temporary directory it made


if __name__ == "__main__":
    main()
