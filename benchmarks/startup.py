"""Start to first frame of ``concsim run NAME --paused``, this tree against another, side by side.

Each side is a checkout with its own virtual environment (``DIR/.venv``); their runs take
turns, so a change of the machine's load falls on both alike. Per run: wall seconds from
spawning the app in a pseudo-terminal to its status bar on screen, the CPU seconds of its
process by then, and the load average. With ``--valgrind``, one more run a side under
``valgrind --tool=callgrind`` counts the instructions up to the first frame: a count the
load does not move. The cache of prepared scenarios is a fresh folder, filled by one untimed
run a side first (a start after the first one).

    python benchmarks/startup.py --before /tmp/old --runs 8 --valgrind

Compile the bytecode of both sides first (``python -m compileall -q concsim
.venv/lib/python3.11/site-packages``) and unset PYTHONDONTWRITEBYTECODE, or every run
compiles its modules again.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import pty
import re
import select
import signal
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parents[1]


def cpu_seconds(pid: int) -> float:
    """User and system CPU time of a running process so far (Linux ``/proc``)."""
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def first_frame(
    tree: Path, target: str, cache: Path, prefix: tuple[str, ...] = (), limit: float = 20
) -> tuple[float, float]:
    """Wall and CPU seconds from spawning the app of ``tree`` to its status bar on screen."""
    leader, follower = pty.openpty()
    os.set_blocking(leader, False)
    env = {
        **os.environ,
        "TERM": "xterm-256color",
        "COLUMNS": "100",
        "LINES": "30",
        "CONCSIM_CACHE_DIR": str(cache),
    }
    python = str(tree / ".venv" / "bin" / "python")
    start = time.perf_counter()
    proc = subprocess.Popen(
        [*prefix, python, "-m", "concsim", "run", target, "--paused"],
        stdin=follower,
        stdout=follower,
        stderr=follower,
        env=env,
        cwd=tree,
        start_new_session=True,
    )
    seen = b""
    while b"paused" not in seen and time.perf_counter() - start < limit:
        ready, _, _ = select.select([leader], [], [], 0.05)
        if ready:
            with contextlib.suppress(BlockingIOError, OSError):
                seen += os.read(leader, 65536)
    wall = time.perf_counter() - start
    cpu = cpu_seconds(proc.pid)
    if b"paused" not in seen:
        wall = cpu = float("nan")
    os.killpg(proc.pid, signal.SIGTERM)
    proc.wait(timeout=60)
    os.close(leader)
    os.close(follower)
    return wall, cpu


def instructions(tree: Path, target: str, cache: Path, out: Path) -> int:
    """Instructions executed up to the first frame, counted by callgrind."""
    first_frame(
        tree,
        target,
        cache,
        # valgrind's own lines (the command, with its --paused) go to a file, not the screen
        prefix=(
            "valgrind",
            "--tool=callgrind",
            f"--callgrind-out-file={out}",
            f"--log-file={out}.log",
        ),
        limit=600,
    )
    found = re.search(r"^(?:summary|totals): (\d+)", out.read_text(), re.MULTILINE)
    assert found is not None, f"no total in {out}"
    return int(found.group(1))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--before", type=Path, help="another checkout, with its .venv")
    parser.add_argument("--target", default="io-threads")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--valgrind", action="store_true")
    args = parser.parse_args()
    sides = {"after": HERE} | ({"before": args.before.resolve()} if args.before else {})
    with tempfile.TemporaryDirectory() as folder:
        caches = {name: Path(folder) / name for name in sides}
        for name, tree in sides.items():
            first_frame(tree, args.target, caches[name])  # fills the cache
        walls: dict[str, list[float]] = {name: [] for name in sides}
        cpus: dict[str, list[float]] = {name: [] for name in sides}
        loads = []
        for _ in range(args.runs):
            for name, tree in sides.items():
                loads.append(os.getloadavg()[0])
                wall, cpu = first_frame(tree, args.target, caches[name])
                walls[name].append(wall)
                cpus[name].append(cpu)
        print(f"start to first frame of `concsim run {args.target} --paused`, {args.runs} runs")
        print(f"load average (1 min) {min(loads):.1f} to {max(loads):.1f}")
        print("side      wall min / median      cpu min / median   instructions")
        for name, tree in sides.items():
            counted = ""
            if args.valgrind:
                out = Path(folder) / f"callgrind.{name}"
                counted = f"{instructions(tree, args.target, caches[name], out) / 1e9:8.2f}G"
            print(
                f"{name:<8} {min(walls[name]):6.2f} / {statistics.median(walls[name]):.2f} s"
                f"   {min(cpus[name]):6.2f} / {statistics.median(cpus[name]):.2f} s   {counted}"
            )


if __name__ == "__main__":
    main()
