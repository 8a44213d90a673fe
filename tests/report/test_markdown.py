import math

from gradscope.report import render_markdown

from .conftest import ODD_LABEL, linear_rnn_run, make_report

PLOTS = ["plots/jacobian_norm.png", "plots/local_norm.png", "plots/spectrum.png"]


def _summary_rows(md: str) -> list[list[str]]:
    section = md.split("## Summary", 1)[1].split("\n\n", 2)[1]
    rows = [line.strip("|").split(" | ") for line in section.splitlines()]
    return [[c.strip() for c in r] for r in rows[2:]]  # skip header and ---


def test_title_meta_labels_regimes_and_figures(report):
    md = render_markdown(report, PLOTS)
    assert md.startswith("# gradscope report — compare\n")
    assert "2026-11-22T10:00:00Z" in md and "0.1.0" in md
    for run in report["runs"]:
        assert run["label"] in md
    for regime in ("vanishing", "exploding"):
        assert regime in md
    for path in PLOTS:
        assert f"]({path})" in md
    assert "dlfs2" not in md


def test_summary_table_values(report):
    rows = _summary_rows(render_markdown(report, []))
    assert len(rows) == len(report["runs"])
    label, regime, gain, factor, horizon, p0, rho, smax, nonfinite, lyapunov = rows[0]
    assert label == ODD_LABEL
    assert regime == "vanishing"
    assert float(gain) == round(math.log10(0.5), 4)
    assert factor == "0.5"                     # 10 ** log10(0.5)
    assert horizon == "10"                     # 0.5^10 < 1e-3 < 0.5^9
    assert float(p0) == round(20 * math.log10(0.5), 2)
    assert (rho, smax, nonfinite) == ("0.500", "0.500", "–")
    assert rows[1][1:5] == ["exploding", "+0.0969", "1.25", "never"]
    assert rows[3][-2] == "9"                  # first non-finite step of the GRU


def test_paragraphs_explain_in_words(report):
    md = render_markdown(report, [])
    assert "multiplies ‖∂s_T/∂s_t‖ by 0.5 on average (log10 −0.3010): gradients vanish" in md
    assert "After 10 steps back the norm is below 1e-3." in md
    assert "by 1.25 on average" in md and "gradients explode" in md
    assert "σ_max(W_hh) = 0.500 is below 1" in md
    assert "σ_max(W_hh) = 1.250 is above 1" in md
    assert "non-finite (overflow) at step 9" in md
    assert "forget gates" in md                 # the LSTM cell path
    assert "shaded band" in md                  # the run with series_std


def test_tanh_rnn_mentions_the_bound():
    run = linear_rnn_run(0.9, 10, 2, "rnn · tanh")
    run["config"]["activation"] = "tanh"
    md = render_markdown(make_report([run]), [])
    assert "max|tanh'(z_t)|·σ_max(W_hh)" in md


def test_a_concept_is_explained_once_and_runs_say_only_their_numbers():
    runs = []
    for a in (0.5, 0.8, 0.9, 1.1):
        run = linear_rnn_run(a, 10, 2, f"rnn · scale {a:g}")
        run["config"]["activation"] = "tanh"
        runs.append(run)
    md = render_markdown(make_report(runs), [])
    assert md.count("The textbook condition (the seeds')") == 1
    assert md.count("max|tanh'(z_t)|·σ_max(W_hh) ≤ σ_max(W_hh)") == 1
    concepts = md.index("## How to read the numbers")
    assert concepts < md.index("## Runs")
    runs_part = md.split("## Runs", 1)[1].split("## Configuration", 1)[0]
    assert runs_part.count("predicts vanishing gradients") == 3    # its own σ_max each
    assert "σ_max(W_hh) = 1.100 is above 1" in runs_part


def test_config_is_compact(report):
    md = render_markdown(report, [])
    config = md.split("## Configuration", 1)[1]
    assert "| run | arch |" in config            # options that differ, one row per run
    assert "| input_size | 2 |" in config        # shared ones as option | value pairs


def test_pipes_in_labels_are_escaped():
    md = render_markdown(make_report([linear_rnn_run(0.5, 5, 2, "a|b")]), [])
    assert "a\\|b" in md


def test_dlfs2_numbers(dlfs2_report):
    md = render_markdown(dlfs2_report, ["plots/dlfs2.png"])
    assert "2.4684 after 1 backward step and 249.5 after 20 steps" in md
    assert "](plots/dlfs2.png)" in md


def test_a_run_that_overflowed_early_reads_well():
    run = linear_rnn_run(8.0, 10, 2, "rnn · relu · scale 8")
    jac = [None] * 10 + [0.0]
    run["series"].update(log10_jacobian_norm=jac, log10_loss_grad_norm=jac,
                         log10_seed_bound=jac, log10_activation_deriv_product=jac)
    run["summary"].update(log10_gain_per_step=None, regime=None, memory_horizon=1,
                          first_nonfinite_step=4)
    md = render_markdown(make_report([run]), [])
    paragraph = md.split("### rnn · relu · scale 8", 1)[1].split("##", 1)[0]
    assert "non-finite (overflow) at step 4" in paragraph
    assert "None" not in md and "below 1e-3" not in paragraph  # no horizon from NaNs
    assert "| – | – | – | 1 |" in md  # regime, gain, factor unknown


def test_summary_has_the_largest_lyapunov_exponent_where_a_run_has_them(report):
    rows = _summary_rows(render_markdown(report, []))
    assert [r[-1] for r in rows] == ["–", "–", "-0.1000", "–"]
    assert "| largest Lyapunov exponent |" in render_markdown(report, [])
