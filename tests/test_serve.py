"""`concsim serve` in a real browser: headless Chromium, driven over the DevTools protocol.

The page draws the terminal on a canvas, so the test reads what the app sends down the
page's websocket (the terminal's output, seen through the DevTools Network domain) to know
what is on screen, and compares screenshots to know the screen changed. Every wait polls a
condition with a generous deadline; nothing sleeps a fixed time.
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from concsim.serve import SERVE_MISSING, app_command

aiohttp = pytest.importorskip("aiohttp", reason=SERVE_MISSING)
pytest.importorskip("textual_serve", reason=SERVE_MISSING)

DEADLINE = 90.0  # seconds for any one condition: generous, for two busy cores


def find_chromium() -> str | None:
    for name in (os.environ.get("CONCSIM_CHROMIUM", ""), "chromium", "chromium-browser"):
        if name and (path := shutil.which(name)):
            return path
    return None


CHROMIUM = find_chromium()
pytestmark = pytest.mark.skipif(
    CHROMIUM is None,
    reason="no Chromium: apt-get install chromium (or set CONCSIM_CHROMIUM) for the browser test",
)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


async def until(condition: Callable[[], Any], what: str, deadline: float = DEADLINE) -> Any:
    """Poll ``condition`` (sync or async) until it gives something true."""
    end = time.monotonic() + deadline
    while True:
        value = condition()
        if asyncio.iscoroutine(value):
            value = await value
        if value:
            return value
        if time.monotonic() > end:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.1)


class Page:
    """One browser tab over the DevTools protocol: commands, and the app's terminal output."""

    def __init__(self, ws: Any) -> None:
        self.ws = ws
        self.next_id = 0
        self.replies: dict[int, asyncio.Future[dict[str, Any]]] = {}
        self.output = bytearray()  # everything the app wrote to the page's terminal
        self.frames = 0
        self.reader = asyncio.create_task(self._read())

    async def _read(self) -> None:
        async for message in self.ws:
            data = json.loads(message.data)
            if "id" in data:
                self.replies.pop(data["id"]).set_result(data)
            elif data.get("method") == "Network.webSocketFrameReceived":
                response = data["params"]["response"]
                payload = response["payloadData"]
                self.frames += 1
                # Binary frames (opcode 2) carry the terminal output, base64-encoded.
                if response["opcode"] == 2:
                    self.output += base64.b64decode(payload)

    async def send(self, method: str, **params: Any) -> dict[str, Any]:
        self.next_id += 1
        reply: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self.replies[self.next_id] = reply
        await self.ws.send_json({"id": self.next_id, "method": method, "params": params})
        answer = await asyncio.wait_for(reply, DEADLINE)
        assert "error" not in answer, answer
        result: dict[str, Any] = answer["result"]
        return result

    async def evaluate(self, expression: str) -> Any:
        result = await self.send("Runtime.evaluate", expression=expression, returnByValue=True)
        return result["result"].get("value")

    async def screenshot(self) -> bytes:
        return base64.b64decode((await self.send("Page.captureScreenshot"))["data"])

    def shows(self, *texts: str, since: int = 0) -> bool:
        """Whether the app wrote any of ``texts`` (since byte ``since`` of its output)."""
        return any(text.encode() in self.output[since:] for text in texts)

    async def settled(self) -> bytes:
        """A screenshot once the app has sent nothing for half a second."""
        last = (-1, 0.0)
        end = time.monotonic() + DEADLINE
        while time.monotonic() < end:
            if self.frames != last[0]:
                last = (self.frames, time.monotonic())
            elif time.monotonic() - last[1] > 0.5:
                break
            await asyncio.sleep(0.1)
        return await self.screenshot()

    async def press(self, key: str, code: str, key_code: int, text: str) -> None:
        for kind in ("keyDown", "keyUp"):
            await self.send(
                "Input.dispatchKeyEvent",
                type=kind,
                key=key,
                code=code,
                windowsVirtualKeyCode=key_code,
                **({"text": text} if kind == "keyDown" else {}),
            )


@pytest.fixture
def served(tmp_path: Path) -> Any:
    port = free_port()
    with (tmp_path / "serve.log").open("w") as log:
        server = subprocess.Popen(
            [sys.executable, "-m", "concsim", "serve", "--port", str(port)],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            yield port
        finally:
            server.terminate()
            server.wait(timeout=30)


@pytest.fixture
def chromium(tmp_path: Path) -> Any:
    assert CHROMIUM is not None
    log_path = tmp_path / "chromium.log"
    with log_path.open("w") as log:
        browser = subprocess.Popen(
            [
                CHROMIUM,
                "--headless",
                "--no-sandbox",  # root in CI; the page is our own, on localhost
                "--disable-gpu",
                "--no-first-run",
                "--remote-debugging-port=0",
                f"--user-data-dir={tmp_path / 'profile'}",
                "--window-size=1280,800",
                "about:blank",
            ],
            stdout=subprocess.DEVNULL,
            stderr=log,
        )
        try:
            # Chromium names the DevTools port it chose on stderr once it listens.
            pattern = re.compile(r"DevTools listening on ws://[^:]+:(\d+)/")
            end = time.monotonic() + DEADLINE
            while not (found := pattern.search(log_path.read_text(errors="replace"))):
                assert browser.poll() is None, "Chromium exited: " + log_path.read_text()
                assert time.monotonic() < end, "Chromium opened no DevTools port"
                time.sleep(0.1)
            yield int(found.group(1))
        finally:
            browser.terminate()
            browser.wait(timeout=30)


def test_serve_opens_the_scenario_browser_and_a_key_changes_the_screen(
    served: int, chromium: int
) -> None:
    """The browser list renders in Chromium; Enter opens the first scenario's lanes."""
    asyncio.run(_drive(f"http://localhost:{served}/", chromium))


async def _drive(url: str, devtools: int) -> None:
    async with aiohttp.ClientSession() as http:

        async def serving() -> bool:
            try:
                async with http.get(url) as response:
                    return response.status == 200
            except aiohttp.ClientError:
                return False

        await until(serving, f"concsim serve to answer at {url}")
        async with http.get(f"http://127.0.0.1:{devtools}/json/list") as response:
            targets = await response.json()
        tab = next(t for t in targets if t["type"] == "page")
        async with http.ws_connect(tab["webSocketDebuggerUrl"], max_msg_size=0) as ws:
            page = Page(ws)
            await page.send("Network.enable")
            await page.send("Page.enable")
            await page.send("Page.navigate", url=url)
            # GIVEN the app's first bytes reached the page and the browser lists the scenarios
            await until(
                lambda: page.evaluate("document.body.classList.contains('-first-byte')"),
                "the app's first output in the page",
            )
            await until(lambda: page.shows("sequential-io"), "the scenario browser")
            before = await page.settled()
            # The run screen's status bar names its mode; the browser has none.
            modes = ("playing", "paused", "finished")
            assert not page.shows(*modes)
            # WHEN Enter is pressed in the page's terminal
            await page.evaluate("document.querySelector('.xterm-helper-textarea').focus()")
            mark = len(page.output)
            await page.press("Enter", "Enter", 13, "\r")
            # THEN the first scenario opens on its run screen, and the screen shows it
            await until(lambda: page.shows(*modes, since=mark), "the run screen's status bar")

            async def changed() -> bytes | None:
                shot = await page.screenshot()
                return shot if shot != before else None

            after = await until(changed, "the screen to change")
            if shots := os.environ.get("CONCSIM_SCREENSHOTS"):
                Path(shots, "served-before.png").write_bytes(before)
                Path(shots, "served-after.png").write_bytes(after)
            page.reader.cancel()


def test_the_served_command_is_the_scenario_browser() -> None:
    assert app_command() == f"{sys.executable} -m concsim"
    assert app_command(["my file.yaml"]) == f"{sys.executable} -m concsim 'my file.yaml'"
