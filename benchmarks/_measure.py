"""Shared by the benchmark scripts: wall time and peak RSS of one whole command."""
from __future__ import annotations

import subprocess
import tempfile
import time


def measure(argv: list[str]) -> tuple[float, float]:
    """Wall seconds and peak RSS (MiB) of one process, run under /usr/bin/time so that the peak is the command's
    own (a child forked from this Python process would count this process's pages too)."""
    with tempfile.NamedTemporaryFile("r", suffix=".time") as report:
        start = time.perf_counter()
        proc = subprocess.run(["/usr/bin/time", "-f", "%M", "-o", report.name, *argv],
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        wall = time.perf_counter() - start
        if proc.returncode != 0:
            raise SystemExit(f"{argv[:3]} failed ({proc.returncode}): {proc.stderr.decode()[-2000:]}")
        peak_kib = int(report.read().strip().splitlines()[-1])
    return wall, peak_kib / 1024
