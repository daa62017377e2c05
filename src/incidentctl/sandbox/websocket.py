"""The server side of RFC 6455, as much as ``kubectl exec`` and ``kubernetes.stream`` need: the handshake,
unmasked binary frames out, masked frames in, and a clean close."""

from __future__ import annotations

import base64
import hashlib
import struct
from typing import BinaryIO

GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
OP_TEXT, OP_BINARY, OP_CLOSE, OP_PING, OP_PONG = 0x1, 0x2, 0x8, 0x9, 0xA
#: channel protocols of the Kubernetes remote command API, best first
PROTOCOLS = ("v5.channel.k8s.io", "v4.channel.k8s.io")


def accept_key(key: str) -> str:
    return base64.b64encode(hashlib.sha1((key + GUID).encode()).digest()).decode()


def choose_protocol(offered: str) -> str | None:
    wanted = [p.strip() for p in offered.split(",") if p.strip()]
    for protocol in PROTOCOLS:
        if protocol in wanted:
            return protocol
    return None


def frame(opcode: int, payload: bytes) -> bytes:
    head = bytes([0x80 | opcode])
    length = len(payload)
    if length < 126:
        head += bytes([length])
    elif length < 1 << 16:
        head += bytes([126]) + struct.pack(">H", length)
    else:
        head += bytes([127]) + struct.pack(">Q", length)
    return head + payload


def read_frame(stream: BinaryIO) -> tuple[int, bytes] | None:
    """One frame from the client (clients always mask); None when the connection closed."""
    head = stream.read(2)
    if len(head) < 2:
        return None
    opcode = head[0] & 0x0F
    masked = head[1] & 0x80
    length = head[1] & 0x7F
    if length == 126:
        length = struct.unpack(">H", stream.read(2))[0]
    elif length == 127:
        length = struct.unpack(">Q", stream.read(8))[0]
    mask = stream.read(4) if masked else b""
    payload = stream.read(length)
    if masked:
        payload = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
    return opcode, payload


def close_frame(code: int = 1000, reason: str = "") -> bytes:
    return frame(OP_CLOSE, struct.pack(">H", code) + reason.encode())
