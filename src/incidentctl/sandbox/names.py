"""Generated names and hashes the way Kubernetes makes them (``gateway-7d9f8c6b5d-x2k4p``)."""

from __future__ import annotations

import hashlib
import json
import random
from typing import Any

#: the alphabet of ``rand.String`` and ``SafeEncodeString``: no vowels, no 0/1/3 (no accidental words)
ALPHABET = "bcdfghjklmnpqrstvwxz2456789"

_rng = random.Random(20250909)


def seed(value: int) -> None:
    """Make generated names reproducible (tests and benchmarks seed it)."""
    _rng.seed(value)


def random_suffix(length: int = 5) -> str:
    return "".join(_rng.choice(ALPHABET) for _ in range(length))


def new_uid() -> str:
    import uuid

    return str(uuid.UUID(int=_rng.getrandbits(128), version=4))


def template_hash(template: Any) -> str:
    """The ``pod-template-hash`` of a pod template: stable for equal templates, like the controller's."""
    canonical = json.dumps(template, sort_keys=True, separators=(",", ":")).encode()
    number = int.from_bytes(hashlib.sha256(canonical).digest()[:8], "big")
    out = []
    for _ in range(10):
        number, rem = divmod(number, len(ALPHABET))
        out.append(ALPHABET[rem])
    return "".join(out)
