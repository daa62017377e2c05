"""The sandbox's building blocks on their own: patches, selectors, durations, pod status, websocket frames."""

from __future__ import annotations

import io
import struct
from datetime import timedelta
from typing import Any

import pytest

from incidentctl.sandbox import websocket
from incidentctl.sandbox.clock import human_duration, parse_time
from incidentctl.sandbox.patch import PatchError, json_patch, merge_patch, strategic_merge_patch
from incidentctl.sandbox.selectors import (
    SelectorError,
    labels_match,
    parse_field_selector,
    parse_label_selector,
)
from incidentctl.sandbox.tables import pod_status

DEPLOY: dict[str, Any] = {
    "spec": {
        "replicas": 3,
        "template": {
            "spec": {
                "containers": [
                    {
                        "name": "app",
                        "image": "app:1",
                        "env": [{"name": "A", "value": "1"}, {"name": "B", "value": "2"}],
                    },
                    {"name": "sidecar", "image": "proxy:1"},
                ]
            }
        },
    }
}


def test_strategic_merge_merges_containers_and_env_by_name() -> None:
    patched = strategic_merge_patch(
        DEPLOY,
        {
            "spec": {
                "template": {
                    "spec": {
                        "containers": [
                            {
                                "name": "app",
                                "image": "app:2",
                                "env": [{"name": "B", "value": "3"}, {"name": "C", "value": "4"}],
                            }
                        ]
                    }
                }
            }
        },
    )
    app, sidecar = patched["spec"]["template"]["spec"]["containers"]
    assert app["image"] == "app:2"
    assert app["env"] == [{"name": "A", "value": "1"}, {"name": "B", "value": "3"}, {"name": "C", "value": "4"}]
    assert sidecar == {"name": "sidecar", "image": "proxy:1"}
    assert DEPLOY["spec"]["template"]["spec"]["containers"][0]["image"] == "app:1", "the input is untouched"


def test_strategic_merge_directives() -> None:
    deleted = strategic_merge_patch(
        DEPLOY, {"spec": {"template": {"spec": {"containers": [{"name": "sidecar", "$patch": "delete"}]}}}}
    )
    assert [c["name"] for c in deleted["spec"]["template"]["spec"]["containers"]] == ["app"]
    replaced = strategic_merge_patch(
        DEPLOY,
        {"spec": {"template": {"spec": {"containers": [{"name": "only", "image": "x:1"}, {"$patch": "replace"}]}}}},
    )
    assert replaced["spec"]["template"]["spec"]["containers"] == [{"name": "only", "image": "x:1"}]
    removed = strategic_merge_patch(DEPLOY, {"spec": {"replicas": None}})
    assert "replicas" not in removed["spec"]


def test_merge_patch_is_rfc_7386() -> None:
    assert merge_patch({"a": "b", "c": {"d": "e", "f": "g"}}, {"a": "z", "c": {"f": None}}) == {
        "a": "z",
        "c": {"d": "e"},
    }
    assert merge_patch({"a": [1, 2]}, {"a": [3]}) == {"a": [3]}
    assert merge_patch({"a": "b"}, ["c"]) == ["c"]


def test_json_patch_is_rfc_6902_and_atomic() -> None:
    doc = {"metadata": {"labels": {"a/b": "1"}}, "items": [1, 2]}
    out = json_patch(
        doc,
        [
            {"op": "add", "path": "/items/-", "value": 3},
            {"op": "replace", "path": "/metadata/labels/a~1b", "value": "2"},
            {"op": "move", "from": "/items/0", "path": "/first"},
            {"op": "copy", "from": "/first", "path": "/again"},
            {"op": "remove", "path": "/items/0"},
            {"op": "test", "path": "/again", "value": 1},
        ],
    )
    assert out == {"metadata": {"labels": {"a/b": "2"}}, "items": [3], "first": 1, "again": 1}
    with pytest.raises(PatchError, match="testing value /items/0 failed"):
        json_patch(doc, [{"op": "remove", "path": "/items/1"}, {"op": "test", "path": "/items/0", "value": 9}])
    assert doc["items"] == [1, 2]
    with pytest.raises(PatchError):
        json_patch(doc, [{"op": "replace", "path": "/nope", "value": 1}])


def test_label_selectors() -> None:
    pod = {"metadata": {"labels": {"app": "gateway", "tier": "edge"}}}
    for selector, expected in [
        ("app=gateway", True),
        ("app==gateway,tier", True),
        ("app!=gateway", False),
        ("app in (gateway, retrieval)", True),
        ("tier notin (edge)", False),
        ("!canary", True),
        ("canary", False),
        ("", True),
    ]:
        assert labels_match(parse_label_selector(selector), pod) is expected, selector
    with pytest.raises(SelectorError):
        parse_label_selector("app in gateway")


def test_field_selectors_know_which_fields_exist() -> None:
    event = {
        "metadata": {"name": "e1", "namespace": "ns"},
        "type": "Warning",
        "reason": "BackOff",
        "involvedObject": {"kind": "Pod", "name": "p"},
    }
    assert parse_field_selector("type=Warning,involvedObject.kind=Pod", "Event")(event)
    assert not parse_field_selector("reason!=BackOff", "Event")(event)
    with pytest.raises(SelectorError, match=r'"spec\.nodeName" is not a known field selector'):
        parse_field_selector("spec.nodeName=n1", "Event")


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (0, "0s"),
        (119, "119s"),
        (125, "2m5s"),
        (600, "10m"),
        (3 * 3600 + 60, "3h1m"),
        (9 * 3600, "9h"),
        (3 * 86400, "3d"),
        (3 * 86400 + 7200, "3d2h"),
        (61 * 86400, "61d"),
        (800 * 86400, "2y70d"),
    ],
)
def test_human_duration_matches_kubectl_ages(seconds: int, text: str) -> None:
    assert human_duration(timedelta(seconds=seconds)) == text


def test_parse_time_takes_nanoseconds() -> None:
    assert parse_time("2026-03-14T09:30:00.123456789Z").microsecond == 123456
    assert parse_time("2026-03-14T09:30:00.5Z").microsecond == 500000
    assert parse_time("2026-03-14T09:30:00+02:00").hour == 7  # in UTC


def test_pod_status_column() -> None:
    crashing = {
        "spec": {"containers": [{"name": "a"}]},
        "status": {
            "phase": "Running",
            "containerStatuses": [
                {
                    "name": "a",
                    "ready": False,
                    "restartCount": 4,
                    "state": {"waiting": {"reason": "CrashLoopBackOff"}},
                    "lastState": {"terminated": {"exitCode": 139, "finishedAt": "2026-03-14T09:29:00Z"}},
                }
            ],
        },
    }
    assert pod_status(crashing) == ("CrashLoopBackOff", 0, 1, 4, "2026-03-14T09:29:00Z")
    oom = {
        "spec": {"containers": [{"name": "a"}]},
        "status": {
            "phase": "Running",
            "containerStatuses": [
                {
                    "name": "a",
                    "ready": False,
                    "restartCount": 1,
                    "state": {"terminated": {"reason": "OOMKilled", "exitCode": 137}},
                }
            ],
        },
    }
    assert pod_status(oom)[0] == "OOMKilled"
    terminating = {"metadata": {"deletionTimestamp": "x"}, "spec": {"containers": []}, "status": {"phase": "Running"}}
    assert pod_status(terminating)[0] == "Terminating"


def test_websocket_frames_round_trip() -> None:
    assert websocket.accept_key("dGhlIHNhbXBsZSBub25jZQ==") == "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="  # RFC 6455's example
    assert websocket.choose_protocol("v4.channel.k8s.io, v5.channel.k8s.io") == "v5.channel.k8s.io"
    assert websocket.choose_protocol("channel.k8s.io") is None
    big = websocket.frame(websocket.OP_BINARY, b"\x01" + b"x" * 70000)
    assert big[1] == 127
    assert struct.unpack(">Q", big[2:10])[0] == 70001
    mask = b"\x01\x02\x03\x04"
    payload = b"\xff\x00"
    masked = bytes([0x82, 0x80 | len(payload)]) + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
    assert websocket.read_frame(io.BytesIO(masked)) == (websocket.OP_BINARY, payload)
    assert websocket.read_frame(io.BytesIO(b"")) is None
