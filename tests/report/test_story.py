"""The answer a report opens with, on runs whose every number is known in closed form: a
run with factor a per step has ‖P_t‖ = a^(T−t), so its memory horizon is the first k with
a^k < 1e-3."""

import math

from gradscope.report import render_html, render_markdown
from gradscope.report.story import answer

from .conftest import linear_rnn_run, make_report

T = 120


def _horizon(a: float) -> int:
    return next(k for k in range(1, T + 1) if k * math.log10(a) < -3)


def _run(arch: str, scale: float, a: float, *, forget_bias: float = 0.0, cell: float = 0.5,
         sigma: float = 1.0) -> dict:
    """A run of `arch` whose gradient keeps a per step; an LSTM's cell path keeps `cell`."""
    label = f"{arch} · gaussian · scale {scale:g}"
    if arch == "lstm":
        label += f" · forget bias {forget_bias:g}"
    run = linear_rnn_run(a, T, 4, label)
    run["config"].update(arch=arch, activation="tanh", init="gaussian", scale=scale,
                         forget_bias=forget_bias)
    run["spectrum"]["singular_values"] = [sigma, sigma / 2]
    run["series"]["saturation_fraction"] = [0.2] * T
    run["series"]["log10_local_norm"] = [math.log10(1.4)] * T
    if arch == "lstm":
        run["series"]["log10_cell_path_norm"] = [(T - t) * math.log10(cell)
                                                 for t in range(T + 1)]
    if arch != "rnn":
        run["series"]["log10_seed_bound"] = None
    return run


# factor per step of each (row, scale): the tanh RNN swings the most with the scale
FACTORS = {("rnn", 0.0): (0.4, 0.7, 0.93), ("lstm", 0.0): (0.6, 0.72, 0.75),
           ("lstm", 1.0): (0.8, 0.88, 0.9), ("gru", 0.0): (0.6, 0.73, 0.8)}
SCALES = (0.5, 1.0, 1.5)


def _main_job() -> dict:
    runs = []
    for (arch, fb), factors in FACTORS.items():
        for scale, a in zip(SCALES, factors, strict=True):
            runs.append(_run(arch, scale, a, forget_bias=fb, cell=0.9 if fb else 0.6,
                             sigma=1.9 * scale))
    return make_report(runs)


def test_the_answer_names_the_winner_at_scale_1_and_the_option_that_made_it():
    a = answer(_main_job())
    first, difference, why_lstm, why_rnn, across, longest = a.sentences
    h = {k: _horizon(f[1]) for k, f in FACTORS.items()}
    assert first == (f"At scale 1, lstm · forget bias 1 keeps the gradient alive longest: "
                     f"‖∂s_T/∂s_t‖ stays above 1e-3 for {h['lstm', 1.0]} steps back, "
                     f"{h['lstm', 1.0] / h['rnn', 0.0]:.1f}× the tanh RNN's {h['rnn', 0.0]}.")
    assert h["lstm", 1.0] >= 2 * h["rnn", 0.0]
    assert difference.startswith("What made the difference: the forget bias. With forget "
                                 f"bias 0 instead, the same LSTM keeps it {h['lstm', 0.0]} steps")
    assert "×0.90 per step in lstm · forget bias 1, ×0.60 per step in lstm · forget bias 0" \
        in why_lstm
    # σ_max 1.9 > 1: the bound allows growth; the measured factor and the stretch ‖J_t‖ = 1.4
    assert why_rnn.startswith("The tanh RNN has σ_max(W_hh) = 1.90 > 1")
    assert "yet its gradient vanishes at ×0.70 per step" in why_rnn
    assert "(20% of units saturated on average)" in why_rnn and "(×1.40, ‖J_t‖)" in why_rnn
    rnn_h = [_horizon(f) for f in FACTORS["rnn", 0.0]]
    assert across == (f"Across scales the tanh RNN's horizon swings most: {rnn_h[0]} → "
                      f"{rnn_h[2]} steps from scale 0.5 to 1.5, as σ_max(W_hh) goes from "
                      f"0.95 to 2.85.")
    assert longest == f"The longest horizon of all: rnn at scale 1.5, {rnn_h[2]} steps."
    assert a.grid_header == ["run", "scale 0.5", "scale 1", "scale 1.5"]
    assert a.grid_rows == [[row if fb == 0 and arch != "lstm" else f"{arch} · forget bias {fb:g}",
                            *(str(_horizon(f)) for f in factors)]
                           for (arch, fb), factors in FACTORS.items()
                           for row in [arch]]


def test_the_answer_opens_the_markdown_and_html_with_the_main_figure(tmp_path):
    report = _main_job()
    md = render_markdown(report, ["plots/local_norm.png", "plots/jacobian_norm.png"])
    q = md.index("## Which keeps the gradient alive?")
    assert q < md.index("](plots/jacobian_norm.png)") < md.index("## Summary") \
        < md.index("## Runs") < md.index("## Figures") < md.index("](plots/local_norm.png)")
    plots = tmp_path / "plots"
    plots.mkdir()
    for name in ("jacobian_norm", "local_norm"):
        (plots / f"{name}.png").write_bytes(b"\x89PNG")
    html = render_html(report, plots)
    assert html.index("Which keeps the gradient alive?") < html.index('alt="jacobian norm"') \
        < html.index("<h2>Summary</h2>") < html.index('alt="local norm"')


def test_no_answer_for_one_run_or_a_spectrum():
    one = make_report([_run("rnn", 1.0, 0.5)])
    assert answer(one) is None
    assert "Which keeps" not in render_markdown(one, [])
    assert answer(make_report([_run("rnn", 1.0, 0.5), _run("gru", 1.0, 0.6)],
                              command="spectrum")) is None


def test_without_a_scale_to_compare_there_is_no_grid_and_no_scale_in_the_words():
    report = make_report([_run("rnn", 1.0, 0.5), _run("gru", 1.0, 0.8)])
    a = answer(report)
    assert a.grid_rows == []
    assert a.sentences[0].startswith("gru keeps the gradient alive longest")
    assert "What made the difference: the architecture. With rnn instead, the same settings " \
           "keep it" in a.sentences[1]


def test_the_rnn_sentence_follows_sigma_max_and_the_measured_regime():
    below = make_report([_run("rnn", 1.0, 0.5, sigma=0.8), _run("gru", 1.0, 0.9)])
    why = next(s for s in answer(below).sentences if s.startswith("The tanh RNN"))
    assert why.startswith("The tanh RNN has σ_max(W_hh) = 0.80 < 1: the seeds' bound")
    assert "guarantees that its gradient vanishes (measured: ×0.50 per step" in why
    up = _run("rnn", 1.0, 1.2, sigma=2.0)
    up["summary"]["regime"] = "exploding"
    why = next(s for s in answer(make_report([up, _run("gru", 1.0, 0.9)])).sentences
               if s.startswith("The tanh RNN"))
    assert "and its gradient is exploding (measured: ×1.20 per step" in why


def test_an_exploding_winner_is_not_called_alive():
    up = _run("rnn", 1.0, 1.2, sigma=2.0)
    up["summary"]["regime"] = "exploding"
    first = answer(make_report([up, _run("gru", 1.0, 0.9)])).sentences[0]
    assert first == (f"rnn never lets the gradient fade, but it explodes: ×1.20 per step back, "
                     f"‖∂s_T/∂s_0‖ = 10^{T * math.log10(1.2):.1f}.")
