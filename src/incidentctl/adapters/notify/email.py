"""Email over SMTP with the standard library: STARTTLS with the server's certificate verified, login when the
runbook names a user, one message per delivery.

SMTP gives no way to ask whether a message already arrived, so this channel cannot tell (``can_tell`` False):
a sender that stopped between handing the message over and recording it leaves it in doubt, and it goes out
again only with ``communicate flush --resend``. Email is at most once unless a person decides otherwise. The
``Message-ID`` is derived from the message's idempotency key, so a mail system or a reader can still spot a
second copy.

What the server answers decides the retry: a 4xx reply, a dropped connection or a timeout may pass (retried); a
5xx reply (550 mailbox unavailable) will not; a refused login or a missing STARTTLS is the runbook's to fix.
"""

from __future__ import annotations

import email.utils
import smtplib
import ssl
from collections.abc import Sequence
from datetime import datetime
from email.message import EmailMessage
from typing import TYPE_CHECKING

from incidentctl.adapters.notify.base import DeliveryError, Outgoing, Receipt
from incidentctl.core.text import one_line

if TYPE_CHECKING:
    from pathlib import Path

    from incidentctl.adapters.notify.channels import ChannelDeps
    from incidentctl.runbook.model import EmailChannel


def mail_message(message: Outgoing, *, sender: str, to: Sequence[str], now: datetime) -> EmailMessage:
    """The message as an RFC 5322 email. The subject is user text (the incident's title): every control
    character and line break in it is neutralised (:func:`one_line`), so a title cannot forge a header."""
    mail = EmailMessage()
    mail["From"] = sender
    mail["To"] = ", ".join(to)
    mail["Subject"] = one_line(message.subject or message.title)
    mail["Date"] = email.utils.format_datetime(now)
    mail["Message-ID"] = message_id(message.key, sender)
    mail["X-Incident"] = one_line(message.incident_id)
    mail.set_content(message.text, charset="utf-8")
    return mail


def message_id(key: str, sender: str) -> str:
    """``<INC-2026-004.initial-1.email@sarvanom.com>``: the same key always gives the same id."""
    local = "".join(c if c.isascii() and (c.isalnum() or c in "-_") else "." for c in key)
    domain = sender.rpartition("@")[2].strip("<> ") or "incidentctl.invalid"
    domain = "".join(c for c in domain if c.isascii() and (c.isalnum() or c in "-.")) or "incidentctl.invalid"
    return f"<{local}@{domain}>"


class EmailDelivery:
    can_tell = False

    def __init__(self, config: EmailChannel, deps: ChannelDeps) -> None:
        self._deps = deps
        self._config = config
        smtp = config.smtp
        self._username = deps.secrets.resolve(smtp.username) if smtp.username is not None else None
        self._password = deps.secrets.resolve(smtp.password) if smtp.password is not None else None

    def send(self, message: Outgoing) -> Receipt:
        config = self._config
        mail = mail_message(message, sender=config.sender, to=config.to, now=self._deps.clock())
        where = f"email {self._deps.name} ({config.smtp.host}:{config.smtp.port})"
        try:
            with smtplib.SMTP(config.smtp.host, config.smtp.port, timeout=self._deps.timeout) as server:
                if config.smtp.starttls:
                    server.starttls(context=tls_context(self._deps.ca_file))
                if self._username is not None and self._password is not None:
                    server.login(self._username, self._password)
                refused = server.send_message(mail, from_addr=config.sender, to_addrs=list(config.to))
        except smtplib.SMTPNotSupportedError as e:
            raise DeliveryError(f"{where}: the server does not offer STARTTLS", reason="config") from e
        except smtplib.SMTPAuthenticationError as e:
            raise DeliveryError(f"{where}: login refused ({_reply(e.smtp_code, e.smtp_error)})", reason="config") from e
        except smtplib.SMTPRecipientsRefused as e:
            replies = list(e.recipients.values())
            code = min((c for c, _ in replies), default=550)
            text = "; ".join(f"{to}: {_reply(c, m)}" for to, (c, m) in e.recipients.items())
            raise _by_code(f"{where}: every recipient refused ({text})", code) from e
        except smtplib.SMTPResponseException as e:
            raise _by_code(f"{where}: {_reply(e.smtp_code, e.smtp_error)}", e.smtp_code) from e
        except smtplib.SMTPServerDisconnected as e:
            raise DeliveryError(f"{where}: the server closed the connection", reason="connection") from e
        except smtplib.SMTPException as e:  # no login method in common, and the like: not a passing trouble
            raise DeliveryError(f"{where}: {one_line(str(e))}", reason="config") from e
        except ssl.SSLCertVerificationError as e:
            raise DeliveryError(
                f"{where}: the server's certificate is not trusted ({e.verify_message})", reason="config"
            ) from e
        except ssl.SSLError as e:
            raise DeliveryError(f"{where}: TLS failed ({e.reason or type(e).__name__})", reason="connection") from e
        except TimeoutError as e:
            raise DeliveryError(f"{where}: no answer within {self._deps.timeout:g}s", reason="timeout") from e
        except OSError as e:  # refused, unreachable, no such host
            raise DeliveryError(
                f"{where}: cannot connect ({e.strerror or type(e).__name__})", reason="connection"
            ) from e
        receipt = {"message_id": str(mail["Message-ID"]), "to": ", ".join(a for a in config.to if a not in refused)}
        if refused:
            receipt["refused"] = "; ".join(f"{to}: {_reply(c, m)}" for to, (c, m) in refused.items())
        return receipt

    def find(self, message: Outgoing) -> Receipt | None:
        return None


def tls_context(ca_file: Path | None) -> ssl.SSLContext:
    """The system's trusted certificates plus the runbook's ``tls.ca_file``; the host name is always checked."""
    context = ssl.create_default_context()
    if ca_file is not None:
        try:
            context.load_verify_locations(cafile=str(ca_file))
        except (OSError, ssl.SSLError) as e:
            raise DeliveryError(f"runbook tls.ca_file {ca_file}: cannot be used ({e})", reason="config") from e
    return context


def _by_code(text: str, code: int) -> DeliveryError:
    """4xx: the server asks to try later; 5xx: it will not take this message."""
    return DeliveryError(text, reason="server" if 400 <= code < 500 else "client", status=code)


def _reply(code: int, text: bytes | str) -> str:
    words = text.decode("utf-8", "replace") if isinstance(text, bytes) else str(text)
    return one_line(f"{code} {words}".strip())[:200]
