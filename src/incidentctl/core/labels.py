"""Kubernetes label selectors in their text form (``kubectl get pods -l ...``), read as the API server reads them.

One parser for the whole project: detect's ``-l`` and the sandbox's API server both use it, and a test holds the
sandbox to real kubectl, so what ``-l`` selects here is what ``kubectl get pods -l`` shows. The grammar is
apimachinery's (``k8s.io/apimachinery/pkg/labels``): equality (``=``, ``==``, ``!=``), set-based (``in``,
``notin``), existence (``key``, ``!key``) and the integer comparisons ``>``/``<``; keys and values are validated
the same way, and a selector that cannot be parsed gets the server's own words for what is wrong.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from enum import Enum

#: Characters that end an identifier and start an operator.
_SPECIAL = frozenset("=!(),<>")
_WHITESPACE = frozenset(" \t\r\n")
_OPERATOR_WORDS = "in, notin, =, ==, !=, gt, lt"

_NAME = r"([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]"
_NAME_RE = re.compile(f"^{_NAME}$")
_VALUE_RE = re.compile(f"^({_NAME})?$")
_SUBDOMAIN = r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*"
_SUBDOMAIN_RE = re.compile(f"^{_SUBDOMAIN}$")
_NAME_RULE = (
    "must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric "
    "character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is "
    f"'{_NAME}')"
)
_VALUE_RULE = (
    "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start "
    "and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for "
    f"validation is '({_NAME})?')"
)
_SUBDOMAIN_RULE = (
    "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start "
    f"and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '{_SUBDOMAIN}')"
)


class LabelSelectorError(ValueError):
    """The selector text cannot be parsed; the message is the API server's (it answers 400 with it)."""


class Op(str, Enum):
    EQUALS = "="
    DOUBLE_EQUALS = "=="
    NOT_EQUALS = "!="
    IN = "in"
    NOT_IN = "notin"
    EXISTS = "exists"
    DOES_NOT_EXIST = "!"
    GREATER_THAN = "gt"
    LESS_THAN = "lt"


@dataclass(frozen=True)
class Requirement:
    key: str
    op: Op
    values: tuple[str, ...] = ()

    def matches(self, labels: Mapping[str, str]) -> bool:
        present = self.key in labels
        value = labels.get(self.key)
        if self.op in (Op.EQUALS, Op.DOUBLE_EQUALS, Op.IN):
            return present and value in self.values
        if self.op in (Op.NOT_EQUALS, Op.NOT_IN):
            return not present or value not in self.values
        if self.op is Op.EXISTS:
            return present
        if self.op is Op.DOES_NOT_EXIST:
            return not present
        # gt/lt: the label must hold an integer (anything else never matches, as on the server)
        try:
            have, want = int(str(value)), int(self.values[0])
        except ValueError:
            return False
        return have > want if self.op is Op.GREATER_THAN else have < want


@dataclass(frozen=True)
class LabelSelector:
    """Every requirement must hold (a comma is AND); the empty selector selects everything."""

    text: str
    requirements: tuple[Requirement, ...]

    @classmethod
    def parse(cls, text: str) -> LabelSelector:
        return cls(text, tuple(sorted(_Parser(text).parse(), key=lambda r: r.key)))

    def matches(self, labels: Mapping[str, str] | None) -> bool:
        labels = labels or {}
        return all(r.matches(labels) for r in self.requirements)

    def __str__(self) -> str:
        return self.text


# --- the lexer and parser -----------------------------------------------------------------------------------------

_IDENT, _END, _OPEN, _CLOSE, _COMMA, _NOT, _EQ, _EQEQ, _NEQ, _GT, _LT, _IN, _NOTIN, _ERROR = range(14)
_SYMBOLS = {
    "(": _OPEN,
    ")": _CLOSE,
    ",": _COMMA,
    "!": _NOT,
    "=": _EQ,
    "==": _EQEQ,
    "!=": _NEQ,
    ">": _GT,
    "<": _LT,
}
_BINARY = {_IN: Op.IN, _NOTIN: Op.NOT_IN, _EQ: Op.EQUALS, _EQEQ: Op.DOUBLE_EQUALS, _NEQ: Op.NOT_EQUALS}
_BINARY.update({_GT: Op.GREATER_THAN, _LT: Op.LESS_THAN})


def _tokens(text: str) -> list[tuple[int, str]]:
    """Identifiers run to the next blank or operator character; operators are the longest known symbol."""
    out: list[tuple[int, str]] = []
    i, n = 0, len(text)
    while True:
        while i < n and text[i] in _WHITESPACE:
            i += 1
        if i >= n:
            out.append((_END, ""))
            return out
        if text[i] in _SPECIAL:
            j = i
            while j < n and text[j] in _SPECIAL and text[i : j + 1] in _SYMBOLS:
                j += 1
            if j == i:  # cannot happen with the symbols above, kept for a symbol set that changes
                out.append((_ERROR, f"error expected: keyword found '{text[i]}'"))
                return out
            out.append((_SYMBOLS[text[i:j]], text[i:j]))
            i = j
            continue
        j = i
        while j < n and text[j] not in _SPECIAL and text[j] not in _WHITESPACE:
            j += 1
        word = text[i:j]
        out.append(({"in": _IN, "notin": _NOTIN}.get(word, _IDENT), word))
        i = j


class _Parser:
    def __init__(self, text: str) -> None:
        self._items = _tokens(text)
        self._pos = 0

    def _peek(self, values: bool = True) -> tuple[int, str]:
        """The next token; where a value may stand, ``in`` and ``notin`` are plain words."""
        tok, lit = self._items[min(self._pos, len(self._items) - 1)]
        return (_IDENT if values and tok in (_IN, _NOTIN) else tok), lit

    def _take(self, values: bool = True) -> tuple[int, str]:
        item = self._peek(values)
        self._pos += 1
        return item

    def parse(self) -> list[Requirement]:
        reqs: list[Requirement] = []
        while True:
            tok, lit = self._peek()
            if tok == _END:
                return reqs
            if tok not in (_IDENT, _NOT):
                raise LabelSelectorError(f"found '{lit}', expected: !, identifier, or 'end of string'")
            try:
                reqs.append(self._requirement())
            except LabelSelectorError as e:
                raise LabelSelectorError(f"unable to parse requirement: {e}") from None
            tok, lit = self._take()
            if tok == _END:
                return reqs
            if tok != _COMMA:
                raise LabelSelectorError(f"found '{lit}', expected: ',' or 'end of string'")
            tok, lit = self._peek()
            if tok not in (_IDENT, _NOT):
                raise LabelSelectorError(f"found '{lit}', expected: identifier after ','")

    def _requirement(self) -> Requirement:
        tok, key = self._take()
        negated = tok == _NOT
        if negated:
            tok, key = self._take()
        if tok != _IDENT:
            raise LabelSelectorError(f"found '{key}', expected: identifier")
        _check_key(key)
        if negated:  # "!key" takes no operator: whatever follows is the next requirement's business
            return Requirement(key, Op.DOES_NOT_EXIST)
        if self._peek()[0] in (_END, _COMMA):
            return Requirement(key, Op.EXISTS)
        tok, lit = self._take(values=False)
        op = _BINARY.get(tok)
        if op is None:
            raise LabelSelectorError(f"found '{lit}', expected: {_OPERATOR_WORDS}")
        values = self._set() if op in (Op.IN, Op.NOT_IN) else self._exact()
        return _requirement(key, op, values)

    def _set(self) -> tuple[str, ...]:
        tok, lit = self._take()
        if tok != _OPEN:
            raise LabelSelectorError(f"found '{lit}' expected: '('")
        tok, lit = self._peek()
        if tok == _CLOSE:
            self._take()
            return ("",)
        if tok not in (_IDENT, _COMMA):
            raise LabelSelectorError(f"found '{lit}', expected: ',', ')' or identifier")
        values: set[str] = set()
        while True:
            tok, lit = self._take()
            if tok == _IDENT:
                values.add(lit)
                nxt, nlit = self._peek()
                if nxt == _CLOSE:
                    break
                if nxt != _COMMA:
                    raise LabelSelectorError(f"found '{nlit}', expected: ',' or ')'")
            elif tok == _COMMA:  # an empty value: "(,a)", "(a,,b)", "(a,)"
                nxt, _ = self._peek()
                if not values or nxt in (_CLOSE, _COMMA):
                    values.add("")
                if nxt == _CLOSE:
                    break
                if nxt == _COMMA:
                    self._take()
            else:
                raise LabelSelectorError(f"found '{lit}', expected: ',', or identifier")
        self._take()  # the ")"
        return tuple(sorted(values))

    def _exact(self) -> tuple[str, ...]:
        tok, _ = self._peek()
        if tok in (_END, _COMMA):
            return ("",)
        tok, lit = self._take()
        if tok != _IDENT:
            raise LabelSelectorError(f"found '{lit}', expected: identifier")
        return (lit,)


def _requirement(key: str, op: Op, values: tuple[str, ...]) -> Requirement:
    problems: list[str] = []
    if op in (Op.GREATER_THAN, Op.LESS_THAN):
        for i, v in enumerate(values):
            if not re.fullmatch(r"[+-]?\d+", v) or not -(2**63) <= int(v) < 2**63:
                problems.append(_invalid(f"values[{i}]", v, "for 'Gt', 'Lt' operators, the value must be an integer"))
    for i, v in enumerate(values):
        why = _value_problem(v)
        if why:
            problems.append(_invalid(f"values[{i}][{key}]", v, why))
    if problems:
        raise LabelSelectorError(problems[0] if len(problems) == 1 else "[" + ", ".join(problems) + "]")
    return Requirement(key, op, values)


def _invalid(path: str, value: str, detail: str) -> str:
    return f'{path}: Invalid value: "{value}": {detail}'


def _check_key(key: str) -> None:
    why = _key_problems(key)
    if why:
        raise LabelSelectorError(_invalid("<nil>", key, "; ".join(why)))


def _key_problems(key: str) -> list[str]:
    """Kubernetes' "qualified name": an optional DNS-subdomain prefix and "/", then a name of at most 63."""
    parts = key.split("/")
    if len(parts) > 2:
        return [
            "a qualified name " + _NAME_RULE + " with an optional DNS subdomain prefix and '/' (e.g. "
            "'example.com/MyName')"
        ]
    problems: list[str] = []
    name = parts[-1]
    if len(parts) == 2:
        prefix = parts[0]
        if not prefix:
            problems.append("prefix part must be non-empty")
        elif len(prefix) > 253:
            problems.append("prefix part must be no more than 253 characters")
        elif not _SUBDOMAIN_RE.match(prefix):
            problems.append(f"prefix part {_SUBDOMAIN_RULE}")
    if not name:
        problems.append("name part must be non-empty")
    elif len(name) > 63:
        problems.append("name part must be no more than 63 characters")
    if name and not _NAME_RE.match(name):
        problems.append(f"name part {_NAME_RULE}")
    return problems


def _value_problem(value: str) -> str | None:
    if len(value) > 63:
        return "must be no more than 63 characters"
    if not _VALUE_RE.match(value):
        return _VALUE_RULE
    return None
