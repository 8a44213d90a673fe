"""What every kind of report's figures share: a new figure, the runs' colours, series as
arrays, log-axis labels, and writing figures as PNG and SVG. Figures are made without
pyplot; matplotlib is imported only when one is drawn."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np


def as_array(values) -> np.ndarray:
    """A series as floats, None → NaN (a gap in the line)."""
    return np.array([np.nan if v is None else v for v in values], dtype=float)


def new_figure(width: float, height: float, ncols: int = 1, nrows: int = 1, **share):
    """A figure (constrained layout, no pyplot) and its axes: one, a row of `ncols` or a grid
    (`share`: `sharex`, `sharey` of `Figure.subplots`)."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), layout="constrained")
    return fig, fig.subplots(nrows, ncols, **share)


def blank_figure(width: float, height: float):
    """A figure without axes (constrained layout, no pyplot), for subfigures or grids."""
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height), layout="constrained")


def run_colors(n: int) -> list:
    """One colour per run: tab10 or tab20, turbo beyond 20."""
    import matplotlib

    if n <= 20:
        cmap = matplotlib.colormaps["tab10" if n <= 10 else "tab20"]
        return [cmap(i) for i in range(n)]
    return [matplotlib.colormaps["turbo"](x) for x in np.linspace(0.05, 0.95, n)]


def integer_ticks(ax) -> None:
    """Integer ticks on the x axis (time steps, layers, indices)."""
    from matplotlib.ticker import MaxNLocator

    ax.xaxis.set_major_locator(MaxNLocator(integer=True, steps=[1, 2, 2.5, 5, 10]))


def log_ticks(ax) -> None:
    """Tick labels of a log y axis without mathtext: plain numbers (0.5, 1, 2) where it spans
    less than about a decade, else powers of ten in Unicode superscripts (10⁻¹), as
    matplotlib's own labels look. Its mathtext labels were parsed anew for every figure and
    format, 15 % of drawing the `spectrum` figure."""
    from matplotlib.ticker import FormatStrFormatter, FuncFormatter, LogLocator, NullFormatter

    lo, hi = ax.get_ylim()
    if lo > 0 and hi / lo < 20:
        ax.yaxis.set_major_locator(LogLocator(subs=(1.0, 1.5, 2.0, 3.0, 5.0, 7.0)))
        ax.yaxis.set_major_formatter(FormatStrFormatter("%g"))
    else:
        ax.yaxis.set_major_formatter(FuncFormatter(power_of_ten))
    ax.yaxis.set_minor_formatter(NullFormatter())


_SUPERSCRIPTS = str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹")


def power_of_ten(value: float, _pos=None) -> str:
    """`10⁻³` for 0.001; other values as `%g`, nothing for values ≤ 0."""
    if not value > 0:
        return ""
    e = round(math.log10(value))
    if abs(math.log10(value) - e) > 1e-9:
        return f"{value:g}"
    return "10" + str(e).translate(_SUPERSCRIPTS)


def write_figures(report: dict, plots_dir: Path, figures: dict) -> list[Path]:
    """Write every figure that applies as `<name>.png` (150 dpi) and `<name>.svg` into
    `plots_dir` (created if missing); return the PNG paths in the order of `figures`
    (name -> function of the report, returning a Figure or None)."""
    plots_dir = Path(plots_dir)
    plots_dir.mkdir(parents=True, exist_ok=True)
    written = (write_figure(report, plots_dir, name, make) for name, make in figures.items())
    return [p for p in written if p is not None]


def draw_figure(report: dict, make) -> tuple[bytes, bytes] | None:
    """`make(report)` as the bytes of its PNG and SVG files (what `write_figure` writes), or
    None if it has nothing to show."""
    import io

    fig = make(report)
    if fig is None:
        return None
    png, svg = io.BytesIO(), io.BytesIO()
    fig.savefig(png, format="png", dpi=150)
    save_svg(fig, svg)
    return png.getvalue(), svg.getvalue()


def write_figure(report: dict, plots_dir: Path, name: str, make) -> Path | None:
    """`make(report)` as `<name>.png` and `<name>.svg`; its PNG path, None if it has nothing."""
    return _write_images(plots_dir, name, draw_figure(report, make))


def _write_images(plots_dir: Path, name: str, images: tuple[bytes, bytes] | None) -> Path | None:
    if images is None:
        return None
    png = Path(plots_dir) / f"{name}.png"
    png.write_bytes(images[0])
    png.with_suffix(".svg").write_bytes(images[1])
    return png


def save_svg(fig, target) -> None:
    """`fig`, whose layout is done (it was saved as PNG), as SVG into `target` (a path or a
    file). No layout engine at all: with "none" (a placeholder engine) savefig would still run
    a draw pass for the layout, a third of the figure's drawing. No date, and clip-path ids
    from a fixed salt (random by default): the same report gives the same SVG bytes."""
    import matplotlib

    with matplotlib.rc_context({"svg.hashsalt": "gradscope", "figure.autolayout": False,
                                "figure.constrained_layout.use": False}):
        fig.set_layout_engine(None)
        fig.savefig(target, format="svg", metadata={"Date": None})
