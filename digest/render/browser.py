"""Looking at an email in headless Chromium: a screenshot, and where things landed.

Used by `bench/screenshots.py` (the README's pictures) and by the layout tests. The
email is shown in a frame of the wanted width (Chromium's window cannot be narrower
than 500 px) with no script of its own, as mail clients show it; for measuring, the
page around it records the frame's document width and the boxes of the lead picture
and headline.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

import lxml.html
from markupsafe import escape

from digest.errors import RenderError

#: Chromium's own flags for a quiet, offline, throwaway run.
_FLAGS = (
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--hide-scrollbars", "--force-device-scale-factor=1",
)  # fmt: skip

#: Chromium's narrowest window; narrower emails are shown in a frame of their width.
_MIN_WINDOW = 500

_PROBE = """<script>
var frame = document.getElementById("email");
frame.addEventListener("load", function () {
  var doc = frame.contentDocument, win = frame.contentWindow;
  function box(selector) {
    var element = doc.querySelector(selector);
    if (!element) return null;
    var r = element.getBoundingClientRect();
    return {top: r.top, bottom: r.bottom, left: r.left, right: r.right, width: r.width,
            height: r.height};
  }
  var root = doc.documentElement;
  var result = {viewport: win.innerWidth, viewportHeight: win.innerHeight,
                scrollWidth: Math.max(root.scrollWidth, doc.body.scrollWidth),
                height: Math.max(root.scrollHeight, doc.body.scrollHeight),
                image: box(".lead-image"), headline: box(".lead-headline")};
  document.body.setAttribute("data-layout", JSON.stringify(result));
});
</script>"""


def _harness(html: str, width: int, height: int, *, probe: bool) -> str:
    """The email in a frame of exactly `width` x `height` CSS pixels (srcdoc: same origin,
    so the probe can read it; the frame runs no script of its own)."""
    sandbox = "" if probe else ' sandbox="allow-same-origin"'
    return (
        '<!DOCTYPE html><html><head><meta charset="utf-8"></head>'
        '<body style="margin:0;background:#d8d8d4">'
        f'<iframe id="email"{sandbox} width="{width}" height="{height}" '
        'style="border:0;display:block;margin:0 auto;background:#fff" '
        f'srcdoc="{escape(html)}"></iframe>'
        f"{_PROBE if probe else ''}</body></html>"
    )


@dataclass(frozen=True)
class Layout:
    """Measured in CSS pixels at one window size."""

    viewport: int
    viewport_height: int
    scroll_width: int
    height: int
    image: dict[str, float] | None
    headline: dict[str, float] | None

    @property
    def scrolls_sideways(self) -> bool:
        return self.scroll_width > self.viewport


def chromium() -> str:
    """The Chromium executable; RenderError when none is installed."""
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None:
        raise RenderError(
            "headless Chromium is needed for this", hint="install the Debian package chromium"
        )
    return found


def _run(arguments: list[str], profile: Path) -> str:
    command = [chromium(), *_FLAGS, f"--user-data-dir={profile}", *arguments]
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=120)
    except subprocess.TimeoutExpired as e:
        raise RenderError("Chromium did not finish within 120 s") from e
    if done.returncode != 0:
        raise RenderError(f"Chromium failed: {done.stderr.strip()[-300:]}")
    return done.stdout


def measure(html: str, width: int, height: int = 800) -> Layout:
    """Open the email in a `width` x `height` viewport and measure it (see `Layout`)."""
    with tempfile.TemporaryDirectory(prefix="digest-chromium-") as folder:
        page = Path(folder) / "page.html"
        page.write_text(_harness(html, width, height, probe=True), encoding="utf-8")
        dom = _run(
            [f"--window-size={max(width, _MIN_WINDOW)},{height + 100}",
             "--virtual-time-budget=3000", "--dump-dom", page.as_uri()],
            Path(folder) / "profile",
        )  # fmt: skip
    body = lxml.html.document_fromstring(dom).find(".//body")
    data = json.loads(body.get("data-layout") or "{}") if body is not None else {}
    if not data:
        raise RenderError("Chromium did not report the layout")
    return Layout(
        int(data["viewport"]), int(data["viewportHeight"]), int(data["scrollWidth"]),
        int(data["height"]), data["image"], data["headline"],
    )  # fmt: skip


def screenshot(
    html: str, width: int, out: Path, *, height: int | None = None, dark: bool = False
) -> Path:
    """A PNG of the email at `width` CSS pixels; `height` defaults to the whole email.
    `dark` shows it as a reader in dark mode sees it (prefers-color-scheme: dark)."""
    if height is None:
        height = measure(html, width).height
    with tempfile.TemporaryDirectory(prefix="digest-chromium-") as folder:
        page = Path(folder) / "page.html"
        page.write_text(_harness(html, width, height, probe=False), encoding="utf-8")
        out.parent.mkdir(parents=True, exist_ok=True)
        _run(
            [f"--window-size={max(width, _MIN_WINDOW)},{height}", "--virtual-time-budget=3000",
             *(["--force-dark-mode"] if dark else []),
             f"--screenshot={out.resolve()}", page.as_uri()],
            Path(folder) / "profile",
        )  # fmt: skip
    return out
