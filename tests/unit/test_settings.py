"""Settings that could be read two ways are made to mean one thing."""

import pytest
from pydantic import ValidationError

from cbp.settings import Settings


@pytest.mark.parametrize(
    ("given", "namespace"), [("cbp", "cbp:"), ("cbp:", "cbp:"), (" bank-a ", "bank-a:")]
)
def test_the_redis_prefix_is_a_namespace_ending_in_a_colon(given: str, namespace: str) -> None:
    assert Settings(redis_prefix=given).redis_prefix == namespace


@pytest.mark.parametrize("given", ["", " ", ":", "::"])
def test_a_redis_prefix_naming_nothing_is_refused(given: str) -> None:
    with pytest.raises(ValidationError, match="namespace"):
        Settings(redis_prefix=given)
