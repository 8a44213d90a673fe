"""The words and rows of a report, shared by the terminal table, Markdown and HTML.

Every sentence a report says about a run is written here once; the renderers only format.
"""

from __future__ import annotations

from ..labels import short_labels

SUMMARY_COLUMNS = ("run", "regime", "log10 gain/step", "× per step", "memory horizon",
                   "log10 ‖P_0‖", "ρ(W_hh)", "σ_max(W_hh)", "first non-finite step")

SUMMARY_NOTE = ("Gain per step: least-squares slope of log10 ‖∂s_T/∂s_t‖ against the number of "
                "steps back (× per step = 10^gain; below 1 the gradient vanishes going back, "
                "above 1 it explodes). Memory horizon: steps back until the norm is below 1e-3. "
                "‖P_0‖ = ‖∂s_T/∂s_0‖, the whole sequence. ρ: spectral radius; σ_max: largest "
                "singular value.")

FIGURE_CAPTIONS = {
    "jacobian_norm": "How much the state at step T depends on the state at step t: "
                     "log10 ‖∂s_T/∂s_t‖ (solid), with the bounds, the loss gradient and the "
                     "theory line where they apply.",
    "local_norm": "Norm of one step's Jacobian, log10 ‖∂s_t/∂s_(t−1)‖: the most that step "
                  "can stretch any direction, an upper bound on one step's growth. Above 0 "
                  "does not make the gradient grow: how ‖∂s_T/∂s_t‖ grows over many steps "
                  "depends on how the steps' stretched directions line up (the Lyapunov "
                  "exponents); an RNN can have ‖J_t‖ > 1 at every step while its gradient "
                  "vanishes.",
    "spectrum": "Singular values of each square recurrent block (the RNN's W_hh, each gate's "
                "H×H block of an LSTM or GRU), with σ = 1, and the eigenvalues of each kind of "
                "run in a panel of its own, with the unit circle.",
    "saturation": "Share of units whose activation derivative is below 0.1: at each step for a "
                  "few runs; else its mean (dot), interquartile range (bar) and range (line) "
                  "over the steps, and the seeds, of each kind of run.",
    "gain_vs_scale": "Gain per step against the scale of W_hh: for several seeds, their mean "
                     "with their range as a band.",
    "heatmaps": "Gain per step and memory horizon over the two options the runs vary most "
                "along (means over the others).",
    "depth_norm": "Down the stack at the same step: log10 ‖∂h_top/∂h_k‖ for each layer k "
                  "(dashed: with residual connections).",
    "dlfs2": "The figure of Deep Learning from Scratch 2, chapter 6: the gradient norm after "
             "k backward steps.",
    "lyapunov": "The largest Lyapunov exponents λ_k (natural log of the growth per step, "
                "largest first): λ_1 is the rate at which ‖∂s_T/∂s_t‖ grows (above 0) or "
                "vanishes (below 0) over long spans, whatever single steps' norms say.",
}

# Largest |φ'| of the RNN activations: the γ of the bound ‖J_t‖ ≤ γ·σ_max(W_hh).
_ACTIVATION_NAME = {"tanh": "tanh'", "relu": "relu'", "linear": "1"}


def fmt(x, spec: str = ".3g", none: str = "–") -> str:
    """Format a number, or `none` for a missing (None) value."""
    return none if x is None else format(x, spec)


def share(x, none: str = "–") -> str:
    """A fraction as a percentage that never rounds a small non-zero share to 0 % or a
    near-total one to 100 %: 0.5 % for 0.005, 0.02 % for 0.0002, 37 % for 0.37."""
    if x is None:
        return none
    if x == 0 or x == 1 or 0.01 <= x <= 0.99:
        return f"{x:.0%}"
    return f"{x:.1%}" if 0.001 <= x <= 0.999 else f"{x * 100:.2g}%"


def _minus(s: str) -> str:
    return s.replace("-", "−")


def sigma_max(run: dict):
    sv = [v for v in (run.get("spectrum") or {}).get("singular_values") or [] if v is not None]
    return max(sv) if sv else None


def series_mean(run: dict, key: str) -> float | None:
    """The mean of a run's series over the steps where it has a value, None where it has
    none."""
    values = [v for v in (run.get("series") or {}).get(key) or [] if v is not None]
    return sum(values) / len(values) if values else None


def first(values):
    """The first entry of a series, or None."""
    return values[0] if values else None


def ranked(runs: list[dict]) -> list[dict]:
    """Runs by memory horizon, longest first; a norm that never drops below 1e-3 ranks first
    and a run that went non-finite last."""

    def key(run):
        s = run["summary"]
        if s.get("first_nonfinite_step") is not None:
            return (2, 0)
        h = s.get("memory_horizon")
        return (0, 0) if h is None else (1, -h)

    return sorted(runs, key=key)


SPECTRUM_COLUMNS = ("run", "layer", "block", "σ_max", "σ_min", "spectral radius ρ")
SPECTRUM_NOTE = ("σ: singular values of W_hh (the stacked G·H×H matrix, and each gate block of "
                 "a gated cell); ρ: largest |eigenvalue| of the square block(s). The seeds' "
                 "condition: σ_max < 1 makes a tanh RNN's gradients vanish.")


def spectrum_layers(run: dict) -> list[dict]:
    sp = run.get("spectrum") or {}
    return sp.get("layers") or [sp]


def spectrum_rows(runs: list[dict]) -> list[list[str]]:
    """One row per run, layer and block (`W_hh` first, then the gate blocks)."""
    rows = []
    for run in runs:
        for k, sp in enumerate(spectrum_layers(run)):
            for name, b in ({"W_hh": sp} | (sp.get("blocks") or {})).items():
                sv = b.get("singular_values") or [None]
                rows.append([str(run.get("label", "")), str(k), name, fmt(sv[0], ".4f"),
                             fmt(sv[-1], ".4f"), fmt(b.get("spectral_radius"), ".4f")])
    return rows


def summary_parts(report: dict) -> tuple[tuple[str, ...], list[list[str]], str, int | None]:
    """(columns, rows, note, column of the regime or None) of a report's summary table."""
    runs = report.get("runs") or []
    if report.get("command") == "spectrum":
        return SPECTRUM_COLUMNS, spectrum_rows(runs), SPECTRUM_NOTE, None
    rows = [summary_row(r) for r in runs]
    for row, label in zip(rows, short_labels(runs), strict=True):
        row[0] = label
    if not any(r.get("lyapunov") for r in runs):
        return SUMMARY_COLUMNS, rows, SUMMARY_NOTE, 1
    for row, run in zip(rows, runs, strict=True):
        row.append(largest_lyapunov(run))
    return (*SUMMARY_COLUMNS, "largest Lyapunov exponent"), rows, SUMMARY_NOTE + LYAPUNOV_NOTE, 1


LYAPUNOV_NOTE = (" Largest Lyapunov exponent: natural log per step of the fastest-growing "
                 "direction of the Jacobian product (above 0: chaotic).")


def largest_lyapunov(run: dict) -> str:
    """The run's largest Lyapunov exponent, `+0.1234`, or – where it was not asked for."""
    exps = run.get("lyapunov") or []
    return fmt(exps[0] if exps else None, "+.4f")


def summary_row(run: dict) -> list[str]:
    """One row of the summary table, as strings in the order of SUMMARY_COLUMNS."""
    s, sp = run.get("summary") or {}, run.get("spectrum") or {}
    gain = s.get("log10_gain_per_step")
    horizon = s.get("memory_horizon")
    return [
        str(run.get("label", "")),
        s.get("regime") or "–",
        fmt(gain, "+.4f"),
        fmt(None if gain is None else 10.0**gain, ".4g"),
        ("never" if "memory_horizon" in s else "–") if horizon is None else str(horizon),
        fmt(first((run.get("series") or {}).get("log10_jacobian_norm")), ".2f"),
        fmt(sp.get("spectral_radius"), ".3f"),
        fmt(sigma_max(run), ".3f"),
        fmt(s.get("first_nonfinite_step"), "d"),
    ]


def _steps(n) -> str:
    return f"{n} step" if n == 1 else f"{n} steps"


def _gain_sentences(run: dict) -> list[str]:
    s, series = run.get("summary") or {}, run.get("series") or {}
    gain, h, bad = (s.get("log10_gain_per_step"), s.get("memory_horizon"),
                    s.get("first_nonfinite_step"))
    out = []
    if bad is not None:
        out.append(f"The state became non-finite (overflow) at step {bad}: the gradient norms "
                   f"that depend on it are missing (gaps in the figures, empty cells in "
                   f"series.csv).")
    if gain is not None:
        verdict = {"vanishing": "gradients vanish", "exploding": "gradients explode",
                   "stable": "gradients neither clearly vanish nor explode"}
        regime = s.get("regime")
        tail = f": {verdict[regime]}" if regime in verdict else ""
        out.append(f"Each step back multiplies ‖∂s_T/∂s_t‖ by {10.0**gain:.4g} on average "
                   f"(log10 {_minus(f'{gain:+.4f}')}){tail}.")
    jac = series.get("log10_jacobian_norm") or []
    T = len(jac) - 1
    if h is not None and 0 <= T - h <= T and jac[T - h] is not None:
        out.append(f"After {_steps(h)} back the norm is below 1e-3.")
    elif h is None and T > 0 and all(v is not None for v in jac):
        out.append(f"The norm stays above 1e-3 over all {T} steps.")
    if jac and jac[0] is not None:
        out.append(f"Across the whole sequence ‖∂s_T/∂s_0‖ = 10^{_minus(f'{jac[0]:.2f}')}.")
    return out


def _weights_sentences(run: dict) -> list[str]:
    """σ_max(W_hh) against the textbook condition, the bound of a tanh RNN and the LSTM cell
    path: the numbers only (`concepts` says once what they mean)."""
    cfg, s, series = run.get("config") or {}, run.get("summary") or {}, run.get("series") or {}
    sv = sigma_max(run)
    if sv is None:
        return []
    out = []
    if cfg.get("arch") == "rnn" and cfg.get("activation") == "linear":
        rho = (run.get("spectrum") or {}).get("spectral_radius")
        out.append(f"This RNN is linear, so ∂s_T/∂s_t = W_hh^(T−t) exactly; over many steps "
                   f"the factor per step tends to the spectral radius ρ = {fmt(rho, '.4g')}.")
    side = "above" if sv > 1 else "below" if sv < 1 else "equal to"
    predicted = "exploding" if sv > 1 else "vanishing" if sv < 1 else "stable"
    regime = s.get("regime")
    agree = ("" if regime is None else "; the measurement agrees" if regime == predicted
             else f"; measured: {regime}")
    guide = " (a rough guide for a gated cell)" if cfg.get("arch") in ("lstm", "gru") else ""
    out.append(f"σ_max(W_hh) = {sv:.3f} is {side} 1: the textbook condition predicts "
               f"{predicted} gradients{guide}{agree}.")
    bound, jac = first(series.get("log10_seed_bound")), first(series.get("log10_jacobian_norm"))
    if bound is not None and jac is not None and cfg.get("activation") != "linear":
        out.append(f"Over the whole sequence the bound Π max|φ'|·σ_max(W_hh) is "
                   f"10^{_minus(f'{bound:.2f}')} against the measured 10^{_minus(f'{jac:.2f}')}.")
    cell = first(series.get("log10_cell_path_norm"))
    if cell is not None:
        out.append(f"The cell path Π diag(f_k) carries a factor 10^{_minus(f'{cell:.2f}')} "
                   f"across the sequence.")
    return out


def concepts(runs: list[dict]) -> list[str]:
    """What the per-run numbers mean, said once for the report (only what its runs use)."""
    cfgs = [r.get("config") or {} for r in runs]
    acts = {c.get("activation", "tanh") for c in cfgs if c.get("arch") == "rnn"} - {"linear"}
    out = ["The textbook condition (the seeds'): if the largest singular value σ_max(W_hh) is "
           "above 1 gradients may explode, below 1 they vanish."]
    if acts:
        d = _ACTIVATION_NAME.get(sorted(acts)[0], "φ'")
        out.append(f"A vanilla RNN's step Jacobian is diag({d}(z_t))·W_hh, so its norm is at "
                   f"most max|{d}(z_t)|·σ_max(W_hh) ≤ σ_max(W_hh): σ_max below 1 is enough "
                   f"for gradients to vanish, while σ_max above 1 only allows them to "
                   f"explode — saturated units ({d} well below 1) can still make them vanish.")
    if any(c.get("arch") in ("lstm", "gru") for c in cfgs):
        out.append("In a gated cell the gates scale each step's Jacobian as well, so W_hh "
                   "alone does not decide.")
    if any(c.get("arch") == "lstm" for c in cfgs):
        out.append("An LSTM's cell path c_t = f_t⊙c_(t−1) + i_t⊙g_t carries the gradient back "
                   "through the forget gates alone: its norm is ‖Π diag(f_k)‖, and the forget "
                   "bias opens the gates (σ(0) = 0.5, σ(1) = 0.73).")
    if any((r.get("series") or {}).get("saturation_fraction") for r in runs):
        out.append("A unit is saturated when its activation derivative φ'(z) is below 0.1 "
                   "(|z| > 1.8 for tanh).")
    if any((r.get("summary") or {}).get("theory_log10_gain_per_step") is not None for r in runs):
        out.append("Mean-field theory (Chen, Pennington & Schoenholz 2018) predicts a random "
                   "RNN's gain per step as ½·log10 χ, χ = σ_w²·E[φ'(z)²] at the fixed point of "
                   "the pre-activation variance.")
    if any(r.get("lyapunov") for r in runs):
        out.append("Lyapunov exponents are the mean growth rates (natural log per step) of the "
                   "product's leading directions; the largest above 0 means chaotic dynamics.")
    return out


def _other_sentences(run: dict) -> list[str]:
    s = run.get("summary") or {}
    out = []
    sat = series_mean(run, "saturation_fraction")
    if sat is not None and (run.get("config") or {}).get("activation") != "linear":
        out.append(f"On average {share(sat)} of the units are saturated.")
    th, gain = s.get("theory_log10_gain_per_step"), s.get("log10_gain_per_step")
    if th is not None:
        measured = "" if gain is None else f"; measured {_minus(f'{gain:+.4f}')}"
        out.append(f"Mean-field theory predicts log10 {_minus(f'{th:+.4f}')} per step "
                   f"(× {10.0**th:.4g}){measured}.")
    out += _dlfs2_sentences(run)
    if run.get("series_std"):
        batch = (run.get("config") or {}).get("batch")
        size = f"{batch} sequences" if batch else "a batch"
        out.append(f"Values are means over {size}; the shaded band is ± one standard deviation.")
    if run.get("lyapunov"):
        exps = ", ".join(_minus(fmt(x, ".4f")) for x in run["lyapunov"])
        out.append(f"Largest Lyapunov exponents (natural log per step): {exps}.")
    depth = (run.get("depth") or {}).get("log10_norm")
    if depth and depth[0] is not None:
        skip = " (with residual connections)" if (run.get("config") or {}).get("residual") else ""
        out.append(f"Down the stack{skip}, the top layer's output depends on the bottom "
                   f"layer's output at the same step with norm 10^{_minus(f'{depth[0]:.2f}')} "
                   f"on average, across {len(depth) - 1} layers.")
    return out


def _dlfs2_sentences(run: dict) -> list[str]:
    g = (run.get("series") or {}).get("log10_loss_grad_norm")
    if (run.get("config") or {}).get("preset") != "dlfs2" or not g or len(g) < 2:
        return []
    T = len(g) - 1
    if g[T - 1] is None or g[0] is None:
        return []
    return [f"In the book's terms (Deep Learning from Scratch 2, chapter 6) the gradient norm "
            f"is {10.0 ** g[T - 1]:.5g} after 1 backward step and {10.0 ** g[0]:.5g} after "
            f"{T} steps."]


def explain(run: dict) -> list[str]:
    """Sentences saying in words what the numbers of one run mean."""
    return _gain_sentences(run) + _weights_sentences(run) + _other_sentences(run)


def _value(v) -> str:
    return "–" if v is None else str(v)


def config_tables(runs: list[dict]) -> tuple[list[tuple[str, str]], list[str], list[list[str]]]:
    """The resolved configs, compactly: (options shared by every run as (option, value)
    pairs, header and rows of a run × option table of the options that differ)."""
    cfgs = [r.get("config") or {} for r in runs]
    keys = list(dict.fromkeys(k for c in cfgs for k in c))
    shared = [k for k in keys if all(c.get(k) == cfgs[0].get(k) for c in cfgs)]
    differ = [k for k in keys if k not in shared]
    shared_rows = [(k, _value(cfgs[0].get(k))) for k in shared]
    diff_rows = [[str(r.get("label", "")), *[_value(c.get(k)) for k in differ]]
                 for r, c in zip(runs, cfgs, strict=True)] if differ else []
    return shared_rows, (["run", *differ] if differ else []), diff_rows


def pairs_table(pairs: list[tuple[str, str]], per_row: int = 3) -> tuple[list[str], list[list]]:
    """(option, value) pairs laid out `per_row` to a row: header and rows."""
    per_row = max(1, min(per_row, len(pairs)))
    header = ["option", "value"] * per_row
    rows = []
    for i in range(0, len(pairs), per_row):
        chunk = [c for pair in pairs[i:i + per_row] for c in pair]
        rows.append(chunk + [""] * (2 * per_row - len(chunk)))
    return header, rows


def meta_line(report: dict) -> str:
    dev = report.get("device") or {}
    where = f" on {dev.get('device') or dev.get('platform')}" if dev else ""
    jax = f" (jax {dev['jax']})" if dev.get("jax") else ""
    return (f"Created {report.get('created', '?')} by gradscope {report.get('version', '?')}"
            f"{where}{jax}.")


def title(report: dict) -> str:
    return f"gradscope report — {report.get('command', '?')}"
