"""Real mail servers for the email tests and the benchmark: Dovecot (IMAP) and aiosmtpd (SMTP),
plus a TCP proxy that cuts an IMAP connection at a chosen moment.

With `oauth2_introspection_url`, Dovecot also accepts SASL XOAUTH2 and OAUTHBEARER through its
`oauth2` passdb, which asks that URL (the local token service) whether a token is active and whose
it is; `OAuth2SmtpServer` does the same for SMTP with an XOAUTH2 authenticator.

Dovecot runs from a configuration written here, on a free loopback port, as a subprocess
(`dovecot -c <conf> -F`). As root it drops privileges the way Dovecot insists on (login processes as
`dovenull`, mail as `dovecot`); as an ordinary user it runs everything as that user.
"""

from __future__ import annotations

import base64
import collections
import contextlib
import grp
import json
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import MISSING, SMTP, AuthResult
from imapclient import IMAPClient

PASSWORD = "intake-test-password"
USERS = ("intake", "repairs")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def find_dovecot() -> str | None:
    found = shutil.which("dovecot")
    if found:
        return found
    return "/usr/sbin/dovecot" if os.access("/usr/sbin/dovecot", os.X_OK) else None


class DovecotServer:
    host = "127.0.0.1"
    password = PASSWORD

    def __init__(
        self, binary: str, users: tuple[str, ...] = USERS, *, oauth2_introspection_url: str | None = None
    ) -> None:
        self.binary = binary
        self.users = users
        self.oauth2_introspection_url = oauth2_introspection_url
        self.user = users[0]
        self.port = free_port()
        self.root = Path(tempfile.mkdtemp(prefix="intake-dovecot-"))
        self.process: subprocess.Popen[bytes] | None = None

    # --- lifecycle ---------------------------------------------------------------------------

    def start(self) -> None:
        os.chmod(self.root, 0o755)  # the mail processes run as another user and must reach their homes
        mail_uid, mail_gid, login_user, internal_user = self._accounts()
        mail = self.root / "mail"
        mail.mkdir()
        for user in self.users:
            (mail / user).mkdir()
        if os.geteuid() == 0:
            for path in [mail, *mail.iterdir()]:
                os.chown(path, mail_uid, mail_gid)
        (self.root / "passwd").write_text(
            "".join(
                f"{user}:{{PLAIN}}{PASSWORD}:{mail_uid}:{mail_gid}::{mail / user}::\n" for user in self.users
            )
        )
        (self.root / "dovecot.conf").write_text(self._config(login_user, internal_user))
        if self.oauth2_introspection_url:
            (self.root / "dovecot-oauth2.conf.ext").write_text(
                "# Dovecot asks the token service about each token (RFC 7662 style, token as Bearer).\n"
                "introspection_mode = auth\n"
                f"introspection_url = {self.oauth2_introspection_url}\n"
                "username_attribute = username\n"
                "active_attribute = active\n"
                "active_value = true\n"
            )
        # Dovecot writes to its own copy of the descriptor; ours is closed as soon as it has started.
        with open(self.root / "dovecot.out", "wb") as log:
            self.process = subprocess.Popen(
                [self.binary, "-c", str(self.root / "dovecot.conf"), "-F"], stdout=log, stderr=subprocess.STDOUT
            )
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"dovecot exited at start:\n{self.log()}")
            with contextlib.suppress(OSError), socket.create_connection((self.host, self.port), timeout=0.5):
                return
            time.sleep(0.05)
        raise RuntimeError(f"dovecot did not listen on port {self.port}:\n{self.log()}")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        self.process = None
        shutil.rmtree(self.root, ignore_errors=True)

    def log(self) -> str:
        parts = []
        for name in ("dovecot.out", "dovecot.log"):
            path = self.root / name
            if path.exists():
                parts.append(path.read_text(errors="replace")[-4000:])
        return "\n".join(parts)

    def _accounts(self) -> tuple[int, int, str, str]:
        if os.geteuid() == 0:
            dovecot = pwd.getpwnam("dovecot")
            return dovecot.pw_uid, dovecot.pw_gid, "dovenull", "dovecot"
        me = pwd.getpwuid(os.geteuid())
        return me.pw_uid, grp.getgrgid(os.getegid()).gr_gid, me.pw_name, me.pw_name

    def _config(self, login_user: str, internal_user: str) -> str:
        root = self.root
        rootless = os.geteuid() != 0
        no_chroot = "  chroot =\n" if rootless else ""
        return f"""# Written by tests/channels/mail_servers.py for one test run.
protocols = imap
listen = {self.host}
base_dir = {root}/run
state_dir = {root}/state
log_path = {root}/dovecot.log
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login{" xoauth2 oauthbearer" if self.oauth2_introspection_url else ""}
default_login_user = {login_user}
default_internal_user = {internal_user}
first_valid_uid = 1
first_valid_gid = 1
mail_location = maildir:~/Maildir
mail_max_userip_connections = 200
{self._oauth2_passdb()}passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {root}/passwd
}}
userdb {{
  driver = passwd-file
  args = username_format=%u {root}/passwd
}}
service imap-login {{
  inet_listener imap {{
    address = {self.host}
    port = {self.port}
  }}
  inet_listener imaps {{
    port = 0
  }}
{no_chroot}}}
service anvil {{
{no_chroot}{self._no_auth_penalty()}}}
"""

    def _oauth2_passdb(self) -> str:
        if not self.oauth2_introspection_url:
            return ""
        # Before the passwd-file passdb, for the token mechanisms only. A refused token is answered
        # at once (no failure delay), so the tests' refresh-and-retry does not wait.
        return (
            "auth_failure_delay = 0\n"

            "passdb {\n"
            "  driver = oauth2\n"
            "  mechanisms = xoauth2 oauthbearer\n"
            f"  args = {self.root}/dovecot-oauth2.conf.ext\n"
            "}\n"
        )

    def _no_auth_penalty(self) -> str:
        # Dovecot delays every sign-in from an address after a failure (2, 4, 8 … 15 s). The OAuth2
        # tests refuse tokens on purpose, many times, from loopback: switch the penalty off there.
        if not self.oauth2_introspection_url:
            return ""
        return "  unix_listener anvil-auth-penalty {\n    mode = 0\n  }\n"

    # --- helpers for tests -------------------------------------------------------------------

    def connect(self, user: str | None = None) -> IMAPClient:
        client = IMAPClient(self.host, port=self.port, ssl=False, timeout=30)
        client.login(user or self.user, PASSWORD)
        return client

    @contextlib.contextmanager
    def session(self, user: str | None = None) -> Iterator[IMAPClient]:
        client = self.connect(user)
        try:
            yield client
        finally:
            with contextlib.suppress(Exception):
                client.logout()


@dataclass
class ReceivedMail:
    mail_from: str
    recipients: list[str]
    content: bytes


@dataclass
class SmtpCapture:
    """An aiosmtpd handler that keeps what arrives and can refuse the next recipients on request."""

    received: list[ReceivedMail] = field(default_factory=list)
    rcpt_replies: list[str] = field(default_factory=list)  # e.g. "451 4.3.0 try later", used in order

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # type: ignore[no-untyped-def]
        if self.rcpt_replies:
            return self.rcpt_replies.pop(0)
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # type: ignore[no-untyped-def]
        self.received.append(
            ReceivedMail(envelope.mail_from, list(envelope.rcpt_tos), bytes(envelope.content))
        )
        return "250 Message accepted for delivery"


class SmtpServer:
    host = "127.0.0.1"

    def __init__(self) -> None:
        self.handler = SmtpCapture()
        self.port = free_port()
        self.controller = Controller(self.handler, hostname=self.host, port=self.port)

    @property
    def received(self) -> list[ReceivedMail]:
        return self.handler.received

    def refuse_next(self, *replies: str) -> None:
        self.handler.rcpt_replies.extend(replies)

    def start(self) -> None:
        self.controller.start()

    def stop(self) -> None:
        self.controller.stop()


class XOAuth2Capture(SmtpCapture):
    """SmtpCapture that signs senders in with SASL XOAUTH2, asking `check_token(user, token)`
    (the token service, as Exchange asks Entra ID) whether the token may send as `user`."""

    def __init__(self, check_token: Callable[[str, str], bool]) -> None:
        super().__init__()
        self.check_token = check_token
        self.logins: list[str] = []  # users signed in, in order
        self.refusals = 0

    async def auth_XOAUTH2(self, server: Any, args: list[str]) -> AuthResult:  # noqa: N802 - aiosmtpd's hook name
        if len(args) == 2:
            blob = base64.b64decode(args[1])
        else:
            answer = await server.challenge_auth("")
            if answer is MISSING:
                return AuthResult(success=False, handled=True)
            blob = bytes(answer)
        fields = dict(part.split("=", 1) for part in blob.decode().split("\x01") if "=" in part)
        user, token = fields.get("user", ""), fields.get("auth", "").removeprefix("Bearer ")
        if user and token and self.check_token(user, token):
            self.logins.append(user)
            return AuthResult(success=True, auth_data=user)
        self.refusals += 1
        # As Exchange and Gmail do: an error description as a challenge, then 535 after the empty reply.
        await server.challenge_auth(json.dumps({"status": "401", "schemes": "bearer"}))
        return AuthResult(success=False, handled=False, message="535 5.7.3 Authentication unsuccessful")


class _LongLineSMTP(SMTP):
    # An `AUTH XOAUTH2 <initial response>` line carries a whole access token (1–3 KB from Entra ID);
    # Exchange takes it, aiosmtpd's defaults (512-byte commands) would not.
    command_size_limit = 16384
    command_size_limits: dict[str, int] = collections.defaultdict(lambda: 16384)
    line_length_limit = 16384


class _LongLineController(Controller):
    def factory(self) -> SMTP:
        return _LongLineSMTP(self.handler, **self.SMTP_kwargs)


class OAuth2SmtpServer(SmtpServer):
    """aiosmtpd accepting only XOAUTH2 sign-ins (over plain TCP on loopback, for the tests)."""

    def __init__(self, check_token: Callable[[str, str], bool]) -> None:
        self.handler = XOAuth2Capture(check_token)
        self.port = free_port()
        self.controller = _LongLineController(
            self.handler,
            hostname=self.host,
            port=self.port,
            auth_require_tls=False,  # loopback in tests; Exchange requires STARTTLS first
            auth_exclude_mechanism=["LOGIN", "PLAIN"],
        )

    @property
    def logins(self) -> list[str]:
        return self.handler.logins


class CuttingProxy:
    """A loopback TCP proxy in front of Dovecot that breaks the connection at a chosen moment.

    Once the client sends a command containing `trigger`, the proxy lets `after_bytes` more bytes
    of the server's answer through and then closes both sides — mid-FETCH with a trigger of
    b"BODY.PEEK[]"; with `after_bytes=0` the triggering command never reaches the server (a crash
    just before, say, the STORE that marks messages \\Seen). It cuts `cuts` connections, then
    forwards faithfully.
    """

    host = "127.0.0.1"

    def __init__(self, target_port: int, *, trigger: bytes, after_bytes: int = 0, cuts: int = 1) -> None:
        self.target_port = target_port
        self.trigger = trigger
        self.after_bytes = after_bytes
        self.cuts_left = cuts
        self.cut_count = 0
        self._listener = socket.create_server((self.host, 0))
        self.port = int(self._listener.getsockname()[1])
        self._lock = threading.Lock()
        self._stopped = False
        threading.Thread(target=self._accept, daemon=True, name="cutting-proxy").start()

    def close(self) -> None:
        self._stopped = True
        with contextlib.suppress(OSError):
            self._listener.close()

    def _accept(self) -> None:
        while not self._stopped:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            server = socket.create_connection((self.host, self.target_port))
            connection = _ProxiedConnection(self, client, server)
            threading.Thread(target=connection.client_to_server, daemon=True).start()
            threading.Thread(target=connection.server_to_client, daemon=True).start()

    def _take_cut(self) -> bool:
        with self._lock:
            if self.cuts_left <= 0:
                return False
            self.cuts_left -= 1
            self.cut_count += 1
            return True


class _ProxiedConnection:
    def __init__(self, proxy: CuttingProxy, client: socket.socket, server: socket.socket) -> None:
        self.proxy = proxy
        self.client = client
        self.server = server
        self.armed = False
        self.passed = 0
        self.closed = False

    def cut(self) -> None:
        self.closed = True
        for sock in (self.client, self.server):
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            with contextlib.suppress(OSError):
                sock.close()

    def client_to_server(self) -> None:
        while not self.closed:
            try:
                data = self.client.recv(65536)
            except OSError:
                break
            if not data:
                break
            if not self.armed and self.proxy.trigger in data and self.proxy._take_cut():
                self.armed = True
                if self.proxy.after_bytes <= 0:
                    self.cut()
                    return
            try:
                self.server.sendall(data)
            except OSError:
                break
        self.cut()

    def server_to_client(self) -> None:
        while not self.closed:
            try:
                data = self.server.recv(65536)
            except OSError:
                break
            if not data:
                break
            if self.armed:
                room = self.proxy.after_bytes - self.passed
                if len(data) >= room:
                    with contextlib.suppress(OSError):
                        self.client.sendall(data[: max(room, 0)])
                    self.cut()
                    return
                self.passed += len(data)
            try:
                self.client.sendall(data)
            except OSError:
                break
        self.cut()
