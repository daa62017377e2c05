"""What the API looks like on the wire, where kubectl and client-go depend on details: discovery content types,
the Table shape, the initial-events bookmark of a watch, text/plain logs, Status bodies."""

from __future__ import annotations

import http.client
import json
from typing import Any
from urllib.parse import urlsplit

from incidentctl.sandbox.sandbox import Sandbox

NS = "sarvanom-production"


def _request(sb: Sandbox, path: str, accept: str = "application/json") -> tuple[int, dict[str, str], bytes]:
    conn = http.client.HTTPConnection(urlsplit(sb.url).netloc, timeout=10)
    conn.request("GET", path, headers={"Accept": accept})
    response = conn.getresponse()
    body = response.read()
    conn.close()
    return response.status, dict(response.getheaders()), body


def test_discovery_is_plain_json_so_clients_fall_back_to_per_version_lists(sandbox: Sandbox) -> None:
    status, headers, body = _request(
        sandbox, "/apis", "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json"
    )
    assert status == 200
    assert headers["Content-Type"] == "application/json"
    groups = {g["name"] for g in json.loads(body)["groups"]}
    assert groups == {"apps", "networking.k8s.io", "metrics.k8s.io", "authorization.k8s.io"}
    for group in json.loads(body)["groups"]:
        gv = group["preferredVersion"]["groupVersion"]
        status, _, listed = _request(sandbox, f"/apis/{gv}")
        assert status == 200, f"every advertised version answers: {gv}"
        assert json.loads(listed)["groupVersion"] == gv
    resources = {r["name"]: r for r in json.loads(_request(sandbox, "/apis/apps/v1")[2])["resources"]}
    assert resources["deployments"]["shortNames"] == ["deploy"]
    assert resources["deployments/scale"] == {
        "name": "deployments/scale",
        "singularName": "",
        "namespaced": True,
        "group": "autoscaling",
        "version": "v1",
        "kind": "Scale",
        "verbs": ["get", "patch", "update"],
    }


def test_table_rows_carry_partial_object_metadata(sandbox: Sandbox) -> None:
    _, _, body = _request(
        sandbox,
        f"/api/v1/namespaces/{NS}/pods?limit=2",
        "application/json;as=Table;v=v1;g=meta.k8s.io,application/json",
    )
    table = json.loads(body)
    assert (table["kind"], table["apiVersion"]) == ("Table", "meta.k8s.io/v1")
    assert [c["name"] for c in table["columnDefinitions"] if c["priority"] == 0] == [
        "Name",
        "Ready",
        "Status",
        "Restarts",
        "Age",
    ]
    assert len(table["rows"]) == 2
    assert table["metadata"]["continue"]
    row = table["rows"][0]
    assert row["object"]["kind"] == "PartialObjectMetadata"
    assert row["object"]["metadata"]["namespace"] == NS


def test_watch_sends_initial_objects_then_the_bookmark(sandbox: Sandbox) -> None:
    conn = http.client.HTTPConnection(urlsplit(sandbox.url).netloc, timeout=10)
    conn.request(
        "GET",
        f"/apis/apps/v1/namespaces/{NS}/deployments?watch=true&sendInitialEvents=true"
        "&resourceVersionMatch=NotOlderThan&allowWatchBookmarks=true&timeoutSeconds=1"
        "&fieldSelector=metadata.name%3Dgateway",
    )
    response = conn.getresponse()
    assert response.getheader("Transfer-Encoding") == "chunked"
    events: list[dict[str, Any]] = [json.loads(line) for line in response.read().splitlines() if line.strip()]
    conn.close()
    assert [e["type"] for e in events] == ["ADDED", "BOOKMARK"]
    assert events[0]["object"]["metadata"]["name"] == "gateway"
    bookmark = events[1]["object"]
    assert bookmark["kind"] == "Deployment"
    assert bookmark["metadata"]["annotations"] == {"k8s.io/initial-events-end": "true"}
    assert int(bookmark["metadata"]["resourceVersion"]) >= int(events[0]["object"]["metadata"]["resourceVersion"])


def test_logs_are_text_and_errors_are_status_objects(sandbox: Sandbox) -> None:
    status, headers, body = _request(sandbox, f"/api/v1/namespaces/{NS}/pods/redis-0/log?container=redis&tailLines=2")
    assert status == 200
    assert headers["Content-Type"] == "text/plain"
    assert len(body.decode().splitlines()) == 2
    status, headers, body = _request(sandbox, f"/api/v1/namespaces/{NS}/pods/nope/log")
    assert status == 404
    assert json.loads(body) == {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": 'pods "nope" not found',
        "reason": "NotFound",
        "details": {"name": "nope", "kind": "pods"},
        "code": 404,
    }
