from rich.console import Console

from gradscope.report import print_summary, summary_table
from gradscope.report.text import ranked

from .conftest import linear_rnn_run, make_report


def test_print_summary(report):
    console = Console(record=True, width=120)
    print_summary(report, console, "runs/x")
    text = console.export_text()
    for run in report["runs"]:
        assert run["label"] in text
    assert "vanishing" in text and "exploding" in text
    assert "-0.3010" in text and "+0.0969" in text
    assert "NaN at: first non-finite step" in text   # the GRU's column, explained
    assert text.rstrip().endswith("report: runs/x/report.md")
    assert "…" not in text


def test_no_report_line_without_a_folder(report):
    console = Console(record=True, width=120)
    print_summary(report, console, None)
    assert "report:" not in console.export_text()


def test_regime_colours(report):
    table = summary_table(report)
    styles = [str(c.style) for c in table.columns[1]._cells]
    colour = {"vanishing": "blue", "exploding": "red", "stable": "green"}
    assert styles == [colour[r["summary"]["regime"]] for r in ranked(report["runs"])]
    assert sorted(styles) == ["blue", "blue", "red", "red"]
    stable = linear_rnn_run(1.0, 5, 2, "rnn · stable")
    assert str(summary_table(make_report([stable])).columns[1]._cells[0].style) == "green"


def test_rows_are_ranked_by_memory_horizon(report):
    rows = ranked(report["runs"])
    key = [(r["summary"]["first_nonfinite_step"] is not None, r["summary"]["memory_horizon"])
           for r in rows]
    finite = [h for bad, h in key if not bad]
    nevers = [h for h in finite if h is None]
    assert finite[: len(nevers)] == nevers  # "never below 1e-3" first
    rest = finite[len(nevers):]
    assert rest == sorted(rest, reverse=True)
    assert [bad for bad, _ in key] == sorted(bad for bad, _ in key)  # non-finite runs last


def test_numbers_are_never_cut_at_80_columns(report):
    console = Console(record=True, width=80)
    console.print(summary_table(report))
    text = console.export_text()
    assert "…" not in text
    for cell in ("-0.3010", "+0.0969", "1.25", "never", "-6.02", "2.550"):
        assert cell in text


def test_a_share_never_rounds_a_small_one_to_zero_or_a_large_one_to_all():
    from gradscope.report.text import share

    assert [share(x) for x in (0, 0.005, 0.0002, 0.37, 0.995, 1, None)] == \
        ["0%", "0.5%", "0.02%", "37%", "99.5%", "100%", "–"]


def _scaled_runs():
    """A tanh RNN and an LSTM at two scales: what the main job compares."""
    runs = []
    for arch, gains in (("rnn", (0.5, 0.8)), ("lstm", (0.7, 0.9))):
        for scale, a in zip((0.5, 1.0), gains, strict=True):
            run = linear_rnn_run(a, 30, 2, f"{arch} · gaussian · scale {scale:g}")
            run["config"].update(arch=arch, activation="tanh", init="gaussian", scale=scale)
            runs.append(run)
    return runs


def test_labels_drop_what_every_run_shares_and_the_answer_follows_the_table():
    console = Console(record=True, width=80)
    print_summary(make_report(_scaled_runs()), console, "runs/x")
    text = console.export_text()
    assert "gaussian" not in text                 # shared by every run: said nowhere
    assert "lstm · scale 1" in text
    table, answer = text.split("Which keeps the gradient alive?")
    assert "horizon" in table and "scale 0.5" in answer and "scale 1" in answer
    # the grid of horizons: 0.9^t < 1e-3 from t = 66, 0.8^t from 31 (never within T = 30)
    assert "lstm " in answer and "≥ 30" in answer
    assert answer.rstrip().endswith("report: runs/x/report.md")
    assert max(map(len, table.splitlines())) <= 80


def test_lyapunov_exponents_get_a_column_where_a_run_has_them(report):
    console = Console(record=True, width=100)
    console.print(summary_table(report))
    text = console.export_text()
    assert "λ_1" in text and "-0.1000" in text      # the LSTM's exponents are [-0.1, -0.3]
    assert "largest Lyapunov exponent" in text
    plain = make_report([linear_rnn_run(0.5, 5, 2, "rnn")])
    console = Console(record=True, width=100)
    console.print(summary_table(plain))
    assert "λ_1" not in console.export_text()
