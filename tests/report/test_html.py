import base64
import re

from gradscope.report import render_html

from .conftest import ODD_LABEL


def test_self_contained_with_inlined_pngs(shared_report, written_plots):
    plots_dir, pngs = written_plots
    html = render_html(shared_report, plots_dir)
    images = re.findall(r'src="data:image/png;base64,([A-Za-z0-9+/=]+)"', html)
    assert len(images) == len(pngs)
    assert base64.b64decode(images[0]) == (plots_dir / "jacobian_norm.png").read_bytes()
    srcs = re.findall(r'(?:src|href)="([^"]*)"', html)
    assert srcs and all(s.startswith("data:") for s in srcs)
    assert "http://" not in html and "https://" not in html
    assert "<link" not in html and "<script" not in html


def test_mobile_friendly(shared_report, tmp_path):
    html = render_html(shared_report, tmp_path / "missing")
    assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in html
    assert "img{max-width:100%" in html
    assert ".scroll{overflow-x:auto" in html
    assert html.count('<div class="scroll"><table') >= 2
    # on a phone the summary becomes one card per run, each value under its column's name
    assert '<table class="cards">' in html and "@media (max-width:40rem)" in html
    assert '<td data-label="memory horizon">10</td>' in html
    assert "data:image" not in html  # no plots folder: no figures, no error


def test_text_is_escaped(shared_report, tmp_path):
    html = render_html(shared_report, tmp_path)
    assert "rnn &lt;linear&gt; &amp; a=0.5, &quot;half&quot;" in html
    assert ODD_LABEL not in html and "<linear>" not in html


def test_same_content_as_markdown(shared_report, tmp_path):
    html = render_html(shared_report, tmp_path)
    assert "<title>gradscope report — compare</title>" in html
    assert '<td class="vanishing" data-label="regime">vanishing</td>' in html
    assert '<td class="exploding" data-label="regime">exploding</td>' in html
    assert "by 0.5 on average" in html and "After 10 steps back" in html
    assert "<td data-label=\"× per step\">0.5</td>" in html  # the factor per step
