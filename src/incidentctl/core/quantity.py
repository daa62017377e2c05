"""Kubernetes resource quantities (``500m``, ``512Mi``, ``1.5Gi``, ``129e6``, ``5012345n``) read exactly.

The grammar is apimachinery's ``resource.Quantity``::

    quantity ::= sign? number suffix
    number   ::= digits | digits "." digits? | "." digits
    suffix   ::= "" | n | u | m | k | M | G | T | P | E          (decimal SI)
               | Ki | Mi | Gi | Ti | Pi | Ei                     (binary SI)
               | (e | E) sign? digits                            (decimal exponent)

Values are :class:`~decimal.Decimal`, never floats: ``kubectl top`` compares ``1023Mi`` with a ``1Gi`` limit, and
a float would turn a 99.9 % into 100 %. The official client has ``kubernetes.utils.parse_quantity``, but core may
not import kubernetes (and importing it costs a third of a second), and it accepts what the API server refuses:
``NaN``, ``inf``, ``1 Gi``, ``1e3Mi``, full-width digits and ``1e99999999`` all come back as numbers from it. The
sandbox's own ``quantity`` reads floats for its scheduler and is not importable here. This parser follows the API
server's grammar and refuses anything else with one line that says what was wrong.
"""

from __future__ import annotations

import math
import re
from decimal import Decimal, InvalidOperation

#: The multiplier of each suffix.
SUFFIXES: dict[str, Decimal] = {
    "n": Decimal("1e-9"),
    "u": Decimal("1e-6"),
    "m": Decimal("1e-3"),
    "": Decimal(1),
    "k": Decimal(10) ** 3,
    "M": Decimal(10) ** 6,
    "G": Decimal(10) ** 9,
    "T": Decimal(10) ** 12,
    "P": Decimal(10) ** 15,
    "E": Decimal(10) ** 18,
    "Ki": Decimal(2) ** 10,
    "Mi": Decimal(2) ** 20,
    "Gi": Decimal(2) ** 30,
    "Ti": Decimal(2) ** 40,
    "Pi": Decimal(2) ** 50,
    "Ei": Decimal(2) ** 60,
}

_QUANTITY = re.compile(
    r"(?P<sign>[+-]?)(?P<number>\d+(?:\.\d*)?|\.\d+)"
    r"(?:(?P<exp>[eE][+-]?\d+)|(?P<suffix>Ki|Mi|Gi|Ti|Pi|Ei|[numkMGTPE]?))",
    re.ASCII,  # ASCII digits only: Python's \d takes any script's digits, the API server does not
)

#: The API server keeps quantities within int64 of nano-units and below 2^63 of whole ones; exponents far outside
#: that are a typo, and refusing them keeps Decimal from building numbers of a million digits.
MAX_EXPONENT = 30


class QuantityError(ValueError):
    """Not a Kubernetes quantity; the message quotes the text and says what is wrong with it."""


def parse_quantity(value: object) -> Decimal:
    """The quantity's value in base units (cores for CPU, bytes for memory)."""
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise QuantityError(f"{value!r} is not a quantity (a string such as 500m or 512Mi)")
    if isinstance(value, int):  # the API writes quantities as strings; some tools write small ones as numbers
        return Decimal(value)
    text = value
    match = _QUANTITY.fullmatch(text)
    if match is None:
        raise QuantityError(f"{text!r} is not a quantity (expected a number with m, Ki, Mi, Gi, k, M, G or e<N>)")
    number = Decimal(match["number"] if not match["number"].endswith(".") else match["number"][:-1])
    if match["sign"] == "-":
        number = -number
    if match["exp"] is not None:
        exponent = int(match["exp"][1:])
        if abs(exponent) > MAX_EXPONENT:
            raise QuantityError(f"{text!r} is out of range (exponent {exponent})")
        try:
            return number.scaleb(exponent)
        except InvalidOperation as e:  # pragma: no cover - the exponent bound keeps Decimal in range
            raise QuantityError(f"{text!r} is out of range") from e
    return number * SUFFIXES[match["suffix"]]


def format_cpu(cores: Decimal) -> str:
    """CPU as ``kubectl top`` writes it: millicores rounded up (``Quantity.MilliValue``: 474666666n is ``475m``)."""
    return f"{math.ceil(cores * 1000)}m"


def format_memory(size: Decimal) -> str:
    """Memory as ``kubectl top`` writes it: bytes rounded up, then whole mebibytes rounded down (``237Mi``)."""
    return f"{math.ceil(size) // 2**20}Mi"
