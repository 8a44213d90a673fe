"""The answer a report of several runs opens with: which run keeps the gradient alive, which
option made the difference, and why, in the numbers (the LSTM cell path Π f_k, σ_max(W_hh)
against the textbook bound, saturation). Pure functions of the report dict; the terminal,
Markdown and HTML print the same sentences and the same horizon grid."""

from __future__ import annotations

from dataclasses import dataclass

from ..labels import applies, option_text, short_labels, varying
from .text import fmt, ranked, series_mean, sigma_max

QUESTION = "Which keeps the gradient alive?"
GRID_NOTE = "Memory horizon (steps back until ‖∂s_T/∂s_t‖ < 1e-3):"  # what the grid holds
GRID_MAX_ROWS, GRID_MAX_COLS = 16, 8

# what a sentence calls an option whose change made the difference
OPTION_WORDS = {"arch": "the architecture", "forget_bias": "the forget bias",
                "scale": "the scale of W_hh", "init": "the init", "activation": "the activation",
                "dropout": "dropout", "dropout_mode": "the dropout mode",
                "hidden": "the hidden size", "layers": "the depth", "weights": "the weights",
                "gru_variant": "the GRU variant", "residual": "the residual connections"}


@dataclass(frozen=True)
class Answer:
    sentences: list[str]
    grid_header: list[str]  # "run", then the column option's values (e.g. "scale 0.5")
    grid_rows: list[list[str]]  # one row per run without the column option: horizons


def horizon(run: dict) -> int | None:
    """Memory horizon, with "never below 1e-3" as T (the whole sequence)."""
    s = run.get("summary") or {}
    if s.get("first_nonfinite_step") is not None:
        return None
    h = s.get("memory_horizon")
    if h is None and "memory_horizon" in s:
        return (run.get("config") or {}).get("steps")
    return h


def horizon_text(run: dict) -> str:
    s = run.get("summary") or {}
    if s.get("first_nonfinite_step") is not None:
        return "non-finite"
    if s.get("memory_horizon") is None:
        return f"≥ {(run.get('config') or {}).get('steps', '?')}" if "memory_horizon" in s else "–"
    return str(s["memory_horizon"])


def answer(report: dict) -> Answer | None:
    """The answer of an analysis report with runs that differ (None otherwise)."""
    runs = [r for r in report.get("runs") or [] if "log10_jacobian_norm" in (r.get("series") or {})]
    if len(runs) < 2 or report.get("command") == "spectrum":
        return None
    configs = [r.get("config") or {} for r in runs]
    keys = varying(configs)
    column = "scale" if "scale" in keys else None
    ref = _reference_runs(runs, column)
    best = ranked(ref)[0]
    names = {id(r): _without(name, r, column)
             for r, name in zip(runs, short_labels(runs), strict=True)}
    where = f"At {option_text(column, best['config']['scale'])}, " if column else ""
    sentences = [_best_sentence(best, ref, names, where)]
    sentences += _difference(best, ref, keys, names)
    sentences += _why(ref, names)
    sentences += _across(runs, column, best, names)
    header, rows = _grid(runs, column, names)
    return Answer(sentences, header, rows)


def _without(name: str, run: dict, column: str | None) -> str:
    """A short label without the part that names the grid's column (`scale 1`)."""
    if column is None:
        return name
    cut = option_text(column, (run.get("config") or {}).get(column))
    return " · ".join(p for p in name.split(" · ") if p != cut)


def _reference_runs(runs: list[dict], column: str | None) -> list[dict]:
    """The runs compared head to head: those at scale 1 where the scale varies (the gain at
    which the textbook condition sits on its edge), else all."""
    if column is None:
        return runs
    scales = sorted({r["config"]["scale"] for r in runs if applies(column, r["config"])})
    at = min(scales, key=lambda s: abs(s - 1.0))
    return [r for r in runs if not applies(column, r["config"]) or r["config"]["scale"] == at]


def _is_tanh_rnn(run: dict) -> bool:
    c = run.get("config") or {}
    return c.get("arch") == "rnn" and c.get("activation", "tanh") == "tanh"


def _best_sentence(best: dict, ref: list[dict], names: dict, where: str) -> str:
    h = horizon(best)
    if h is None:
        return (f"{where}no run keeps a finite gradient: {names[id(best)]} went non-finite at "
                f"step {best['summary'].get('first_nonfinite_step')}.")
    T = best["config"].get("steps")
    gain = best["summary"].get("log10_gain_per_step")
    if best["summary"].get("regime") == "exploding" and gain is not None:
        p0 = best["series"]["log10_jacobian_norm"][0]
        whole = "" if p0 is None else f", ‖∂s_T/∂s_0‖ = 10^{p0:.1f}"
        return (f"{where}{names[id(best)]} never lets the gradient fade, but it explodes: "
                f"×{10 ** gain:.2f} per step back{whole}.")
    how = (f"‖∂s_T/∂s_t‖ stays above 1e-3 over all {T} steps" if h == T and
           best["summary"].get("memory_horizon") is None
           else f"‖∂s_T/∂s_t‖ stays above 1e-3 for {h} steps back")
    text = f"{where}{names[id(best)]} keeps the gradient alive longest: {how}"
    rnn = [r for r in ref if _is_tanh_rnn(r) and r is not best and horizon(r)]
    if rnn and not _is_tanh_rnn(best):
        r = ranked(rnn)[0]
        least = "at least " if best["summary"].get("memory_horizon") is None else ""
        text += f", {least}{h / horizon(r):.1f}× the tanh RNN's {horizon_text(r)}"
    return text + "."


def _differing(a: dict, b: dict, keys: list[str]) -> list[str]:
    """The options (of `keys`) in which two runs differ, counting an option that applies to
    only one of them by its default there (forget bias 0 for an RNN)."""
    ca, cb = a.get("config") or {}, b.get("config") or {}
    defaults = {"forget_bias": 0.0, "activation": "tanh", "gru_variant": "pytorch"}
    out = []
    for k in keys:
        va = ca.get(k) if applies(k, ca) else defaults.get(k)
        vb = cb.get(k) if applies(k, cb) else defaults.get(k)
        if va != vb:
            out.append(k)
    return out


def _difference(best: dict, ref: list[dict], keys: list[str], names: dict) -> list[str]:
    """Which single option, changed back, costs `best` the most memory."""
    pairs = [(r, _differing(best, r, keys)) for r in ref if r is not best]
    # (another seed is another draw, not an option that made a difference)
    single = [(r, d[0]) for r, d in pairs
              if len(d) == 1 and d[0] != "seed" and horizon(r) is not None]
    if not single or horizon(best) is None:
        return []
    other, key = min(single, key=lambda p: horizon(p[0]))
    if horizon(other) >= horizon(best):
        return []
    value = option_text(key, other["config"].get(key))
    arch = str(best["config"].get("arch", "")).upper()
    same = "the same settings" if key == "arch" else f"the same {arch}"
    text = (f"What made the difference: {OPTION_WORDS.get(key, key)}. With {value} instead, "
            f"{same} keep{'' if key == 'arch' else 's'} it {horizon_text(other)} steps")
    rest = [r for r in ref if r is not best and r is not other and horizon(r) is not None]
    if rest and len(rest) <= 4:
        text += " (" + ", ".join(f"{names[id(r)]}: {horizon_text(r)}" for r in ranked(rest)) + ")"
    return [text + "."]


def _per_step(log10_total, steps) -> float | None:
    """The mean factor per step of a product over `steps` steps whose log10 is `log10_total`."""
    if log10_total is None or not steps:
        return None
    return 10.0 ** (log10_total / steps)


def _why(ref: list[dict], names: dict) -> list[str]:
    """The mechanisms behind the head-to-head numbers: the LSTM cell path, the tanh RNN's
    σ_max against the seeds' bound."""
    out = []
    lstms = ranked([r for r in ref if (r.get("config") or {}).get("arch") == "lstm"
                    and (r.get("series") or {}).get("log10_cell_path_norm")])[:3]
    parts = []
    for r in lstms:
        f = _per_step(r["series"]["log10_cell_path_norm"][0], r["config"].get("steps"))
        if f is not None:
            parts.append(f"×{f:.2f} per step in {names[id(r)]}")
    if parts:
        out.append("Why: an LSTM's gradient goes back along the cell path c_t = f_t⊙c_(t−1) + i_t⊙g_t, "
                   "scaled at every step by the forget gates, which the forget bias opens "
                   "(σ(0) = 0.5, σ(1) = 0.73): the cell path Π f_k keeps " + ", ".join(parts)
                   + ".")
    rnn = [r for r in ref if _is_tanh_rnn(r)]
    if rnn:
        out.append(_rnn_why(ranked(rnn)[0]))
    return out


def _rnn_why(run: dict) -> str:
    """σ_max(W_hh) against 1 and the seeds' bound max|tanh'|·σ_max, the measured factor, the
    share of saturated units and one step's stretch ‖J_t‖, for a tanh RNN."""
    sv = sigma_max(run)
    series, T = run.get("series") or {}, (run.get("config") or {}).get("steps")
    s = run.get("summary") or {}
    gain, regime = s.get("log10_gain_per_step"), s.get("regime")
    factor = "" if gain is None else f" ×{10 ** gain:.2f} per step"
    sat = series_mean(run, "saturation_fraction")
    sat_text = "" if sat is None else f", {100 * sat:.0f}% of units saturated on average"
    local = series_mean(run, "log10_local_norm")
    stretch = None if local is None else 10 ** local
    bound = _per_step((series.get("log10_seed_bound") or [None])[0], T)
    if sv is None or bound is None or regime is None:
        return f"The tanh RNN's gradient is {regime or 'not finite'}{factor}{sat_text}."
    head = f"The tanh RNN has σ_max(W_hh) = {sv:.2f}"
    if sv < 1:
        return (f"{head} < 1: the seeds' bound max|tanh'|·σ_max(W_hh) ≤ ×{bound:.2f} per step "
                f"guarantees that its gradient vanishes (measured:{factor}{sat_text}).")
    if regime != "vanishing":
        return (f"{head} > 1: the seeds' bound max|tanh'|·σ_max(W_hh) allows ×{bound:.2f} per "
                f"step, and its gradient is {regime} (measured:{factor}{sat_text}).")
    text = (f"{head} > 1: the seeds' bound max|tanh'|·σ_max(W_hh) allows ×{bound:.2f} per "
            f"step, yet its gradient vanishes at{factor}: tanh' < 1 shrinks every step")
    if sat_text:
        text += f" ({sat_text[2:]})"
    if stretch is not None and stretch > 1:
        text += (f", and the direction one step stretches most (×{stretch:.2f}, ‖J_t‖) is not "
                 f"the one the next step stretches")
    return text + "."


def _across(runs: list[dict], column: str | None, best: dict, names: dict) -> list[str]:
    """Across the scales: how much the tanh RNN's horizon depends on the scale, and the
    longest horizon of all where it is not the head-to-head winner's."""
    if column is None:
        return []
    out = []
    rows: dict[str, list[dict]] = {}
    for r in runs:
        if horizon(r):
            rows.setdefault(names[id(r)], []).append(r)
    swing = {k: max(map(horizon, v)) / min(map(horizon, v)) for k, v in rows.items()}
    rnn = sorted((r for r in runs if _is_tanh_rnn(r) and horizon(r)),
                 key=lambda r: r["config"]["scale"])
    if len(rnn) >= 2:
        lo, hi = rnn[0], rnn[-1]
        most = " most" if swing[names[id(lo)]] >= max(swing.values()) else ""
        out.append(f"Across scales the tanh RNN's horizon swings{most}: {horizon_text(lo)} → "
                   f"{horizon_text(hi)} steps from scale {lo['config']['scale']:g} to "
                   f"{hi['config']['scale']:g}, as σ_max(W_hh) goes from "
                   f"{fmt(sigma_max(lo), '.2f')} to {fmt(sigma_max(hi), '.2f')}.")
    top = ranked(runs)[0]
    if top is not best and (horizon(top) or 0) > (horizon(best) or 0):
        out.append(f"The longest horizon of all: {names[id(top)]} at "
                   f"{option_text(column, top['config'].get(column))}, "
                   f"{horizon_text(top)} steps.")
    return out


def _grid(runs: list[dict], column: str | None, names: dict) -> tuple[list[str], list[list[str]]]:
    """Memory horizon per run (rows) and scale (columns), where the scale varies."""
    if column is None:
        return [], []  # the summary table lists the horizons already
    cols = sorted({r["config"]["scale"] for r in runs})
    table: dict[str, dict[float, str]] = {}
    for r in runs:
        row = " · ".join(p for p in names[id(r)].split(" · ")
                         if p != option_text("scale", r["config"]["scale"]))
        cell = table.setdefault(row, {})
        if r["config"]["scale"] in cell:
            return [], []  # not one run per (row, scale): no grid
        cell[r["config"]["scale"]] = horizon_text(r)
    if (len(table) > GRID_MAX_ROWS or len(cols) > GRID_MAX_COLS or len(table) < 2
            or any(len(cells) < 2 for cells in table.values())):
        return [], []  # too large to read, or too sparse to be worth a grid
    header = ["run", *(option_text("scale", c) for c in cols)]
    return header, [[row, *(cells.get(c, "–") for c in cols)] for row, cells in table.items()]
