"""The demo's steps, in the runbook's order, each with the runbook section it replaces.

The sections and the lines quoted are the seed runbook's (``incident-response-runbook.md``), as it titles them:
its chapters number their sections afresh (there is a 1.1 in five of them), so every reference names its chapter.
A newcomer who knows the page of ``kubectl`` and ``curl`` lines sees which of them each command takes over.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass
from enum import Enum

#: The production namespace as the seed runbook's lines name it.
_NS = "-n sarvanom-production"


class Kind(Enum):
    """How the demo runs a step's commands."""

    #: a command whose failure ends the demo
    RUN = "run"
    #: a message to people: one a channel did not take stays queued, and the demo goes on, as a responder would
    TELL = "tell"


@dataclass(frozen=True)
class Command:
    """One real command line (after ``incidentctl``); ``@open`` is the incident's id, ``@postmortem`` its file."""

    args: tuple[str, ...]
    kind: Kind = Kind.RUN


@dataclass(frozen=True)
class Step:
    name: str
    #: the runbook's sections this step replaces, chapter first
    sections: tuple[str, ...]
    #: the runbook's lines (scripts, kubectl, curl) it replaces
    replaces: tuple[str, ...]
    commands: tuple[Command, ...]
    #: needs a declared incident: without one (the healthy scenario) the demo ends before it
    needs_incident: bool = True
    #: runs only once the journal says the fix was verified healthy
    needs_mitigated: bool = False

    def replaces_line(self) -> str:
        return f"replaces: {'; '.join(self.sections)}: {', '.join(self.replaces)}"


#: The verification is the mitigation's own (``mitigate ... `` without ``--no-verify``): it records the verified
#: mitigation's id, so the post-mortem says which fix made it healthy, and it judges what the plan touched (a
#: restarted pod by its new uid). ``mitigate verify`` would record neither. Its heading is printed when the demo
#: answers the mitigation's question, where the waiting starts.
VERIFY = Step(
    "Verify",
    ("Incident Response Procedures 3.3 Permanent Fix",),
    ("./scripts/verify_fix.sh",),
    (),
)
VERIFY_SAYS = (
    "Verify: the rollout awaited, then detect's own checks re-run until they say healthy (the mitigation's own "
    "verification, recorded in the journal)"
)


def steps(fix: tuple[str, ...], deployments: frozenset[str]) -> list[Step]:
    """Every step of the demo, the scenario's own ``fix`` as the mitigation (``deployments``: the cluster's)."""
    return [
        Step(
            "Detect",
            ("Incident Response Procedures 1.1 Incident Detection",),
            (
                "./scripts/incident_detection.sh",
                f"kubectl get pods {_NS}",
                f"kubectl get services {_NS}",
                f"kubectl get ingress {_NS}",
                "curl -f https://api.sarvanom.com/health",
            ),
            (Command(("detect",)),),
            needs_incident=False,
        ),
        Step(
            "Triage and declare",
            ("Incident Response Procedures 1.2 Incident Triage", "2.3 Impact Assessment"),
            (
                "./scripts/assess_impact.sh",
                "./scripts/determine_severity.sh",
                "./scripts/check_affected_services.sh",
                "./scripts/check_sla_impact.sh",
            ),
            (Command(("triage", "--declare")),),
            needs_incident=False,
        ),
        Step(
            "Tell people",
            (
                "Incident Response Procedures 1.3 Initial Communication",
                "Incident Communication 2.1 Initial Notification",
            ),
            (
                "./scripts/create_incident_channel.sh",
                "./scripts/send_initial_notification.sh",
                "./scripts/update_status_page.sh",
            ),
            (Command(("communicate", "send", "initial", "@open"), Kind.TELL),),
        ),
        Step(
            "Acknowledge",
            ("Incident Classification 1.1 Critical (P1) to 1.4 Low (P4)",),
            ("the page answered within the severity's Response Time (5 minutes for a P1, 15 for a P2)",),
            (Command(("incident", "ack", "@open")),),
        ),
        Step(
            "Investigate",
            ("Incident Response Procedures 2.1 System Analysis", "2.2 Root Cause Analysis"),
            (
                f"kubectl logs {_NS} deployment/gateway --tail=100",
                f"kubectl top pods {_NS}",
                'kubectl exec -it postgres-0 ... psql ... -c "SELECT 1;"',
                "kubectl logs ... | grep -i error | sort | uniq -c | sort -nr",
                "kubectl rollout history deployment/...",
                "curl -f https://api.openai.com/v1/models",
            ),
            (Command(("investigate",)),),
        ),
        _mitigate(fix, deployments),
        Step(
            "Status update",
            ("Incident Response Procedures 4.1 Status Updates", "Incident Communication 2.2 Status Update"),
            ("./scripts/send_status_update.sh", "./scripts/update_status_page.sh"),
            (Command(("communicate", "send", "update", "@open", "--update", _update_text(fix)), Kind.TELL),),
        ),
        Step(
            "Escalation check",
            ("Escalation Procedures 2.1 Automatic Escalation", "Escalation Procedures 2.2 Escalation Criteria"),
            ("the escalation_rules and the time-based criteria, weighed by hand against the 1. Escalation Matrix",),
            (Command(("escalate", "check", "@open")),),
        ),
        Step(
            "Resolve",
            ("Incident Response Procedures 4.1 Status Updates", "Incident Communication 2.3 Resolution Notification"),
            (
                "./scripts/update_incident_status.sh",
                "./scripts/send_status_update.sh",
                "./scripts/update_status_page.sh",
            ),
            (
                Command(("incident", "status", "@open", "resolved", "-m", "Verified healthy after the fix.")),
                Command(("communicate", "send", "resolution", "@open"), Kind.TELL),
            ),
            needs_mitigated=True,
        ),
        Step(
            "Post-mortem",
            ("Post-Incident Analysis 1.1 Immediate Review", "Post-Incident Analysis 2. Post-Mortem Template"),
            (
                "./scripts/collect_incident_data.sh",
                "./scripts/generate_incident_timeline.sh",
                "./scripts/analyze_root_cause.sh",
            ),
            (Command(("postmortem", "draft", "@open", "--file", "@postmortem")),),
        ),
        Step(
            "Report",
            ("Incident Metrics 2.1 Daily Reports", "Incident Metrics 1.1 Response Metrics"),
            ("MTTD, MTTA and MTTR counted by hand from the incident's notes",),
            (Command(("report", "daily")),),
        ),
    ]


#: The runbook section and line each kind of fix replaces (its first word after ``mitigate``).
_FIXES: dict[str, tuple[str, str]] = {
    "restart": ("3.1 Immediate Mitigation", "kubectl rollout restart deployment/{target} " + _NS),
    "scale": ("3.1 Immediate Mitigation", "kubectl scale deployment {deployment} --replicas={replicas} " + _NS),
    "flush-cache": ("3.1 Immediate Mitigation", "kubectl exec -it redis-0 " + _NS + " -- redis-cli flushall"),
    "circuit-breaker": ("3.2 Workaround Implementation", "./scripts/implement_circuit_breakers.sh"),
    "maintenance": ("3.2 Workaround Implementation", "./scripts/enable_maintenance_mode.sh"),
    "redirect": ("3.2 Workaround Implementation", "./scripts/redirect_traffic.sh"),
    "rollback": ("3.3 Permanent Fix", "kubectl rollout undo deployment/{target} " + _NS),
    "apply": ("3.3 Permanent Fix", "kubectl apply -f k8s/hotfix/"),
}


def _mitigate(fix: tuple[str, ...], deployments: frozenset[str]) -> Step:
    verb = fix[1] if len(fix) > 1 else ""
    target = fix[2] if len(fix) > 2 else ""
    section, line = _FIXES.get(verb, ("3.1 Immediate Mitigation", "the fix by hand"))
    deployment, _, replicas = target.partition("=")
    if verb == "restart" and target not in deployments:  # a datastore's pod: the seed has no line for it
        line = "kubectl rollout restart (the seed names deployments only)"
    return Step(
        "Mitigate",
        (f"Incident Response Procedures {section}",),
        (line.format(target=target, deployment=deployment, replicas=replicas or "N"),),
        (Command(fix),) if fix else (),
    )


def _update_text(fix: tuple[str, ...]) -> str:
    if not fix:
        return "Investigating; no automated mitigation applies."
    return f"Mitigated with `incidentctl {shlex.join(fix)}` and verified healthy; monitoring."
