"""The HTML report rendered by a real headless browser (Debian's chromium): not blank, with its tables
and figures. A marked tier (``pytest -m browser``); install the browser with ``apt-get install chromium``."""

import shutil
import subprocess

import numpy as np
import pytest

import multilevel as ml

from ..conftest import quick

pytestmark = pytest.mark.browser

BROWSER = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync", "--hide-scrollbars"]


@pytest.mark.skipif(BROWSER is None, reason="no chromium: apt-get install chromium")
def test_report_renders_with_tables_and_figures(tmp_path):
    from matplotlib.image import imread

    fit = ml.fit("Reaction ~ Days + (Days | Subject)", ml.datasets.load("sleepstudy"), **quick())
    report = tmp_path / "report.html"
    fit.report(report)
    profile = ["--user-data-dir=" + str(tmp_path / "profile")]
    dom = subprocess.run([BROWSER, *FLAGS, *profile, "--dump-dom", report.as_uri()], capture_output=True, text=True,
                         timeout=120).stdout
    assert dom.count("<table>") >= 8 and dom.count('<img alt="') == 7 and "Fixed effects" in dom
    screenshot = tmp_path / "report.png"
    subprocess.run([BROWSER, *FLAGS, *profile, f"--screenshot={screenshot}", "--window-size=1200,2400",
                    report.as_uri()], capture_output=True, timeout=120, check=True)
    pixels = imread(screenshot)[..., :3]
    assert pixels.shape[0] >= 2000 and pixels.shape[1] >= 1100
    ink = (pixels.mean(axis=-1) < 0.85).mean()  # share of pixels that are not (near) white
    assert ink > 0.03, ink
    assert np.std(pixels) > 0.05
