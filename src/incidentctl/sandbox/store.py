"""The object store: every object the sandbox serves, with resourceVersions and a watch feed.

Stored objects are never mutated in place: writers store a new dict, so readers (a paged list of 2,000 pods, a
watch stream) can hand out the stored dicts without copying them. One re-entrant lock guards the store and the
simulation that drives it; watch streams read from their own queues outside the lock.
"""

from __future__ import annotations

import copy
import queue
import threading
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from incidentctl.sandbox import apierrors
from incidentctl.sandbox.clock import SimClock, rfc3339
from incidentctl.sandbox.resources import STORED, ResourceType

Obj = dict[str, Any]
Key = tuple[str, str]  # (namespace, name); namespace "" for cluster-scoped objects

#: how many changes a watch can resume from before the client must relist (410 Gone), as etcd compaction does
HISTORY = 20000


@dataclass
class WatchEvent:
    rv: int
    rt: ResourceType
    type: str
    obj: Obj


@dataclass
class Watcher:
    rt: ResourceType
    namespace: str | None
    predicate: Callable[[Obj], bool]
    events: queue.SimpleQueue[WatchEvent | None] = field(default_factory=queue.SimpleQueue)

    def offer(self, event: WatchEvent) -> None:
        if event.rt is not self.rt:
            return
        meta = event.obj.get("metadata", {})
        if self.namespace and meta.get("namespace") != self.namespace:
            return
        if self.predicate(event.obj):
            self.events.put(event)

    def close(self) -> None:
        self.events.put(None)


class Store:
    def __init__(self, clock: SimClock) -> None:
        self.clock = clock
        self.lock = threading.RLock()
        self._rv = 0
        self._objects: dict[ResourceType, dict[Key, Obj]] = {rt: {} for rt in STORED}
        self._sorted: dict[ResourceType, list[Key] | None] = dict.fromkeys(STORED)
        self._history: deque[WatchEvent] = deque(maxlen=HISTORY)
        self._watchers: list[Watcher] = []
        #: called after every successful write (the simulation reacts to user changes at once, as controllers do)
        self.on_change: Callable[[ResourceType, str, Obj], None] | None = None

    # -- reading ---------------------------------------------------------------------------------------------

    @property
    def resource_version(self) -> int:
        return self._rv

    def get(self, rt: ResourceType, namespace: str, name: str) -> Obj | None:
        return self._objects[rt].get((namespace if rt.namespaced else "", name))

    def must_get(self, rt: ResourceType, namespace: str, name: str) -> Obj:
        obj = self.get(rt, namespace, name)
        if obj is None:
            raise apierrors.not_found(rt, name)
        return obj

    def keys(self, rt: ResourceType) -> list[Key]:
        keys = self._sorted[rt]
        if keys is None:
            keys = sorted(self._objects[rt])
            self._sorted[rt] = keys
        return keys

    def list(self, rt: ResourceType, namespace: str | None = None) -> list[Obj]:
        objects = self._objects[rt]
        return [objects[k] for k in self.keys(rt) if not namespace or k[0] == namespace]

    def iter_from(self, rt: ResourceType, namespace: str | None, after: Key | None) -> Iterator[tuple[Key, Obj]]:
        import bisect

        keys = self.keys(rt)
        start = 0 if after is None else bisect.bisect_right(keys, after)
        objects = self._objects[rt]
        for key in keys[start:]:
            if namespace and key[0] != namespace:
                continue
            yield key, objects[key]

    # -- writing ---------------------------------------------------------------------------------------------

    def _bump(self) -> str:
        self._rv += 1
        return str(self._rv)

    def _emit(self, rt: ResourceType, kind: str, obj: Obj) -> None:
        event = WatchEvent(self._rv, rt, kind, obj)
        self._history.append(event)
        for watcher in list(self._watchers):
            watcher.offer(event)
        if self.on_change is not None:
            self.on_change(rt, kind, obj)

    def prepare_new(self, rt: ResourceType, obj: Obj, created: datetime | None = None) -> Obj:
        """Fill in what the server sets on create (uid, timestamps, generation); no storing."""
        obj = copy.deepcopy(obj)
        obj["apiVersion"] = rt.api_version
        obj["kind"] = rt.kind
        meta = obj.setdefault("metadata", {})
        if not meta.get("name") and meta.get("generateName"):
            from incidentctl.sandbox.names import random_suffix

            meta["name"] = meta["generateName"] + random_suffix(5)
        from incidentctl.sandbox.names import new_uid

        meta["uid"] = new_uid()
        meta["creationTimestamp"] = rfc3339(created or self.clock.now())
        meta.pop("resourceVersion", None)
        meta.pop("deletionTimestamp", None)
        if rt.kind in ("Deployment", "ReplicaSet", "StatefulSet", "Pod"):
            meta["generation"] = 1
        return obj

    def create(self, rt: ResourceType, obj: Obj, *, created: datetime | None = None, prepared: bool = False) -> Obj:
        with self.lock:
            new = obj if prepared else self.prepare_new(rt, obj, created)
            meta = new["metadata"]
            name = meta.get("name", "")
            if not name:
                raise apierrors.invalid(
                    rt, "", "metadata.name", "Required value: name or generateName is required", "FieldValueRequired"
                )
            key = (meta.get("namespace", "") if rt.namespaced else "", name)
            if key in self._objects[rt]:
                raise apierrors.already_exists(rt, name)
            meta["resourceVersion"] = self._bump()
            self._objects[rt][key] = new
            self._sorted[rt] = None
            self._emit(rt, "ADDED", new)
            return new

    def replace(self, rt: ResourceType, new: Obj, *, expect_rv: str | None = None) -> Obj:
        """Store a new version of an existing object (the caller built ``new`` as a fresh dict)."""
        with self.lock:
            meta = new["metadata"]
            key = (meta.get("namespace", "") if rt.namespaced else "", meta["name"])
            old = self._objects[rt].get(key)
            if old is None:
                raise apierrors.not_found(rt, meta["name"])
            if expect_rv and expect_rv != old["metadata"]["resourceVersion"]:
                raise apierrors.conflict(rt, meta["name"])
            meta["uid"] = old["metadata"]["uid"]
            meta["creationTimestamp"] = old["metadata"]["creationTimestamp"]
            meta["resourceVersion"] = self._bump()
            self._objects[rt][key] = new
            self._emit(rt, "MODIFIED", new)
            return new

    def delete(self, rt: ResourceType, namespace: str, name: str, *, uid: str | None = None) -> Obj:
        with self.lock:
            key = (namespace if rt.namespaced else "", name)
            old = self._objects[rt].get(key)
            if old is None:
                raise apierrors.not_found(rt, name)
            if uid and old["metadata"]["uid"] != uid:
                raise apierrors.ApiError(
                    409,
                    f"Precondition failed: UID in precondition: {uid}, UID in object meta: {old['metadata']['uid']}",
                )
            del self._objects[rt][key]
            self._sorted[rt] = None
            gone = dict(old)
            gone["metadata"] = dict(old["metadata"])
            gone["metadata"]["resourceVersion"] = self._bump()
            self._emit(rt, "DELETED", gone)
            return gone

    # -- watching --------------------------------------------------------------------------------------------

    def watch(
        self, rt: ResourceType, namespace: str | None, predicate: Callable[[Obj], bool], since: int | None
    ) -> Watcher:
        """A watcher fed with every change after ``since`` (None: only future changes)."""
        with self.lock:
            watcher = Watcher(rt, namespace, predicate)
            if since is not None and since < self._rv:
                oldest = self._history[0].rv if self._history else self._rv + 1
                if since < oldest - 1:
                    raise apierrors.ApiError(410, f"too old resource version: {since} ({oldest - 1})", reason="Expired")
                for event in self._history:
                    if event.rv > since:
                        watcher.offer(event)
            self._watchers.append(watcher)
            return watcher

    def watcher_count(self) -> int:
        with self.lock:
            return len(self._watchers)

    def unwatch(self, watcher: Watcher) -> None:
        with self.lock:
            if watcher in self._watchers:
                self._watchers.remove(watcher)

    def close_watchers(self) -> None:
        with self.lock:
            for watcher in self._watchers:
                watcher.close()
            self._watchers.clear()
