"""Start-up stays lean: `--help` must not pay for the Kubernetes client, httpx or jinja2.

Run in a fresh interpreter (a subprocess) so that what other tests imported does not hide a regression.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

HEAVY = ("kubernetes", "httpx", "jinja2")

PROBE = """
import json, sys
sys.argv = ["incidentctl", *json.loads(sys.argv[1])]
from incidentctl.cli import main
try:
    main()
except SystemExit as e:
    code = e.code
else:
    code = 0
sys.stderr.write("\\nMODULES=" + json.dumps(sorted(sys.modules)) + " CODE=" + str(code) + "\\n")
"""


def _modules_after(args: list[str]) -> tuple[set[str], str, str]:
    proc = subprocess.run(
        [sys.executable, "-c", PROBE, json.dumps(args)], capture_output=True, text=True, timeout=60, check=False
    )
    marker = proc.stderr.rsplit("MODULES=", 1)
    assert len(marker) == 2, proc.stderr
    modules_json, code = marker[1].rsplit(" CODE=", 1)
    return {m.split(".")[0] for m in json.loads(modules_json)}, proc.stdout, code.strip()


@pytest.mark.parametrize("args", [["--help"], ["incident", "--help"], ["runbook", "--help"], ["--version"]])
def test_help_does_not_import_heavy_clients(args: list[str]) -> None:
    modules, stdout, code = _modules_after(args)
    assert code == "0"
    assert "incidentctl" in stdout
    assert not modules & set(HEAVY), f"{args} imported {sorted(modules & set(HEAVY))}"


def test_python_dash_m_works_like_the_console_script() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "incidentctl", "--version"], capture_output=True, text=True, timeout=60, check=False
    )
    assert proc.returncode == 0
    assert proc.stdout.startswith("incidentctl ")
