"""Figures drawn by a second process that starts with the command.

Importing matplotlib takes about as long as importing JAX, and neither needs the other. A
command that will draw figures starts this worker first: it imports matplotlib on the other
core while the analysis runs, then reads the finished report (JSON on stdin), writes the
figures with the report's own `write_plots` (on Linux in a pool of processes forked from it,
one per core; `GRADSCOPE_PLOT_PROCESSES` sets their number) and prints their paths (JSON on
stdout). Before it, the command may send a report of the runs' spectra alone (`send_early`),
from which the worker draws the figures that need nothing else (`plots.EARLY`) while the
products are still running; each request is one line. When the worker fails in any way,
the caller draws the figures itself, so a report never lacks them because of the worker.
`GRADSCOPE_PLOT_WORKER=0` turns it off; it is not started when matplotlib is already imported
here.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from pathlib import Path

MAX_PROCESSES = 4  # an analysis draws four figures


class PlotWorker:
    def __init__(self) -> None:
        # a session of its own: Ctrl-C interrupts the command, which still has its report
        # drawn (train writes one when interrupted); the worker ends at EOF on stdin anyway
        self.proc = subprocess.Popen([sys.executable, "-m", __name__], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                     start_new_session=True)
        self._lock = threading.Lock()  # an early request may come from another thread

    def send_early(self, report: dict) -> None:
        """A report of the runs' spectra only (`schema.spectrum_record`s), for the figures
        that need nothing else; a failure here shows in `write_plots`."""
        line = json.dumps({"early": report}, allow_nan=False).encode() + b"\n"
        with self._lock:
            try:
                self.proc.stdin.write(line)
                self.proc.stdin.flush()
            except (OSError, ValueError):
                pass

    def write_plots(self, report: dict, plots_dir: Path) -> list[Path] | None:
        """The PNG paths the worker wrote into `plots_dir`, or None if it failed."""
        request = json.dumps({"report": report, "dir": str(plots_dir)}, allow_nan=False)
        try:
            with self._lock:
                out, _ = self.proc.communicate(request.encode() + b"\n")
            if self.proc.returncode == 0:
                return [Path(p) for p in json.loads(out)]
        except (OSError, ValueError, subprocess.SubprocessError):
            pass
        finally:
            self.close()
        return None

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        for stream in (self.proc.stdin, self.proc.stdout, self.proc.stderr):
            if stream is not None and not stream.closed:
                stream.close()


def start() -> PlotWorker | None:
    """A worker, or None where it would not help (or cannot start)."""
    if os.environ.get("GRADSCOPE_PLOT_WORKER") == "0" or "matplotlib.figure" in sys.modules:
        return None
    try:
        return PlotWorker()
    except OSError:
        return None


def processes() -> int:
    """How many processes draw the figures: `GRADSCOPE_PLOT_PROCESSES`, or one per core this
    process may use, at most MAX_PROCESSES. More than one only on Linux, where forking this
    worker is safe and cheap: it has imported matplotlib and runs no threads, so a forked
    child starts drawing at once (elsewhere a child would import matplotlib again)."""
    if not sys.platform.startswith("linux"):
        return 1
    try:
        return max(1, int(os.environ["GRADSCOPE_PLOT_PROCESSES"]))
    except (KeyError, ValueError):
        pass
    try:
        cores = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        cores = os.cpu_count() or 1
    return max(1, min(cores, MAX_PROCESSES))


def _executor(n: int):
    """A pool of `n` forked processes, or a context of None (draw here) for n = 1."""
    if n <= 1:
        from contextlib import nullcontext

        return nullcontext(None)
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    return ProcessPoolExecutor(n, mp_context=multiprocessing.get_context("fork"),
                               initializer=_end_with_parent, initargs=(os.getpid(),))


def _end_with_parent(parent: int) -> None:
    """Pool initializer: a drawing process is killed when the worker dies (the command kills
    it when it is interrupted), instead of waiting for work forever as an orphan."""
    import ctypes
    import signal

    try:
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass
    if os.getppid() != parent:  # the worker died before prctl
        os._exit(1)


def _warm_up() -> None:
    """Draw a small figure (PNG and SVG, into memory) so that the fonts and text metrics are
    loaded before the report arrives, once for every process forked afterwards."""
    import io

    from matplotlib.figure import Figure

    from .figures import save_svg

    fig = Figure(figsize=(2, 2), layout="constrained")
    ax = fig.subplots()
    ax.plot([0, 1], [0, 1], label="‖∂s_T/∂s_t‖")
    ax.set(xlabel="t", ylabel="log10", title="0123456789")
    ax.legend()
    fig.savefig(io.BytesIO(), format="png", dpi=150)
    save_svg(fig, io.BytesIO())


def _draw_early(report: dict, executor) -> dict:
    """The figures of `plots.EARLY` drawn from a report of the runs' spectra: name -> their
    images, or a future of them."""
    from . import plots, renderers
    from .figures import draw_figure

    if renderers(report)[1] is not plots.write_plots:
        return {}
    if executor is None:
        return {k: draw_figure(report, plots.FIGURES[k]) for k in plots.EARLY}
    return {k: executor.submit(draw_figure, report, plots.FIGURES[k]) for k in plots.EARLY}


def main() -> None:
    import matplotlib.backends.backend_agg  # noqa: F401 - the slow part, done while waiting
    import matplotlib.backends.backend_svg  # noqa: F401
    import matplotlib.figure  # noqa: F401

    from . import renderers

    _warm_up()
    drawn: dict = {}
    # the pool is forked while the command still computes (once the fonts are loaded)
    with _executor(processes()) as executor:
        if executor is not None:
            executor.submit(int)  # forks the pool now, not when the report comes
        for line in sys.stdin.buffer:
            request = json.loads(line)
            if "early" in request:
                drawn = _draw_early(request["early"], executor)
                continue
            report = request["report"]
            write = renderers(report)[1]
            extra = {"drawn": drawn} if drawn else {}
            paths = write(report, Path(request["dir"]), executor=executor, **extra)
            sys.stdout.write(json.dumps([str(p) for p in paths]))
            return


if __name__ == "__main__":
    main()
    # the figures are written and their paths sent: skip the interpreter's teardown, which the
    # command would wait for (≈0.2 s with matplotlib's modules and the report's figures)
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)
