"""Just enough of Kubernetes' protobuf encoding to read the typed requests kubectl sends that way.

client-go's typed clients (``kubectl auth can-i``, ``kubectl create configmap``) send
``application/vnd.kubernetes.protobuf``: the magic ``k8s\\0`` and a ``runtime.Unknown`` wrapping the object. The
sandbox answers in JSON, which those clients also accept; only the request bodies of the kinds below are read.
"""

from __future__ import annotations

from typing import Any

MAGIC = b"k8s\x00"
Fields = dict[int, list[Any]]


class ProtobufError(ValueError):
    pass


def _varint(data: bytes, pos: int) -> tuple[int, int]:
    shift = result = 0
    while True:
        if pos >= len(data):
            raise ProtobufError("truncated varint")
        byte = data[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return result, pos
        shift += 7


def fields(data: bytes) -> Fields:
    """Field number -> values (bytes for length-delimited fields, ints for varints)."""
    out: Fields = {}
    pos = 0
    while pos < len(data):
        key, pos = _varint(data, pos)
        number, wire = key >> 3, key & 7
        value: Any
        if wire == 0:
            value, pos = _varint(data, pos)
        elif wire == 2:
            length, pos = _varint(data, pos)
            value, pos = data[pos : pos + length], pos + length
        elif wire == 1:
            value, pos = data[pos : pos + 8], pos + 8
        elif wire == 5:
            value, pos = data[pos : pos + 4], pos + 4
        else:
            raise ProtobufError(f"unsupported wire type {wire}")
        out.setdefault(number, []).append(value)
    return out


def _str(values: Fields, number: int) -> str:
    return bytes(values.get(number, [b""])[-1]).decode()


def _map(entries: list[bytes]) -> dict[str, str]:
    out = {}
    for entry in entries:
        kv = fields(entry)
        out[_str(kv, 1)] = _str(kv, 2)
    return out


def _object_meta(data: bytes) -> dict[str, Any]:
    meta = fields(data)
    out: dict[str, Any] = {}
    for number, key in ((1, "name"), (2, "generateName"), (3, "namespace"), (6, "resourceVersion")):
        if meta.get(number):
            out[key] = _str(meta, number)
    if meta.get(11):
        out["labels"] = _map(meta[11])
    if meta.get(12):
        out["annotations"] = _map(meta[12])
    return out


def _access_review(raw: Fields) -> dict[str, Any]:
    spec = fields(raw.get(2, [b""])[-1])
    out: dict[str, Any] = {}
    if spec.get(1):
        attrs = fields(spec[1][-1])
        names = {1: "namespace", 2: "verb", 3: "group", 4: "version", 5: "resource", 6: "subresource", 7: "name"}
        out["resourceAttributes"] = {key: _str(attrs, n) for n, key in names.items() if attrs.get(n)}
    if spec.get(2):
        attrs = fields(spec[2][-1])
        out["nonResourceAttributes"] = {"path": _str(attrs, 1), "verb": _str(attrs, 2)}
    return {"spec": out}


def _config_map(raw: Fields) -> dict[str, Any]:
    out: dict[str, Any] = {"metadata": _object_meta(raw.get(1, [b""])[-1])}
    if raw.get(2):
        out["data"] = _map(raw[2])
    if raw.get(4):
        out["immutable"] = bool(raw[4][-1])
    return out


_DECODERS = {"SelfSubjectAccessReview": _access_review, "ConfigMap": _config_map}


def decode(body: bytes) -> dict[str, Any]:
    """The object in a protobuf request body, as the JSON it stands for."""
    if not body.startswith(MAGIC):
        raise ProtobufError("not a Kubernetes protobuf message (no k8s magic)")
    unknown = fields(body[len(MAGIC) :])
    type_meta = fields(unknown.get(1, [b""])[-1])
    api_version, kind = _str(type_meta, 1), _str(type_meta, 2)
    decoder = _DECODERS.get(kind)
    if decoder is None:
        raise ProtobufError(f"protobuf bodies of kind {kind or '?'} are not supported; send JSON")
    obj = decoder(fields(unknown.get(2, [b""])[-1]))
    obj["apiVersion"], obj["kind"] = api_version, kind
    return obj
