"""Real parts for the self-service tests: an SMTP sink (aiosmtpd), `digest serve` as a
process, a config editor, and a small Chrome DevTools Protocol client for Chromium."""

from __future__ import annotations

import email
import email.policy
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from tests.conftest import REPO


def _free_port() -> int:
    """A port nobody listens on now (aiosmtpd's Controller cannot take port 0)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class Sink:
    """aiosmtpd on 127.0.0.1 that keeps every message it is given."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self.envelopes: list[tuple[str, list[str]]] = []
        self.arrived = threading.Condition()
        self.controller = Controller(self, hostname="127.0.0.1", port=_free_port())

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        with self.arrived:
            self.messages.append(message)  # type: ignore[arg-type]
            self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
            self.arrived.notify_all()
        return "250 OK"

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.controller.port}"

    def wait_for(self, count: int, timeout: float = 20) -> list[EmailMessage]:
        """The first `count` messages; fails if they do not all arrive in time."""
        with self.arrived:
            self.arrived.wait_for(lambda: len(self.messages) >= count, timeout)
            assert len(self.messages) >= count, f"{len(self.messages)} of {count} arrived"
            return list(self.messages[:count])

    def __enter__(self) -> Sink:
        self.controller.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.controller.stop()


def body_text(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("plain",))
    assert part is not None
    return part.get_content()  # type: ignore[no-any-return]


def link(message: EmailMessage, path: str) -> str:
    """The first URL in the text part whose path starts with `path` ("/confirm/")."""
    found = re.search(r"https?://[^\s]+" + re.escape(path) + r"[^\s]+", body_text(message))
    assert found, body_text(message)
    return found.group(0)


def set_keys(folder: Path, section: str, **values: Any) -> None:
    """Set keys of one section of folder/digest.toml (appending the section if absent)."""
    path = folder / "digest.toml"
    lines = path.read_text(encoding="utf-8").splitlines()
    current = ""
    for index, line in enumerate(lines):
        header = re.match(r"\[(\w+)\]", line)
        if header:
            current = header.group(1)
            continue
        key = line.lstrip("# ").split("=", 1)[0].strip()
        if current == section and key in values and "=" in line:
            lines[index] = f"{key} = {json.dumps(values.pop(key), ensure_ascii=False)}"
    if values:
        if f"[{section}]" not in lines:
            lines.append(f"[{section}]")
        position = lines.index(f"[{section}]") + 1
        for key, value in values.items():
            lines.insert(position, f"{key} = {json.dumps(value, ensure_ascii=False)}")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


@contextmanager
def serve_process(folder: Path) -> Iterator[str]:
    """`digest serve --port 0` as its own process in `folder`; yields its base URL."""
    environment = {**os.environ, "PYTHONPATH": str(REPO)}
    process = subprocess.Popen(
        [sys.executable, "-m", "digest", "serve", "--port", "0"],
        cwd=folder,
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        first = process.stdout.readline()  # type: ignore[union-attr]
        if not first.startswith("serving on "):
            process.kill()
            raise AssertionError(process.stderr.read())  # type: ignore[union-attr]
        yield first.split()[2]
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGINT)
            try:
                process.wait(30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        for stream in (process.stdout, process.stderr):
            if stream is not None:
                stream.close()


# --- headless Chromium, driven over the DevTools protocol -----------------------------

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


class Browser:
    """One headless Chromium tab with page scripts disabled, driven like a person would:
    focus a field, type, press Enter. Nothing runs JavaScript in the page."""

    def __init__(self, profile: Path) -> None:
        if CHROMIUM is None:
            pytest.skip("chromium is not installed (Debian package chromium; .ci/run installs it)")
        self.process = subprocess.Popen(
            [
                CHROMIUM,
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                f"--user-data-dir={profile}",
                "--remote-debugging-port=0",
                "about:blank",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.next_id = 0
        self.events: list[dict[str, Any]] = []
        from websockets.sync.client import connect

        self.stack = ExitStack()
        self.socket = self.stack.enter_context(
            connect(self._page_socket(), max_size=None, open_timeout=30)
        )
        self.call("Page.enable")
        self.call("Emulation.setScriptExecutionDisabled", value=True)

    def _page_socket(self) -> str:
        deadline = time.monotonic() + 60
        port = None
        while port is None and time.monotonic() < deadline:
            line = self.process.stderr.readline()  # type: ignore[union-attr]
            found = re.search(r"ws://127\.0\.0\.1:(\d+)/", line)
            if found:
                port = found.group(1)
        assert port, "Chromium did not open its DevTools port"
        import httpx

        for _attempt in range(100):
            targets = httpx.get(f"http://127.0.0.1:{port}/json/list").json()
            pages = [t for t in targets if t.get("type") == "page"]
            if pages:
                return str(pages[0]["webSocketDebuggerUrl"])
            time.sleep(0.1)
        raise AssertionError("Chromium has no page")

    def call(self, method: str, **params: Any) -> dict[str, Any]:
        self.next_id += 1
        self.socket.send(json.dumps({"id": self.next_id, "method": method, "params": params}))
        while True:
            reply = json.loads(self.socket.recv(timeout=60))
            if reply.get("id") == self.next_id:
                assert "error" not in reply, reply
                return dict(reply.get("result", {}))
            self.events.append(reply)

    def _wait_event(self, name: str) -> None:
        while True:
            for index, event in enumerate(self.events):
                if event.get("method") == name:
                    del self.events[: index + 1]
                    return
            self.events.append(json.loads(self.socket.recv(timeout=60)))

    def open(self, url: str) -> None:
        self.events.clear()
        self.call("Page.navigate", url=url)
        self._wait_event("Page.loadEventFired")

    def _node(self, selector: str) -> int:
        root = self.call("DOM.getDocument")["root"]["nodeId"]
        node = self.call("DOM.querySelector", nodeId=root, selector=selector)["nodeId"]
        assert node, f"no {selector} on the page"
        return int(node)

    def type_into(self, selector: str, text: str) -> None:
        self.call("DOM.focus", nodeId=self._node(selector))
        self.call("Input.insertText", text=text)

    def press_enter_on(self, selector: str) -> None:
        """Focus an element and press Enter (a button submits its form); waits for the
        next page to load."""
        self.call("DOM.focus", nodeId=self._node(selector))
        self.events.clear()
        for kind in ("keyDown", "keyUp"):
            self.call(
                "Input.dispatchKeyEvent",
                type=kind,
                key="Enter",
                code="Enter",
                windowsVirtualKeyCode=13,
                text="\r" if kind == "keyDown" else "",
            )
        self._wait_event("Page.loadEventFired")

    def html(self) -> str:
        root = self.call("DOM.getDocument")["root"]["nodeId"]
        return str(self.call("DOM.getOuterHTML", nodeId=root)["outerHTML"])

    def close(self) -> None:
        try:
            self.stack.close()
        finally:
            self.process.terminate()
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
            if self.process.stderr is not None:
                self.process.stderr.close()
