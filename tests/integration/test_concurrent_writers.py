"""Writers that retry on conflict lose no update, even many at once."""

import threading
from dataclasses import dataclass

import pytest
from sqlalchemy import Engine

from cbp.adapters.sql.crypto import FieldCipher
from cbp.adapters.sql.unit_of_work import SqlAlchemyUnitOfWork
from cbp.domain.events import DomainEvent
from cbp.ports.messages import Headers
from cbp.services.bus import retry_on_conflict
from tests.contract import builders as b

CIPHER = FieldCipher([FieldCipher.generate_key()])


@dataclass(frozen=True, kw_only=True)
class CounterIncremented(DomainEvent):
    """A test event: one writer's one update."""

    writer: int


@pytest.fixture(
    params=["sqlite_engine", pytest.param("postgres_engine", marks=pytest.mark.services)]
)
def engine(request: pytest.FixtureRequest) -> Engine:
    return request.getfixturevalue(request.param)  # type: ignore[no-any-return]


def test_retrying_writers_on_one_stream_lose_no_update(engine: Engine) -> None:
    writers, updates = 6, 10
    errors: list[BaseException] = []

    def append_one(writer: int) -> None:
        with SqlAlchemyUnitOfWork(engine, CIPHER) as uow:
            version = len(uow.events.load("counter_1"))
            event = CounterIncremented(
                stream_id="counter_1", version=version + 1, occurred_at=b.NOW, writer=writer
            )
            uow.events.append("counter_1", [event], expected_version=version, headers=Headers())
            uow.commit()

    def run(writer: int) -> None:
        try:
            for _ in range(updates):
                retry_on_conflict(lambda: append_one(writer), attempts=50)
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=run, args=(w,)) for w in range(writers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert errors == []
    with SqlAlchemyUnitOfWork(engine, CIPHER) as uow:
        stream = uow.events.load("counter_1")
    assert [e.version for e in stream] == list(range(1, writers * updates + 1))
    assert sorted(e.writer for e in stream) == sorted(
        w for w in range(writers) for _ in range(updates)
    )  # type: ignore[attr-defined]
