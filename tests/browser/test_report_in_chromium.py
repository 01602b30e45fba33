"""`ganghwa report`'s HTML opened in a real browser: headless Chromium (Debian's chromium and
chromium-driver, driven by Selenium), offline, for a DQN run, a tabular run, a GA run and a
sweep, and the HTML export of an executed course notebook (Korean chapter 1). The page draws
something, every image decodes, the video has a playable source with a duration, and the
Korean text has a font with Hangul glyphs.

`make test-browser` installs the browser and the fonts (as root, with apt) and runs this file;
CI runs it after `make test`. Without the browser, these tests skip and say so. Screenshots go
to $GANGHWA_SCREENSHOTS when it is set, for a person to look at.
"""

from __future__ import annotations

import importlib.util
import io
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.browser

CHROMIUM, DRIVER = shutil.which("chromium"), shutil.which("chromedriver")
if not (CHROMIUM and DRIVER) and os.environ.get("GANGHWA_REQUIRE_BROWSER"):
    raise RuntimeError("make test-browser found no chromium or chromedriver after installing")
if not (CHROMIUM and DRIVER):
    pytest.skip("needs Debian's chromium and chromium-driver: `make test-browser` installs "
                "them and runs these tests", allow_module_level=True)
webdriver = pytest.importorskip("selenium.webdriver", reason="needs selenium (the dev extra)")
pytest.importorskip("rliable")  # the sweep report's IQM

GANGHWA = str(Path(sys.executable).parent / "ganghwa")
ENV = {**os.environ, "SDL_VIDEODRIVER": "dummy"}
HANGUL_FONTS = ("Noto Sans CJK KR", "NanumGothic")


def ganghwa(*args: str, cwd: Path) -> None:
    result = subprocess.run([GANGHWA, *args], cwd=cwd, capture_output=True, text=True,
                            timeout=600, env=ENV)
    assert result.returncode == 0, result.stderr


@pytest.fixture(scope="module")
def reports(tmp_path_factory) -> dict[str, Path]:
    """Four reports: DQN on CartPole, Q-learning on FrozenLake, the GA, and a 2-seed sweep."""
    root = tmp_path_factory.mktemp("reports")
    quick = ["--no-progress", "--set", "final_eval_episodes=2", "eval_episodes=1"]
    trainings = {
        "dqn": ["dqn", "CartPole-v1", "--steps", "3000", *quick],
        "tabular": ["q_learning", "FrozenLake-v1", "--steps", "5000", *quick],
        "ga": ["ga", "CartPole-v1", "--no-progress", "--set", "generations=2", "population=6",
               "final_eval_episodes=2"],
    }
    found = {}
    for name, args in trainings.items():
        ganghwa("train", *args, "--out", f"runs-{name}", cwd=root)
        (run,) = (root / f"runs-{name}").iterdir()
        ganghwa("report", str(run), "--lang", "ko", "--out", f"{name}.html", cwd=root)
        found[name] = root / f"{name}.html"
    ganghwa("sweep", "q_learning", "FrozenLake-v1", "--seeds", "0-1", "--steps", "5000",
            "--variant", "a:alpha=0.1", "--variant", "b:alpha=0.5", "--name", "s", cwd=root)
    ganghwa("report", "experiments/s", "--lang", "ko", "--out", "sweep.html", cwd=root)
    found["sweep"] = root / "sweep.html"
    # chapter 1 in Korean, executed at the quick budget and exported by nbconvert
    notebook = Path(__file__).resolve().parents[2] / "notebooks" / "ko" / \
        "01_dynamic_programming.ipynb"
    if importlib.util.find_spec("nbclient") and importlib.util.find_spec("nbconvert"):
        executed = subprocess.run([sys.executable, str(notebook.parents[1] / "run.py"),
                                   "--quick", "--out", str(root / "nb"), str(notebook)],
                                  capture_output=True, text=True, timeout=600, env=ENV)
        assert executed.returncode == 0, executed.stderr[-3000:]
        found["notebook"] = root / "nb" / "ko" / "01_dynamic_programming.html"
    return found


@pytest.fixture(scope="module")
def browser():
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                 "--window-size=1200,900", "--autoplay-policy=no-user-gesture-required"):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(DRIVER), options=options)
    yield driver
    driver.quit()


def wait_for(driver, script: str, seconds: float = 20) -> object:
    """The first truthy value the script returns, polled; fails after `seconds`."""
    deadline = time.monotonic() + seconds
    while True:
        value = driver.execute_script(script)
        if value or time.monotonic() > deadline:
            return value
        time.sleep(0.1)


def platform_fonts(driver, selector: str) -> dict[str, int]:
    """{font family: glyphs drawn} for the text of the first element matching `selector`."""
    driver.execute_cdp_cmd("DOM.enable", {})
    driver.execute_cdp_cmd("CSS.enable", {})
    root = driver.execute_cdp_cmd("DOM.getDocument", {})["root"]["nodeId"]
    node = driver.execute_cdp_cmd("DOM.querySelector", {"nodeId": root, "selector": selector})
    used = driver.execute_cdp_cmd("CSS.getPlatformFontsForNode", {"nodeId": node["nodeId"]})
    return {f["familyName"]: int(f["glyphCount"]) for f in used["fonts"]}


@pytest.mark.parametrize("name", ["dqn", "tabular", "ga", "sweep", "notebook"])
def test_report_renders_with_images_video_and_hangul(browser, reports, name):
    from PIL import Image

    if name not in reports:
        pytest.skip("the notebook export needs nbclient and nbconvert (the dev extra)")
    browser.get(reports[name].as_uri())
    assert wait_for(browser, "return document.readyState === 'complete'")
    # every image decodes
    images = browser.execute_script(
        "return Array.from(document.images).map(i => [i.alt, i.complete, i.naturalWidth])")
    assert images and all(done and width > 0 for _, done, width in images), images
    # the video: a data source the browser can play, with a duration
    duration = wait_for(browser, """
        const v = document.querySelector('video');
        return v && v.readyState >= 1 && isFinite(v.duration) && v.duration > 0
            ? [v.currentSrc.slice(0, 22), v.duration] : null;""")
    assert duration, "no video with a duration"
    assert duration[0] == "data:video/mp4;base64,"
    # Hangul drawn in a font that has its glyphs: the fonts Chromium itself used for the
    # Korean heading (DevTools' CSS.getPlatformFontsForNode), not the page's wish list
    assert browser.execute_script("return document.documentElement.lang") == "ko"
    fonts = platform_fonts(browser, "h1")
    assert any(any(h in f for h in HANGUL_FONTS) and n > 0 for f, n in fonts.items()), fonts
    # the page draws something: the screenshot is not one flat colour
    shot = browser.get_screenshot_as_png()
    pixels = Image.open(io.BytesIO(shot)).convert("L")
    low, high = pixels.getextrema()
    assert high - low > 100, "the page rendered blank"
    folder = os.environ.get("GANGHWA_SCREENSHOTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        height = browser.execute_script("return document.documentElement.scrollHeight")
        browser.set_window_size(1200, min(int(height), 12_000))  # the whole page
        (Path(folder) / f"{name}.png").write_bytes(browser.get_screenshot_as_png())
        browser.set_window_size(1200, 900)
