"""A key revoked anywhere is refused by every API process within a second."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from tests.e2e.server import postgres_and_redis_env, running_server

pytestmark = [pytest.mark.slow, pytest.mark.services]


def test_two_api_processes_both_refuse_a_key_within_a_second_of_its_revocation(
    tmp_path: Path,
) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    with (
        postgres_and_redis_env() as env,
        running_server(tmp_path / "a", env) as first,
        running_server(tmp_path / "b", env) as second,
    ):
        tenant = first.cli("tenant", "create", "Revocable")
        token = first.cli("api-key", "create", "--tenant", tenant, "--scope", "payments:read")
        for api in (first, second, first, second):  # NOTE: each process now holds the key
            assert api.call("GET", "/payment", key=token).status == 200

        first.cli("api-key", "revoke", token.split(".")[0])
        revoked = time.monotonic()
        refused: dict[str, float] = {}
        while len(refused) < 2 and time.monotonic() - revoked < 1.0:
            for name, api in (("first", first), ("second", second)):
                if name not in refused and api.call("GET", "/payment", key=token).status == 401:
                    refused[name] = time.monotonic() - revoked
        assert set(refused) == {"first", "second"}, f"still passing after 1 s: {refused}"
