"""Entry point: the Typer app and the error boundary (one line + hint, exit 2 or 1)."""

from __future__ import annotations

import sys
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


def _fail(message: str, hint: str, code: int) -> None:
    sys.stderr.write(f"error: {message}\n")
    if hint:
        sys.stderr.write(f"hint: {hint}\n")
    sys.exit(code)


def _usage_hint(args: list[str]) -> str:
    """Where to look: the help of the command given, or, for a command that does not exist,
    the closest one's."""
    import difflib

    names = [a for a in args if not a.startswith("-")]
    if not names:
        return "run 'gradscope --help' for the options"
    commands = list(typer.main.get_command(app).commands)
    if names[0] in commands:
        return f"run 'gradscope {names[0]} --help' for the options"
    close = difflib.get_close_matches(names[0], commands, n=1)
    if close:
        return f"did you mean 'gradscope {close[0]}'? run 'gradscope {close[0]} --help'"
    return f"run 'gradscope --help' for the commands: {', '.join(commands)}"


def main(argv: list[str] | None = None) -> None:
    """Run the CLI; `--debug` anywhere shows the traceback of a failure."""
    from .. import interrupt
    from ..errors import GradscopeError

    args = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in args
    args = [a for a in args if a != "--debug"]
    command = typer.main.get_command(app)
    if argv is None:  # the real process, not a test calling main() in-process
        interrupt.install()
    try:
        code = command.main(args=args, prog_name="gradscope", standalone_mode=False)
        interrupt.checkpoint()  # a Ctrl-C that was dropped after the last checkpoint
    except GradscopeError as e:
        if debug:
            raise
        _fail(e.message, e.hint, e.exit_code)
    except typer.TyperException as e:
        _fail(e.format_message().splitlines()[0] if e.format_message() else "bad usage",
              _usage_hint(args), getattr(e, "exit_code", 2))
    except (KeyboardInterrupt, typer.Abort):
        _fail(*INTERRUPTED, 130)
    except MemoryError:
        _fail("ran out of memory", "lower --batch, --hidden or --steps", 1)
    except Exception as e:  # noqa: BLE001 - the boundary: no traceback for users
        if debug:
            raise
        _fail(f"internal error: {type(e).__name__}: {e}".splitlines()[0],
              "rerun with --debug and report the traceback", 1)
    if code == 130:  # click turns Ctrl-C inside a command into exit code 130, silently
        _fail(*INTERRUPTED, 130)
    sys.exit(code if isinstance(code, int) else 0)
