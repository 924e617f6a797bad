"""One transaction per request: a command, its reads, and its idempotency record commit together.

A request that changes something opens a ``RequestTransaction``. Its unit
of work begins the first time the request needs it, with the claim of the
request's Idempotency-Key as its first statement, and the request hands it
to the command bus and the queries by name (``bus.handle(command,
uow=transaction.uow)``). It commits once, after the response is known and
stored under the key.

So a client's key is claimed in the same transaction that does the work:
a crash anywhere before the commit leaves neither the work nor the claim,
and a retry runs again; after the commit both are there, and a retry gets
the stored response. No key is ever left "in flight" by a dead process.
"""

from __future__ import annotations

from cbp.domain.errors import DomainError
from cbp.domain.idempotency import IdempotencyRecord
from cbp.ports.storage.unit_of_work import UnitOfWork, UnitsOfWork


class KeyHeld(Exception):
    """The request's Idempotency-Key belongs to an earlier request: replay its answer."""

    def __init__(self, holder: IdempotencyRecord) -> None:
        super().__init__("the Idempotency-Key is held")
        self.holder = holder


class RequestTransaction:
    """The one unit of work of a request, begun when the request first needs it."""

    def __init__(self, units: UnitsOfWork, claim: IdempotencyRecord | None = None) -> None:
        self.units = units
        #: The key's record, inserted as the transaction's first statement.
        self.claim = claim
        self._uow: UnitOfWork | None = None
        #: A refusal that keeps the work before it answered the request (see ``keep``).
        self.kept_refusal = False

    @property
    def uow(self) -> UnitOfWork:
        """The request's unit of work, begun (and the key claimed) on first use.

        Raises KeyHeld when an earlier request holds the key.
        """
        if self._uow is None:
            uow = self.units()
            uow.__enter__()
            self._uow = uow
            if self.claim is not None and (holder := self._claim_in(uow)) is not None:
                self.close()
                raise KeyHeld(holder)
        return self._uow

    def keep(self, refusal: DomainError) -> None:
        """Note a refusal whose work is kept: the request commits it with the refusal's answer."""
        self.kept_refusal = self.kept_refusal or refusal.keeps_work

    def restart(self) -> None:
        """Give up the work so far: a command retried after a write conflict starts clean.

        The next use begins a new transaction and claims the key again.
        """
        self.close()

    def finish(self, *, status: int, body: bytes, succeeded: bool) -> None:
        """Commit the request's work with its response, or roll it back.

        A 5xx keeps nothing, so the key is free for a retry. Any other
        answer is kept under the key; when the request did not succeed (a
        problem answered it, unless a refusal that keeps its work) or did
        no work, the answer alone is stored, in a transaction of its own.
        """
        try:
            if status >= 500 or self._uow is None or not (succeeded or self.kept_refusal):
                self.close()
                if status < 500 and self.claim is not None:
                    self._store_alone(status, body)
                return
            if self.claim is not None:
                self.claim.complete(status=status, body=body)
                self._uow.idempotency.save(self.claim)
            self._uow.commit()
        finally:
            self.close()

    def close(self) -> None:
        """Roll back whatever was not committed and give the connection back."""
        if self._uow is not None:
            uow, self._uow = self._uow, None
            uow.__exit__(None, None, None)

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
        with self.units() as uow:
            if (holder := self._claim_in(uow)) is not None:
                raise KeyHeld(holder)
            self.claim.complete(status=status, body=body)
            uow.idempotency.save(self.claim)
            uow.commit()
