"""Open the local dashboard page in headless Chromium (Debian's `chromium` package) and check
that every panel was laid out with a visible chart or table; keep a PNG screenshot under
test-artifacts/ for people to look at."""
from __future__ import annotations

import json
import os
import re
import shutil
import struct
import subprocess
import zlib
from pathlib import Path

import pytest

from workflows.dashboards import load_spec, render_dashboard

pytestmark = pytest.mark.browser

REPO = Path(__file__).resolve().parents[3]
ARTIFACTS = REPO / "test-artifacts"
WIDTH = 1400

FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--hide-scrollbars", "--disable-dev-shm-usage",
]

# Appended to a copy of the page only: measures what Chromium laid out for each panel and
# writes it into the DOM, which --dump-dom then prints.
MEASURE = """<script>
addEventListener('load', function () {
  var out = [];
  document.querySelectorAll('[data-panel-id]').forEach(function (panel) {
    var body = panel.querySelector('svg, table, .stats');
    var box = body ? body.getBoundingClientRect() : {width: 0, height: 0};
    var marks = body ? body.querySelectorAll('rect, polyline, circle, td, .stat').length : 0;
    var title = panel.querySelector('h3');
    out.push({id: panel.getAttribute('data-panel-id'), kind: body ? body.tagName.toLowerCase() : null,
              width: box.width, height: box.height, marks: marks,
              title: title ? title.textContent : ''});
  });
  var pre = document.createElement('pre');
  pre.id = 'measured';
  pre.textContent = JSON.stringify({panels: out, height: document.documentElement.scrollHeight});
  document.body.appendChild(pre);
});
</script>"""


def _chromium() -> str:
    """The chromium binary; installed from Debian's packages when missing and we are root
    (CI runs on a fresh machine)."""
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found:
        return found
    can_install = hasattr(os, "geteuid") and os.geteuid() == 0 and shutil.which("apt-get")
    if can_install:
        env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
        for cmd in (["apt-get", "update", "-qq"], ["apt-get", "install", "-y", "-qq", "chromium"]):
            done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=900)
            if done.returncode != 0:
                pytest.fail(f"{' '.join(cmd)} failed ({done.returncode}): {done.stderr[-2000:]}")
        found = shutil.which("chromium")
    if found:
        return found
    message = "Debian's chromium is not installed and cannot be installed here (needs root and apt-get)"
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)


def _run(binary: str, profile: Path, args: list[str]) -> subprocess.CompletedProcess:
    cmd = [binary, *FLAGS, f"--user-data-dir={profile}", *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=180)


def _png_facts(path: Path) -> tuple[int, int, int]:
    """Width, height and the number of distinct byte values in the image data (a blank
    page has a handful)."""
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", f"{path} is not a PNG"
    width, height = struct.unpack(">II", data[16:24])
    idat = b""
    pos = 8
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        if kind == b"IDAT":
            idat += data[pos + 8:pos + 8 + length]
        pos += 12 + length
    return width, height, len(set(zlib.decompress(idat)))


@pytest.fixture(scope="module")
def page(demo_engine, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("dashboard") / "index.html"
    return render_dashboard(demo_engine, out)


def test_every_panel_renders_in_chromium_and_a_screenshot_is_kept(page, tmp_path):
    binary = _chromium()
    probe = page.with_name("measure.html")
    probe.write_text(page.read_text(encoding="utf-8").replace("</body>", MEASURE + "</body>"), encoding="utf-8")

    dumped = _run(binary, tmp_path / "profile-dom", [
        f"--window-size={WIDTH},1000", "--virtual-time-budget=5000", "--dump-dom", probe.as_uri()])
    assert dumped.returncode == 0, dumped.stderr[-2000:]
    match = re.search(r'<pre id="measured">(.*?)</pre>', dumped.stdout, re.S)
    assert match, "the page did not finish loading in Chromium:\n" + dumped.stderr[-2000:]
    measured = json.loads(match.group(1).replace("&quot;", '"').replace("&amp;", "&"))

    spec = load_spec()
    seen = {p["id"]: p for p in measured["panels"]}
    assert sorted(seen) == sorted(p.id for p in spec.panels)
    for panel in spec.panels:
        got = seen[panel.id]
        assert got["title"] == panel.title, panel.id
        assert got["kind"] in ("svg", "table", "div"), f"{panel.id}: no chart or table rendered"
        assert got["width"] > 150 and got["height"] > 40, f"{panel.id} rendered too small: {got}"
        assert got["marks"] > 0, f"{panel.id}: the chart or table is empty"

    ARTIFACTS.mkdir(exist_ok=True)
    shot = ARTIFACTS / "dashboard.png"
    shot.unlink(missing_ok=True)
    height = int(measured["height"]) + 20
    taken = _run(binary, tmp_path / "profile-shot", [
        f"--window-size={WIDTH},{height}", "--virtual-time-budget=5000", f"--screenshot={shot}", page.as_uri()])
    assert taken.returncode == 0 and shot.is_file(), taken.stderr[-2000:]
    width, png_height, variety = _png_facts(shot)
    assert (width, png_height) == (WIDTH, height)
    assert variety > 64, "the screenshot looks blank"
