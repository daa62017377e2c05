"""The Kubernetes REST API over the object store: discovery, CRUD, the three PATCH types, dry-run, watch,
Tables, subresources (scale, status, log) and metrics.k8s.io.

It knows nothing about HTTP sockets (``server`` does) nor about how pods behave (``simulation`` does): after
every accepted change it lets the simulation react at once, as controllers would.
"""

from __future__ import annotations

import base64
import copy
import json
import queue
import threading
import time
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from incidentctl.sandbox import apierrors, resources, tables
from incidentctl.sandbox.apierrors import ApiError, bad_request
from incidentctl.sandbox.clock import parse_time, rfc3339, rfc3339_nano
from incidentctl.sandbox.http import Request, Response, json_response
from incidentctl.sandbox.patch import PatchError, json_patch, merge_patch, strategic_merge_patch
from incidentctl.sandbox.resources import ResourceType
from incidentctl.sandbox.selectors import SelectorError, labels_match, parse_field_selector, parse_label_selector
from incidentctl.sandbox.store import Obj, Store

if TYPE_CHECKING:
    from incidentctl.sandbox.simulation import Simulation

SERVER_VERSION = {
    "major": "1",
    "minor": "37",
    "emulationMajor": "1",
    "emulationMinor": "37",
    "minCompatibilityMajor": "1",
    "minCompatibilityMinor": "36",
    "gitVersion": "v1.37.1",
    "gitCommit": "0000000000000000000000000000000000000000",
    "gitTreeState": "clean",
    "buildDate": "2026-10-01T00:00:00Z",
    "goVersion": "go1.25.3",
    "compiler": "gc",
    "platform": "linux/amd64",
}

#: kinds whose spec changes bump metadata.generation (what the controllers compare observedGeneration with)
_GENERATION_KINDS = ("Deployment", "ReplicaSet", "StatefulSet")
_STATUS_KINDS = ("Deployment", "ReplicaSet", "StatefulSet", "Pod", "Node", "Service", "Ingress", "Namespace")


class Target:
    def __init__(self, rt: ResourceType, namespace: str | None, name: str | None, sub: str | None) -> None:
        self.rt, self.namespace, self.name, self.sub = rt, namespace, name, sub


def parse_target(path: str) -> Target | None:
    parts = [p for p in path.split("/") if p]
    if len(parts) < 3 or parts[0] not in ("api", "apis"):
        return None
    if parts[0] == "api":
        group, version, rest = "", parts[1], parts[2:]
    else:
        if len(parts) < 4:
            return None
        group, version, rest = parts[1], parts[2], parts[3:]
    namespace: str | None = None
    if rest[0] == "namespaces" and len(rest) >= 3 and not (len(rest) == 3 and rest[2] in ("status", "finalize")):
        namespace, rest = rest[1], rest[2:]
    rt = resources.lookup(group, version, rest[0])
    if rt is None or len(rest) > 3:
        return None
    name = rest[1] if len(rest) > 1 else None
    sub = rest[2] if len(rest) > 2 else None
    if sub is not None and sub not in rt.subresources:
        return None
    if rt.namespaced is False and namespace is not None:
        return None
    return Target(rt, namespace, name, sub)


def wants_table(request: Request) -> bool:
    return "as=Table" in request.headers.get("accept", "")


class KubeApi:
    def __init__(
        self,
        store: Store,
        sim: Simulation,
        stopping: threading.Event,
        allowed: Callable[[str, str], bool] | None = None,
    ) -> None:
        self.store = store
        self.sim = sim
        self.stopping = stopping
        self.user = "sandbox-admin"
        #: (verb, resource) -> does RBAC allow it (the injected 403 faults say no)
        self.allowed = allowed or (lambda verb, resource: True)
        #: group -> is it served now (a cluster without metrics-server has no metrics.k8s.io: discovery leaves it
        #: out and its paths answer 404, as when the APIService is not registered)
        self.served: Callable[[str], bool] = lambda group: True

    # -- discovery -------------------------------------------------------------------------------------------

    def discovery(self, request: Request) -> Response | None:
        path = request.path.rstrip("/")
        if path == "/version":
            return json_response(SERVER_VERSION)
        if path == "/api":
            return json_response(
                {
                    "kind": "APIVersions",
                    "versions": ["v1"],
                    "serverAddressByClientCIDRs": [
                        {"clientCIDR": "0.0.0.0/0", "serverAddress": request.headers.get("host", "127.0.0.1")}
                    ],
                }
            )
        if path == "/apis":
            groups = []
            for group, versions in resources.GROUPS.items():
                if not self.served(group):
                    continue
                gvs = [{"groupVersion": f"{group}/{v}", "version": v} for v in versions]
                groups.append({"name": group, "versions": gvs, "preferredVersion": gvs[0]})
            return json_response({"kind": "APIGroupList", "apiVersion": "v1", "groups": groups})
        parts = [p for p in path.split("/") if p]
        if len(parts) >= 2 and parts[0] == "apis" and not self.served(parts[1]):
            raise ApiError(404, "the server could not find the requested resource", details={})
        if parts[:2] == ["openapi", "v3"]:
            return self._openapi_v3(parts[2:])
        if parts == ["api", "v1"]:
            return json_response(self._resource_list("", "v1"))
        if len(parts) == 2 and parts[0] == "apis" and parts[1] in resources.GROUPS:
            versions = resources.GROUPS[parts[1]]
            gvs = [{"groupVersion": f"{parts[1]}/{v}", "version": v} for v in versions]
            return json_response(
                {"kind": "APIGroup", "apiVersion": "v1", "name": parts[1], "versions": gvs, "preferredVersion": gvs[0]}
            )
        if len(parts) == 3 and parts[0] == "apis" and parts[2] in resources.GROUPS.get(parts[1], ()):
            return json_response(self._resource_list(parts[1], parts[2]))
        return None

    @staticmethod
    def _openapi_v3(rest: list[str]) -> Response:
        """Enough OpenAPI v3 for kubectl to see that the server validates fields itself (``fieldValidation``),
        so ``kubectl apply/create -f`` validate server-side instead of downloading schemas."""
        gvs = [("", "v1")] + [(g, v) for g, versions in resources.GROUPS.items() for v in versions]

        def doc_path(group: str, version: str) -> str:
            return f"api/{version}" if not group else f"apis/{group}/{version}"

        if not rest:
            return json_response(
                {
                    "paths": {
                        doc_path(g, v): {"serverRelativeURL": f"/openapi/v3/{doc_path(g, v)}?hash=sandbox"}
                        for g, v in gvs
                    }
                }
            )
        wanted = "/".join(rest)
        for group, version in gvs:
            if doc_path(group, version) != wanted:
                continue
            param = [
                {"name": "fieldValidation", "in": "query", "schema": {"type": "string", "uniqueItems": True}},
                {"name": "dryRun", "in": "query", "schema": {"type": "string", "uniqueItems": True}},
                {"name": "fieldManager", "in": "query", "schema": {"type": "string", "uniqueItems": True}},
            ]
            paths: Obj = {}
            for rt in resources.resources_in(group, version):
                base = f"/{doc_path(group, version)}"
                scope = f"{base}/namespaces/{{namespace}}/{rt.plural}" if rt.namespaced else f"{base}/{rt.plural}"
                gvk = {"x-kubernetes-group-version-kind": {"group": group, "version": version, "kind": rt.kind}}
                paths[scope] = {"post": {"parameters": param, "responses": {}, **gvk}, "get": {"responses": {}, **gvk}}
                paths[f"{scope}/{{name}}"] = {
                    "put": {"parameters": param, "responses": {}, **gvk},
                    "patch": {"parameters": param, "responses": {}, **gvk},
                    "get": {"responses": {}, **gvk},
                    "delete": {"responses": {}, **gvk},
                }
            return json_response(
                {
                    "openapi": "3.0.0",
                    "info": {"title": "Kubernetes", "version": "v1.37.1"},
                    "paths": paths,
                    "components": {"schemas": {}},
                }
            )
        raise ApiError(404, "the server could not find the requested resource")

    @staticmethod
    def _resource_list(group: str, version: str) -> Obj:
        entries: list[Obj] = []
        for rt in resources.resources_in(group, version):
            entry: Obj = {
                "name": rt.plural,
                "singularName": rt.singular,
                "namespaced": rt.namespaced,
                "kind": rt.kind,
                "verbs": list(rt.verbs),
            }
            if rt.short_names:
                entry["shortNames"] = list(rt.short_names)
            if rt.categories:
                entry["categories"] = list(rt.categories)
            entries.append(entry)
            for sub in rt.subresources:
                sub_entry: Obj = {"name": f"{rt.plural}/{sub}", "singularName": "", "namespaced": rt.namespaced}
                if sub == "scale":
                    sub_entry.update(group="autoscaling", version="v1", kind="Scale", verbs=["get", "patch", "update"])
                elif sub == "status":
                    sub_entry.update(kind=rt.kind, verbs=["get", "patch", "update"])
                elif sub == "log":
                    sub_entry.update(kind="Pod", verbs=["get"])
                elif sub == "exec":
                    sub_entry.update(kind="PodExecOptions", verbs=["create", "get"])
                entries.append(sub_entry)
        return {
            "kind": "APIResourceList",
            "apiVersion": "v1",
            "groupVersion": f"{group}/{version}".strip("/"),
            "resources": entries,
        }

    # -- dispatch --------------------------------------------------------------------------------------------

    @staticmethod
    def verb(request: Request, target: Target) -> str:
        method = request.method
        if method == "GET":
            if target.name is None:
                return "watch" if request.flag("watch") else "list"
            return "get"
        return {
            "POST": "create",
            "PUT": "update",
            "PATCH": "patch",
            "DELETE": "delete" if target.name else "deletecollection",
        }.get(method, method.lower())

    def handle(self, request: Request, target: Target) -> Response:
        verb = self.verb(request, target)
        rt = target.rt
        if (
            target.namespace
            and rt is not resources.NAMESPACES
            and verb in ("create",)
            and self.store.get(resources.NAMESPACES, "", target.namespace) is None
        ):
            raise ApiError(
                404,
                f'namespaces "{target.namespace}" not found',
                details={"name": target.namespace, "kind": "namespaces"},
            )
        if rt is resources.ACCESS_REVIEWS and verb == "create":
            return self._access_review(request)
        if rt.virtual:
            if verb not in ("get", "list"):
                raise ApiError(405, f"the server does not allow this method on the requested resource ({rt.plural})")
            return self._metrics(request, target)
        if target.sub == "log":
            return self._logs(request, target)
        if target.sub == "scale":
            return self._scale(request, target)
        if verb == "get":
            return self._get(request, target)
        if verb == "list":
            return self._list(request, target)
        if verb == "watch":
            return self._watch(request, target)
        with self.store.lock:
            if verb == "create":
                response = self._create(request, target)
            elif verb == "update":
                response = self._update(request, target)
            elif verb == "patch":
                response = self._patch(request, target)
            elif verb == "delete":
                response = self._delete(request, target)
            elif verb == "deletecollection":
                response = self._delete_collection(request, target)
            else:
                raise ApiError(405, f"the server does not allow this method on the requested resource ({rt.plural})")
            if not request.arg("dryRun"):
                self.sim.react()
            return response

    # -- reading ---------------------------------------------------------------------------------------------

    def _render_one(self, request: Request, rt: ResourceType, obj: Obj) -> Response:
        if wants_table(request):
            return json_response(
                tables.table(
                    rt.kind,
                    [obj],
                    self.store.clock.now(),
                    include_object=request.arg("includeObject") or "Metadata",
                    list_meta={"resourceVersion": obj["metadata"]["resourceVersion"]},
                )
            )
        return json_response(obj)

    def _get(self, request: Request, target: Target) -> Response:
        with self.store.lock:
            obj = self.store.must_get(target.rt, target.namespace or "", target.name or "")
        if target.sub == "status" or target.sub is None:
            return self._render_one(request, target.rt, obj)
        raise ApiError(405, f"the server does not allow this method on the requested resource ({target.sub})")

    def _predicate(self, request: Request, rt: ResourceType) -> Any:
        try:
            reqs = parse_label_selector(request.arg("labelSelector"))
            field_match = parse_field_selector(request.arg("fieldSelector"), rt.kind)
        except SelectorError as e:
            raise bad_request(str(e)) from None
        return lambda obj: labels_match(reqs, obj) and field_match(obj)

    def _list(self, request: Request, target: Target) -> Response:
        rt = target.rt
        predicate = self._predicate(request, rt)
        limit = request.int_arg("limit") or 0
        token = request.arg("continue")
        after: tuple[str, str] | None = None
        if token:
            try:
                decoded = json.loads(base64.urlsafe_b64decode(token.encode()))
                after = (decoded["ns"], decoded["name"])
            except (ValueError, KeyError, TypeError):
                raise ApiError(400, "continue key is not valid: illegal base64 data") from None
        items: list[Obj] = []
        next_token = ""
        remaining = 0
        with self.store.lock:
            rv = str(self.store.resource_version)
            last: tuple[str, str] | None = None
            for key, obj in self.store.iter_from(rt, target.namespace, after):
                if not predicate(obj):
                    continue
                if limit and len(items) >= limit:
                    remaining += 1
                    continue
                items.append(obj)
                last = key
            if remaining and last is not None:
                next_token = base64.urlsafe_b64encode(
                    json.dumps({"ns": last[0], "name": last[1], "rv": rv}).encode()
                ).decode()
        meta: Obj = {"resourceVersion": rv}
        if next_token:
            meta["continue"] = next_token
            meta["remainingItemCount"] = remaining
        if wants_table(request):
            return json_response(
                tables.table(
                    rt.kind,
                    items,
                    self.store.clock.now(),
                    include_object=request.arg("includeObject") or "Metadata",
                    list_meta=meta,
                )
            )
        return json_response({"kind": rt.list_kind, "apiVersion": rt.api_version, "metadata": meta, "items": items})

    def _watch(self, request: Request, target: Target) -> Response:
        rt = target.rt
        predicate = self._predicate(request, rt)
        rv_arg = request.arg("resourceVersion") or ""
        send_initial = request.flag("sendInitialEvents") or rv_arg in ("", "0")
        bookmarks = request.flag("allowWatchBookmarks") and request.flag("sendInitialEvents")
        timeout = request.int_arg("timeoutSeconds") or 1800
        as_table = wants_table(request)
        with self.store.lock:
            if send_initial:
                initial = [o for o in self.store.list(rt, target.namespace) if predicate(o)]
                since = self.store.resource_version
                watcher = self.store.watch(rt, target.namespace, predicate, None)
            else:
                initial = []
                try:
                    since = int(rv_arg)
                except ValueError:
                    raise bad_request(f"invalid resource version: {rv_arg!r}") from None
                watcher = self.store.watch(rt, target.namespace, predicate, since)
        now = self.store.clock.now

        def encode(kind: str, obj: Obj) -> bytes:
            payload = (
                tables.table(
                    rt.kind,
                    [obj],
                    now(),
                    include_object=request.arg("includeObject") or "Metadata",
                    list_meta={"resourceVersion": obj["metadata"]["resourceVersion"]},
                )
                if as_table
                else obj
            )
            return json.dumps({"type": kind, "object": payload}, separators=(",", ":")).encode() + b"\n"

        def stream() -> Iterator[bytes]:
            deadline = time.monotonic() + timeout
            try:
                for obj in initial:
                    yield encode("ADDED", obj)
                if bookmarks:
                    mark = {
                        "kind": rt.kind,
                        "apiVersion": rt.api_version,
                        "metadata": {
                            "resourceVersion": str(since),
                            "annotations": {"k8s.io/initial-events-end": "true"},
                        },
                    }
                    yield json.dumps({"type": "BOOKMARK", "object": mark}).encode() + b"\n"
                while not self.stopping.is_set() and time.monotonic() < deadline:
                    try:
                        event = watcher.events.get(timeout=0.25)
                    except queue.Empty:
                        continue
                    if event is None:
                        return
                    yield encode(event.type, event.obj)
            finally:
                self.store.unwatch(watcher)

        return Response(200, content_type="application/json", stream=stream())

    # -- writing ---------------------------------------------------------------------------------------------

    def _check_kind(self, rt: ResourceType, obj: Any) -> Obj:
        if not isinstance(obj, dict):
            raise bad_request("the request body must be a JSON object")
        kind = obj.get("kind")
        if kind and kind != rt.kind:
            raise bad_request(
                f"the API version in the data ({obj.get('apiVersion')}) does not match the expected "
                f"API version ({rt.api_version})"
                if obj.get("apiVersion") != rt.api_version
                else f"kind {kind} does not match the expected kind {rt.kind}"
            )
        return obj

    def _validate(self, rt: ResourceType, obj: Obj) -> None:
        name = obj.get("metadata", {}).get("name", "")
        spec = obj.get("spec")
        if rt.kind in _GENERATION_KINDS and isinstance(spec, dict):
            replicas = spec.get("replicas", 1)
            if not isinstance(replicas, int) or isinstance(replicas, bool):
                raise apierrors.invalid(
                    rt,
                    name,
                    "spec.replicas",
                    f"Invalid value: {json.dumps(replicas)}: must be an integer",
                    "FieldValueTypeInvalid",
                )
            if replicas < 0:
                raise apierrors.invalid(
                    rt, name, "spec.replicas", f"Invalid value: {replicas}: must be greater than or equal to 0"
                )
            containers = spec.get("template", {}).get("spec", {}).get("containers")
            if not containers:
                raise apierrors.invalid(
                    rt, name, "spec.template.spec.containers", "Required value", "FieldValueRequired"
                )
            for i, container in enumerate(containers):
                if not container.get("image"):
                    raise apierrors.invalid(
                        rt, name, f"spec.template.spec.containers[{i}].image", "Required value", "FieldValueRequired"
                    )
        if rt.kind == "Pod" and isinstance(spec, dict) and not spec.get("containers"):
            raise apierrors.invalid(rt, name, "spec.containers", "Required value", "FieldValueRequired")

    def _create(self, request: Request, target: Target) -> Response:
        rt = target.rt
        obj = self._check_kind(rt, request.json())
        if target.sub:
            raise ApiError(405, f"the server does not allow this method on the requested resource ({target.sub})")
        meta = obj.setdefault("metadata", {})
        if rt.namespaced:
            if meta.get("namespace") and target.namespace and meta["namespace"] != target.namespace:
                raise bad_request(
                    "the namespace of the provided object does not match the namespace sent on the request"
                )
            meta["namespace"] = target.namespace or meta.get("namespace") or "default"
        self._validate(rt, obj)
        new = self.store.prepare_new(rt, obj)
        self.sim.defaults(rt, new)
        if request.arg("dryRun"):
            name = new["metadata"]["name"]
            if self.store.get(rt, meta.get("namespace", ""), name) is not None:
                raise apierrors.already_exists(rt, name)
            return json_response(new, 201)
        _record_writer(request, new, self.store.clock.now())
        return json_response(self.store.create(rt, new, prepared=True), 201)

    def _finish_update(
        self, request: Request, rt: ResourceType, old: Obj, new: Obj, sub: str | None, expect_rv: str | None
    ) -> Response:
        """Apply subresource rules, generation, validation, dry-run and the resourceVersion precondition."""
        if sub == "status":
            merged = copy.deepcopy(old)
            merged["status"] = new.get("status", {})
            new = merged
        else:
            if rt.kind in _STATUS_KINDS and "status" in old:
                new["status"] = copy.deepcopy(old["status"])
            new_meta = new.setdefault("metadata", {})
            for key in ("uid", "creationTimestamp", "generation", "namespace", "name"):
                if key in old["metadata"]:
                    new_meta[key] = old["metadata"][key]
            if rt.kind in _GENERATION_KINDS and new.get("spec") != old.get("spec"):
                new_meta["generation"] = int(old["metadata"].get("generation", 1)) + 1
        new["apiVersion"], new["kind"] = rt.api_version, rt.kind
        self._validate(rt, new)
        if expect_rv and expect_rv != old["metadata"]["resourceVersion"]:
            raise apierrors.conflict(rt, old["metadata"]["name"])
        if request.arg("dryRun"):
            new["metadata"]["resourceVersion"] = old["metadata"]["resourceVersion"]
            return json_response(new)
        if new == old:
            return json_response(old)
        _record_writer(request, new, self.store.clock.now(), old=old, subresource=sub)
        return json_response(self.store.replace(rt, new))

    def _update(self, request: Request, target: Target) -> Response:
        rt = target.rt
        old = self.store.must_get(rt, target.namespace or "", target.name or "")
        new = self._check_kind(rt, request.json())
        if new.get("metadata", {}).get("name", target.name) != target.name:
            raise bad_request("the name of the object does not match the name on the URL")
        expect = new.get("metadata", {}).get("resourceVersion")  # none: an unconditional update, as allowed
        return self._finish_update(request, rt, old, copy.deepcopy(new), target.sub, expect or None)

    def _apply_patch(self, request: Request, rt: ResourceType, current: Obj) -> Obj:
        content_type = request.headers.get("content-type", "").split(";")[0].strip()
        patch = request.json()
        try:
            if content_type == "application/json-patch+json":
                result = json_patch(current, patch)
            elif content_type == "application/merge-patch+json":
                result = merge_patch(current, patch)
            elif content_type in ("application/strategic-merge-patch+json", "application/apply-patch+yaml"):
                result = strategic_merge_patch(current, patch)
            else:
                raise ApiError(415, f"the server does not support the patch type {content_type!r}")
        except PatchError as e:
            raise ApiError(422, str(e)) from None
        if not isinstance(result, dict):
            raise ApiError(422, "the patch does not produce an object")
        return result

    def _patch(self, request: Request, target: Target) -> Response:
        rt = target.rt
        old = self.store.get(rt, target.namespace or "", target.name or "")
        if old is None:
            if request.headers.get("content-type", "").startswith("application/apply-patch"):
                request.method = "POST"
                return self._create(request, target)
            raise apierrors.not_found(rt, target.name or "")
        new = self._apply_patch(request, rt, old)
        expect = new.get("metadata", {}).get("resourceVersion")
        return self._finish_update(
            request, rt, old, new, target.sub, expect if expect != old["metadata"]["resourceVersion"] else None
        )

    def _delete(self, request: Request, target: Target) -> Response:
        rt = target.rt
        options = request.json() if request.body else {}
        old = self.store.must_get(rt, target.namespace or "", target.name or "")
        pre = (options or {}).get("preconditions") or {}
        if pre.get("resourceVersion") and pre["resourceVersion"] != old["metadata"]["resourceVersion"]:
            raise apierrors.conflict(rt, target.name or "")
        if request.arg("dryRun") or (options or {}).get("dryRun"):
            return json_response(old)
        gone = self.store.delete(rt, target.namespace or "", target.name or "", uid=pre.get("uid"))
        self.sim.deleted(rt, gone)
        return json_response(gone)

    def _delete_collection(self, request: Request, target: Target) -> Response:
        rt = target.rt
        predicate = self._predicate(request, rt)
        doomed = [o for o in self.store.list(rt, target.namespace) if predicate(o)]
        if not request.arg("dryRun"):
            for obj in doomed:
                meta = obj["metadata"]
                self.sim.deleted(rt, self.store.delete(rt, meta.get("namespace", ""), meta["name"]))
        return json_response(
            {
                "kind": rt.list_kind,
                "apiVersion": rt.api_version,
                "metadata": {"resourceVersion": str(self.store.resource_version)},
                "items": doomed,
            }
        )

    # -- subresources ----------------------------------------------------------------------------------------

    @staticmethod
    def _scale_of(obj: Obj) -> Obj:
        meta = obj["metadata"]
        selector = ",".join(
            f"{k}={v}"
            for k, v in sorted(((obj.get("spec", {}).get("selector") or {}).get("matchLabels") or {}).items())
        )
        return {
            "kind": "Scale",
            "apiVersion": "autoscaling/v1",
            "metadata": {
                k: meta[k] for k in ("name", "namespace", "uid", "resourceVersion", "creationTimestamp") if k in meta
            },
            "spec": {"replicas": int(obj.get("spec", {}).get("replicas", 1))},
            "status": {"replicas": int(obj.get("status", {}).get("replicas", 0)), "selector": selector},
        }

    def _scale(self, request: Request, target: Target) -> Response:
        rt = target.rt
        verb = self.verb(request, target)
        with self.store.lock:
            old = self.store.must_get(rt, target.namespace or "", target.name or "")
            if verb == "get":
                return json_response(self._scale_of(old))
            scale = self._scale_of(old)
            if verb == "update":
                new_scale = request.json()
                expect = (new_scale.get("metadata") or {}).get("resourceVersion")
            elif verb == "patch":
                new_scale = self._apply_patch(request, rt, scale)
                # a patch that sets metadata.resourceVersion is a precondition, as on the object itself: stale is 409
                expect = (new_scale.get("metadata") or {}).get("resourceVersion")
            else:
                raise ApiError(405, "the server does not allow this method on the requested resource")
            replicas = (new_scale.get("spec") or {}).get("replicas", 0)
            new = copy.deepcopy(old)
            new["spec"]["replicas"] = replicas
            response = self._finish_update(request, rt, old, new, None, expect)
            if request.arg("dryRun"):
                return json_response(self._scale_of(json.loads(response.body)))
            self.sim.react()
            return json_response(self._scale_of(self.store.must_get(rt, target.namespace or "", target.name or "")))

    def _logs(self, request: Request, target: Target) -> Response:
        from incidentctl.sandbox.logs import select_lines

        with self.store.lock:
            pod = self.store.must_get(resources.PODS, target.namespace or "", target.name or "")
            container = request.arg("container") or ""
            names = [c["name"] for c in pod.get("spec", {}).get("containers", [])]
            if not container:
                if len(names) != 1:
                    raise bad_request(
                        f"a container name must be specified for pod {target.name}, choose one of: [{' '.join(names)}]"
                    )
                container = names[0]
            if container not in names:
                raise bad_request(f"container {container} is not valid for pod {target.name}")
            previous = request.flag("previous")
            instance = self.sim.log_instance(pod, container, previous)
            now = self.store.clock.now()
            since = None
            if request.arg("sinceSeconds"):
                since = now - timedelta(seconds=request.int_arg("sinceSeconds") or 0)
            elif request.arg("sinceTime"):
                since = parse_time(request.arg("sinceTime") or "")
            every = select_lines(instance.lines(now), since=since)
            running = instance.running(now)
        stamps = request.flag("timestamps")
        tail = request.int_arg("tailLines")
        limit = request.int_arg("limitBytes")
        lines = select_lines(every, tail=tail)
        text = "".join(_log_line(ts, line, stamps) for ts, line in lines)
        if limit is not None:
            text = text.encode()[:limit].decode(errors="ignore")
        if not request.flag("follow") or not running:
            return Response(200, text.encode(), "text/plain")
        last = every[-1][0] if every else since

        def follow() -> Iterator[bytes]:
            nonlocal last
            if text:
                yield text.encode()
            while not self.stopping.is_set():
                time.sleep(0.2)
                with self.store.lock:
                    current = self.store.clock.now()
                    alive = self.store.get(resources.PODS, target.namespace or "", target.name or "") is not None
                    fresh = [(ts, ln) for ts, ln in instance.lines(current) if last is None or ts > last]
                    still_running = instance.running(current)
                if fresh:
                    last = fresh[-1][0]
                    yield "".join(_log_line(ts, ln, stamps) for ts, ln in fresh).encode()
                if not alive or not still_running:
                    return

        return Response(200, content_type="text/plain", stream=follow())

    def _access_review(self, request: Request) -> Response:
        review = request.json() or {}
        attributes = (review.get("spec") or {}).get("resourceAttributes") or {}
        verb, resource = attributes.get("verb", ""), attributes.get("resource", "")
        if attributes.get("subresource"):
            resource = f"{resource}/{attributes['subresource']}"
        allowed = self.allowed(verb, resource)
        status: Obj = {"allowed": allowed}
        if not allowed:
            status["denied"] = True
            status["reason"] = f'RBAC: user "{self.user}" may not {verb} {resource}'
        return json_response(
            {
                "kind": "SelfSubjectAccessReview",
                "apiVersion": "authorization.k8s.io/v1",
                "metadata": {"creationTimestamp": None},
                "spec": review.get("spec") or {},
                "status": status,
            },
            201,
        )

    def _metrics(self, request: Request, target: Target) -> Response:
        predicate = self._predicate(request, target.rt)
        with self.store.lock:
            if target.rt is resources.POD_METRICS:
                items = [m for m in self.sim.pod_metrics(target.namespace) if predicate(m)]
                kind = "PodMetrics"
            else:
                items = [m for m in self.sim.node_metrics() if predicate(m)]
                kind = "NodeMetrics"
        if target.name:
            found = next((m for m in items if m["metadata"]["name"] == target.name), None)
            if found is None:
                raise ApiError(
                    404,
                    f'{target.rt.plural}.metrics.k8s.io "{target.name}" not found',
                    details={"name": target.name, "group": "metrics.k8s.io", "kind": target.rt.plural},
                )
            return json_response(found)
        return json_response(
            {"kind": f"{kind}List", "apiVersion": "metrics.k8s.io/v1beta1", "metadata": {}, "items": items}
        )


def _record_writer(
    request: Request, obj: Obj, when: datetime, *, old: Obj | None = None, subresource: str | None = None
) -> None:
    """The write in ``metadata.managedFields``: who (the request's field manager) and when."""
    from incidentctl.sandbox.managed_fields import manager_of, stamp

    manager = manager_of(request.arg("fieldManager"), request.headers.get("user-agent"))
    apply = request.headers.get("content-type", "").startswith("application/apply-patch")
    stamp(obj, manager, when, old=old, operation="Apply" if apply else "Update", subresource=subresource)


def _log_line(ts: Any, line: str, stamps: bool) -> str:
    return f"{rfc3339_nano(ts)} {line}\n" if stamps else f"{line}\n"


__all__ = ["KubeApi", "Target", "parse_target", "rfc3339"]
