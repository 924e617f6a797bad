"""The webhook endpoint's rules: secrets that overlap, a pause after days of failure."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from cbp.domain.errors import IllegalTransition, InvalidInput
from cbp.domain.webhook_endpoint import (
    DEFAULT_RETRY_SCHEDULE,
    EndpointStatus,
    SigningSecret,
    WebhookEndpoint,
    next_retry,
)

NOW = datetime(2026, 3, 2, 14, 0, tzinfo=UTC)


def endpoint() -> WebhookEndpoint:
    return WebhookEndpoint(
        id="whe_1",
        tenant_id="ten_1",
        url="https://hooks.example.com/",
        secrets=(SigningSecret(value="whsec_a"),),
        created_at=NOW,
    )


def test_two_rotations_in_a_row_keep_no_secret_past_its_overlap() -> None:
    e = endpoint()
    e.rotate_secret("whsec_b", at=NOW, overlap=timedelta(hours=24))
    e.rotate_secret("whsec_c", at=NOW + timedelta(hours=1), overlap=timedelta(hours=24))
    assert e.signing_secrets(NOW + timedelta(hours=2)) == ["whsec_c", "whsec_b", "whsec_a"]
    assert e.signing_secrets(NOW + timedelta(hours=24)) == ["whsec_c", "whsec_b"]
    assert e.signing_secrets(NOW + timedelta(hours=25)) == ["whsec_c"]
    e.rotate_secret("whsec_d", at=NOW + timedelta(days=3), overlap=timedelta(hours=1))
    assert len(e.secrets) == 2  # NOTE: expired secrets are dropped, not kept forever


def test_the_endpoint_pauses_only_once_failing_for_the_whole_window() -> None:
    e = endpoint()
    window = timedelta(days=5)
    assert not e.record_failed(at=NOW, pause_after=window)
    assert not e.record_failed(at=NOW + window - timedelta(seconds=1), pause_after=window)
    e.record_delivered()
    assert not e.record_failed(at=NOW + window, pause_after=window)  # NOTE: the clock restarted
    assert e.record_failed(at=NOW + 2 * window, pause_after=window)
    assert (e.status, e.paused_at) == (EndpointStatus.PAUSED, NOW + 2 * window)
    assert not e.record_failed(at=NOW + 3 * window, pause_after=window)  # NOTE: told once
    assert e.resume() == NOW + window
    assert (e.status, e.failing_since) == (EndpointStatus.ACTIVE, None)
    with pytest.raises(IllegalTransition):
        e.resume()


@pytest.mark.parametrize(
    "url", ["ftp://x.example", "hooks.example.com", "https://a b.example", "https://x/\x00", ""]
)
def test_urls_that_cannot_be_endpoints_are_refused(url: str) -> None:
    with pytest.raises(InvalidInput):
        endpoint().change_url(url)


def test_the_schedule_runs_over_three_days_and_then_stops() -> None:
    assert sum(DEFAULT_RETRY_SCHEDULE) > 3 * 24 * 3600
    assert next_retry(DEFAULT_RETRY_SCHEDULE, 1) == timedelta(seconds=5)
    assert next_retry(DEFAULT_RETRY_SCHEDULE, len(DEFAULT_RETRY_SCHEDULE) + 1) is None
    assert next_retry(DEFAULT_RETRY_SCHEDULE, 0) is None
