"""``dealdeck serve``: the weekly review in a browser, behind a token.

The browser test drives Debian's ``chromium`` through Playwright (no browser download) and
reads the screen from xterm.js's buffer, never from pixels. With ``DEALDECK_DOCS_SCREENSHOTS=1``
it also writes the README's screenshots, ``docs/serve-*.png``.
"""

from __future__ import annotations

import os
import queue
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import IO, Any

import pytest

from store.database import Store
from store.demo import generate_demo
from tui.app import DealdeckApp
from tui.cli import build_parser, main
from tui.screens.present import PresentScreen
from tui.serve import app_command

ROOT = Path(__file__).resolve().parents[1]
TODAY = "2026-11-25"
ENV = {**os.environ, "PYTHONPATH": str(ROOT), "DEALDECK_TODAY": TODAY}
URL = re.compile(r"http://\S+")
#: starting, a page load, a frame after a key: generous bounds for a loaded CI machine, not timings
PATIENCE_S = 60
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync"]

#: textual-serve keeps its xterm.js terminal to itself: the page's terminal object is caught
#: when its constructor assigns ``websocket_url`` (a setter on Object.prototype, before the page runs).
CATCH_TERMINAL = """
window.__terminals = [];
Object.defineProperty(Object.prototype, "websocket_url", {
  configurable: true,
  set(value) {
    Object.defineProperty(this, "websocket_url", {value, writable: true, configurable: true, enumerable: true});
    window.__terminals.push(this);
  },
});
"""
#: the lines the terminal shows, from xterm.js's buffer (its public API)
SCREEN_TEXT = """() => {
  const session = window.__terminals[0];
  const terminal = session && session.terminal;
  if (!terminal) return "";
  const buffer = terminal.buffer.active, lines = [];
  for (let row = 0; row < terminal.rows; row++) {
    const line = buffer.getLine(buffer.viewportY + row);
    lines.push(line ? line.translateToString(true) : "");
  }
  return lines.join("\\n");
}"""


@dataclass
class Served:
    process: subprocess.Popen[str]
    url: str
    stderr: queue.Queue[str]

    @property
    def base(self) -> str:
        return self.url.split("?", 1)[0]


def _lines(stream: IO[str]) -> queue.Queue[str]:
    """A pipe's lines as they come, to wait for with a timeout."""
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(target=lambda: [lines.put(line) for line in stream], daemon=True).start()
    return lines


def _next_line(lines: queue.Queue[str], process: subprocess.Popen[str], what: str) -> str:
    try:
        return lines.get(timeout=PATIENCE_S)
    except queue.Empty:
        pytest.fail(f"`dealdeck serve` printed no {what} (exit status {process.poll()})")


@contextmanager
def served(folder: Path, *options: str) -> Iterator[Served]:
    """``dealdeck serve`` on a free port, stopped (its whole process group) at the end."""
    process = subprocess.Popen([sys.executable, "-m", "tui.cli", "serve", "--data", str(folder), "--port", "0",
                                *options], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=ENV,
                               start_new_session=True)
    try:
        stdout, stderr = _lines(process.stdout), _lines(process.stderr)  # type: ignore[arg-type]
        found = URL.search(_next_line(stdout, process, "link"))
        assert found, "the link to open is on stdout"
        yield Served(process, found.group(), stderr)
    finally:
        stop(process)


def stop(process: subprocess.Popen[str]) -> int | None:
    """SIGTERM to the server (it ends its sessions), then whatever is left of its group killed."""
    status = None
    try:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
        with suppress(subprocess.TimeoutExpired):
            status = process.wait(timeout=PATIENCE_S)
    finally:
        with suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()
    return status


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("serve") / "data"
    generate_demo(folder, reps=3, leads=80, seed=7, weeks=12, today=date.fromisoformat(TODAY))
    return folder


def get(url: str, headers: dict[str, str] | None = None) -> tuple[int, dict[str, str]]:
    """(status, headers) of a GET."""
    try:
        with urllib.request.urlopen(urllib.request.Request(url, headers=headers or {}), timeout=PATIENCE_S) as reply:
            return reply.status, dict(reply.headers)
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers)


# -- the command line ------------------------------------------------------------------------------
def test_present_is_taken_before_or_after_serve() -> None:
    parser = build_parser()
    assert parser.parse_args(["serve", "--present"]).present
    assert parser.parse_args(["--present", "serve"]).present
    assert not parser.parse_args(["serve"]).present
    assert parser.parse_args(["serve"]).host == "127.0.0.1"


def test_each_browser_tab_runs_this_dealdeck_on_the_same_folder(tmp_path: Path) -> None:
    command = app_command(tmp_path / "my data", rep="bo", theme=None, present=True)
    assert command.startswith(sys.executable) and "-m tui.cli" in command
    assert f"--data '{tmp_path / 'my data'}'" in command and "--as bo" in command and command.endswith("--present")


def test_a_missing_folder_or_a_bad_port_is_refused_in_one_line(tmp_path: Path,
                                                               capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["serve", "--data", str(tmp_path / "nowhere")]) == 1
    assert capsys.readouterr().err == f"dealdeck: no data folder at {tmp_path / 'nowhere'}: give --data, " \
                                      "or start `dealdeck` once to make one\n"
    assert main(["serve", "--data", str(tmp_path), "--port", "70000"]) == 1
    assert "not a port number" in capsys.readouterr().err


async def test_the_app_can_open_straight_into_the_presentation(demo: Path) -> None:
    with Store(demo) as store:
        app = DealdeckApp(store, present=True)
        async with app.run_test(size=(120, 36)) as pilot:
            for _ in range(400):  # the review is computed in a thread: poll, bounded
                if isinstance(app.screen, PresentScreen) and app.screen.query(".slide-title"):
                    break
                await app.workers.wait_for_complete()
                await pilot.pause(0.05)
            assert isinstance(app.screen, PresentScreen), "the app opened on the presentation"
            assert str(app.screen.query_one(".slide-title").render()).startswith("Headlines · team · ")


# -- the server --------------------------------------------------------------------------------------
@pytest.mark.slow
def test_every_request_needs_the_token(demo: Path) -> None:
    with served(demo) as server:
        assert re.fullmatch(r"http://127\.0\.0\.1:\d+/\?token=[\w-]{32}", server.url)
        assert get(server.base)[0] == 403
        assert get(server.base + "?token=not-it")[0] == 403
        assert get(server.base + "static/js/textual.js")[0] == 403
        assert get(server.base + "ws")[0] == 403
        status, headers = get(server.url)
        assert status == 200
        cookie = headers["Set-Cookie"]
        assert "HttpOnly" in cookie and "SameSite=Strict" in cookie
        with_cookie = {"Cookie": cookie.split(";", 1)[0]}
        assert get(server.base + "static/js/textual.js", with_cookie)[0] == 200  # as the page loads it
        assert get(server.base + "static/js/textual.js", {"Cookie": "dealdeck_serve_1=x"})[0] == 403
        assert get(server.url, {"Origin": "http://elsewhere.example"})[0] == 403  # another site's page


@pytest.mark.slow
def test_another_host_is_served_with_a_warning(demo: Path) -> None:
    with served(demo, "--host", "0.0.0.0") as server:
        warning = _next_line(server.stderr, server.process, "warning")
        assert warning == ("dealdeck: warning: serving on 0.0.0.0: anyone on that network who has the link can see "
                           "and change the team's data\n")
        assert "0.0.0.0" not in server.url  # an address a browser can open


@pytest.mark.slow
def test_a_port_in_use_is_one_line_and_a_failure(demo: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = subprocess.run([sys.executable, "-m", "tui.cli", "serve", "--data", str(demo), "--port", str(port)],
                              capture_output=True, text=True, env=ENV, timeout=PATIENCE_S)
    assert done.returncode == 1
    assert done.stderr == f"dealdeck: port {port} on 127.0.0.1 is in use: give another with --port\n"
    assert done.stdout == ""


# -- in a browser ------------------------------------------------------------------------------------
def screen_text(page: Any) -> str:
    return str(page.evaluate(SCREEN_TEXT))


def wait_for_screen(page: Any, predicate: str, arg: object, what: str) -> None:
    """Until the terminal's text satisfies ``predicate(text, arg)`` (JavaScript)."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    try:
        page.wait_for_function(f"(arg) => ({predicate})(({SCREEN_TEXT})(), arg)", arg=arg, timeout=PATIENCE_S * 1000)
    except PlaywrightTimeout:
        pytest.fail(f"the page never showed {what}; it shows:\n{screen_text(page)}")


def wait_for_slide(page: Any, title: str, number: int) -> None:
    """The slide's title line and its number in the footer ("2 / 9 · ...")."""
    wait_for_screen(page, """(text, [title, number]) => {
        const lines = text.split("\\n").map((line) => line.trim());
        return lines.some((line) => line.startsWith(title + " · team · "))
            && lines.some((line) => line.startsWith(number + " / "));
    }""", [title, number], f"the slide {title!r} ({number})")


def wait_for_words(page: Any, words: str) -> None:
    wait_for_screen(page, "(text, words) => text.includes(words)", words, repr(words))


def screenshot(page: Any, name: str, words: str) -> None:
    """``docs/serve-<name>.png`` for the README, when DEALDECK_DOCS_SCREENSHOTS=1, once the
    slide's body (``words``) is on the screen, not just its title."""
    if os.environ.get("DEALDECK_DOCS_SCREENSHOTS") == "1":
        wait_for_words(page, words)
        page.screenshot(path=ROOT / "docs" / f"serve-{name}.png")


def only_from(server: Served, route: Any, outside: list[str]) -> None:
    """Let the page load from the server; refuse (and note) anything else."""
    if route.request.url.startswith(server.base):
        route.continue_()
    else:
        outside.append(route.request.url)
        route.abort()


@pytest.mark.slow
def test_a_browser_steps_through_the_review_slides(demo: Path) -> None:
    chromium = shutil.which("chromium")
    if chromium is None:
        pytest.skip("no `chromium` on PATH (Debian: apt-get install chromium): the served app is not opened")
    from playwright.sync_api import sync_playwright

    with served(demo) as server, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 720})
            outside: list[str] = []
            page.route("**/*", lambda route: only_from(server, route, outside))
            page.add_init_script(CATCH_TERMINAL)
            page.goto(server.url)
            wait_for_words(page, "4 Weekly review")
            page.focus("textarea.xterm-helper-textarea")  # xterm.js takes the keys there
            page.keyboard.press("4")
            wait_for_words(page, "2026-W47")  # the review tab shows the last full week
            page.keyboard.press("p")
            wait_for_slide(page, "Headlines", 1)
            screenshot(page, "headlines", "Won this week")
            for number, title in enumerate(["Funnel", "Pipeline waterfall", "The three figures"], start=2):
                page.keyboard.press("Space")
                wait_for_slide(page, title, number)
                if title == "Pipeline waterfall":
                    screenshot(page, "waterfall", "Open at the end")
        finally:
            browser.close()
        assert outside == [], "the page fetches nothing from the internet (textual-serve's asks Google for a font)"
        assert stop(server.process) == 0, "the server ends its session and stops cleanly on SIGTERM"
