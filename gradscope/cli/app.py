"""Entry point: the Typer app and the error boundary (one line + hint, exit 2 or 1)."""

from __future__ import annotations

import os
import sys
import types
from typing import Annotated

import typer

from .. import __version__
from .analyze import analyze
from .cliff import cliff
from .compare import compare
from .report import report
from .spectrum import spectrum
from .sweep import sweep
from .train import train

app = typer.Typer(
    name="gradscope",
    help="See why gradients vanish or explode in RNN, LSTM and GRU networks.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    context_settings={"max_content_width": 100},
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"gradscope {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[bool, typer.Option("--version", callback=_version, is_eager=True,
                                          help="print the version and exit")] = False,
) -> None:
    """See why gradients vanish or explode in RNN, LSTM and GRU networks."""


app.command("analyze")(analyze)
app.command("compare")(compare)
app.command("spectrum")(spectrum)
app.command("train")(train)
app.command("cliff")(cliff)
app.command("sweep")(sweep)
app.command("report")(report)


INTERRUPTED = ("interrupted", "finished output folders and sweep cells are intact; rerun to "
               "redo the rest")


def _fail(message: str, hint: str, code: int, hard: bool = False) -> None:
    sys.stderr.write(f"error: {message}\n")
    if hint:
        sys.stderr.write(f"hint: {hint}\n")
    _leave(code, hard)


def _leave(code: int, hard: bool) -> None:
    """Exit with `code`; the real process leaves at once, without the interpreter's teardown.

    Every file is written and closed and every `finally` has run by now; unloading JAX's and
    matplotlib's modules would take another 0.2 s. And interrupted while XLA may still run
    work on its own threads, finalising the interpreter under them can crash (seen: SIGSEGV).
    A multi-host sweep still leaves JAX's distributed run properly (a no-op elsewhere)."""
    if not hard:
        sys.exit(code)
    jax = sys.modules.get("jax")
    if jax is not None and code != 130:
        try:
            jax.distributed.shutdown()
        except Exception:  # noqa: BLE001 - leaving anyway
            pass
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):  # a closed pipe (`| head`) or stream
            pass
    os._exit(code)


def _command_name(args: list[str]) -> str:
    names = [a for a in args if not a.startswith("-")]
    return f"gradscope {names[0]}" if names else "gradscope"


class _DeferredModule(types.ModuleType):
    """Stands in for a module until one of its names is used, then imports it."""

    def __getattr__(self, name):
        if name.startswith("__"):  # the import system probing (__path__, ...)
            raise AttributeError(name)
        sys.modules.pop(self.__name__, None)
        import importlib

        real = importlib.import_module(self.__name__)
        return getattr(real, name)


class _DeferredClass(type):
    """The metaclass of a deferred module's stand-in class: calling the class or reading one
    of its attributes (`Traceback.from_exception`) imports the module and uses the real one."""

    def real(cls):
        return cls.module.__getattr__(cls.__name__)

    def __call__(cls, *args, **kwargs):
        return cls.real()(*args, **kwargs)

    def __getattr__(cls, name):
        if name.startswith("__"):
            raise AttributeError(name)
        return getattr(cls.real(), name)


def _defer_unused_rich_modules() -> None:
    # typer's rich help imports rich.markdown, and with it markdown-it (≈0.1 s of `--help`'s
    # 0.35 s), though only its "markdown" markup mode uses it (this app uses "rich"), and
    # rich.traceback with pygments (≈0.03 s), used only by typer's exception hook (this app
    # catches its exceptions itself). The stand-ins are classes, as typer uses them in
    # annotations (`Markdown | Text`).
    for module, name in (("rich.markdown", "Markdown"), ("rich.traceback", "Traceback")):
        if module not in sys.modules:
            stub = _DeferredModule(module)
            setattr(stub, name, _DeferredClass(name, (), {"module": stub}))
            sys.modules[module] = stub


BLAS_THREAD_VARS = ("OPENBLAS_NUM_THREADS", "GOTO_NUM_THREADS", "OMP_NUM_THREADS")


def one_blas_thread(environ=os.environ) -> None:
    """Run OpenBLAS (numpy's, and scipy's under JAX's LAPACK calls) on one thread, unless the
    user chose a number. Its idle threads spin for a while after every call, and W_hh's
    spectra (numpy, on a host thread) run while XLA uses both cores for the products: an LSTM
    analysis at H=64 took 30 ms with the default threads against 25 ms with one. The spectra
    themselves are no slower on one thread (5.6 s against 5.7 s for an LSTM at H=1024).
    Before numpy is imported: OpenBLAS reads it once."""
    if not any(environ.get(k) for k in BLAS_THREAD_VARS):
        environ["OPENBLAS_NUM_THREADS"] = "1"


def main(argv: list[str] | None = None) -> None:
    """Run the CLI; `--debug` anywhere shows the traceback of a failure."""
    from .. import interrupt
    from ..errors import GradscopeError

    _defer_unused_rich_modules()
    args = list(sys.argv[1:] if argv is None else argv)
    hard = argv is None  # the real process, not a test calling main() in-process
    debug = "--debug" in args
    args = [a for a in args if a != "--debug"]
    command = typer.main.get_command(app)
    if hard:
        interrupt.install()
        one_blas_thread()
    try:
        code = command.main(args=args, prog_name="gradscope", standalone_mode=False)
        interrupt.checkpoint()  # a Ctrl-C that was dropped after the last checkpoint
    except GradscopeError as e:
        if debug:
            raise
        _fail(e.message, e.hint, e.exit_code, hard)
    except typer.TyperException as e:
        _fail(e.format_message().splitlines()[0] if e.format_message() else "bad usage",
              f"run '{_command_name(args)} --help' for the options",
              getattr(e, "exit_code", 2), hard)
    except (KeyboardInterrupt, typer.Abort):
        _fail(*INTERRUPTED, 130, hard)
    except MemoryError:
        _fail("ran out of memory", "lower --batch, --hidden or --steps", 1, hard)
    except Exception as e:  # noqa: BLE001 - the boundary: no traceback for users
        if debug:
            raise
        _fail(f"internal error: {type(e).__name__}: {e}".splitlines()[0],
              "rerun with --debug and report the traceback", 1, hard)
    if code == 130:  # click turns Ctrl-C inside a command into exit code 130, silently
        _fail(*INTERRUPTED, 130, hard)
    _leave(code if isinstance(code, int) else 0, hard)
