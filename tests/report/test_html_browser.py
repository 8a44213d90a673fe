"""report.html in a real headless browser: it renders, at a phone's width, to a page that is
not blank and whose figures are visible. Skipped when no Chromium/Chrome is installed
(`.ci/run` installs Debian's chromium where it can)."""

from __future__ import annotations

import os
import shutil
import subprocess

import numpy as np
import pytest

from gradscope.report.folder import write_report_folder

BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--hide-scrollbars")


def _browser() -> str | None:
    if os.environ.get("GRADSCOPE_BROWSER"):
        return os.environ["GRADSCOPE_BROWSER"]
    return next((p for p in map(shutil.which, BROWSERS) if p), None)


def _screenshot(page, png, width: int, height: int, profile) -> np.ndarray:
    import matplotlib.image as mpimg

    browser = _browser()
    if browser is None:
        pytest.skip("no headless Chromium/Chrome installed (apt-get install chromium)")
    cmd = [browser, *FLAGS, f"--user-data-dir={profile}", f"--window-size={width},{height}",
           f"--screenshot={png}", page.as_uri()]
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    assert png.is_file(), f"browser wrote no screenshot: {r.stderr[-500:]}"
    return mpimg.imread(png)[..., :3]


@pytest.fixture(scope="module")
def folder(tmp_path_factory, shared_report):
    out = tmp_path_factory.mktemp("browser")
    write_report_folder(out, shared_report, plots=True)
    return out


@pytest.mark.parametrize("width", [390, 1280])
def test_report_html_renders_in_a_browser(folder, tmp_path, width):
    # Everything is inlined, so the page is moved away from its plots/ folder first: what
    # renders must come from report.html alone.
    page = tmp_path / "alone" / "report.html"
    page.parent.mkdir()
    shutil.copy(folder / "report.html", page)
    height = 4000
    img = _screenshot(page, tmp_path / "shot.png", width, height, tmp_path / "profile")
    assert img.shape[:2] == (height, width)
    ink = img.mean(axis=-1) < 0.9  # anything darker than near-white: text, lines, figures
    assert ink.mean() > 0.02, "the page rendered (almost) blank"
    # Figures are colourful (the run colours); text and tables are grey: colour proves the
    # inlined PNGs were decoded and drawn.
    colourful = (img.max(axis=-1) - img.min(axis=-1)) > 0.25
    assert colourful.sum() > 2000, "no figure is visible"
    # The content flows down the page (figures scale to the width instead of running off it),
    # so ink is spread over a good part of a 4000-pixel-high window.
    assert ink.any(axis=1).sum() > height * 0.3
