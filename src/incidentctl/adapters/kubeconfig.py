"""Which kubeconfig applies, and whether it can work at all, decided before anything is contacted.

A kubeconfig that is missing, not YAML, names a context it does not have, or points at files that are not there
can be known in a millisecond by reading it; the Kubernetes client would only find out after its 0.3 s import, and
detect would only say so after every health check had run. So commands check it first, with PyYAML (already
loaded for the runbook) and without importing ``kubernetes``, and the client loads it afterwards as before.

The rules are kubectl's: ``--kubeconfig`` else ``$KUBECONFIG`` (several files merged, the first to define a name
wins, files that do not exist are skipped) else ``~/.kube/config``; relative file paths in a kubeconfig are
relative to the file that names them.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from incidentctl.errors import KubeconfigError

#: The files a cluster or user entry may name, which must exist for the client to load the kubeconfig.
_CLUSTER_FILES = ("certificate-authority",)
_USER_FILES = ("client-certificate", "client-key", "tokenFile")


def kubeconfig_paths(kubeconfig: str | None, env: Mapping[str, str]) -> list[str]:
    """The files kubectl would read, in order (empty: none, so in-cluster configuration or nothing)."""
    if kubeconfig:
        return [kubeconfig]
    paths = [p for p in env.get("KUBECONFIG", "").split(os.pathsep) if p]
    if paths:
        return paths
    default = Path(env.get("HOME", str(Path.home()))) / ".kube" / "config"
    return [str(default)] if _kind(str(default)) == "file" else []


def check_kubeconfig(
    kubeconfig: str | None, context: str | None, env: Mapping[str, str], *, context_source: str | None = None
) -> str | None:
    """Raise ``KubeconfigError`` with one clear line when the kubeconfig cannot possibly work; else the context
    the client will use (``context``, or the kubeconfig's current-context), None in a pod without a kubeconfig.

    ``context_source`` says where a context that was not given as ``--context`` came from (the runbook), so the
    error points at the line to fix."""
    paths = kubeconfig_paths(kubeconfig, env)
    if not paths:
        if env.get("KUBERNETES_SERVICE_HOST"):
            return None  # in a pod: the service account is the configuration, the client checks it
        raise KubeconfigError(
            "no kubeconfig: --kubeconfig not given, $KUBECONFIG empty and ~/.kube/config missing",
            hint="point --kubeconfig at your cluster's kubeconfig (or run `incidentctl sandbox up`)",
        )
    for p in paths:
        if _kind(p) == "directory":
            raise KubeconfigError(f"kubeconfig {p} is a directory, not a file")
    existing = [p for p in paths if _kind(p) == "file"]
    if not existing:
        raise KubeconfigError(f"kubeconfig not found: {', '.join(paths)}")
    merged = _Merged()
    for p in existing:
        merged.add(p, _read(p))
    files = ", ".join(existing)
    name = context or merged.current
    if not name:
        known = ", ".join(merged.contexts) or "none"
        raise KubeconfigError(
            f"kubeconfig {files} has no current context", hint=f"name one with --context (contexts: {known})"
        )
    if name not in merged.contexts:
        known = ", ".join(merged.contexts) or "none"
        named = f" ({context_source})" if context and context_source else ""
        raise KubeconfigError(
            f"context {name!r}{named} not found in {files}",
            hint=f"contexts in it: {known} (`kubectl config get-contexts` lists them)",
        )
    entry, _where = merged.contexts[name]
    cluster_name, user_name = str(entry.get("cluster") or ""), str(entry.get("user") or "")
    if cluster_name not in merged.clusters:
        raise KubeconfigError(f"context {name!r} names cluster {cluster_name!r}, which is not in {files}")
    cluster, cluster_file = merged.clusters[cluster_name]
    if not cluster.get("server"):
        raise KubeconfigError(f"cluster {cluster_name!r} in {cluster_file} has no server")
    _check_files(cluster, _CLUSTER_FILES, f"cluster {cluster_name!r}", cluster_file)
    if user_name:
        if user_name not in merged.users:
            raise KubeconfigError(f"context {name!r} names user {user_name!r}, which is not in {files}")
        user, user_file = merged.users[user_name]
        _check_files(user, _USER_FILES, f"user {user_name!r}", user_file)
    return name


def _kind(path: str) -> str:
    """``file``, ``directory`` or ``missing``; a folder on the way that may not be searched is an error that says
    so, rather than a PermissionError out of ``is_dir``."""
    try:
        mode = Path(path).expanduser().stat().st_mode
    except (FileNotFoundError, NotADirectoryError):
        return "missing"
    except OSError as e:
        raise KubeconfigError(f"cannot read kubeconfig {path}: {e.strerror or e}") from e
    return "directory" if stat.S_ISDIR(mode) else "file" if stat.S_ISREG(mode) else "missing"


def _read(path: str) -> Mapping[str, Any]:
    import yaml

    try:
        text = Path(path).expanduser().read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise KubeconfigError(f"cannot read kubeconfig {path}: {getattr(e, 'strerror', None) or e}") from e
    try:
        doc = yaml.safe_load(text)
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f"{path}:{mark.line + 1}:{mark.column + 1}" if mark is not None else None
        problem = getattr(e, "problem", None) or str(e).splitlines()[0]
        raise KubeconfigError(f"kubeconfig {path} is not valid YAML: {problem}", where=where) from e
    if doc is None:
        return {}  # kubectl merges an empty file as no entries
    if not isinstance(doc, dict):
        raise KubeconfigError(
            f"kubeconfig {path} is not a kubeconfig (a YAML mapping of clusters, users and contexts): "
            f"it holds a {type(doc).__name__}"
        )
    return doc


class _Merged:
    """Several kubeconfig files as one, the first definition of each name winning (as kubectl merges them)."""

    def __init__(self) -> None:
        self.current = ""
        self.contexts: dict[str, tuple[Mapping[str, Any], str]] = {}
        self.clusters: dict[str, tuple[Mapping[str, Any], str]] = {}
        self.users: dict[str, tuple[Mapping[str, Any], str]] = {}

    def add(self, path: str, doc: Mapping[str, Any]) -> None:
        self.current = self.current or str(doc.get("current-context") or "")
        for key, into, inner in (
            ("contexts", self.contexts, "context"),
            ("clusters", self.clusters, "cluster"),
            ("users", self.users, "user"),
        ):
            entries = doc.get(key) or []
            if not isinstance(entries, list):
                raise KubeconfigError(f"kubeconfig {path}: {key} must be a list, not a {type(entries).__name__}")
            for item in entries:
                if not isinstance(item, dict) or not item.get("name"):
                    raise KubeconfigError(f"kubeconfig {path}: every entry of {key} needs a name")
                body = item.get(inner) or {}
                if not isinstance(body, dict):
                    raise KubeconfigError(f"kubeconfig {path}: {key} entry {item['name']!r} is not a mapping")
                into.setdefault(str(item["name"]), (body, path))


def _check_files(entry: Mapping[str, Any], keys: tuple[str, ...], what: str, source: str) -> None:
    base = Path(source).expanduser().parent
    for key in keys:
        value = entry.get(key)
        if not value:
            continue
        path = Path(str(value)).expanduser()
        path = path if path.is_absolute() else base / path
        if not path.is_file():
            raise KubeconfigError(f"{key} {path} ({what}) not found, named in {source}")
