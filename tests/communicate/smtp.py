"""A real SMTP server on loopback for the email tests (aiosmtpd), recording what it received.

``SmtpServer(tls=True)`` offers STARTTLS with a certificate from a private CA (trustme) whose PEM is at
``ca_pem``; ``users`` turns on AUTH LOGIN/PLAIN, allowed only after STARTTLS as real servers do. ``reply_to_rcpt``
makes the server answer every recipient with a reply of its choosing (``550 5.1.1 ...``). ``stop()`` and
``start()`` take it away and bring it back on the same port.
"""

from __future__ import annotations

import socket
import ssl
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import trustme
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword


@dataclass
class Received:
    mail_from: str
    rcpt_tos: list[str]
    data: bytes
    login: str | None

    @property
    def message(self) -> EmailMessage:
        parsed = message_from_bytes(self.data, policy=policy.default)
        assert isinstance(parsed, EmailMessage)
        return parsed


@dataclass
class _Handler:
    received: list[Received] = field(default_factory=list)
    reply_to_rcpt: str | None = None

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str, options: Any) -> str:
        if self.reply_to_rcpt is not None:
            return self.reply_to_rcpt
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        login = session.auth_data if isinstance(session.auth_data, str) else None
        content = envelope.original_content or envelope.content
        self.received.append(Received(envelope.mail_from, list(envelope.rcpt_tos), bytes(content), login))
        return "250 Message accepted for delivery"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


class SmtpServer:
    def __init__(self, root: Path, *, tls: bool = False, users: dict[str, str] | None = None) -> None:
        self.port = free_port()
        self.users = users or {}
        self.handler = _Handler()
        self.tls_context: ssl.SSLContext | None = None
        self.ca_pem = root / "smtp-ca.pem"
        if tls:
            ca = trustme.CA()
            ca.cert_pem.write_to_path(str(self.ca_pem))
            self.tls_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            ca.issue_cert("127.0.0.1", "localhost").configure_cert(self.tls_context)
        self._controller: Controller | None = None

    @property
    def received(self) -> list[Received]:
        return self.handler.received

    def _authenticate(self, server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any) -> AuthResult:
        if not isinstance(auth_data, LoginPassword):
            return AuthResult(success=False, handled=False)
        login, password = auth_data.login.decode(), auth_data.password.decode()
        if self.users.get(login) != password:
            return AuthResult(success=False, handled=False)  # the server answers 535
        return AuthResult(success=True, auth_data=login)

    def start(self) -> None:
        kwargs: dict[str, Any] = {}
        if self.tls_context is not None:
            kwargs.update(tls_context=self.tls_context, require_starttls=True)
        if self.users:
            kwargs.update(authenticator=self._authenticate, auth_required=True, auth_require_tls=True)
        self._controller = Controller(self.handler, hostname="127.0.0.1", port=self.port, **kwargs)
        self._controller.start()

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None
