"""Figures drawn by a second process that starts with the command.

Importing matplotlib takes about as long as importing JAX, and neither needs the other. A
command that will draw figures starts this worker first: it imports matplotlib on the other
core while the analysis runs, then reads the finished report (JSON on stdin), writes the
figures with the report's own `write_plots` and prints their paths (JSON on stdout). When the
worker fails in any way, the caller draws the figures itself, so a report never lacks them
because of the worker. `GRADSCOPE_PLOT_WORKER=0` turns it off; it is not started when
matplotlib is already imported here.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path


class PlotWorker:
    def __init__(self) -> None:
        # a session of its own: Ctrl-C interrupts the command, which still has its report
        # drawn (train writes one when interrupted); the worker ends at EOF on stdin anyway
        self.proc = subprocess.Popen([sys.executable, "-m", __name__], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                     start_new_session=True)

    def write_plots(self, report: dict, plots_dir: Path) -> list[Path] | None:
        """The PNG paths the worker wrote into `plots_dir`, or None if it failed."""
        request = json.dumps({"report": report, "dir": str(plots_dir)}, allow_nan=False)
        try:
            out, _ = self.proc.communicate(request.encode())
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


def main() -> None:
    import matplotlib.backends.backend_agg  # noqa: F401 - the slow part, done while waiting
    import matplotlib.backends.backend_svg  # noqa: F401
    import matplotlib.figure  # noqa: F401

    from . import renderers

    data = sys.stdin.buffer.read()
    if not data:  # the command ended without figures
        return
    request = json.loads(data)
    report = request["report"]
    paths = renderers(report)[1](report, Path(request["dir"]))
    sys.stdout.write(json.dumps([str(p) for p in paths]))


if __name__ == "__main__":
    main()
