"""The fault campaign's rig: private servers (PostgreSQL, Redis, Dovecot, an SMTP sink that misbehaves
on cue), a supervisor that restarts our processes like systemd, and finding a worker's work horses.

Used by bench/faults.py; nothing here touches a shared server: every port is free, every file in a temp dir.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from aiosmtpd.controller import Controller  # noqa: F401  (re-exported for the campaign)
from sqlalchemy import create_engine, text

from tests.channels.mail_servers import DovecotServer, ReceivedMail, free_port

REPO = Path(__file__).resolve().parent.parent


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def wait_until(condition: Callable[[], object], what: str, ceiling: float) -> float:
    """Seconds until `condition` held; raises after `ceiling` seconds (a ceiling, not an estimate)."""
    started = time.monotonic()
    while time.monotonic() - started < ceiling:
        with contextlib.suppress(Exception):
            if condition():
                return time.monotonic() - started
        time.sleep(0.2)
    raise TimeoutError(f"{what}: not within {ceiling:.0f} s")


# --- private servers -----------------------------------------------------------------------------


class PrivatePostgres:
    """A throw-away cluster of our own: initdb into the temp dir, pg_ctl on a free port."""

    def __init__(self, root: Path) -> None:
        self.root = root / "pg"
        self.data = self.root / "data"
        self.port = free_port()
        self.bin = sorted(Path("/usr/lib/postgresql").glob("*/bin"))[-1]

    def _run(self, *command: str) -> None:
        prefix = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        subprocess.run([*prefix, *command], check=True, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)

    def init(self) -> None:
        self.root.mkdir(parents=True)
        if os.geteuid() == 0:
            shutil.chown(self.root, "postgres", "postgres")
        self._run(str(self.bin / "initdb"), "-D", str(self.data), "-U", "postgres", "--auth=trust",
                  "-E", "UTF8", "--no-sync")
        self.start()
        admin = create_engine(self.url("postgres"), isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.execute(text("CREATE DATABASE intake"))
        admin.dispose()

    def start(self) -> None:
        options = (f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.root} -c fsync=off "
                   "-c max_connections=300 -c full_page_writes=off")
        self._run(str(self.bin / "pg_ctl"), "-D", str(self.data), "-l", str(self.root / "log"), "-o", options,
                  "-w", "-t", "300", "start")

    def stop(self, mode: str = "immediate") -> None:
        with contextlib.suppress(subprocess.CalledProcessError):
            self._run(str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", mode, "-w", "-t", "300", "stop")

    def url(self, database: str = "intake") -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{database}"


class PrivateRedis:
    """A redis-server of our own that keeps nothing on disk: a restart comes back empty."""

    def __init__(self, root: Path) -> None:
        self.root = root / "redis"
        self.root.mkdir()
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
             "--dir", str(self.root)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        wait_until(lambda: socket.create_connection(("127.0.0.1", self.port), timeout=1).close() or True,
                   "redis listens", 60)

    def kill(self) -> None:
        if self.process is not None:
            self.process.kill()
            self.process.wait(timeout=60)

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"


@dataclass
class FaultySmtpHandler:
    """An SMTP sink that can refuse (4xx) or take a message and then drop the connection unanswered."""

    received: list[ReceivedMail] = field(default_factory=list)
    refusals: int = 0
    drops: int = 0

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # type: ignore[no-untyped-def]
        if self.refusals > 0:
            self.refusals -= 1
            return "451 4.3.0 try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # type: ignore[no-untyped-def]
        self.received.append(ReceivedMail(envelope.mail_from, list(envelope.rcpt_tos), bytes(envelope.content)))
        if self.drops > 0:  # accepted, delivered, but the client never hears so
            self.drops -= 1
            server.transport.close()
        return "250 Message accepted for delivery"


class Dovecot(DovecotServer):
    """The test Dovecot, plus a restart that keeps the mail (SIGKILL, then start the same config)."""

    def restart(self) -> None:
        assert self.process is not None
        # SIGKILL the master and every child it left (imap, auth, login processes hold the port).
        for pid in [*descendants(self.process.pid), self.process.pid]:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        self.process.wait(timeout=60)
        wait_until(lambda: not _listening(self.host, self.port), "dovecot's port is free", 60)
        for _ in range(3):  # a child that outlived its master can leave its socket: clear it and retry
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(self.process.pid, signal.SIGKILL)
            for stale in (self.root / "run").glob("*") if (self.root / "run").exists() else []:
                with contextlib.suppress(OSError):
                    if stale.is_socket():
                        stale.unlink()
            # The child writes to its own copy of the descriptor: ours is closed at once.
            with open(self.root / "dovecot.out", "ab") as log_file:
                self.process = subprocess.Popen([self.binary, "-c", str(self.root / "dovecot.conf"), "-F"],
                                                stdout=log_file, stderr=subprocess.STDOUT, start_new_session=True)
            with contextlib.suppress(TimeoutError):
                wait_until(lambda: self.process.poll() is None and _listening(self.host, self.port),
                           "dovecot listens", 60)
                return
        raise RuntimeError(f"dovecot did not come back:\n{self.log()}")


def _listening(host: str, port: int) -> bool:
    try:
        socket.create_connection((host, port), timeout=1).close()
    except OSError:
        return False
    return True


# --- our processes, supervised -------------------------------------------------------------------


class Supervisor:
    """Starts our processes (each in its own process group) and restarts any that dies after 1 s."""

    def __init__(self, env: dict[str, str], logs: Path) -> None:
        self.env = env
        self.logs = logs
        self.commands: dict[str, list[str]] = {}
        self.processes: dict[str, subprocess.Popen[bytes]] = {}
        self.restarts: Counter[str] = Counter()
        self._stop = threading.Event()
        self._lock = threading.Lock()

    def add(self, name: str, *args: str) -> None:
        self.commands[name] = [sys.executable, "-m", "intake", *args]
        self._start(name)

    def _start(self, name: str) -> None:
        with open(self.logs / f"{name}.log", "ab") as out:  # the child keeps its own copy
            self.processes[name] = subprocess.Popen(self.commands[name], env=self.env, stdout=out,
                                                    stderr=subprocess.STDOUT, start_new_session=True, cwd=REPO)

    def run(self) -> None:
        threading.Thread(target=self._watch, daemon=True, name="supervisor").start()

    def _watch(self) -> None:
        while not self._stop.wait(0.5):
            with self._lock:
                for name, process in list(self.processes.items()):
                    if process.poll() is not None:
                        with contextlib.suppress(ProcessLookupError):
                            os.killpg(process.pid, signal.SIGKILL)  # what it left behind (a horse)
                        time.sleep(1.0)
                        self.restarts[name] += 1
                        self._start(name)

    def kill(self, name: str, *, group: bool = True) -> None:
        process = self.processes[name]
        with contextlib.suppress(ProcessLookupError):
            if group:
                os.killpg(process.pid, signal.SIGKILL)
            else:
                os.kill(process.pid, signal.SIGKILL)

    def stop(self) -> None:
        self._stop.set()
        with self._lock:
            for process in self.processes.values():
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGKILL)
                with contextlib.suppress(Exception):
                    process.wait(timeout=60)


def descendants(pid: int) -> list[int]:
    children: dict[int, list[int]] = defaultdict(list)
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError, ValueError, IndexError):
            children[int(stat.read_text().rsplit(")", 1)[1].split()[1])].append(int(stat.parent.name))
    out, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            out.append(child)
            todo.append(child)
    return out


def pids_connected_to(port: int, pids: list[int]) -> list[int]:
    """Those of `pids` holding a TCP connection to local `port` (a work horse talks to PostgreSQL)."""
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with contextlib.suppress(OSError):
            for line in Path(table).read_text().splitlines()[1:]:
                fields = line.split()
                if int(fields[2].rsplit(":", 1)[1], 16) == port:
                    inodes.add(fields[9])
    found = []
    for pid in pids:
        with contextlib.suppress(OSError):
            if any(os.readlink(fd)[8:-1] in inodes for fd in Path(f"/proc/{pid}/fd").iterdir()
                   if os.readlink(fd).startswith("socket:[")):
                found.append(pid)
    return found
