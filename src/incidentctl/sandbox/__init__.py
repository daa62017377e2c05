"""A local, kubectl-compatible simulated cluster running the SarvanOM system, with scripted incidents.

Imported only by the ``sandbox`` and ``demo`` commands and by tests: it is a server, not part of the tool's normal
path, and it never imports ``kubernetes`` (tests use the official client against it).

What it serves, on one loopback port (``Sandbox.url``):

* the Kubernetes API, held to real kubectl 1.37 and the official Python client: discovery (plain JSON, so
  client-go uses the per-version lists), get/list with label and field selectors and ``limit``/``continue``
  paging, watch (with the initial-events bookmark ``kubectl rollout status`` waits for, and plain
  ``resourceVersion`` resumption), server-side ``Table`` printing with kubectl's columns, create/update/delete,
  the three PATCH types, ``?dryRun=All``, 409 on a stale resourceVersion, ``Status`` errors, the scale, status
  and log subresources (text/plain; previous, tailLines, sinceSeconds/sinceTime, timestamps, limitBytes,
  follow), exec over websocket (``v5``/``v4.channel.k8s.io``, exit codes on channel 3),
  ``metrics.k8s.io`` for ``kubectl top``, SelfSubjectAccessReviews for ``kubectl auth can-i``, OpenAPI v3 stubs
  so ``kubectl apply``/``create -f`` validate server-side, and protobuf bodies of the typed requests kubectl
  sends that way (access reviews, configmaps);
* controllers on the sandbox clock (``clock.SimClock``: frozen in tests and moved with ``Sandbox.advance``, or
  following the wall clock for drills): scheduler (CPU/memory requests, FailedScheduling), kubelet (image pulls,
  starts, readiness, crashes with back-off, OOM kills, evictions, events), ReplicaSet, Deployment (revisions,
  rolling updates, undo by reusing ReplicaSets, conditions, progress deadline), StatefulSet, Endpoints and
  garbage collection;
* the SarvanOM world (``world``) and its behaviour (``behaviour``): signals, health answers, exec output and
  logs that follow the state of the cluster, so mitigations done with kubectl really fix things;
* stand-ins for what the runbook's HTTP checks reach (``stand_ins``): health endpoints, the LLM providers,
  Prometheus' query API and Alertmanager's alerts;
* an admin endpoint (``/_sandbox/``, bearer token from the kubeconfig) to switch scenarios while it runs;
* faults on demand (``faults``): latency, 5xx bursts, 429 with Retry-After, 403 for a verb and resource;
  ``Sandbox.stop()`` gives connection refused and ``start()`` brings it back on the same port.

Optional HTTPS (``Sandbox(tls_dir=...)``, ``sandbox up --tls``): a self-signed certificate made with openssl; the
API then checks the kubeconfig's bearer token, which kubectl only sends over TLS.

Not simulated: persistent volumes, RBAC objects (403s are injected), Secrets, Jobs, DaemonSets, HPA,
admission webhooks, OpenAPI schemas (``kubectl explain``), graceful termination (deleted pods go at once), and
the strategic-merge-patch details of lists kubectl rarely patches. Server-side apply merges like a strategic
merge patch, without managed fields.
"""

from __future__ import annotations
