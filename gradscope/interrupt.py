"""Ctrl-C that is never lost.

Python turns SIGINT into a KeyboardInterrupt raised in whatever Python code runs at that
moment. When that code is a callback that JAX runs from the garbage collector
(`_xla_gc_callback`), the exception is printed ("Exception ignored in: ...") and dropped, and
the work goes on to the end: an interrupted command would finish, write its report and exit
with 0 (seen about one time in ten while XLA compiles). The handler that `install` puts in
place (in the real process only) also remembers the interrupt: `checkpoint()`, called after
every chunk of work and before any file is written, raises it again if it was dropped;
`handled()` forgets it where a KeyboardInterrupt is caught and the command goes on (train
keeps its partial work). Python's report of the dropped exception (a traceback on stderr)
is left out.
"""

from __future__ import annotations

import signal
import sys

_pending = False


def _handler(signum, frame) -> None:
    global _pending
    _pending = True
    raise KeyboardInterrupt


def install() -> None:
    """Use the remembering handler, where SIGINT has Python's default one (not where it is
    ignored, as in a background job, or handled by someone else)."""
    if signal.getsignal(signal.SIGINT) is signal.default_int_handler:
        signal.signal(signal.SIGINT, _handler)
        sys.unraisablehook = _quiet_about_interrupts


def _quiet_about_interrupts(info, default=sys.unraisablehook) -> None:
    if not isinstance(info.exc_value, KeyboardInterrupt):  # a dropped interrupt is remembered
        default(info)


def checkpoint() -> None:
    """Raise KeyboardInterrupt if an interrupt arrived and was dropped."""
    if _pending:
        raise KeyboardInterrupt


def handled() -> None:
    """The KeyboardInterrupt was caught and acted on."""
    global _pending
    _pending = False
