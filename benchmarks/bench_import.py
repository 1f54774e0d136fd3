"""Start-up cost: ``import labelgraph``, ``labelgraph --help`` and the quickstart ``build`` against ``python -c pass``.

Claims checked: ``import labelgraph`` and ``--help`` take < 0.3 s wall time (issue 3); the
quickstart ``labelgraph build --dataset voc`` takes < 0.5 s (issue 13), shown beside the
same command with ``scipy.sparse.csgraph`` imported first (what it imported before the
component count moved to numpy).  Every run is a fresh
subprocess; the three commands are interleaved so that load from other processes
hits them alike; the median of ``--repeat`` runs (>= 7) is reported, with the
interpreter's own start-up (``python -c pass``) as the floor.  ``python -X importtime``
then lists the modules that cost most (self and cumulative), so a regression shows
where it comes from.

Run from the project root::

    .venv/bin/python benchmarks/bench_import.py --repeat 11

The last line printed is a JSON object with every figure.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from statistics import median

ROOT = Path(__file__).resolve().parents[1]
TARGET_S = 0.3
BUILD_TARGET_S = 0.5
# run from a neutral folder so that the installed package is measured, not a checkout in the current folder
NEUTRAL = tempfile.gettempdir()
OUT = tempfile.mkdtemp(prefix="bench_import_")  # the quickstart build's graphs (rewritten each run)


def console_script() -> str:
    """The installed ``labelgraph`` script beside the running interpreter (the venv's), else on PATH."""
    beside = Path(sys.executable).with_name("labelgraph")
    if beside.exists():
        return str(beside)
    found = shutil.which("labelgraph")
    if not found:
        raise SystemExit("the labelgraph console script is not installed (pip install -e .)")
    return found


def wall(cmd: list[str]) -> float:
    env = dict(os.environ, PYTHONDONTWRITEBYTECODE="0")
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env, cwd=NEUTRAL)
    elapsed = time.perf_counter() - t0
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed: {proc.stderr.decode()[-500:]}")
    return elapsed


def importtime(code: str, top: int) -> dict[str, list[tuple[str, float, float]]]:
    """Parse ``python -X importtime -c code``: the ``top`` modules by self and by cumulative time (ms)."""
    proc = subprocess.run([sys.executable, "-X", "importtime", "-c", code], capture_output=True, text=True,
                          cwd=NEUTRAL)
    rows = []
    for line in proc.stderr.splitlines():
        if not line.startswith("import time:") or "self [us]" in line:
            continue
        self_us, cum_us, name = (p.strip() for p in line.split(":", 1)[1].split("|", 2))
        rows.append((name, int(self_us) / 1e3, int(cum_us) / 1e3))
    by_self = sorted(rows, key=lambda r: -r[1])[:top]
    by_cum = sorted(rows, key=lambda r: -r[2])[:top]
    return {"self": by_self, "cumulative": by_cum, "modules": [r[0] for r in rows]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=11, help="runs per command (>= 7; median reported)")
    parser.add_argument("--top", type=int, default=12, help="modules listed from -X importtime")
    args = parser.parse_args()
    if args.repeat < 7:
        parser.error("--repeat must be at least 7")

    commands = {
        "python -c pass": [sys.executable, "-c", "pass"],
        "import numpy": [sys.executable, "-c", "import numpy"],
        "import scipy.sparse": [sys.executable, "-c", "import scipy.sparse"],
        "import labelgraph": [sys.executable, "-c", "import labelgraph"],
        "labelgraph --help": [console_script(), "--help"],
        "labelgraph build (quickstart)": [console_script(), "build", "--dataset", "voc", "--out", OUT, "--force"],
        "build, csgraph imported (before)": [
            sys.executable, "-c", "import sys, scipy.sparse.csgraph\nfrom labelgraph_cli.main import cli\n"
            f"sys.argv = ['labelgraph', 'build', '--dataset', 'voc', '--out', {OUT!r}, '--force']\ncli()"],
    }
    for cmd in commands.values():  # warm the file cache and the bytecode
        wall(cmd)
    times: dict[str, list[float]] = {name: [] for name in commands}
    for _ in range(args.repeat):
        for name, cmd in commands.items():
            times[name].append(wall(cmd))

    floor = median(times["python -c pass"])
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}; "
          f"median of {args.repeat} fresh subprocesses each")
    figures: dict[str, object] = {"benchmark": "import", "repeat": args.repeat, "target_s": TARGET_S}
    for name, values in times.items():
        med = median(values)
        target = BUILD_TARGET_S if "build" in name else TARGET_S
        extra = "" if not name.startswith(("import labelgraph", "labelgraph", "build")) else (
            f"  ({med / floor:4.1f}x the floor, +{(med - floor) * 1e3:5.0f} ms; "
            f"{'meets' if med < target else 'MISSES'} < {target} s)")
        print(f"  {name:34s} median {med * 1e3:6.0f} ms  min {min(values) * 1e3:6.0f} ms{extra}")
        figures[name] = {"median_s": med, "min_s": min(values), "runs_s": values}
    figures["meets_target"] = bool(median(times["import labelgraph"]) < TARGET_S
                                   and median(times["labelgraph --help"]) < TARGET_S)

    for label, code in (("import labelgraph", "import labelgraph"),
                        ("labelgraph --help", "import sys; sys.argv=['labelgraph','--help']\n"
                                              "from labelgraph_cli.main import cli\n"
                                              "try: cli()\nexcept SystemExit: pass"),
                        ("labelgraph build (quickstart)",
                         "import sys; sys.argv=['labelgraph','build','--dataset','voc','--out'," + repr(OUT) +
                         ",'--force']\nfrom labelgraph_cli.main import cli\ntry: cli()\nexcept SystemExit: pass")):
        report = importtime(code, args.top)
        heavy = sorted({m.split(".")[0] for m in report["modules"]} & {
            "torch", "gensim", "matplotlib", "networkx", "pandas", "sklearn", "requests", "tqdm", "PIL"})
        notable = sorted(set(report["modules"]) & {"numpy.f2py", "numpy.testing", "numpy.ma", "charset_normalizer",
                                                    "scipy.sparse", "scipy.sparse.csgraph", "scipy.sparse.linalg",
                                                    "threadpoolctl", "click"})
        print(f"-X importtime, {label}: {len(report['modules'])} modules; heavy ones imported: {heavy or 'none'}; "
              f"notable: {', '.join(notable) or 'none'}")
        print("  most cumulative time:  " + ", ".join(f"{n} {c:.0f} ms" for n, _, c in report["cumulative"][:8]))
        print("  most self time:        " + ", ".join(f"{n} {s:.1f} ms" for n, s, _ in report["self"][:8]))
        figures[f"importtime {label}"] = {"modules": len(report["modules"]), "heavy": heavy, "notable": notable,
                                          "cumulative_ms": report["cumulative"], "self_ms": report["self"]}
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
