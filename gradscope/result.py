"""The object the Python API returns: a `Report` wraps the report dict of docs/report-schema.md
(`gradscope.report/1`, what report.json holds) and gives it the CLI's outputs (the output
folder, figures, tables) plus what a notebook wants (a pandas frame, an HTML view).

    r = gradscope.analyze(arch="lstm", steps=500)   # -> Report
    r.to_dict(); r.write("runs/a"); r.figure("jacobian_norm"); r.to_pandas(); r

Only the standard library and numpy are imported here; the renderers, matplotlib and pandas
are imported by the methods that need them, and jax never.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from .constants import SCHEMA
from .errors import UsageError

if TYPE_CHECKING:
    import pandas
    from matplotlib.figure import Figure

# The figure a notebook shows under the summary table, by command (default: analyses).
MAIN_FIGURE = {"train": "loss", "cliff": "cliff_surface", "spectrum": "spectrum"}
DEFAULT_MAIN_FIGURE = "jacobian_norm"

# Columns of the series.csv layouts that are integers or text; every other column is a float.
_INT_COLUMNS = frozenset({"run", "t", "iter", "layer", "k"})
_TEXT_COLUMNS = frozenset({"label", "block", "clip"})

# Colours of the regime cells, as report.html has them, scoped to the notebook view.
_STYLE = (".gradscope-report .vanishing{color:#1f5fbf;font-weight:600}"
          ".gradscope-report .exploding{color:#c0392b;font-weight:600}"
          ".gradscope-report .stable{color:#1e8449;font-weight:600}"
          ".gradscope-report td,.gradscope-report th{text-align:right;white-space:nowrap}"
          ".gradscope-report td:first-child,.gradscope-report th:first-child{text-align:left}")


def _float_array(values: Any) -> np.ndarray | None:
    """A series as a float array, None → NaN; a None series (not applicable) stays None."""
    if values is None:
        return None
    return np.array(values, dtype=float)  # numpy reads None as NaN for a float dtype


def _float_arrays(series: dict[str, Any] | None) -> dict[str, np.ndarray | None]:
    return {k: _float_array(v) for k, v in (series or {}).items()}


class Run:
    """A read-only view of one run of a report (one element of `report["runs"]`).

    **Arguments:**

    - `run`: the run dict (docs/report-schema.md: `label`, `config`, `state_size`, `series`, `spectrum`,
      `summary`, `lyapunov`, `timings`, and for `train` runs `checkpoints`). It is kept as
      given and never changed; every property returns a copy.
    """

    def __init__(self, run: dict[str, Any]) -> None:
        if not isinstance(run, dict):
            raise UsageError(f"a run is a dict, not {type(run).__name__}",
                             "pass one element of a report's `runs` list")
        self._run = run

    @property
    def label(self) -> str:
        """The run's label, e.g. `lstm · orthogonal · scale 1.0`."""
        return str(self._run.get("label", ""))

    @property
    def config(self) -> dict[str, Any]:
        """Every resolved option of the run (a copy)."""
        return copy.deepcopy(self._run.get("config") or {})

    @property
    def state_size(self) -> int | None:
        """S, the size of the state the Jacobians are taken over (2H for an LSTM)."""
        return self._run.get("state_size")

    @property
    def series(self) -> dict[str, np.ndarray | None]:
        """Series name -> float array, missing values (null) as NaN. A series that does not
        apply to this run (null as a whole, e.g. `log10_cell_path_norm` of an RNN) is None.
        Lengths as in docs/report-schema.md: T + 1 values (t = 0..T) or T values (t = 1..T,
        index t − 1)."""
        return _float_arrays(self._run.get("series"))

    @property
    def series_std(self) -> dict[str, np.ndarray | None] | None:
        """The spread over the batch of each series (`--batch B > 1`), as `series`; None when
        the run has none."""
        std = self._run.get("series_std")
        return None if std is None else _float_arrays(std)

    @property
    def summary(self) -> dict[str, Any]:
        """The run's summary (gain per step, regime, memory horizon, …; a copy)."""
        return copy.deepcopy(self._run.get("summary") or {})

    @property
    def spectrum(self) -> dict[str, Any] | None:
        """The spectra of W_hh as in report.json (a copy), None when the run has none."""
        sp = self._run.get("spectrum")
        return None if sp is None else copy.deepcopy(sp)

    @property
    def lyapunov(self) -> np.ndarray | None:
        """The largest Lyapunov exponents (natural log per step), None without `lyapunov`."""
        return _float_array(self._run.get("lyapunov"))

    def to_dict(self) -> dict[str, Any]:
        """**Returns:** the run dict of report.json (a deep copy)."""
        return copy.deepcopy(self._run)

    def __repr__(self) -> str:
        steps = (self._run.get("config") or {}).get("steps")
        tail = f", T={steps}" if isinstance(steps, int) else ""
        return f"<Run {self.label!r}{tail}>"


class Report:
    """The result of an analysis: a report dict of schema `gradscope.report/1`
    (docs/report-schema.md) with the CLI's outputs as methods. A notebook shows it as its
    summary table and main figure.

    **Arguments:**

    - `report`: the report dict, as the pipeline builds it or `json.load` reads report.json.
      It is kept as given (not copied) and no method changes it.

    Raises `UsageError` when `report` is not a dict with a list of runs, or names another
    schema.
    """

    def __init__(self, report: dict[str, Any]) -> None:
        if not isinstance(report, dict) or not isinstance(report.get("runs"), list):
            raise UsageError("a Report wraps a report dict with a list of runs",
                             "pass the dict of a gradscope report (report.json's content)")
        schema = report.get("schema", SCHEMA)
        if schema != SCHEMA:
            raise UsageError(f"this report has schema {schema!r}, not {SCHEMA!r}",
                             "read it with the gradscope version that wrote it")
        self._report = report

    # ----------------------------------------------------------------------- the dict

    @property
    def command(self) -> str:
        """The command that made the report: `analyze`, `compare`, `spectrum`, `train`, …"""
        return str(self._report.get("command", ""))

    @property
    def runs(self) -> list[Run]:
        """One `Run` view per run, in the report's order."""
        return [Run(r) for r in self._report["runs"]]

    def __len__(self) -> int:
        return len(self._report["runs"])

    def __iter__(self) -> Iterator[Run]:
        return iter(self.runs)

    def __getitem__(self, index: int) -> Run:
        return Run(self._report["runs"][index])

    def to_dict(self) -> dict[str, Any]:
        """**Returns:** the report dict of schema `gradscope.report/1`, exactly what report.json
        holds (a deep copy)."""
        return copy.deepcopy(self._report)

    def to_json(self, indent: int | None = None) -> str:
        """**Arguments:** `indent` as for `json.dumps` (None: one line).

        **Returns:** the report as JSON text (strict: no NaN or Infinity, which the schema
        writes as null)."""
        return json.dumps(self._report, indent=indent, allow_nan=False)

    # ----------------------------------------------------------------------- files

    def write(self, folder: str | Path | None = None, *, figures: bool = True,
              force: bool = False) -> Path:
        """Write the output folder the CLI writes (docs/cli.md, "Files written"): series.csv,
        summary.csv, plots/, report.md, report.html and, last, report.json.

        **Arguments:**

        - `folder`: the output folder, created if missing; None: a new
          `runs/<command>-<timestamp>` folder.
        - `figures`: draw plots/*.png and *.svg (as the CLI without `--no-plots`).
        - `force`: overwrite a folder that already holds a finished report.

        **Returns:** the folder's path. Raises `UsageError` when the folder is a file, is not
        writable, or holds a finished report and `force` is not set.
        """
        from .io.store import prepare_out_dir
        from .report.folder import write_report_folder

        out_dir = prepare_out_dir(None if folder is None else str(folder), self.command,
                                  force=force)
        write_report_folder(out_dir, self._report, plots=figures)
        return Path(out_dir)

    # ----------------------------------------------------------------------- figures

    def _figure_functions(self) -> dict[str, Callable[[dict], Any]]:
        """Figure name -> function of the report dict, for this kind of report."""
        import importlib

        from .report import OWN_LAYOUT

        module = OWN_LAYOUT.get(self.command, "plots")
        return importlib.import_module(f"{__package__}.report.{module}").FIGURES

    def figures(self) -> list[str]:
        """**Returns:** the names of the figures of this kind of report (those of plots/). A
        figure may still have nothing to show for a given report (e.g. `dlfs2` outside that
        preset); `figure` says so."""
        return list(self._figure_functions())

    def figure(self, name: str) -> Figure:
        """One of the report's figures, as the CLI draws it into plots/<name>.png.

        **Arguments:**

        - `name`: a name of `figures()`, e.g. `jacobian_norm`, `local_norm`, `spectrum`,
          `saturation` (analyses), `loss`, `grad_norm` (train), `cliff_surface` (cliff).

        **Returns:** a `matplotlib.figure.Figure` (made without pyplot: show it by leaving it
        last in a notebook cell, or save it with `fig.savefig`). Raises `UsageError` for an
        unknown name, or a figure with nothing to show for this report.
        """
        functions = self._figure_functions()
        if name not in functions:
            raise UsageError(f"no figure {name!r} in a {self.command or '?'} report",
                             f"choose one of: {', '.join(functions)}")
        fig = functions[name](self._report)
        if fig is None:
            others = ", ".join(n for n in functions if n != name)
            raise UsageError(f"figure {name!r} has nothing to show for this report",
                             f"none of its runs records what it draws; choose another of: "
                             f"{others}")
        return fig

    # ----------------------------------------------------------------------- tables

    def summary(self) -> list[dict[str, Any]]:
        """**Returns:** the summary table without pandas: one dict per run, its `label` then
        its `summary` entries (gain per step, regime, memory horizon, …; for `train` the final
        loss, clip fraction, …)."""
        return [{"label": run.get("label", ""), **copy.deepcopy(run.get("summary") or {})}
                for run in self._report["runs"]]

    def to_pandas(self) -> pandas.DataFrame:
        """The report's numbers as a pandas DataFrame, with the rows and columns of series.csv:

        - analyses (`analyze`, `compare`, …): one row per (run, t), t = 0..T; columns `run`
          (index in `runs`), `label`, `t`, then one per series present in any run
          (`log10_jacobian_norm`, `log10_local_norm`, …), then `<name>_std` for the spread over
          the batch. A series of T values (t = 1..T, such as `log10_local_norm`) is NaN at
          t = 0; missing values (null, or a series a run does not have) are NaN.
        - `spectrum`: one row per (run, layer, block, k): `singular_value`, `eigenvalue_re`,
          `eigenvalue_im` (k-th largest; block `W_hh` is the stacked matrix, then the gates).
        - `train`: one row per (run, iter): `loss`, `grad_norm`, `clipped` of iteration
          `iter`, and `task_error`, `eval_loss` where an evaluation followed `iter` updates.
        - `cliff`: one row per (run, iter): `run`, `label`, `clip`, `iter`, then `w`, `b`,
          `log10_loss`, `log10_grad_norm`, `clipped`, `step_norm` (the last two NaN on the
          last row, from which no step is taken).

        Integer columns (`run`, `t`, `iter`, `layer`, `k`) are int64, text columns object,
        every other column float64.

        **Returns:** the `pandas.DataFrame`. Raises `UsageError` when pandas is not installed.
        """
        try:
            import pandas as pd
        except ImportError as e:
            raise UsageError("to_pandas needs pandas, which is not installed",
                             "pip install pandas") from e
        if self.command == "cliff":
            return pd.DataFrame(_cliff_columns(self._report))
        from .report import renderers

        render_series_csv = renderers(self._report)[0]
        return pd.DataFrame(_csv_columns(render_series_csv(self._report)))

    # ----------------------------------------------------------------------- display

    def _summary_table(self) -> tuple[tuple[str, ...], list[list[str]], int | None]:
        """(columns, rows, column of the regime or None) of report.md's summary table."""
        import importlib

        from .report import OWN_LAYOUT

        own = OWN_LAYOUT.get(self.command)
        if own is not None:
            mod = importlib.import_module(f"{__package__}.report.{own}")
            return mod.SUMMARY_COLUMNS, [mod.summary_row(r) for r in self._report["runs"]], None
        from .report.text import summary_parts

        columns, rows, _note, regime_col = summary_parts(self._report)
        return columns, rows, regime_col

    def _main_png(self) -> bytes | None:
        """The main figure as PNG bytes; None when it has nothing to show or cannot be drawn."""
        import io

        name = MAIN_FIGURE.get(self.command, DEFAULT_MAIN_FIGURE)
        try:
            make = self._figure_functions().get(name)
            fig = None if make is None else make(self._report)
            if fig is None:
                return None
            buf = io.BytesIO()
            fig.savefig(buf, format="png", dpi=100)
        except Exception:  # no matplotlib, or a figure that fails: the table still shows
            return None
        return buf.getvalue()

    def _repr_html_(self) -> str:
        """A notebook's view: the summary table, the answer of a report of several runs
        (which keeps the gradient alive, and why) and the main figure (`jacobian_norm`; `loss`
        for train, `cliff_surface` for cliff) inlined as a PNG. Writes no file."""
        import base64
        from html import escape

        from .report.html import html_table
        from .report.story import answer

        columns, rows, regime_col = self._summary_table()
        n = len(self)
        parts = [f'<div class="gradscope-report"><style>{_STYLE}</style>',
                 f"<p><b>gradscope {escape(self.command or '?')}</b>: {n} "
                 f"run{'' if n == 1 else 's'}</p>",
                 html_table(columns, rows, regime_col)]
        said = answer(self._report)  # None for one run, spectra, train and cliff reports
        if said is not None:
            parts.append("<ul>" + "".join(f"<li>{escape(t)}</li>" for t in said.sentences)
                         + "</ul>")
        png = self._main_png()
        if png is not None:
            data = base64.b64encode(png).decode("ascii")
            name = MAIN_FIGURE.get(self.command, DEFAULT_MAIN_FIGURE)
            parts.append(f'<img alt="{escape(name)}" style="max-width:100%" '
                         f'src="data:image/png;base64,{data}">')
        parts.append("</div>")
        return "".join(parts)

    def __repr__(self) -> str:
        n = len(self)
        return f"<Report {self.command or '?'}: {n} run{'' if n == 1 else 's'}>"


def _csv_columns(text: str) -> dict[str, np.ndarray]:
    """The columns of a series.csv text (the renderers' own layout, so that `to_pandas` and
    series.csv agree): integer and text columns by name, every other one float, empty
    cells NaN. The renderers write floats with repr, so they read back exactly."""
    import csv
    import io

    header, *rows = list(csv.reader(io.StringIO(text)))
    cells = list(zip(*rows, strict=True)) if rows else [() for _ in header]
    out: dict[str, np.ndarray] = {}
    for name, column in zip(header, cells, strict=True):
        if name in _INT_COLUMNS:
            out[name] = np.array([int(v) for v in column], dtype=np.int64)
        elif name in _TEXT_COLUMNS:
            out[name] = np.array(column, dtype=object)
        else:
            out[name] = np.array([float(v) if v else np.nan for v in column], dtype=float)
    return out


def _cliff_columns(report: dict) -> dict[str, np.ndarray]:
    """A `cliff` report's paths, one row per (run, iter). (Its series.csv names the run by
    its label in a `run` column; here `run` is the index in `runs`, as in the other kinds.)"""
    from .report.cliff import SERIES

    run_ix, labels, clips, iters = [], [], [], []
    values: dict[str, list] = {k: [] for k in SERIES}
    for n, run in enumerate(report.get("runs") or []):
        s = run.get("series") or {}
        theta = (run.get("config") or {}).get("clip")
        length = max((len(v) for v in s.values() if v is not None), default=0)
        for k in range(length):
            run_ix.append(n)
            labels.append(str(run.get("label", "")))
            clips.append("none" if theta is None else str(theta))
            iters.append(k)
            for key in SERIES:
                vals = s.get(key) or []
                values[key].append(vals[k] if k < len(vals) else None)
    return {"run": np.array(run_ix, dtype=np.int64), "label": np.array(labels, dtype=object),
            "clip": np.array(clips, dtype=object), "iter": np.array(iters, dtype=np.int64),
            **{k: np.array(v, dtype=float) for k, v in values.items()}}
