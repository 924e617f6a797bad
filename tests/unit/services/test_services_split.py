"""The internal services split the subscribers between them: each once, none left out."""

from __future__ import annotations

import pytest

from cbp.services.routing import SERVICES, SUBSCRIPTIONS, broker_queues, of_service


def test_every_subscriber_belongs_to_exactly_one_service() -> None:
    owned = [name for names in SERVICES.values() for name in names]
    assert sorted(owned) == sorted(s.name for s in SUBSCRIPTIONS)


def test_a_service_consumes_only_its_own_queues() -> None:
    every = set(broker_queues())
    split = [set(broker_queues(of_service(service))) for service in SERVICES]
    assert set().union(*split) == every
    assert sum(len(queues) for queues in split) == len(every)
    assert all("payment" in q for q in broker_queues(of_service("payments")))
    assert of_service(None) == SUBSCRIPTIONS


def test_an_unknown_service_is_named_in_the_error() -> None:
    with pytest.raises(ValueError, match="payments"):
        of_service("billing")
