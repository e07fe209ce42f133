"""How long the course takes, notebook by notebook: wall time, the share of it
spent training, and peak memory, as a student (or a Binder session) meets them.

Run from the repository root after ``scripts/setup.sh``, with ``VAEFACE_DATA``
set as in the README::

    .venv/bin/python benchmarks/course_time.py              # the full course, all cores
    .venv/bin/python benchmarks/course_time.py --one-core   # as on Binder: 1 CPU
    .venv/bin/python benchmarks/course_time.py --fast 00 01  # some notebooks, fast mode

Every notebook runs top to bottom in a fresh kernel, in ``notebooks/`` (as
JupyterLab runs it), in the full mode unless ``--fast``, with an empty model
cache (a new ``VAEFACE_CACHE``) unless ``--cache DIR`` is given, so that the
time includes training as a first-time student meets it. Nothing is written
back into the notebooks.

Training time is the time spent in ``keras.Model.fit`` (every model the
course trains goes through it), measured by wrapping it in the kernel before
the first cell runs; that first step also imports TensorFlow, which every
notebook does anyway, and its time counts.

Under each notebook's row: the three cells that raised the memory peak
most, and the three that took longest (cell numbers count every cell from 0).

Memory is the peak resident set size of the kernel and every process it
starts, summed, sampled every 0.2 s (psutil); the kernel's own high-water
mark (``getrusage``) is read at the end as a check. mybinder.org gives a session 2 GB.
``--one-core`` pins the kernel to one processor (like ``taskset -c 0``), and
TensorFlow and NumPy size their thread pools from it. Linux only.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import threading
import time
from pathlib import Path

import nbformat
import psutil  # installed with IPython and ipykernel
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = ROOT / "notebooks"
BINDER_LIMIT_MIB = 2048


def _tree_rss_mib(kernel):
    """Resident memory of ``kernel`` (a psutil.Process) and every process it started, in MiB."""
    total = 0
    for process in [kernel, *kernel.children(recursive=True)]:
        try:
            total += process.memory_info().rss
        except psutil.Error:  # ended meanwhile
            continue
    return total / 2**20


class _PeakSampler(threading.Thread):
    def __init__(self, pid, every=0.2):
        super().__init__(daemon=True)
        self.kernel, self.every, self.peak = psutil.Process(pid), every, 0.0
        self._done = threading.Event()

    def sample(self):
        self.peak = max(self.peak, _tree_rss_mib(self.kernel))

    def run(self):
        while not self._done.is_set():
            self.sample()
            self._done.wait(self.every)

    def stop(self):
        self._done.set()
        self.join()
        return self.peak


_TIME_TRAINING = """
import time as _vaeface_time
from vaeface_utils import config as _vaeface_config

_vaeface_keras = _vaeface_config.import_keras()
_vaeface_fit = _vaeface_keras.Model.fit
_vaeface_training_seconds = [0.0]


def _vaeface_timed_fit(self, *args, **kwargs):
    start = _vaeface_time.perf_counter()
    try:
        return _vaeface_fit(self, *args, **kwargs)
    finally:
        _vaeface_training_seconds[0] += _vaeface_time.perf_counter() - start


_vaeface_keras.Model.fit = _vaeface_timed_fit
"""

# The kernel's own high-water mark of resident memory (kB on Linux), and the seconds spent training.
_PROBE = (
    "import resource; "
    "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, _vaeface_training_seconds[0])"
)


def _execute_extra(client, notebook, source):
    """Run ``source`` in the notebook's kernel as a cell that is not part of the notebook."""
    cell = nbformat.v4.new_code_cell(source)
    notebook.cells.append(cell)  # nbclient writes a cell's results back at its index
    try:
        client.execute_cell(cell, len(notebook.cells) - 1)
    finally:
        notebook.cells.pop()
    return cell


def run_notebook(path, timeout=3600, keep=None):
    """Execute one notebook in a fresh kernel; return wall seconds and peak MiB.

    The row also names the cells that raised the peak most (``top_cells``:
    cell index, MiB added, the cell's first line) and the slowest cells
    (``slow_cells``: cell index, seconds, the cell's first line). With
    ``keep`` (a folder), the executed notebook is written there.
    """
    notebook = nbformat.read(path, as_version=4)
    client = NotebookClient(notebook, timeout=timeout, kernel_name="python3",
                            resources={"metadata": {"path": str(NOTEBOOKS)}})
    with client.setup_kernel():
        pid = client.km.provisioner.process.pid
        sampler = _PeakSampler(pid)
        sampler.start()
        start, error, rises, seconds, index = time.perf_counter(), None, [], [], -1
        try:
            _execute_extra(client, notebook, _TIME_TRAINING)
            for index, cell in enumerate(notebook.cells):
                before, cell_start = sampler.peak, time.perf_counter()
                client.execute_cell(cell, index)
                sampler.sample()
                if cell.cell_type == "code":
                    first_line = cell.source.split("\n")[0][:60]
                    seconds.append((index, round(time.perf_counter() - cell_start, 1), first_line))
                    if sampler.peak > before:
                        rises.append((index, round(sampler.peak - before), first_line))
        except CellExecutionError as failure:
            error = f"cell {index} failed: {failure.ename}: {failure.evalue}".strip()
        except CellTimeoutError:
            error = f"cell {index} ran past the {timeout} s limit"
        except DeadKernelError:
            error = f"the kernel died in cell {index} (out of memory?)"
        finally:
            wall = time.perf_counter() - start
            peak = sampler.stop()
        kernel_hwm, training = 0.0, None
        if error is None:
            probe = _execute_extra(client, notebook, _PROBE)
            high_water, training = probe.outputs[0]["text"].split()
            kernel_hwm, training = int(high_water) / 1024, float(training)
    if keep is not None:
        nbformat.write(notebook, Path(keep) / Path(path).name)
    return {"notebook": Path(path).name, "wall_s": round(wall, 1),
            "training_s": None if training is None else round(training, 1), "peak_mib": round(max(peak, kernel_hwm)),
            "kernel_hwm_mib": round(kernel_hwm), "error": error,
            "top_cells": sorted(rises, key=lambda r: -r[1])[:3],
            "slow_cells": sorted(seconds, key=lambda r: -r[1])[:3]}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("prefixes", nargs="*", help="notebook numbers to run, e.g. 00 03 (default: all)")
    parser.add_argument("--one-core", action="store_true", help="pin the kernel to one processor")
    parser.add_argument("--fast", action="store_true", help="the fast mode (VAEFACE_FAST=1)")
    parser.add_argument("--cache", type=Path, help="model cache to use (default: a new, empty one)")
    parser.add_argument("--json", type=Path, help="also write the table as JSON to this file")
    parser.add_argument("--keep", type=Path, help="write the executed notebooks into this folder")
    args = parser.parse_args(argv)
    if not sys.platform.startswith("linux"):
        parser.error("this benchmark runs on Linux only (processor affinity; getrusage in kB)")

    paths = sorted(NOTEBOOKS.glob("[0-9][0-9]_*.ipynb"))
    if args.prefixes:
        paths = [p for p in paths if p.name[:2] in args.prefixes]
        if not paths:
            parser.error(f"no notebook starts with {' or '.join(args.prefixes)}")
    if args.one_core:
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})  # the kernel inherits it
    os.environ["VAEFACE_FAST"] = "1" if args.fast else "0"
    cache = args.cache or Path(tempfile.mkdtemp(prefix="vaeface-cache-"))
    os.environ["VAEFACE_CACHE"] = str(cache.resolve())
    try:
        return _run_all(args, paths)
    finally:
        if args.cache is None:
            shutil.rmtree(cache, ignore_errors=True)


def _run_all(args, paths):
    cores = len(os.sched_getaffinity(0))
    print(f"{'fast' if args.fast else 'full'} mode, {cores} core{'s' * (cores > 1)}, "
          f"{'given' if args.cache else 'empty'} model cache")
    print(f"{'notebook':<36}{'wall':>9}{'training':>10}{'peak memory':>14}")
    rows = []
    for path in paths:
        row = run_notebook(path, keep=args.keep)
        rows.append(row)
        flag = "  over Binder's 2 GB" if row["peak_mib"] > BINDER_LIMIT_MIB else ""
        share = f"{row['training_s'] / row['wall_s']:.0%}" if row["training_s"] is not None else "?"
        print(f"{row['notebook']:<36}{row['wall_s'] / 60:>7.1f} min{share:>10}{row['peak_mib']:>9} MiB{flag}",
              flush=True)
        for index, added, first_line in row["top_cells"]:
            print(f"  memory: cell {index:>3} +{added} MiB  {first_line}")
        for index, cell_seconds, first_line in row["slow_cells"]:
            print(f"  time:   cell {index:>3} {cell_seconds:.0f} s  {first_line}")
        if row["error"]:
            print(f"  stopped: {row['error']}", flush=True)
    total = sum(r["wall_s"] for r in rows)
    trained = sum(r["training_s"] or 0 for r in rows)
    print(f"{'all':<36}{total / 60:>7.1f} min{trained / total:>10.0%}{max(r['peak_mib'] for r in rows):>9} MiB (largest)")
    if args.json:
        args.json.write_text(json.dumps({"cores": cores, "fast": args.fast, "notebooks": rows}, indent=1) + "\n")
    return 1 if any(r["error"] for r in rows) else 0


if __name__ == "__main__":
    sys.exit(main())
