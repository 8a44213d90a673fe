"""docs/cli.md, generated from the Typer app: every command, its options and the files it
writes. `python -m gradscope.cli.docs > docs/cli.md` (or `make docs`); `tests/test_docs.py`
checks that the committed file is current.

The command tree is walked directly (no rich, no terminal width), so the text is the same on
every machine. Option names, defaults and help come from the commands, option types from
their annotations, figure names and captions from the renderers' figure registries.
"""

from __future__ import annotations

import importlib
import re
import sys
import types
import typing

REGENERATE = "make docs"  # or: python -m gradscope.cli.docs > docs/cli.md

INTRO = f"""\
<!-- Generated from the Typer app by gradscope/cli/docs.py; do not edit by hand.
     Regenerate with `{REGENERATE}` (python -m gradscope.cli.docs > docs/cli.md). -->

# gradscope command line

Every command and option of `gradscope`, generated from the program itself
(`gradscope COMMAND --help` shows the same). What the numbers in the files mean:
[report-schema.md](report-schema.md).

- `--debug`, anywhere on the command line, shows the traceback of a failure.
- Exit codes: 0 done; 2 a usage error (one `error:` line and one `hint:` line on stderr);
  1 a failure while running; 130 interrupted (Ctrl-C: finished folders and sweep cells stay
  intact; `train` writes the report of the iterations done).
- Defaults: one in `code` is the option's own value; one in words is what applies when the
  option is not given (a `--preset`, a `--weights` file or an `--inputs` file may fill it
  first); "–": off unless given.
- The computing commands keep JAX's compilation cache in `~/.cache/gradscope/jax`
  (`GRADSCOPE_CACHE_DIR` moves it, `GRADSCOPE_NO_CACHE=1` turns it off).
"""

# The files of an output folder, in the order they are written (report.json last: a folder
# that holds it is finished). `<figures>` stands for plots/<name>.png and .svg.
FILE_TEXT = {
    "series.csv": "one row per run and step t, one column per series",
    "summary.csv": "one row per run: its options and summary numbers",
    "<figures>": "`plots/<name>.png` (150 dpi) and `plots/<name>.svg` for each figure that "
                 "applies (none with `--no-plots`)",
    "report.md": "the report in Markdown, linking the PNG figures",
    "report.html": "the same report as one self-contained page (figures inlined)",
    "report.json": "every number of the report; written last, so a folder holding it is "
                   "finished",
    "sweep.json": "the sweep: its file, grid, fixed options and cell ids",
    "index.jsonl": "one line (id, index, label) per cell as it finishes",
    "cells/<id>.json": "one finished cell's run (`<id>`: a hash of its resolved options), "
                       "written atomically; the truth a restart resumes from",
}
# what series.csv holds where it is not the analysis series
SERIES_CSV = {
    "spectrum": "one row per run, layer, gate block and index k: the singular values and "
                "eigenvalues of W_hh",
    "train": "one row per run and iteration: loss, gradient norm, clipped, and the task error "
             "and loss of the evaluations",
    "cliff": "one row per path and iteration: w, b, log10 loss, log10 gradient norm, clipped, "
             "step length",
}
REPORT = ("series.csv", "summary.csv", "<figures>", "report.md", "report.html", "report.json")

# command -> (where it writes, its files, which figure registry, notes)
COMMAND_FILES = {
    "analyze": ("--out", REPORT, "analyze", ()),
    "compare": ("--out", REPORT, "analyze", ()),
    "spectrum": ("--out", REPORT, ("spectrum",), ()),
    "train": ("--out", REPORT, "train", (
        "`--save-weights FILE.safetensors` (outside the folder): FILE for one run, else "
        "`FILE-<arch>-clip<θ>.safetensors` next to it, one per run (PyTorch names, `head.*` "
        "for the readout; label, config and a charlm vocabulary in the file's metadata).",
        "Ctrl-C writes the folder with the iterations done (`\"interrupted\": true`).")),
    "cliff": ("--out", tuple(f for f in REPORT if f != "summary.csv"), "cliff", ()),
    "sweep": ("sweep", ("sweep.json", "cells/<id>.json", "index.jsonl", *REPORT), "analyze", (
        "The report files cover the cells finished so far (a `train` sweep has the figures "
        "of `train`); `--dry-run` writes nothing. In a multi-host run every process writes "
        "its cells and process 0 the report.",)),
    "report": ("report", REPORT, "analyze", (
        "Merged `train` or `cliff` reports have the files and figures of that command.",)),
}

WHERE = {
    "--out": "into `--out` (default: a new `runs/<command>-<YYYYmmdd-HHMMSS>`):",
    "sweep": "into `--out`, else the sweep file's `[sweep] out`, else `runs/sweep-<file name>`:",
    "report": "with one folder and no `--out`, into that folder again (from its report.json); "
              "else into `--out` (default: a new `runs/<command>-<YYYYmmdd-HHMMSS>`):",
}

# When a figure of the analysis reports is drawn (the others: always). A figure not listed
# is shown with its caption only.
FIGURE_WHEN = {
    "jacobian_norm": "every report with dynamics; the theory line, the seeds' bound and the "
                     "other extra lines only where they apply and for a few runs",
    "local_norm": "every report with dynamics",
    "spectrum": "every run with a W_hh",
    "saturation": "every report with dynamics",
    "gain_vs_scale": "a kind of run at two or more `--scale` values",
    "heatmaps": "runs that vary along two or more options (`compare` lists, sweep grids)",
    "depth_norm": "stacks, `--layers` 2 or more",
    "dlfs2": "`--preset dlfs2`",
    "lyapunov": "`--lyapunov K`",
}


def figures(kind: str | tuple) -> dict[str, str]:
    """Figure name -> caption, from the registry of `kind` (a command with its own layout,
    else the analysis figures); a tuple of names picks those from the analysis figures."""
    from ..report import OWN_LAYOUT

    if isinstance(kind, tuple):
        every = figures("analyze")
        missing = [n for n in kind if n not in every]
        if missing:
            raise KeyError(f"figures {missing} are not in the analysis figure registry")
        return {n: every[n] for n in kind}
    if kind in OWN_LAYOUT:
        mod = importlib.import_module(f"gradscope.report.{OWN_LAYOUT[kind]}")
        registry, captions = mod.FIGURES, mod.FIGURE_CAPTIONS
    else:
        from ..report import plots, text

        registry, captions = plots.FIGURES, text.FIGURE_CAPTIONS
    return {name: captions.get(name, "") for name in registry}


def files_written(command: str) -> list[str]:
    """The paths, relative to the output folder, that `command` may write there."""
    _, files, kind, _ = COMMAND_FILES[command]
    out = []
    for f in files:
        if f == "<figures>":
            out += [f"plots/{n}.{ext}" for n in figures(kind) for ext in ("png", "svg")]
        else:
            out.append(f)
    return out


# --------------------------------------------------------------------------- the commands


def _md(text: str) -> str:
    """Text for Markdown (a table cell or a paragraph): outside `code` spans, `|`, `*`, `<`
    and a word-initial `_` are escaped; line breaks inside a paragraph are kept."""
    parts = text.split("`")
    for i in range(0, len(parts), 2):
        p = parts[i].replace("\\", "\\\\").replace("|", "\\|").replace("*", "\\*")
        parts[i] = re.sub(r"(?<!\w)_", r"\\_", p.replace("<", "\\<"))
    return "`".join(parts)


def _type_name(annotation) -> str:
    """`int | None` -> integer, `list[str]` -> text…"""
    if typing.get_origin(annotation) is typing.Annotated:
        annotation = typing.get_args(annotation)[0]
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        annotation = args[0] if len(args) == 1 else annotation
        origin = typing.get_origin(annotation)
    if origin is list:
        return _type_name(typing.get_args(annotation)[0]) + "…"
    names = {bool: "flag", int: "integer", float: "number", str: "text"}
    return names.get(annotation, getattr(annotation, "__name__", str(annotation)))


_DEFAULT_IN_HELP = re.compile(r"\s*\(default: ([^()]*)\)$")


def _default_and_help(param) -> tuple[str, str]:
    """The default as shown (`value`, off for a flag, – for none) and the help without a
    trailing "(default: …)", which becomes the default where the option has none itself."""
    help_text = " ".join((getattr(param, "help", None) or "").split())
    default = param.default
    if getattr(param, "is_flag", False):
        return ("on" if default else "off"), help_text
    m = _DEFAULT_IN_HELP.search(help_text)
    if default is None and m:
        return m.group(1), help_text[: m.start()]
    if default is None or default == () or default == []:
        return ("required" if param.required else "–"), help_text
    return f"`{default}`", help_text


def _option_rows(command, hints: dict) -> tuple[list[str], list[str]]:
    """Markdown rows of the arguments and of the options (hidden ones left out)."""
    args, opts = [], []
    for p in command.params:
        if getattr(p, "hidden", False):
            continue
        kind = "flag" if getattr(p, "is_flag", False) else _type_name(hints.get(p.name, str))
        default, help_text = _default_and_help(p)
        if p.param_type_name == "argument":
            args.append(f"| `{p.name.upper()}` | {kind} | {default} | {_md(help_text)} |")
        else:
            names = ", ".join(f"`{o}`" for o in sorted([*p.opts, *p.secondary_opts],
                                                        key=lambda o: (o.startswith("--"), o)))
            opts.append(f"| {names} | {kind} | {_md(default)} | {_md(help_text)} |")
    return args, opts


def _usage(name: str, command) -> str:
    pieces = [f"gradscope {name}".strip(), "[OPTIONS]"]
    for p in command.params:
        if p.param_type_name == "argument":
            arg = p.name.upper() + ("..." if p.nargs == -1 else "")
            pieces.append(arg if p.required else f"[{arg}]")
    return " ".join(pieces)


def _table(header: str, rows: list[str]) -> list[str]:
    cols = header.count("|") - 1
    return [header, "|" + "---|" * cols, *rows, ""]


def _command_section(name: str, command, callback) -> list[str]:
    hints = typing.get_type_hints(callback, include_extras=True)
    lines = [f"## `gradscope {name}`", "", "```text", _usage(name, command), "```", ""]
    lines += [_md(command.help or "").strip(), ""]
    args, opts = _option_rows(command, hints)
    if args:
        lines += ["**Arguments**", ""] + _table("| argument | type | default | meaning |", args)
    lines += ["**Options**", ""] + _table("| option | type | default | meaning |", opts)
    lines += _files_section(name)
    return lines


def _files_section(name: str) -> list[str]:
    where, files, kind, notes = COMMAND_FILES[name]
    lines = ["**Files written**", "", WHERE[where], ""]
    for f in files:
        if f == "<figures>":
            names = ", ".join(f"`{n}`" for n in figures(kind))
            home = kind if isinstance(kind, str) else "analyze"
            ref = "" if home == name else f" (see [{home}](#{_anchor(home)}))"
            lines.append(f"- {FILE_TEXT[f]}: {names}{ref}")
        elif f == "series.csv":
            lines.append(f"- `{f}`: {SERIES_CSV.get(name, FILE_TEXT[f])}")
        else:
            lines.append(f"- `{f}`: {FILE_TEXT[f]}")
    lines += [f"- {n}" for n in notes]
    if name == kind:
        lines += ["", "Figures:", ""]
        for fig, caption in figures(kind).items():
            when = FIGURE_WHEN.get(fig) if kind == "analyze" else None
            lines.append(f"- `{fig}`: {_md(caption)}" + (f" *When:* {_md(when)}." if when else ""))
    return [*lines, ""]


def _anchor(name: str) -> str:
    return f"gradscope-{name}"


def render() -> str:
    """docs/cli.md as text."""
    import typer

    from .app import app

    root = typer.main.get_command(app)
    ctx = typer.Context(root, info_name="gradscope")
    callbacks = {c.name: c.callback for c in app.registered_commands}
    lines = [INTRO, "## Commands", ""]
    names = list(root.list_commands(ctx))
    for n in names:
        short = (root.get_command(ctx, n).help or "").strip().split("\n")[0]
        lines.append(f"- [`{n}`](#{_anchor(n)}): {_md(short)}")
    lines.append("")
    hints = typing.get_type_hints(app.registered_callback.callback, include_extras=True)
    _, opts = _option_rows(root, hints)
    lines += ["Options of `gradscope` itself:", ""]
    lines += _table("| option | type | default | meaning |", opts)
    for n in names:
        lines += _command_section(n, root.get_command(ctx, n), callbacks[n])
    return "\n".join(lines).rstrip() + "\n"


def main(argv: list[str] | None = None) -> None:
    """Print docs/cli.md, or write it to the path given."""
    args = sys.argv[1:] if argv is None else argv
    text = render()
    if args:
        with open(args[0], "w", encoding="utf-8") as f:
            f.write(text)
    else:
        sys.stdout.write(text)


if __name__ == "__main__":
    main()
