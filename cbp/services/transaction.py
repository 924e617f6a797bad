"""One transaction per request: a command, its reads, and its idempotency record commit together.

Outside a request, ``deps.unit_of_work()`` opens a unit of work of its own, as it
always has. Inside ``RequestTransaction``, every ``deps.unit_of_work()`` joins the
request's one unit of work instead: the handler's ``commit()`` only says
that it wants its changes kept, and the request commits once, after the
response is known and stored under the request's Idempotency-Key.

So a client's key is claimed in the same transaction that does the work:
a crash anywhere before the commit leaves neither the work nor the claim,
and a retry runs again; after the commit both are there, and a retry gets
the stored response. No key is ever left "in flight" by a dead process.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import nullcontext
from contextvars import ContextVar
from types import TracebackType
from typing import Any, Self, cast

from cbp.domain.idempotency import IdempotencyRecord
from cbp.ports.storage.unit_of_work import UnitOfWork
from cbp.services.commands import Command, current_command, handling

_current: ContextVar[RequestTransaction | None] = ContextVar("cbp_request_tx", default=None)


class KeyHeld(Exception):
    """The request's Idempotency-Key belongs to an earlier request: replay its answer."""

    def __init__(self, holder: IdempotencyRecord) -> None:
        super().__init__("the Idempotency-Key is held")
        self.holder = holder


#: Called with a unit of work just before it commits (to publish its events).
BeforeCommit = Callable[[UnitOfWork], None]


class JoiningUnitsOfWork:
    """``deps.unit_of_work``: a fresh unit of work, or the current request's one to join.

    Every unit of work it hands out runs ``before_commit`` just before it
    commits: the one place the events its aggregates recorded are published.
    """

    def __init__(
        self, factory: Callable[[], UnitOfWork], before_commit: BeforeCommit | None = None
    ) -> None:
        self.factory = factory
        self.before_commit = before_commit

    def __call__(self) -> UnitOfWork:
        """A unit of work for one ``with`` block."""
        request = _current.get()
        if request is None or not request.active or request.factory is not self.factory:
            return cast(UnitOfWork, _Publishing(self.factory(), self.before_commit))
        return cast(UnitOfWork, _Joined(request))


class RequestTransaction:
    """The one unit of work of a request, opened when the command first needs it.

    ``claim``, when the request carries an Idempotency-Key, is inserted as
    the transaction's first statement. Use as a context manager around the
    responder, then ``finish`` with the response.
    """

    def __init__(
        self, units: Callable[[], UnitOfWork], claim: IdempotencyRecord | None = None
    ) -> None:
        joining = units if isinstance(units, JoiningUnitsOfWork) else JoiningUnitsOfWork(units)
        self.factory = joining.factory
        self.before_commit = joining.before_commit
        self.claim = claim
        self.uow: UnitOfWork | None = None
        #: The command whose changes are kept: its trace and correlation go with its events.
        self.command: Command | None = None
        self.keep = False
        self.doomed = False
        self.active = False
        self._token: Any = None

    def __enter__(self) -> Self:
        self._token = _current.set(self)
        self.active = True
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.active = False
        _current.reset(self._token)
        if exc is not None:
            self.close()

    def open(self) -> UnitOfWork:
        """The request's unit of work, begun (and the key claimed) on first use.

        A unit of work left by an error starts over: a command retried after
        a write conflict runs in a clean transaction, its claim made again.
        """
        if self.doomed:
            self.close()
        if self.uow is None:
            uow = self.factory()
            uow.__enter__()
            self.uow, self.keep, self.doomed = uow, False, False
            if self.claim is not None and (holder := self._claim_in(uow)) is not None:
                self.close()
                raise KeyHeld(holder)
        return self.uow

    def finish(self, *, status: int, body: bytes) -> None:
        """Commit the request's work with its response, or roll it back.

        A 5xx keeps nothing, so the key is free for a retry. Any other
        answer is kept under the key; when the command failed or kept no
        changes, the answer alone is stored, in a transaction of its own.
        """
        try:
            if status >= 500 or self.uow is None or self.doomed or not self.keep:
                self.close()
                if status < 500 and self.claim is not None:
                    self._store_alone(status, body)
                return
            if self.claim is not None:
                self.claim.complete(status=status, body=body)
                self.uow.idempotency.save(self.claim)
            self._commit(self.uow)
        finally:
            self.close()

    def commit(self) -> None:
        """Commit what the joined blocks asked to keep; nothing if one of them failed."""
        try:
            if self.uow is not None and self.keep and not self.doomed:
                self._commit(self.uow)
        finally:
            self.close()

    def close(self) -> None:
        """Roll back whatever was not committed and give the connection back."""
        if self.uow is not None:
            uow, self.uow = self.uow, None
            uow.__exit__(None, None, None)
        self.keep = self.doomed = False

    def _commit(self, uow: UnitOfWork) -> None:
        if self.before_commit is not None:
            # NOTE: the command was handled earlier; its events are published now, with it
            with handling(self.command) if self.command else nullcontext():
                self.before_commit(uow)
        uow.commit()

    def _claim_in(self, uow: UnitOfWork) -> IdempotencyRecord | None:
        """Claim the key in ``uow``, or the record holding it; an expired one is taken over."""
        assert self.claim is not None
        holder = uow.idempotency.claim(self.claim)
        if holder is not None and holder.expired(self.claim.created_at):
            uow.idempotency.release(holder.tenant_id, holder.key)
            holder = uow.idempotency.claim(self.claim)
        return holder

    def _store_alone(self, status: int, body: bytes) -> None:
        assert self.claim is not None
        with self.factory() as uow:
            if (holder := self._claim_in(uow)) is not None:
                raise KeyHeld(holder)
            self.claim.complete(status=status, body=body)
            uow.idempotency.save(self.claim)
            uow.commit()


class _Publishing:
    """A unit of work of its own, whose commit first runs the before-commit step."""

    def __init__(self, uow: UnitOfWork, before_commit: BeforeCommit | None) -> None:
        self._uow = uow
        self._before_commit = before_commit

    def __enter__(self) -> UnitOfWork:
        self._uow.__enter__()
        return cast(UnitOfWork, self)

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._uow.__exit__(exc_type, exc, tb)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._uow, name)

    def commit(self) -> None:
        """Run the before-commit step (publish what was recorded), then commit."""
        if self._before_commit is not None:
            self._before_commit(self._uow)
        self._uow.commit()


class _Joined:
    """A ``with`` block inside a request: the request's unit of work, committed later."""

    def __init__(self, request: RequestTransaction) -> None:
        self._request = request

    def __enter__(self) -> UnitOfWork:
        self._uow = self._request.open()
        return cast(UnitOfWork, self)

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if exc is not None:
            self._request.doomed = True

    def __getattr__(self, name: str) -> Any:
        return getattr(self._uow, name)

    def commit(self) -> None:
        """Keep this block's changes when the request commits, published with its command."""
        self._request.keep = True
        self._request.command = self._request.command or current_command()

    def rollback(self) -> None:
        """Give up the request's changes so far."""
        self._request.doomed = True
