"""A self-signed certificate for serving the sandbox over HTTPS.

Over TLS kubectl sends the kubeconfig's bearer token (it never does over plain HTTP), so a TLS sandbox can check
it like an API server does: a missing or wrong token is a 401. The certificate is made with the ``openssl``
command (present on Debian, macOS and most CI images); without it, TLS is unavailable and the error says so.
"""

from __future__ import annotations

import shutil
import ssl
import subprocess
from pathlib import Path


class TlsUnavailable(RuntimeError):
    """No way to make a certificate here."""


def make_certificate(directory: Path, host: str = "127.0.0.1") -> tuple[Path, Path]:
    """Write ``sandbox.crt`` (self-signed, valid for ``host`` and localhost) and ``sandbox.key``."""
    openssl = shutil.which("openssl")
    if openssl is None:
        raise TlsUnavailable("TLS needs the openssl command to make a certificate; it is not installed")
    directory.mkdir(parents=True, exist_ok=True)
    cert, key = directory / "sandbox.crt", directory / "sandbox.key"
    san = f"IP:{host},DNS:localhost" if host.replace(".", "").isdigit() else f"DNS:{host},DNS:localhost"
    result = subprocess.run(
        [
            openssl,
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
            "-keyout",
            str(key),
            "-out",
            str(cert),
            "-days",
            "30",
            "-subj",
            "/CN=sarvanom-sandbox",
            "-addext",
            f"subjectAltName={san}",
            "-addext",
            "basicConstraints=critical,CA:TRUE",
            "-addext",
            "keyUsage=critical,digitalSignature,keyCertSign",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise TlsUnavailable(f"openssl could not make a certificate: {result.stderr.strip()}")
    key.chmod(0o600)
    return cert, key


def server_context(cert: Path, key: Path) -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.load_cert_chain(str(cert), str(key))
    return context
