"""``dealdeck serve``: the app in a browser through textual-serve, for the meeting room's PC.

Each browser tab runs its own ``dealdeck`` process on the data folder (as two SSH sessions
would). Every request must carry this run's token: the printed link has it in its query,
and the page it opens gets it as an HttpOnly cookie, because textual-serve's page builds
its websocket and static URLs without the query.
"""

from __future__ import annotations

import asyncio
import errno
import ipaddress
import re
import secrets
import shlex
import signal
import socket
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from urllib.parse import urlsplit

import aiohttp_jinja2
import jinja2
from aiohttp import web
from textual_serve.server import Server, to_int

from store.errors import StoreError

WILDCARDS = ("0.0.0.0", "::", "")
WARNING = ("dealdeck: warning: serving on {host}: anyone on that network who has the link can see and change "
           "the team's data")
#: textual-serve's page asks Google for a font: no use offline, and the meeting room may be offline
GOOGLE_FONT = re.compile(r"<link[^>]*fonts\.googleapis\.com[^>]*>\s*", re.DOTALL)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def app_command(folder: Path, *, rep: str | None, theme: str | None, present: bool) -> str:
    """The shell command textual-serve runs per browser tab: this interpreter's ``dealdeck``."""
    args = [sys.executable, "-m", "tui.cli", "--data", str(folder.resolve())]
    if rep:
        args += ["--as", rep]
    if theme:
        args += ["--theme", theme]
    if present:
        args.append("--present")
    return shlex.join(args)


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def url_host(host: str) -> str:
    """The host part of the link to print: a wildcard is no address to open, so the one
    this machine is reached by on its network (a guess: no packet is sent)."""
    if host in WILDCARDS:
        try:
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
                probe.connect(("10.254.254.254", 1))
                host = probe.getsockname()[0]
        except OSError:
            host = socket.gethostname()
    return f"[{host}]" if ":" in host else host


class GuardedServer(Server):
    """textual-serve's server behind a token, with links built from the request's own host."""

    def __init__(self, command: str, host: str, port: int, token: str) -> None:
        super().__init__(command, host=host, port=port, title="Dealdeck")
        self.token = token.encode()
        #: cookies ignore ports: one name per server, so two servers on a machine do not clash
        self.cookie = f"dealdeck_serve_{port}"
        self._sessions: set[asyncio.Task[object]] = set()

    async def _make_app(self) -> web.Application:
        app = await super()._make_app()
        app.middlewares.append(self._guard)
        page = (self.templates_path / "app_index.html").read_text(encoding="utf-8")
        aiohttp_jinja2.get_env(app).loader = jinja2.DictLoader({"app_index.html": GOOGLE_FONT.sub("", page)})
        return app

    @web.middleware
    async def _guard(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        if not self._allowed(request):
            raise web.HTTPForbidden(text="Forbidden: open the link `dealdeck serve` printed (it carries the token).\n")
        response = await handler(request)
        if "token" in request.query and isinstance(response, web.Response):
            response.set_cookie(self.cookie, self.token.decode(), httponly=True, samesite="Strict", path="/")
        return response

    def _allowed(self, request: web.Request) -> bool:
        given = request.query.get("token") or request.cookies.get(self.cookie, "")
        if not secrets.compare_digest(given.encode(), self.token):
            return False
        # A page of another site may not drive the app, even from a browser holding the cookie.
        origin = request.headers.get("Origin")
        return origin is None or urlsplit(origin).netloc == request.host

    async def handle_index(self, request: web.Request) -> web.Response:  # type: ignore[override]
        """The page, its websocket at the host the browser used (the base class uses the
        bound address: 0.0.0.0 is no place to connect to)."""
        scheme = "wss" if request.secure else "ws"
        context = {"font_size": to_int(request.query.get("fontsize", "16"), 16),
                   "app_websocket_url": f"{scheme}://{request.host}/ws",
                   "config": {"static": {"url": "/static/"}},
                   "application": {"name": self.title}}
        response = aiohttp_jinja2.render_template("app_index.html", request, context)
        response.headers["Referrer-Policy"] = "no-referrer"  # the token is in this page's URL
        response.headers["Cache-Control"] = "no-store"
        return response

    async def handle_websocket(self, request: web.Request) -> web.WebSocketResponse:
        task = asyncio.current_task()
        assert task is not None
        self._sessions.add(task)
        try:
            return await super().handle_websocket(request)
        finally:
            self._sessions.discard(task)

    async def on_startup(self, app: web.Application) -> None:
        """Quiet: ``serve`` prints the one line that matters (the base prints a logo)."""

    async def on_shutdown(self, app: web.Application) -> None:
        # The base class closes a cancelled session's websocket and tells its app to quit,
        # so every app saves and exits instead of the server waiting for browsers to leave.
        for task in list(self._sessions):
            task.cancel()


def serve(folder: Path, *, host: str, port: int, rep: str | None = None, theme: str | None = None,
          present: bool = False) -> int:
    """Serve until ctrl+c or SIGTERM. The link goes to stdout, a warning to stderr when
    the server is reachable from other machines."""
    if not 0 <= port <= 65535:
        raise StoreError(f"--port {port} is not a port number (0-65535; 0 picks a free one)")
    if not folder.is_dir():
        raise StoreError(f"no data folder at {folder}: give --data, or start `dealdeck` once to make one")
    if not is_loopback(host):
        print(WARNING.format(host=host or "every address"), file=sys.stderr, flush=True)
    command = app_command(folder, rep=rep, theme=theme, present=present)
    asyncio.run(_serve(command, host, port))
    return 0


async def _serve(command: str, host: str, port: int) -> None:
    token = secrets.token_urlsafe(24)
    server = GuardedServer(command, host, port, token)
    runner = web.AppRunner(await server._make_app(), access_log=None)
    await runner.setup()
    try:
        await _listen(runner, host, port)
        bound = runner.addresses[0][1]
        server.cookie = f"dealdeck_serve_{bound}"  # port 0: the one the system picked
        print(f"Open http://{url_host(host)}:{bound}/?token={token} in a browser (ctrl+c stops the server)",
              flush=True)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, stop.set)
        await stop.wait()
    finally:
        await runner.cleanup()


async def _listen(runner: web.AppRunner, host: str, port: int) -> None:
    try:
        await web.TCPSite(runner, host or None, port).start()
    except OSError as exc:
        raise StoreError(_bind_failure(exc, host, port)) from None


def _bind_failure(exc: OSError, host: str, port: int) -> str:
    if exc.errno == errno.EADDRINUSE:
        return f"port {port} on {host} is in use: give another with --port"
    if exc.errno == errno.EACCES:
        return f"not allowed to listen on port {port}: give one above 1023 with --port"
    reason = exc.strerror or str(exc)
    return f"cannot listen on {host}:{port}: {reason}"
