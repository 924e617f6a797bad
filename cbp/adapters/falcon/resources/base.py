"""What every resource shares: the use cases, request parsing, and JSON answers."""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterable
from datetime import date
from typing import Any, TypeVar

import falcon
from pydantic import BaseModel

from cbp.adapters.falcon import presenters as present
from cbp.adapters.falcon import responses as out
from cbp.adapters.falcon import schemas as s
from cbp.adapters.falcon.cursors import CursorSeal
from cbp.adapters.falcon.http import (
    ApiOptions,
    is_ascii_number,
    is_blank,
    parse_json,
    principal,
    raw_body,
)
from cbp.adapters.falcon.telemetry import outgoing_context
from cbp.domain.errors import ConcurrencyConflict, DomainError, InvalidInput
from cbp.ports.storage.pages import Page
from cbp.ports.system import Clock
from cbp.services import commands as c
from cbp.services.bus import CommandBus, retry_on_conflict
from cbp.services.choices import one_of
from cbp.services.queries import Queries
from cbp.services.transaction import RequestTransaction

M = TypeVar("M", bound=BaseModel)
E = TypeVar("E", bound=enum.Enum)
T = TypeVar("T")


def encode(model: BaseModel) -> bytes:
    """The JSON bytes of a response model (times in RFC 3339)."""
    return model.model_dump_json(by_alias=True).encode()


def write(resp: falcon.Response, status: int, body: bytes) -> None:
    """A JSON body, or a problem for a 4xx or 5xx, that no cache may keep."""
    resp.status = falcon.code_to_http_status(status)
    resp.data = body
    resp.content_type = "application/problem+json" if status >= 400 else "application/json"
    resp.cache_control = ["no-store"]


class Api:
    """What every resource shares: the use cases and the request helpers."""

    def __init__(self, bus: CommandBus, queries: Queries, clock: Clock, options: ApiOptions):
        self.bus = bus
        self.queries = queries
        self.clock = clock
        self.options = options
        self.cursors = CursorSeal(options.cursor_key)

    def handle(self, req: falcon.Request, command: c.Command) -> Any:
        """Run ``command`` in the request's transaction, when it has one.

        A write conflict starts the transaction over (its key claimed again)
        and runs the command once more, as the bus does for its own.
        """
        transaction: RequestTransaction | None = req.context.get("request_transaction")
        if transaction is None:
            return self.bus.handle(command)

        def attempt() -> Any:
            try:
                return self.bus.handle(command, uow=transaction.uow)
            except ConcurrencyConflict:
                transaction.restart()
                raise
            except DomainError as refusal:
                transaction.keep(refusal)
                raise

        return retry_on_conflict(attempt)

    def read(self, req: falcon.Request) -> Queries:
        """The queries, within the request's transaction when it has one (to see its work)."""
        transaction: RequestTransaction | None = req.context.get("request_transaction")
        return self.queries if transaction is None else self.queries.within(transaction.uow)

    def body(self, req: falcon.Request, model: type[M]) -> M:
        """The request body, parsed and validated against ``model`` (strictly, as JSON)."""
        raw = raw_body(req, self.options.max_body_bytes)
        parse_json(raw)  # NOTE: malformed or too deep is 400; the schema's verdict is 422
        return model.model_validate_json(b"{}" if is_blank(raw) else raw, strict=True)

    def send(self, resp: falcon.Response, status: int, data: BaseModel) -> None:
        """A JSON response that no cache may keep (it holds account data)."""
        write(resp, status, encode(data))

    def paging(self, req: falcon.Request) -> tuple[str | None, int | None]:
        """The ``cursor`` (opened: only the API's own are taken) and ``limit`` parameters."""
        limit = req.get_param("limit")
        if limit is not None and not is_ascii_number(limit):
            raise InvalidInput("limit must be a whole number between 1 and 100")
        return self.cursors.open(req.get_param("cursor")), None if limit is None else int(limit)

    def page(self, items: Page[Any], present_item: Any) -> out.PageOut[Any]:
        """A page of presented items, its next cursor sealed."""
        return present.page(items, present_item, self.cursors.seal(items.next_cursor))

    def send_history(
        self, resp: falcon.Response, records: Iterable[T], present_record: Callable[[T], Any]
    ) -> None:
        """A record's whole history (its events, its audit trail) as one page, in order."""
        items = [present_record(record) for record in records]
        self.send(resp, 200, out.PageOut[Any](items=items, next_cursor=None))

    def date_param(self, req: falcon.Request, name: str) -> date | None:
        """A ``YYYY-MM-DD`` query parameter, or None when it is absent."""
        text = req.get_param(name)
        if text is None:
            return None
        try:
            day: date = s.parse_day(text)
        except ValueError:
            raise InvalidInput(f"{name} must be a date as YYYY-MM-DD") from None
        return day

    def choice_param(self, req: falcon.Request, name: str, kind: type[E]) -> E | None:
        """A query parameter that names one member of ``kind``, or None when it is absent."""
        text = req.get_param(name)
        return None if text is None else one_of(kind, text, name)

    def actor(self, req: falcon.Request) -> dict[str, Any]:
        """Who acts, and the correlation to carry into messages."""
        return {
            "actor": principal(req).key_id,
            "correlation_id": req.context.request_id,
            "traceparent": outgoing_context().get("traceparent"),
        }


def address_input(a: s.AddressIn | None) -> c.Address | None:
    """A postal address from the request, as a command takes it."""
    return None if a is None else c.Address(**a.model_dump())
