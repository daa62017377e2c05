"""Secrets come from the environment or a file, errors name where, never what, and known values get masked."""

from __future__ import annotations

from pathlib import Path

import pytest

from incidentctl.adapters.secrets import MASK, Secrets, redact
from incidentctl.errors import ConfigError
from incidentctl.exitcodes import ExitCode
from incidentctl.runbook.types import SecretRef


def test_an_env_reference_reads_the_injected_environment() -> None:
    secrets = Secrets({"INCIDENTCTL_TOKEN": "tok-123456"})
    assert secrets.resolve(SecretRef(env="INCIDENTCTL_TOKEN")) == "tok-123456"


def test_a_missing_variable_is_a_config_error_naming_it() -> None:
    secrets = Secrets({"OTHER": "tok-visible-elsewhere"})
    with pytest.raises(ConfigError) as info:
        secrets.resolve(SecretRef(env="INCIDENTCTL_TOKEN"))
    assert "INCIDENTCTL_TOKEN" in str(info.value)
    assert "not set" in str(info.value)
    assert "tok-visible-elsewhere" not in str(info.value)
    assert info.value.exit_code == ExitCode.USAGE


def test_an_empty_variable_is_an_error_too() -> None:
    with pytest.raises(ConfigError, match=r"INCIDENTCTL_TOKEN is empty"):
        Secrets({"INCIDENTCTL_TOKEN": "  "}).resolve(SecretRef(env="INCIDENTCTL_TOKEN"))


def test_a_file_reference_is_relative_to_the_runbook_folder_and_loses_its_newline(tmp_path: Path) -> None:
    (tmp_path / "secrets").mkdir()
    (tmp_path / "secrets" / "token").write_text("file-secret-987\n", encoding="utf-8")
    secrets = Secrets({}, base_dir=tmp_path)
    assert secrets.resolve(SecretRef(file="secrets/token")) == "file-secret-987"


def test_a_missing_file_is_a_config_error_naming_the_path(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as info:
        Secrets({}, base_dir=tmp_path).resolve(SecretRef(file="nope/token"))
    assert str(tmp_path / "nope" / "token") in str(info.value)
    assert "does not exist" in str(info.value)


def test_an_empty_file_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "token").write_text("\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"is empty"):
        Secrets({}, base_dir=tmp_path).resolve(SecretRef(file=str(tmp_path / "token")))


def test_values_handed_out_are_masked_in_text_and_nested_data() -> None:
    secrets = Secrets({"A": "s3cr3t-value", "B": "other-secret"})
    secrets.resolve(SecretRef(env="A"))
    secrets.resolve(SecretRef(env="B"))
    text = "Authorization: Bearer s3cr3t-value, then other-secret"
    assert secrets.redact(text) == f"Authorization: Bearer {MASK}, then {MASK}"
    data = {"headers": ["x", "s3cr3t-value"], "nested": {"echo": ("other-secret!",)}, "n": 3}
    assert secrets.redact_data(data) == {"headers": ["x", MASK], "nested": {"echo": (f"{MASK}!",)}, "n": 3}


def test_a_value_never_resolved_is_left_alone() -> None:
    secrets = Secrets({"A": "s3cr3t-value"})
    assert secrets.redact("s3cr3t-value") == "s3cr3t-value"


def test_the_longest_secret_is_masked_first_so_no_tail_is_left() -> None:
    assert redact("key=abcdef123", ["abc", "abcdef123"]) == f"key={MASK}"


def test_the_credential_inside_a_header_value_is_masked_on_its_own() -> None:
    secrets = Secrets({"AUTH": "Bearer sk-live-4f9a2c7e81d3"})
    secrets.resolve(SecretRef(env="AUTH"))
    assert secrets.redact("token sk-live-4f9a2c7e81d3 revoked") == f"token {MASK} revoked"
