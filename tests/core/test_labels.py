"""Label selectors in text form, parsed as the API server parses them (apimachinery's grammar and messages)."""

from __future__ import annotations

import pytest

from incidentctl.core.labels import LabelSelector, LabelSelectorError

POD = {"app": "gateway", "tier": "edge", "app.kubernetes.io/part-of": "sarvanom", "replicas": "3", "empty": ""}


@pytest.mark.parametrize(
    ("selector", "matches"),
    [
        ("", True),
        ("   ", True),
        ("app=gateway", True),
        ("app==gateway", True),
        ("app = gateway", True),
        ("app!=gateway", False),
        ("zone!=a", True),
        ("app in (gateway, retrieval)", True),
        ("app in (retrieval)", False),
        ("zone in (a)", False),
        ("app notin (retrieval)", True),
        ("app notin (gateway)", False),
        ("zone notin (a)", True),
        ("tier", True),
        ("zone", False),
        ("!zone", True),
        ("!tier", False),
        ("app.kubernetes.io/part-of=sarvanom,app", True),
        ("app=gateway,tier=core", False),
        ("empty=", True),
        ("empty in (,x)", True),
        ("app in ()", False),
        ("empty in ()", True),
        ("replicas>2", True),
        ("replicas<3", False),
        ("app>1", False),
        ("zone<9", False),
        ("in in (in)", False),
        ("!zone,app in (gateway),tier notin (core)", True),
    ],
)
def test_selectors_match_as_kubernetes_matches(selector: str, matches: bool) -> None:
    assert LabelSelector.parse(selector).matches(POD) is matches


@pytest.mark.parametrize(
    ("selector", "message"),
    [
        ("bad selector!!", "unable to parse requirement: found 'selector', expected: in, notin, =, ==, !=, gt, lt"),
        ("app in (a", "unable to parse requirement: found '', expected: ',' or ')'"),
        ("app in a", "unable to parse requirement: found 'a' expected: '('"),
        ("app=a,", "found '', expected: identifier after ','"),
        (",app=a", "found ',', expected: !, identifier, or 'end of string'"),
        ("app=a b", "found 'b', expected: ',' or 'end of string'"),
        ("!app=a", "found '=', expected: ',' or 'end of string'"),
        ("app=(a)", "unable to parse requirement: found '(', expected: identifier"),
        ("app in (a b)", "unable to parse requirement: found 'b', expected: ',' or ')'"),
        ("app in (=)", "unable to parse requirement: found '=', expected: ',', ')' or identifier"),
        ("n>x", "unable to parse requirement: values[0]: Invalid value: \"x\": for 'Gt', 'Lt' operators, the value"),
        ("-app=a", 'unable to parse requirement: <nil>: Invalid value: "-app": name part must consist of'),
        ("a/b/c", 'Invalid value: "a/b/c": a qualified name must consist of'),
        ("/app", 'Invalid value: "/app": prefix part must be non-empty'),
        ("Example.com/app", "prefix part a lowercase RFC 1123 subdomain must consist of"),
        ("x" * 64, "name part must be no more than 63 characters"),
        ("app=-x", 'values[0][app]: Invalid value: "-x": a valid label must be an empty string or consist of'),
        ("app=" + "v" * 64, "must be no more than 63 characters"),
    ],
)
def test_unparsable_selectors_get_the_servers_words(selector: str, message: str) -> None:
    with pytest.raises(LabelSelectorError) as info:
        LabelSelector.parse(selector)
    assert message in str(info.value)


def test_requirements_are_kept_in_key_order_with_sorted_values() -> None:
    parsed = LabelSelector.parse("tier in (b,a),app=x")
    assert [(r.key, r.op.value, r.values) for r in parsed.requirements] == [
        ("app", "=", ("x",)),
        ("tier", "in", ("a", "b")),
    ]
    assert str(parsed) == "tier in (b,a),app=x"
