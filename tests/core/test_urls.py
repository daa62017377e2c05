"""Credentials inside URLs are masked for output; everything else in the URL is shown exactly as written."""

from __future__ import annotations

import pytest

from incidentctl.core.urls import has_userinfo, redact_url, redact_urls, redact_urls_in


@pytest.mark.parametrize(
    "name",
    [
        "token",
        "access_token",
        "refresh_token",
        "id_token",
        "api_key",
        "apikey",
        "api-key",
        "apiKey",
        "key",
        "subscription-key",
        "secret",
        "client_secret",
        "password",
        "passwd",
        "pwd",
        "auth",
        "authorization",
        "oauth_token",
        "signature",
        "sig",
        "X-Amz-Signature",
        "X-Amz-Credential",
        "X-Amz-Security-Token",
        "session_id",
        "jwt",
        "TOKEN",
        "api%5Fkey",
    ],
)
def test_each_credential_named_parameter_is_masked(name: str) -> None:
    url = f"https://status.example.com/health?region=eu&{name}=hunter2&verbose=1"
    assert redact_url(url) == f"https://status.example.com/health?region=eu&{name}=***&verbose=1"


def test_userinfo_is_masked_whole() -> None:
    assert redact_url("http://admin:hunter2@host:8080/health") == "http://***@host:8080/health"
    assert redact_url("https://ghp_abc123@github.com/x") == "https://***@github.com/x"
    assert has_userinfo("http://admin:hunter2@host/")
    assert has_userinfo("http://admin@host/")
    assert not has_userinfo("http://host/path@v2?email=a@b.c")


def test_an_at_sign_after_the_host_is_not_userinfo() -> None:
    url = "https://host/users/@me?email=a@b.c"
    assert redact_url(url) == url


def test_a_fragment_with_parameters_is_masked_too() -> None:
    assert redact_url("https://app/cb#access_token=abc&state=1") == "https://app/cb#access_token=***&state=1"
    assert redact_url("https://app/docs#token") == "https://app/docs#token"


def test_what_is_not_a_secret_is_kept_exactly() -> None:
    url = "https://api.sarvanom.com/v1/models?q=a%20b&limit=10&flag"
    assert redact_url(url) == url
    assert redact_url("not a url ?token=x") == "not a url ?token=***"


def test_urls_inside_text_are_masked() -> None:
    text = (
        "Redirect location 'ftp://bob:pw@files.example/x?sig=abc' is not allowed; "
        "fetched https://h/a?token=t1 then (https://u:p@h/b)"
    )
    out = redact_urls(text)
    for secret in ("bob", ":pw", "abc", "t1", "u:p"):
        assert secret not in out
    assert "ftp://***@files.example/x?sig=***" in out
    assert "https://h/a?token=***" in out


def test_plain_data_is_masked_everywhere() -> None:
    data = {"a": ["https://x/?key=1", {"b": "see http://u:p@h/"}], "n": 3, "none": None}
    assert redact_urls_in(data) == {"a": ["https://x/?key=***", {"b": "see http://***@h/"}], "n": 3, "none": None}
