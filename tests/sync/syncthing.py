"""Real Syncthing daemons for the tests: N of them on 127.0.0.1, sharing one folder.

Not a test file. ``running(base, folders)`` makes a home per daemon under ``base``
(``syncthing generate``), edits each ``config.xml`` so that everything listens on
127.0.0.1 only, on free ports, with every way out of this machine off (global and local
discovery, relays, NAT traversal and STUN, usage and crash reporting, upgrades), each
daemon knowing every other by its device id and sharing one folder (the same id) that
points at its own copy, ``folders[i]``; then starts them (no browser, no restart
wrapper), waits until each REST API answers and listens, tells each the others'
127.0.0.1 addresses, waits until every pair is connected, and stops them on the way out
(SIGTERM, then SIGKILL after a timeout).

The addresses are told through the REST API, once every daemon listens, and to one of
each pair first: a daemon dials a device at once when its addresses change, and else
only every few seconds. Two 1.19 daemons that dial each other at the same moment wait
20 s for each other: each exchanges the Hello messages of its connections one at a
time, its own outgoing one first, so each waits for a Hello the other sends only after
its own wait has timed out (``handleConns`` in lib/connections/service.go). Both started
at once with each other's address in config.xml, that happened in one start out of five.

REST calls use only the standard library, never through a proxy. Every wait polls the
daemons' state until a deadline and fails with the daemons' log tails.
"""

from __future__ import annotations

import contextlib
import copy
import http.client
import itertools
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import time
import urllib.parse
import urllib.request
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

BINARY = "syncthing"
FOLDER_ID = "dealdeck-team"
#: Syncthing's own names in a folder: its marker, and the temp files of a transfer
MARKER = ".stfolder"
TEMP_PREFIX, TEMP_SUFFIX = ".syncthing.", ".tmp"
CONFLICT = ".sync-conflict-"
#: how often a wait asks the daemons again
POLL_S = 0.05
#: what a REST call raises when the daemon is not (yet, or no longer) answering; HTTP errors
#: (urllib's HTTPError) and refused connections are OSErrors, a body that is not JSON a ValueError
NO_ANSWER = (OSError, ValueError, http.client.HTTPException)

_NO_PROXY = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def available() -> bool:
    return shutil.which(BINARY) is not None


class SyncthingError(AssertionError):
    """A daemon did not start, answer or settle in time (with the logs that say why)."""


@dataclass
class Daemon:
    name: str
    home: Path
    #: this daemon's copy of the shared folder
    folder: Path
    device_id: str
    gui_port: int
    listen_port: int
    api_key: str = field(default_factory=lambda: secrets.token_hex(16))
    folder_id: str = FOLDER_ID
    process: subprocess.Popen[bytes] | None = None

    @property
    def log(self) -> Path:
        return self.home / "syncthing.log"

    @property
    def address(self) -> str:
        return f"tcp://127.0.0.1:{self.listen_port}"

    # --- REST --------------------------------------------------------------------------------

    def request(self, method: str, path: str, timeout: float = 10, body: Any = None, **params: str) -> Any:
        url = f"http://127.0.0.1:{self.gui_port}{path}"
        if params:
            url += "?" + urllib.parse.urlencode(params)
        headers = {"X-API-Key": self.api_key}
        data = None
        if body is not None:
            data, headers["Content-Type"] = json.dumps(body).encode(), "application/json"
        req = urllib.request.Request(url, data=data, method=method, headers=headers)
        with _NO_PROXY.open(req, timeout=timeout) as response:
            answer = response.read()
        return json.loads(answer) if answer.strip() else None

    def get(self, path: str, **params: str) -> Any:
        return self.request("GET", path, **params)

    def scan(self) -> None:
        """Rescan the shared folder now; returns when the scan is done."""
        self.request("POST", "/rest/db/scan", timeout=30, folder=self.folder_id)

    def status(self) -> dict[str, Any]:
        return self.get("/rest/db/status", folder=self.folder_id)  # type: ignore[no-any-return]

    def completion(self, other: Daemon) -> dict[str, Any]:
        """How far ``other`` is with the shared folder, as this daemon knows it."""
        return self.get("/rest/db/completion", folder=self.folder_id, device=other.device_id)  # type: ignore[no-any-return]

    def connected(self, other: Daemon) -> bool:
        connections = self.get("/rest/system/connections")["connections"]
        return bool(connections.get(other.device_id, {}).get("connected"))

    def folder_errors(self) -> list[dict[str, Any]]:
        return self.get("/rest/folder/errors", folder=self.folder_id).get("errors") or []

    def listening(self) -> bool:
        """Its sync protocol listener is up at :attr:`address`."""
        status = self.get("/rest/system/status")["connectionServiceStatus"].get(self.address) or {}
        return status.get("error") is None and self.address in (status.get("lanAddresses") or [])

    def learn_address(self, other: Daemon, address: str = "") -> None:
        """Tell this daemon where ``other`` listens (it dials ``other`` now, unless connected);
        ``address="dynamic"``: forget it (nothing to dial with discovery off)."""
        self.request("PATCH", f"/rest/config/devices/{other.device_id}",
                     body={"addresses": [address or other.address]})

    def answers(self) -> bool:
        try:
            return self.get("/rest/system/ping") == {"ping": "pong"}
        except NO_ANSWER:
            return False

    # --- the process -------------------------------------------------------------------------

    def start(self) -> None:
        """Run ``syncthing serve`` in a session of its own. ``STMONITORED``: the daemon itself,
        without the monitor process that would restart it (1.19 starts one even with
        ``--no-restart``)."""
        env = {**os.environ, "HOME": str(self.home), "STMONITORED": "1", "STNODEFAULTFOLDER": "1",
               "STNOUPGRADE": "1", "STNORESTART": "1"}
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                [BINARY, "serve", f"--home={self.home}", "--no-browser", "--no-restart", "--no-upgrade"],
                stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, env=env, start_new_session=True)

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def terminate(self) -> None:
        """SIGTERM: Syncthing shuts down cleanly. To the daemon's own process group, so that
        nothing it started outlives it."""
        if self.alive():
            self._signal(signal.SIGTERM)

    def wait_or_kill(self, timeout: float = 10) -> None:
        """Wait for the daemon to exit; SIGKILL after ``timeout`` seconds."""
        process = self.process
        if process is None:
            return
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self._signal(signal.SIGKILL)
            process.wait(timeout=timeout)

    def stop(self, timeout: float = 10) -> None:
        self.terminate()
        self.wait_or_kill(timeout)

    def _signal(self, number: int) -> None:
        """To the group while its leader is not reaped yet (its id cannot be anyone else's)."""
        assert self.process is not None
        try:
            os.killpg(self.process.pid, number)
        except (ProcessLookupError, PermissionError):
            with contextlib.suppress(ProcessLookupError):
                self.process.send_signal(number)

    def log_tail(self, lines: int = 30) -> str:
        try:
            text = self.log.read_text(errors="replace")
        except OSError:
            return "(no log)"
        return "\n".join(text.splitlines()[-lines:])


@dataclass
class Cluster:
    daemons: list[Daemon]

    def __iter__(self) -> Iterator[Daemon]:
        return iter(self.daemons)

    def __getitem__(self, index: int) -> Daemon:
        return self.daemons[index]

    def logs(self) -> str:
        return "\n".join(f"--- {d.name} ({d.home}) ---\n{d.log_tail()}" for d in self.daemons)

    def wait_until(self, what: str, condition: Callable[[], bool], timeout: float) -> None:
        """Poll ``condition`` until it holds; :class:`SyncthingError` after ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        while True:
            for daemon in self.daemons:
                if not daemon.alive():
                    raise SyncthingError(f"syncthing {daemon.name} exited while waiting for {what}\n{self.logs()}")
            with contextlib.suppress(*NO_ANSWER):
                if condition():
                    return
            if time.monotonic() > deadline:
                raise SyncthingError(f"{what}: not within {timeout:.0f} s\n{self.describe()}\n{self.logs()}")
            time.sleep(POLL_S)

    def scan_all(self) -> None:
        for daemon in self.daemons:
            daemon.scan()

    def in_sync(self) -> bool:
        """Every daemon idle, needing nothing, with the same global state, knowing every other
        one complete, and every copy of the folder holding the same files."""
        statuses = [d.status() for d in self.daemons]
        if any(s["state"] != "idle" or s["needTotalItems"] or s.get("pullErrors") for s in statuses):
            return False
        globals_ = {(s["globalFiles"], s["globalDirectories"], s["globalDeleted"], s["globalBytes"])
                    for s in statuses}
        if len(globals_) != 1:
            return False
        for daemon in self.daemons:
            for other in self.daemons:
                if other is not daemon:
                    done = daemon.completion(other)
                    if done["completion"] < 100 or done["needItems"] or done["needDeletes"]:
                        return False
        trees = [tree(d.folder) for d in self.daemons]
        return all(t == trees[0] for t in trees)

    def wait_in_sync(self, timeout: float = 30) -> None:
        """Rescan every copy now, then wait until all are in sync (:meth:`in_sync`)."""
        self.scan_all()
        self.wait_until("the folders in sync", self.in_sync, timeout)

    def describe(self) -> str:
        lines = []
        for daemon in self.daemons:
            try:
                status = daemon.status()
                lines.append(f"{daemon.name}: {status['state']}, need {status['needTotalItems']}, global "
                             f"{status['globalFiles']} files {status['globalBytes']} bytes, pull errors "
                             f"{status.get('pullErrors')}, errors {daemon.folder_errors()}")
            except NO_ANSWER as exc:
                lines.append(f"{daemon.name}: no answer ({exc})")
            lines.append(f"  files: {sorted(tree(daemon.folder))}")
        return "\n".join(lines)

    def stop(self, timeout: float = 10) -> None:
        """Every daemon told to forget the others' addresses, then to stop, all at once, then
        each waited for (killed after ``timeout``).

        Forgotten first: a 1.19 daemon whose connection closes dials that device again at
        once, and a daemon that is stopping may accept that connection after it stopped
        taking new ones from its listener, which then keeps it from exiting for 10 s
        (``tcpListener.serve`` blocked sending to ``conns``)."""
        running = [d for d in self.daemons if d.alive()]
        for daemon in running:
            for other in self.daemons:
                if other is not daemon:
                    with contextlib.suppress(*NO_ANSWER):
                        daemon.learn_address(other, "dynamic")
        for daemon in running:
            with contextlib.suppress(OSError):
                daemon.terminate()
        for daemon in self.daemons:
            daemon.wait_or_kill(timeout)


def tree(folder: Path) -> dict[str, bytes]:
    """The files of a copy of the shared folder, by relative path, but for Syncthing's marker
    and its temp files."""
    files: dict[str, bytes] = {}
    for path in sorted(folder.rglob("*")):
        relative = path.relative_to(folder)
        if relative.parts[0] == MARKER or is_temp(path) or not path.is_file():
            continue
        with contextlib.suppress(FileNotFoundError):  # a file replaced while we read
            files[relative.as_posix()] = path.read_bytes()
    return files


def is_temp(path: Path) -> bool:
    return path.name.startswith(TEMP_PREFIX) and path.name.endswith(TEMP_SUFFIX)


def conflict_copies(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if CONFLICT in p.name)


def temp_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if is_temp(p))


# --- homes and config.xml ------------------------------------------------------------------------


def free_ports(count: int) -> list[int]:
    """``count`` different ports free on 127.0.0.1 (held together while they are picked)."""
    with contextlib.ExitStack() as stack:
        ports = []
        for _ in range(count):
            sock = stack.enter_context(socket.socket(socket.AF_INET, socket.SOCK_STREAM))
            sock.bind(("127.0.0.1", 0))
            ports.append(sock.getsockname()[1])
        return ports


def generate(home: Path) -> str:
    """A new home with its key and config; the device id."""
    subprocess.run([BINARY, "generate", f"--home={home}", "--no-default-folder", "--skip-port-probing"],
                   check=True, capture_output=True, env={**os.environ, "HOME": str(home)}, timeout=60)
    devices = ET.parse(home / "config.xml").getroot().findall("device")
    if len(devices) != 1:
        raise SyncthingError(f"{home}/config.xml: {len(devices)} devices after generate, not 1")
    return devices[0].attrib["id"]


def _set(parent: ET.Element, tag: str, value: str) -> None:
    element = parent.find(tag)
    if element is None:
        element = ET.SubElement(parent, tag)
    element.text = value


def configure(daemon: Daemon, everyone: Sequence[Daemon], rescan_s: int = 2) -> None:
    """Edit the daemon's config.xml: loopback only, nothing leaves the machine, the others
    known by their device ids, the shared folder at ``daemon.folder`` (rescanned every
    ``rescan_s`` seconds, and watched)."""
    path = daemon.home / "config.xml"
    config = ET.parse(path)
    root = config.getroot()
    gui = root.find("gui")
    assert gui is not None, path
    gui.set("enabled", "true")
    gui.set("tls", "false")
    _set(gui, "address", f"127.0.0.1:{daemon.gui_port}")
    _set(gui, "apikey", daemon.api_key)
    options = root.find("options")
    assert options is not None, path
    for tag, value in {
        "listenAddress": daemon.address,
        "globalAnnounceEnabled": "false",
        "globalAnnounceServer": "",
        "localAnnounceEnabled": "false",
        "relaysEnabled": "false",
        "natEnabled": "false",
        "stunKeepaliveStartS": "0",  # 0: no STUN
        "stunServer": "",
        "announceLANAddresses": "false",
        "urAccepted": "-1",  # usage reporting declined
        "urSeen": "999",
        "crashReportingEnabled": "false",
        "autoUpgradeIntervalH": "0",
        "startBrowser": "false",
        "restartOnWakeup": "false",
        "setLowPriority": "false",
        "reconnectionIntervalS": "1",
        "minHomeDiskFree": "0",
        "progressUpdateIntervalS": "-1",
    }.items():
        _set(options, tag, value)
    defaults = root.find("defaults")
    assert defaults is not None, path
    device_template, folder_template = defaults.find("device"), defaults.find("folder")
    assert device_template is not None and folder_template is not None, path
    for old in root.findall("device") + root.findall("folder"):
        root.remove(old)
    position = 0
    folder = copy.deepcopy(folder_template)
    for device in folder.findall("device"):
        folder.remove(device)
    for other in everyone:
        element = copy.deepcopy(device_template)
        element.set("id", other.device_id)
        element.set("name", other.name)
        # no address yet ("dynamic" finds none with discovery off): see the module's docstring
        _set(element, "address", "dynamic")
        root.insert(position, element)
        position += 1
        shared = ET.SubElement(folder, "device", {"id": other.device_id, "introducedBy": ""})
        ET.SubElement(shared, "encryptionPassword")
    folder.attrib.update({"id": daemon.folder_id, "label": daemon.folder_id, "path": str(daemon.folder),
                          "type": "sendreceive", "rescanIntervalS": str(rescan_s), "fsWatcherEnabled": "true",
                          "fsWatcherDelayS": "1"})
    _set(folder, "minDiskFree", "0")
    _set(folder, "pullerPauseS", "1")  # 0 means a minute's pause after a failed pull
    root.insert(position, folder)
    config.write(path, encoding="unicode")


def make(base: Path, folders: Sequence[Path], names: Sequence[str] | None = None,
         folder_id: str = FOLDER_ID) -> Cluster:
    """Homes and configs of ``len(folders)`` daemons under ``base`` (not started)."""
    names = list(names or (f"st{i}" for i in range(len(folders))))
    ports = free_ports(2 * len(folders))
    daemons = []
    for i, (name, folder) in enumerate(zip(names, folders, strict=True)):
        home = base / name
        home.mkdir(parents=True, mode=0o700)
        folder.mkdir(parents=True, exist_ok=True)
        daemons.append(Daemon(name, home, folder, generate(home), ports[2 * i], ports[2 * i + 1],
                              folder_id=folder_id))
    for daemon in daemons:
        configure(daemon, daemons)
    return Cluster(daemons)


@contextlib.contextmanager
def running(base: Path, folders: Sequence[Path], names: Sequence[str] | None = None,
            timeout: float = 30) -> Iterator[Cluster]:
    """The daemons of :func:`make`, started, answering and connected; stopped on the way out."""
    cluster = make(base, folders, names)
    try:
        for daemon in cluster:
            daemon.start()
        cluster.wait_until("the REST APIs to answer", lambda: all(d.answers() for d in cluster), timeout)
        cluster.wait_until("the daemons to listen", lambda: all(d.listening() for d in cluster), timeout)
        pairs = list(itertools.combinations(cluster.daemons, 2))
        for first, second in pairs:
            first.learn_address(second)  # first dials second now
        cluster.wait_until("the daemons to connect",
                           lambda: all(a.connected(b) and b.connected(a) for a, b in pairs), timeout)
        for first, second in pairs:
            second.learn_address(first)  # connected already: no second dial
        cluster.wait_in_sync(timeout)
        yield cluster
    finally:
        cluster.stop()
