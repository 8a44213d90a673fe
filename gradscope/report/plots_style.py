"""How the analysis figures tell runs apart, the same way in every figure.

The options that vary between a report's runs (`labels.varying`, in its order: arch first)
give each run its look: the first option its hue family (every rnn run a blue, every lstm
run an orange), the second its shade within the family (light to dark along its values),
the third its line style. Runs that differ only in their seed are replicates: they look
alike and share one legend entry. Past `SINGLE_AXIS_MAX` looks, the figures draw small
multiples: one panel per value of the first option.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

import numpy as np

from ..labels import applies, option_text, varying

SINGLE_AXIS_MAX = 6  # distinct looks on one axis; more: one panel per value of the first option
MAX_PANELS = 6       # a first option with more values is not split into panels (nor hue families)
REPLICATES = ("seed",)  # options whose runs look alike: the spread between them is the noise
FAMILIES = ("Blues", "Oranges", "Greens", "Purples", "Reds", "Greys")
# solid, dash-dot, dotted, dash-dot-dot: never plain dashes, which mean the theory line
LINESTYLES = ("-", (0, (6, 2, 1.2, 2)), (0, (1.2, 1.5)), (0, (6, 2, 1.2, 2, 1.2, 2)))


@dataclass(frozen=True)
class Look:
    """How one run is drawn, and what its legend entry says."""

    color: tuple
    ls: object
    panel: str  # the first option's value ("rnn"); "" when no option varies
    rest: str   # the other options' values ("scale 0.5 · forget bias 1"); may be ""

    @property
    def label(self) -> str:
        return " · ".join(p for p in (self.panel, self.rest) if p)


@dataclass(frozen=True)
class Styles:
    looks: list[Look]  # one per run, in the report's order
    panels: list[str]  # panel names in order; [""] for a single axis
    note: str          # what a line stands for when replicates share it ("6 seeds each"), or ""

    def entries(self, indices=None, panel: str | None = None) -> list[tuple[int, Look]]:
        """The distinct looks as (first run index, look), in run order, of the runs `indices`
        (default: all) on `panel` (default: any)."""
        seen: dict[Look, int] = {}
        for i in range(len(self.looks)) if indices is None else indices:
            look = self.looks[i]
            if (panel is None or self.on(look, panel)) and look not in seen:
                seen[look] = i
        return [(i, look) for look, i in seen.items()]

    def on(self, look: Look, panel: str) -> bool:
        """Whether `look` is drawn on `panel`."""
        return panel == "" or look.panel == panel

    def text(self, look: Look) -> str:
        """A look's legend text: only what its panel does not already say."""
        return look.label if self.panels == [""] else (look.rest or look.panel)


def run_styles(runs: list[dict], exclude: tuple[str, ...] = ()) -> Styles:
    """The look of every run of `runs` (report dicts); `exclude`: options a figure shows on an
    axis (the scale in `gain_vs_scale`), which then take no part in the looks."""
    configs = [r.get("config") or {} for r in runs]
    keys = style_keys(configs, exclude)
    values = {k: option_values(configs, k) for k in keys}
    looks = [_look(c, keys, values) for c in configs]
    firsts = values[keys[0]] if keys else []
    many = len(set(looks)) > SINGLE_AXIS_MAX and 2 <= len(firsts) <= MAX_PANELS
    panels = list(dict.fromkeys(look.panel for look in looks)) if many else [""]
    # replicates: runs alike in their look and in the options a figure shows on an axis
    alike = [(look, *(_hashable(c.get(k)) for k in exclude))
             for look, c in zip(looks, configs, strict=True)]
    return Styles(looks, panels, _note(configs, alike))


def style_keys(configs: list[dict], exclude: tuple[str, ...] = ()) -> list[str]:
    """The options that set the looks, in `labels.KEYS` order but seeds left out (unless only
    they vary) and an option with more values than hue families last."""
    keys = [k for k in varying(configs) if k not in exclude]
    keys = [k for k in keys if k not in REPLICATES] or keys
    return sorted(keys, key=lambda k: len(option_values(configs, k)) > MAX_PANELS)


def option_values(configs: list[dict], key: str) -> list:
    """The distinct values of `key` where it applies: sorted if all are numbers, else in the
    order the runs first have them."""
    seen = list(dict.fromkeys(_hashable(c.get(key)) for c in configs if applies(key, c)))
    numbers = all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in seen)
    return sorted(seen) if numbers else seen


def _look(cfg: dict, keys: list[str], values: dict[str, list]) -> Look:
    def index(key: str) -> int:
        return values[key].index(_hashable(cfg.get(key))) if applies(key, cfg) else 0

    def text(key: str) -> str:
        return option_text(key, cfg.get(key)) if applies(key, cfg) else ""

    if not keys:
        return Look(family_color(0, 1, 0, 1), "-", "", "")
    first, n_first = index(keys[0]), len(values[keys[0]])
    shade_key = keys[1] if len(keys) > 1 and n_first <= len(FAMILIES) else None
    ls_keys = [k for k in keys[1:3] if k != shade_key]
    color = family_color(first, n_first, *((index(shade_key), len(values[shade_key]))
                                           if shade_key else (0, 1)))
    ls = LINESTYLES[index(ls_keys[0]) % len(LINESTYLES)] if ls_keys else "-"
    rest = " · ".join(t for t in map(text, keys[1:]) if t)
    return Look(color, ls, text(keys[0]), rest)


def family_color(first: int, n_first: int, shade: int, n_shades: int) -> tuple:
    """The colour of value `first` (of `n_first`) of the first option, shade `shade` (of
    `n_shades`) of the second: a hue family per value, light to dark; along viridis when
    the first option has more values than there are families."""
    import matplotlib

    if n_first > len(FAMILIES):
        return matplotlib.colormaps["viridis"](float(np.linspace(0, 0.9, n_first)[first]))
    x = 0.72 if n_shades == 1 else float(np.linspace(0.45, 0.92, n_shades)[shade])
    return matplotlib.colormaps[FAMILIES[first]](x)


def _note(configs: list[dict], alike: list) -> str:
    """`6 seeds each` when replicates (equal items of `alike`) share their look, else ``."""
    counts = Counter(alike)
    most = max(counts.values(), default=1)
    if most < 2:
        return ""
    what = "seeds" if "seed" in varying(configs) else "runs"
    return f"{most} {what} each" if len(set(counts.values())) == 1 else f"up to {most} {what}"


def _hashable(value):
    return tuple(value) if isinstance(value, list) else value


# ------------------------------------------------------------------ panels and legends


def panel_axes(styles: Styles, indices: list[int], width: float, height: float,
               panel_height: float):
    """(figure, {panel: axes}): one axis, or one panel per value of the first option stacked
    (shared x and y), for the runs `indices`. One axis grows with its legend so that the
    legend fits."""
    from .figures import new_figure

    panels = [p for p in styles.panels if any(styles.on(styles.looks[i], p) for i in indices)]
    if len(panels) == 1:
        n = len(styles.entries(indices)) + 6  # the runs, a gap and the line styles
        fig, ax = new_figure(width, max(height, 0.9 + 0.17 * (n if n <= 30 else n / 2)))
        return fig, {panels[0]: ax}
    fig, axes = new_figure(width, 0.9 + panel_height * len(panels), nrows=len(panels),
                           sharex=True, sharey=True)
    for ax in axes[:-1]:
        ax.tick_params(labelbottom=False)
    return fig, dict(zip(panels, axes, strict=True))


def axis_of(axes: dict, look: Look):
    """The axes a run of `look` is drawn on."""
    return axes[look.panel] if len(axes) > 1 else next(iter(axes.values()))


def line_width(styles: Styles, indices: list[int], base: float = 2.0) -> float:
    """Thinner lines where replicates or many runs share an axis."""
    crowded = styles.note or len(indices) > 3 * SINGLE_AXIS_MAX
    return base * 0.6 if crowded else base


def run_handles(styles: Styles, runs: list[dict], indices: list[int],
                panel: str | None = None, marker: str | None = None) -> list:
    """A legend entry per distinct look of the runs `indices` (on `panel`)."""
    from matplotlib.lines import Line2D

    return [Line2D([], [], color=look.color, ls=look.ls, lw=2, marker=marker, ms=4,
                   label=styles.text(look) or str(runs[i].get("label", "")))
            for i, look in styles.entries(indices, panel)]


def legends(fig, axes: dict, styles: Styles, runs: list[dict], indices: list[int],
            extra: list | None = None, marker: str | None = None) -> None:
    """The runs' legend right of each panel (its title the panel's option value), and what
    the line styles `extra` mean: below the runs on one axis, below the panels else."""
    from matplotlib.lines import Line2D

    extra = extra or []
    if len(axes) == 1:
        (ax,) = axes.values()
        handles = run_handles(styles, runs, indices, marker=marker)
        title = styles.note or ("runs" if len(handles) > 1 else None)
        if extra:
            handles += [Line2D([], [], ls="", label=" "), *extra]
        _legend(ax, handles, title)
        return
    for panel, ax in axes.items():
        title = f"{panel} ({styles.note})" if styles.note else panel
        _legend(ax, run_handles(styles, runs, indices, panel, marker), title)
    if extra:
        fig.legend(handles=extra, loc="outside lower center", ncol=min(len(extra), 4),
                   fontsize=8, frameon=False)


def _legend(ax, handles: list, title: str | None) -> None:
    n = len(handles)
    size = 8 if n <= 16 else 7
    ax.legend(handles=handles, title=title, fontsize=size, title_fontsize=size + 0.5,
              loc="upper left", bbox_to_anchor=(1.01, 1.0), ncol=1 if n <= 30 else 2,
              frameon=False, alignment="left")
