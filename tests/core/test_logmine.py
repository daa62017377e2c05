"""Error templates from generated logs whose true templates are known: purity, grouping, masking, baseline."""

from __future__ import annotations

import io
import json
from collections import defaultdict
from datetime import datetime, timedelta, timezone

import pytest

from incidentctl.core import logmine
from incidentctl.core.logmine import Miner, mask, merge, templates
from incidentctl.sandbox import loggen


def _mined(lines: list[str], chunk_size: int = logmine.CHUNK_SIZE) -> Miner:
    return Miner().read(io.BytesIO(("\n".join(lines) + "\n").encode()), chunk_size=chunk_size)


def _grouping(pairs: list[tuple[str | None, str]]) -> dict[str, set[str | None]]:
    """Reported pattern -> the generator's labels of the lines it holds."""
    errors = [(label, text) for label, text in pairs if logmine.is_error(text)]
    keys = mask([text for _, text in errors])
    patterns = merge(set(keys))
    out: dict[str, set[str | None]] = defaultdict(set)
    for (label, _), key in zip(errors, keys, strict=True):
        out[patterns[key]].add(label)
    return out


def test_no_group_holds_two_true_templates_and_each_template_is_about_one_group() -> None:
    pairs = list(loggen.generate(60_000, seed=7))
    grouping = _grouping(pairs)
    true = loggen.true_templates()
    impure = {pattern: labels for pattern, labels in grouping.items() if len(labels) > 1}
    assert not impure
    assert all(None not in labels for labels in grouping.values()), "a line that is no error was selected"
    labels_seen = {label for labels in grouping.values() for label in labels}
    assert labels_seen == true
    assert len(grouping) <= 1.5 * len(true)


def test_values_of_keyed_fields_that_vary_merge_into_one_template() -> None:
    lines = [
        f"2026-12-01T14:0{i}:00Z ERROR gateway.app request_id=ab{i}c tenant={tenant} "
        'error="upstream synthesis timed out"'
        for i, tenant in enumerate(("acme", "globex", "hooli"))
    ]
    (template,) = templates(_mined(lines), None)
    assert template.pattern == '<*> ERROR gateway.app request_id=<*> tenant=<*> error="upstream synthesis timed out"'
    assert template.count == 3


def test_a_different_word_of_the_message_is_a_different_template() -> None:
    lines = [
        '2026-12-01T14:00:00Z ERROR gateway.app error="upstream synthesis timed out after 30s"',
        '2026-12-01T14:00:01Z ERROR gateway.app error="upstream retrieval timed out after 10s"',
    ]
    assert len(templates(_mined(lines), None)) == 2


@pytest.mark.parametrize(
    ("line", "pattern"),
    [
        (
            "2026-12-01T14:23:18.123Z ERROR a.b id=550e8400-e29b-41d4-a716-446655440000 peer=10.244.2.14:5432",
            "<*> ERROR a.b id=<*> peer=<*>",
        ),
        ("2026-12-01 14:23:18.123 UTC [4711] FATAL:  too many clients", "<*> <*> UTC [<*>] FATAL:  too many clients"),
        ('ERROR search failed query="how do I reset my password" took=12ms', "ERROR search failed query=<*> took=<*>"),
        ("ERROR model gpt-4o failed for request f3a9c0de77b1", "ERROR model <*> failed for request <*>"),
        ("ERROR p95=3.2 over budget", "ERROR p95=<*> over budget"),
        (
            '{"ts": "2026-12-01T14:00:00Z", "level": "error", "p95": 2.5, "pod": "gw-x", "msg": "pool of 20 full"}',
            '{"ts": <*>, "level": "error", "p95": <*>, "pod": <*>, "msg": "pool of <*> full"}',
        ),
        (
            '{"ts":"2026-12-01T14:00:00Z","error":"dial tcp 10.0.0.7:443: i/o timeout","user":"bob"}',
            '{"ts":<*>,"error":"dial tcp <*> i/o timeout","user":<*>}',
        ),
    ],
)
def test_masking_hides_what_varies_and_keeps_keys_and_messages(line: str, pattern: str) -> None:
    assert mask([line]) == [pattern]


def test_the_chunk_size_does_not_change_the_result_and_reads_are_bounded() -> None:
    """Streaming by design: the miner asks for at most one chunk at a time, and a line cut by a chunk boundary
    counts once, whole."""
    pairs = list(loggen.generate(5_000, seed=3))
    data = ("\n".join(text for _, text in pairs) + "\n").encode()

    class Recording(io.BytesIO):
        largest = 0

        def read(self, size: int | None = -1) -> bytes:
            assert size is not None, "the miner must never read the whole stream"
            assert size > 0, "the miner must never read the whole stream"
            Recording.largest = max(Recording.largest, size)
            return super().read(size)

    whole = Miner().read(Recording(data), chunk_size=1 << 20)
    assert Recording.largest == 1 << 20
    for size in (1, 7, 4096, 65_537):
        other = Miner().read(io.BytesIO(data), chunk_size=size)
        assert (other.lines, other.error_lines) == (whole.lines, whole.error_lines) == (5_000, other.error_lines)
        assert {k: g.count for k, g in other.groups.items()} == {k: g.count for k, g in whole.groups.items()}


def test_a_last_line_without_newline_and_crlf_endings_count() -> None:
    miner = Miner()
    miner.feed(b"INFO ok\r\nERROR one 1\r\nERROR one 2")
    miner.close()
    assert (miner.lines, miner.error_lines) == (3, 2)
    assert list(miner.groups) == ["ERROR one <*>"]


def test_baseline_statuses_new_grew_steady() -> None:
    start = datetime(2026, 12, 1, 14, 0, tzinfo=timezone.utc)

    def log(counts: dict[str, int]) -> Miner:
        lines = []
        for n, (message, count) in enumerate(counts.items()):
            for i in range(count):
                when = start + timedelta(seconds=n * 100 + i)
                lines.append(f"{when.isoformat()} ERROR app req={i} error={json.dumps(message)}")
        return _mined(lines)

    baseline = log({"steady failure": 10, "growing failure": 3, "gone failure": 4})
    current = log({"steady failure": 12, "growing failure": 9, "brand new failure": 2})
    by_message = {t.example.rsplit("error=", 1)[1]: t for t in templates(current, baseline)}
    assert set(by_message) == {'"steady failure"', '"growing failure"', '"brand new failure"'}
    new = by_message['"brand new failure"']
    assert (new.status, new.count, new.baseline_count) == ("new", 2, 0)
    assert new.first_seen == start + timedelta(seconds=200)
    assert new.last_seen == start + timedelta(seconds=201)
    assert (by_message['"growing failure"'].status, by_message['"growing failure"'].baseline_count) == ("grew", 3)
    assert by_message['"steady failure"'].status == "steady"
    assert next(t.status for t in templates(current, baseline)) == "new"


def test_without_a_baseline_no_template_is_called_new() -> None:
    (template,) = templates(_mined(["ERROR x 1"]), None)
    assert template.status is None
    assert template.baseline_count is None


def test_pods_from_kubectl_prefixes_and_from_cluster_lines() -> None:
    pairs = list(loggen.generate(3_000, seed=5, prefix=True))
    mined = _mined([text for _, text in pairs])
    pods = {pod for t in templates(mined, None) for pod in t.pods}
    assert pods
    assert all(pod.split("-")[0] in loggen.SERVICES for pod in pods)
    when = datetime(2026, 12, 1, tzinfo=timezone.utc)
    miner = Miner()
    miner.add_lines(
        [(when, "gateway-abc", "ERROR boom 1"), (when + timedelta(seconds=5), "gateway-def", "ERROR boom 2")]
    )
    (template,) = templates(miner, None)
    assert template.pods == ("gateway-abc", "gateway-def")
    assert (template.first_seen, template.last_seen) == (when, when + timedelta(seconds=5))


@pytest.mark.parametrize(
    ("line", "error"),
    [
        ("2026-12-01T14:00:00.100Z INFO  uvicorn.error Application startup complete.", False),
        ("[pod/gateway-7d9f8-x2k4p/app] 2026-12-01T14:00:00Z INFO  uvicorn.error Started server process [1]", False),
        ("2026-12-01 14:00:00,123 [42] DEBUG retry after error", False),
        ('{"ts": "2026-12-01T14:00:00Z", "level": "info", "msg": "recovered from error"}', False),
        ("2026-12-01T14:00:00Z ERROR app the INFO endpoint failed", True),
        ("2026-12-01T14:00:00Z [ERROR] app INFO lost", True),
        ('{"ts": "2026-12-01T14:00:00Z", "level": "error", "msg": "info lost"}', True),
        ("2026-12-01 14:23:18.123 UTC [4711] FATAL:  too many clients", True),
        ("panic: runtime error: index out of range [3] with length 3", True),
    ],
)
def test_a_line_whose_own_level_is_info_is_no_error(line: str, error: bool) -> None:
    assert logmine.is_error(line) is error
    assert _mined([line]).error_lines == int(error)


@pytest.mark.parametrize("chunk_size", [1 << 10, 1 << 20])
def test_a_line_without_end_is_mined_by_its_start_and_memory_stays_bounded(chunk_size: int) -> None:
    # a log with one endless line (a binary dump, /dev/zero, a crash that wrote no newline) must not make the
    # miner hold the whole line: it keeps at most MAX_LINE_BYTES of it, and the lines after it still count
    endless = b"ERROR dump " + b"x" * (5 * (1 << 20))
    miner = logmine.Miner()
    held: list[int] = []
    stream = io.BytesIO(endless + b"\nERROR request id=41 failed\n" + endless)
    while chunk := stream.read(chunk_size):
        miner.feed(chunk)
        held.append(miner.pending_bytes)
    miner.close()
    assert max(held) <= logmine.MAX_LINE_BYTES
    assert (miner.lines, miner.error_lines) == (3, 3)
    assert all(len(group.example) <= logmine.MAX_LINE_BYTES for group in miner.groups.values())
    assert any("request id=<*> failed" in key for key in miner.groups)
