"""One operation of the API, as the route table states it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel

from cbp.domain.access import Scope

PAGE = ("limit", "cursor")


@dataclass(frozen=True, kw_only=True)
class Route:
    """One operation: method, path, who may call it, and what goes in and out."""

    method: Literal["GET", "POST", "PATCH", "DELETE"]
    path: str
    resource: str
    suffix: str | None
    scope: Scope | None
    public: bool = False
    summary: str
    tag: str
    response: Any
    status: int = 200
    body: type[BaseModel] | None = None
    query: tuple[str, ...] = ()
    idempotency: Literal["required", "accepted"] | None = None
    content_type: str = "application/json"


def post(**kwargs: Any) -> Route:
    """A POST route, which accepts an Idempotency-Key unless told otherwise."""
    return Route(method="POST", idempotency=kwargs.pop("idempotency", "accepted"), **kwargs)
