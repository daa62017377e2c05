"""The patches a runbook switch is written in, applied locally for the plan's diff: RFC 7386 merge patch (with the
RFC's own examples), RFC 6902 JSON Patch (all or nothing, a failure says which operation), and the part of an
object that changes."""

from __future__ import annotations

from typing import Any

import pytest

from incidentctl.core.patches import PatchDoesNotApply, changed_part, json_patch, leaf_changes, merge_patch

# RFC 7386 appendix A: target, patch, result
RFC7386 = [
    ({"a": "b"}, {"a": "c"}, {"a": "c"}),
    ({"a": "b"}, {"b": "c"}, {"a": "b", "b": "c"}),
    ({"a": "b"}, {"a": None}, {}),
    ({"a": "b", "b": "c"}, {"a": None}, {"b": "c"}),
    ({"a": ["b"]}, {"a": "c"}, {"a": "c"}),
    ({"a": "c"}, {"a": ["b"]}, {"a": ["b"]}),
    ({"a": {"b": "c"}}, {"a": {"b": "d", "c": None}}, {"a": {"b": "d"}}),
    ({"a": [{"b": "c"}]}, {"a": [1]}, {"a": [1]}),
    (["a", "b"], ["c", "d"], ["c", "d"]),
    ({"a": "b"}, ["c"], ["c"]),
    ({"a": "foo"}, None, None),
    ({"a": "foo"}, "bar", "bar"),
    ({"e": None}, {"a": 1}, {"e": None, "a": 1}),
    ([1, 2], {"a": "b", "c": None}, {"a": "b"}),
    ({}, {"a": {"bb": {"ccc": None}}}, {"a": {"bb": {}}}),
]


@pytest.mark.parametrize(("target", "patch", "result"), RFC7386)
def test_merge_patch_follows_rfc_7386(target: Any, patch: Any, result: Any) -> None:
    assert merge_patch(target, patch) == result


def test_merge_patch_leaves_the_live_object_alone() -> None:
    live = {"data": {"MAINTENANCE_MODE": "off"}}
    assert merge_patch(live, {"data": {"MAINTENANCE_MODE": "on"}}) == {"data": {"MAINTENANCE_MODE": "on"}}
    assert live == {"data": {"MAINTENANCE_MODE": "off"}}


def test_json_patch_is_all_or_nothing_and_says_what_failed() -> None:
    live = {"spec": {"rules": [{"backend": "gateway"}]}}
    assert json_patch(live, [{"op": "replace", "path": "/spec/rules/0/backend", "value": "standby"}]) == {
        "spec": {"rules": [{"backend": "standby"}]}
    }
    for operations in (
        [{"op": "replace", "path": "/spec/rules/1/backend", "value": "standby"}],
        [{"op": "test", "path": "/spec/rules/0/backend", "value": "other"}],
        [{"op": "remove", "path": "/spec/missing"}],
    ):
        with pytest.raises(PatchDoesNotApply):
            json_patch(live, operations)
    assert live == {"spec": {"rules": [{"backend": "gateway"}]}}


def test_the_changed_part_and_its_fields() -> None:
    before = {"metadata": {"name": "x"}, "data": {"A": "1", "B": "2"}, "spec": {"list": [1, 2]}}
    after = {"metadata": {"name": "x"}, "data": {"A": "1", "B": "3", "C": "4"}, "spec": {"list": [1, 5]}}
    assert changed_part(before, after) == (
        {"data": {"B": "2"}, "spec": {"list": [1, 2]}},
        {"data": {"B": "3", "C": "4"}, "spec": {"list": [1, 5]}},
    )
    assert leaf_changes(before, after) == [
        ("data.B", "2", "3"),
        ("data.C", None, "4"),
        ("spec.list[1]", 2, 5),
    ]
