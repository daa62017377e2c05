"""Events the way Kubernetes records them: one object per (object, reason, message), its count bumped on
repetition (client-go's event correlator), and gone an hour after it was last seen (the API server's TTL).

Two recorders write them, as on a real cluster: the kubelet and most controllers use the old core/v1 recorder
(``count``, ``firstTimestamp``, ``lastTimestamp``); kube-scheduler uses events.k8s.io/v1, whose events read
through core/v1 carry ``eventTime`` and, once repeated, ``series`` (``count``, ``lastObservedTime``) instead, with
``count`` and both timestamps empty. Clients that read only ``lastTimestamp`` get those wrong; the sandbox makes
them show it."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from incidentctl.sandbox.clock import parse_time, rfc3339, rfc3339_micro
from incidentctl.sandbox.resources import EVENTS
from incidentctl.sandbox.store import Obj, Store

EVENT_TTL = timedelta(hours=1)


class EventRecorder:
    def __init__(self, store: Store) -> None:
        self.store = store
        self._index: dict[tuple[str, str, str, str], str] = {}
        self._counter = 0

    def record(
        self,
        obj: Obj,
        type_: str,
        reason: str,
        message: str,
        *,
        component: str,
        host: str | None = None,
        field_path: str | None = None,
        when: datetime | None = None,
        new_api: bool = False,
    ) -> None:
        meta = obj["metadata"]
        namespace = meta.get("namespace") or "default"
        now = when or self.store.clock.now()
        key = (meta.get("uid", ""), reason, message, component)
        name = self._index.get(key)
        if name is not None:
            existing = self.store.get(EVENTS, namespace, name)
            if existing is not None and new_api:
                updated = dict(existing)
                count = int((existing.get("series") or {}).get("count", 1)) + 1
                updated["series"] = {"count": count, "lastObservedTime": rfc3339_micro(now)}
                updated["metadata"] = dict(existing["metadata"])
                self.store.replace(EVENTS, updated)
                return
            if existing is not None:
                updated = dict(existing)
                updated["count"] = int(existing.get("count", 1)) + 1
                updated["lastTimestamp"] = rfc3339(now)
                updated["metadata"] = dict(existing["metadata"])
                self.store.replace(EVENTS, updated)
                return
        self._counter += 1
        stamp = int(now.timestamp() * 1e9) + self._counter
        name = f"{meta['name']}.{stamp:x}"
        involved: dict[str, Any] = {
            "kind": obj.get("kind"),
            "namespace": meta.get("namespace"),
            "name": meta["name"],
            "uid": meta.get("uid"),
            "apiVersion": obj.get("apiVersion"),
            "resourceVersion": meta.get("resourceVersion"),
        }
        if not meta.get("namespace"):
            involved.pop("namespace")
        if field_path:
            involved["fieldPath"] = field_path
        source: dict[str, str] = {"component": component}
        if host:
            source["host"] = host
        event = {
            "metadata": {"name": name, "namespace": namespace},
            "involvedObject": involved,
            "reason": reason,
            "message": message,
            "source": source,
            "firstTimestamp": rfc3339(now),
            "lastTimestamp": rfc3339(now),
            "count": 1,
            "type": type_,
            "eventTime": None,
            "reportingComponent": component,
            "reportingInstance": host or "",
        }
        if new_api:
            event.update(
                source={},
                firstTimestamp=None,
                lastTimestamp=None,
                eventTime=rfc3339_micro(now),
                reportingInstance=f"{component}-{host or 'sarvanom-control-plane'}",
                action={"default-scheduler": "Scheduling"}.get(component, "Binding"),
            )
            del event["count"]
        self.store.create(EVENTS, event, created=now)
        self._index[key] = name

    def expire(self, now: datetime) -> None:
        cutoff = now - EVENT_TTL
        for event in self.store.list(EVENTS):
            last = (
                (event.get("series") or {}).get("lastObservedTime")
                or event.get("lastTimestamp")
                or event.get("eventTime")
            )
            if last is None or parse_time(last) < cutoff:
                self.store.delete(EVENTS, event["metadata"]["namespace"], event["metadata"]["name"])
