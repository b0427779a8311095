"""The README's pictures: the English and Arabic editions in headless Chromium.

Renders a full edition per language from the bundled sample feeds (8 top stories with
related items, as `digest demo` sends them), the lead story with a picture, and
screenshots each at desktop (600 px) and phone (375 px) widths, plus the phone view in
dark mode. The sample feeds carry no photographs, so the lead's picture is a generated
gradient served from 127.0.0.1 for the run (it stands in for the article's image).

    python bench/screenshots.py [--out docs/screenshots] [--height 1150]

Needs Chromium (Debian package chromium). Prints each file written and its size.
"""

from __future__ import annotations

import argparse
import http.server
import struct
import tempfile
import threading
import zlib
from pathlib import Path

from render_bench import full_plan  # the edition the render benchmark uses

from digest import pipeline
from digest.config import load_settings
from digest.identity import SAMPLE_POSTAL_ADDRESS
from digest.render import browser, render_edition
from subscribers.models import Subscriber

WIDTHS = (600, 375)


def gradient_png(width: int = 552, height: int = 310) -> bytes:
    """A small PNG (deep red to sand), written with zlib alone."""
    rows = []
    for y in range(height):
        row = bytearray([0])
        for x in range(width):
            t = (x / width + y / height) / 2
            row += bytes([int(155 + 80 * t), int(28 + 170 * t), int(28 + 140 * t)])
        rows.append(bytes(row))

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"".join(rows), 9))
        + chunk(b"IEND", b"")
    )


def serve_picture() -> tuple[http.server.HTTPServer, str]:
    picture = gradient_png()

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "image/png")
            self.send_header("Content-Length", str(len(picture)))
            self.end_headers()
            self.wfile.write(picture)

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}/lead.png"


def edition_html(settings, language: str, picture: str) -> str:  # type: ignore[no-untyped-def]
    plan = full_plan(language)
    for story in plan.stories:
        story.article.image_url = ""
    plan.stories[0].article.image_url = picture
    rendered = render_edition(plan, settings)
    skeleton = pipeline.skeleton_for(
        settings, rendered.subject, rendered.html, rendered.text, language=language
    )
    reader = Subscriber(
        id=1, email="layla@example.com", name="Layla" if language == "en" else "ليلى",
        language=language, smtputf8=False,
    )  # fmt: skip
    recipient = pipeline.recipient_factory(settings, language)(reader)
    return skeleton.personalised_parts(recipient)[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=Path("docs/screenshots"))
    parser.add_argument("--height", type=int, default=1150, help="pixels of each picture")
    args = parser.parse_args()
    server, picture = serve_picture()
    try:
        with tempfile.TemporaryDirectory() as folder:
            config = Path(folder) / "digest.toml"
            config.write_text(f'[site]\npostal_address = "{SAMPLE_POSTAL_ADDRESS}"\n', "utf-8")
            settings = load_settings(config, env={"DIGEST_SECRET_KEY": "screenshots-secret-key"})
            for language in ("en", "ar"):
                html = edition_html(settings, language, picture)
                shots = [(width, False) for width in WIDTHS] + [(375, True)]
                for width, dark in shots:
                    name = f"{language}-{width}{'-dark' if dark else ''}.png"
                    path = browser.screenshot(
                        html, width, args.out / name, height=args.height, dark=dark
                    )
                    print(f"{path}  {path.stat().st_size // 1024} KB")
    finally:
        server.shutdown()


if __name__ == "__main__":
    main()
