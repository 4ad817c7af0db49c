"""The console's operations as JSON under /api/, for scripts and other tools.

Each operation is declared once, with the pydantic models of its query, body and
answer; the route table and /api/openapi.json are both generated from those
declarations, so the document cannot drift from what the server does. A caller is the
console's session (changes then need the ``X-CSRF-Token`` header) or
``Authorization: Bearer <token>`` with a token from ``POST /api/tokens``. Errors are
``{"error": "..."}`` (daemon/web/api_errors.py). Channel URLs are never answered back.
"""

from __future__ import annotations

import re
import secrets
import typing
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any, Literal, TypeVar
from zoneinfo import ZoneInfo

from aiohttp import web
from pydantic import BaseModel, Field, RootModel, ValidationError
from pydantic.json_schema import JsonSchemaMode, models_json_schema

from daemon.redaction import display_text
from daemon.source_health import SourceHealth, State, source_health
from daemon.web import outbox as outbox_page
from daemon.web.app import console_of
from daemon.web.auth import current_user, require_admin, token_hash
from daemon.web.sources import pause_source
from storage import accounts, deliveries

routes = web.RouteTableDef()
M = TypeVar("M", bound=BaseModel)
Endpoint = Callable[..., Awaitable[BaseModel]]
_PATH_PARAM = re.compile(r"\{(\w+)(?::[^}]+)?\}")


@dataclass(frozen=True)
class Operation:
    """One API route as both the router and the OpenAPI document see it."""

    method: str
    path: str  # as routed, e.g. ``/api/outbox/{id:\d+}/retry``
    name: str
    summary: str
    response: type[BaseModel]
    body: type[BaseModel] | None = None
    query: type[BaseModel] | None = None
    admin: bool = False
    status: int = 200

    @property
    def openapi_path(self) -> str:
        return _PATH_PARAM.sub(r"{\1}", self.path)

    @property
    def path_params(self) -> list[str]:
        return _PATH_PARAM.findall(self.path)


OPERATIONS: list[Operation] = []


class ErrorBody(BaseModel):
    error: str = Field(description="one line for people")


def _first_error(exc: ValidationError) -> str:
    error = exc.errors()[0]
    where = ".".join(str(part) for part in error["loc"])
    return f"{where}: {error['msg']}" if where else str(error["msg"])


def _validated(model: type[M], data: object) -> M:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise web.HTTPBadRequest(text=_first_error(exc)) from None


def _query_data(request: web.Request, model: type[BaseModel]) -> dict[str, Any]:
    """The query string as the model's fields want it: a list field takes every value."""
    data: dict[str, Any] = {}
    for name, info in model.model_fields.items():
        if name not in request.query:
            continue
        listed = typing.get_origin(info.annotation) in (list, tuple)
        data[name] = request.query.getall(name) if listed else request.query[name]
    return data


async def _json_body(request: web.Request) -> object:
    if request.content_type != "application/json":
        raise web.HTTPUnsupportedMediaType(text="send the body as application/json")
    try:
        return await request.json()
    except ValueError:
        raise web.HTTPBadRequest(text="the body is not valid JSON") from None


def api(
    method: str,
    path: str,
    summary: str,
    response: type[BaseModel],
    *,
    body: type[BaseModel] | None = None,
    query: type[BaseModel] | None = None,
    admin: bool = False,
    status: int = 200,
) -> Callable[[Endpoint], Endpoint]:
    """Declare an operation: the endpoint gets the request and, validated, ``query=``
    and ``body=``; what it returns is sent as JSON."""

    def register(endpoint: Endpoint) -> Endpoint:
        op = Operation(
            method, path, endpoint.__name__, summary, response, body, query, admin, status
        )

        async def handle(request: web.Request) -> web.Response:
            if op.admin:
                require_admin(request)
            kwargs: dict[str, Any] = {}
            if op.query is not None:
                kwargs["query"] = _validated(op.query, _query_data(request, op.query))
            if op.body is not None:
                kwargs["body"] = _validated(op.body, await _json_body(request))
            result = await endpoint(request, **kwargs)
            return web.Response(
                text=result.model_dump_json(), status=op.status, content_type="application/json"
            )

        routes.route(method, path)(handle)
        OPERATIONS.append(op)
        return endpoint

    return register


def _local(value: datetime | None, tz: ZoneInfo) -> datetime | None:
    """Times leave in the [daemon] time zone, with their offset: exact for a program,
    readable for a person."""
    return value.astimezone(tz) if value else None


# ── who am I, tokens ─────────────────────────────────────────────────────────────────


class Me(BaseModel):
    id: int
    name: str
    role: Literal["admin", "staff"]
    has_api_token: bool


@api("GET", "/api/me", "The caller's account", Me)
async def me(request: web.Request) -> Me:
    user = current_user(request)
    return Me(
        id=user.id or 0,
        name=user.name,
        role="admin" if user.role == "admin" else "staff",
        has_api_token=user.api_token_hash is not None,
    )


class NewToken(BaseModel):
    token: str = Field(description="shown this once; send it as Authorization: Bearer …")


@api(
    "POST",
    "/api/tokens",
    "Make (or replace) the caller's API token; the old one stops working",
    NewToken,
    status=201,
)
async def make_token(request: web.Request) -> NewToken:
    user = current_user(request)
    token = secrets.token_urlsafe(32)
    await accounts.set_api_token(console_of(request).db, user.id or 0, token_hash(token))
    return NewToken(token=token)


# ── sources (admin) ──────────────────────────────────────────────────────────────────


class SourceOut(BaseModel):
    name: str
    kind: str
    url: str = Field(description="secret query values masked")
    state: State
    last_run_at: datetime | None
    last_success_at: datetime | None
    failures_in_row: int
    last_error: str = Field(description="while failing only; secrets masked")
    next_run_at: datetime | None
    paused_at: datetime | None
    last_article_count: int | None

    @classmethod
    def of(cls, item: SourceHealth, tz: ZoneInfo) -> SourceOut:
        return cls(
            name=item.name,
            kind=item.kind,
            url=item.url,
            state=item.state,
            last_run_at=_local(item.last_run_at, tz),
            last_success_at=_local(item.last_success_at, tz),
            failures_in_row=item.failures_in_row,
            last_error=display_text(item.last_error),
            next_run_at=_local(item.next_run_at, tz),
            paused_at=_local(item.paused_at, tz),
            last_article_count=item.last_article_count,
        )


class SourceList(BaseModel):
    sources: list[SourceOut]


class PauseResult(BaseModel):
    name: str
    paused: bool
    changed: bool = Field(description="false when it already was in that state")


@api("GET", "/api/sources", "Every configured source's health", SourceList, admin=True)
async def list_sources(request: web.Request) -> SourceList:
    console = console_of(request)
    found = await source_health(console.config, console.db)
    return SourceList(sources=[SourceOut.of(item, console.tz) for item in found])


@api(
    "POST",
    "/api/sources/{name}/pause",
    "Pause a source: the daemon and `once` skip it",
    PauseResult,
    admin=True,
)
async def pause(request: web.Request) -> PauseResult:
    name = request.match_info["name"]
    return PauseResult(name=name, paused=True, changed=await pause_source(request, name, True))


@api("POST", "/api/sources/{name}/resume", "Resume a paused source", PauseResult, admin=True)
async def resume(request: web.Request) -> PauseResult:
    name = request.match_info["name"]
    changed = await pause_source(request, name, False)
    return PauseResult(name=name, paused=False, changed=changed)


# ── outbox (admin) ───────────────────────────────────────────────────────────────────

DeliveryState = Literal["pending", "claimed", "failed", "dead"]


class OutboxQuery(BaseModel):
    status: list[DeliveryState] = Field(
        default_factory=list, description="repeat for several; none: all four"
    )
    limit: int = Field(default=outbox_page.PAGE_ROWS, ge=1, le=5000)


class DeliveryOut(BaseModel):
    id: int
    kind: Literal["alert", "digest"]
    status: DeliveryState
    topic: str | None
    title: str | None
    article_id: int | None
    channel: str = Field(description="the outbox's channel name, never its URL")
    channel_label: str | None = Field(description="a console channel's label")
    owner: str | None = Field(description="a console channel's owner")
    recipient: str
    attempts: int
    next_attempt_at: datetime | None
    created_at: datetime | None
    reason: str = Field(description="the last error, secrets removed")


class OutboxList(BaseModel):
    deliveries: list[DeliveryOut]
    counts: dict[str, int] = Field(description="rows per state, whatever the filter")


class Retried(BaseModel):
    retried: int = Field(description="how many deliveries are due again")


@api(
    "GET",
    "/api/outbox",
    "Pending, claimed, failed and dead deliveries, oldest first",
    OutboxList,
    query=OutboxQuery,
    admin=True,
)
async def list_outbox(request: web.Request, query: OutboxQuery) -> OutboxList:
    console = console_of(request)
    statuses = outbox_page.statuses_of(list(query.status))
    assert statuses is not None  # the model admits only the states shown
    items = await outbox_page.outbox_items(request, statuses, limit=query.limit)
    counts = await deliveries.status_counts(console.db)
    return OutboxList(
        deliveries=[
            DeliveryOut.model_validate(
                {
                    **asdict(item),
                    "next_attempt_at": _local(item.next_attempt_at, console.tz),
                    "created_at": _local(item.created_at, console.tz),
                }
            )
            for item in items
        ],
        counts={s.value: counts.get(s.value, 0) for s in outbox_page.SHOWN},
    )


@api(
    "POST",
    r"/api/outbox/{id:\d+}/retry",
    "Send a failed or dead delivery again, with a fresh attempt budget",
    Retried,
    admin=True,
)
async def retry_delivery(request: web.Request) -> Retried:
    delivery_id = int(request.match_info["id"])
    return Retried(retried=await outbox_page.retry_deliveries(request, delivery_id))


@api("POST", "/api/outbox/retry-dead", "Send every dead delivery again", Retried, admin=True)
async def retry_dead(request: web.Request) -> Retried:
    return Retried(retried=await outbox_page.retry_deliveries(request, None))


# ── the document ─────────────────────────────────────────────────────────────────────


class OpenAPIDocument(RootModel[dict[str, Any]]):
    """This API described as OpenAPI 3.1."""


@api("GET", "/api/openapi.json", "This document", OpenAPIDocument)
async def openapi_json(request: web.Request) -> OpenAPIDocument:
    return OpenAPIDocument(openapi_document())


def openapi_document() -> dict[str, Any]:
    """OpenAPI 3.1 built from ``OPERATIONS`` and their models' JSON Schemas."""
    wanted: list[tuple[type[BaseModel], JsonSchemaMode]] = [(ErrorBody, "serialization")]
    for op in OPERATIONS:
        wanted.append((op.response, "serialization"))
        if op.body is not None:
            wanted.append((op.body, "validation"))
    refs, defs = models_json_schema(
        list(dict.fromkeys(wanted)), ref_template="#/components/schemas/{model}"
    )
    error = {
        "description": 'an error: {"error": "..."}',
        "content": {"application/json": {"schema": refs[(ErrorBody, "serialization")]}},
    }
    paths: dict[str, dict[str, Any]] = {}
    for op in OPERATIONS:
        parameters = [
            {
                "name": name,
                "in": "path",
                "required": True,
                "schema": {"type": "integer" if name == "id" else "string"},
            }
            for name in op.path_params
        ]
        if op.query is not None:
            schema = op.query.model_json_schema()
            for name, prop in schema["properties"].items():
                parameters.append(
                    {
                        "name": name,
                        "in": "query",
                        "required": name in schema.get("required", []),
                        "schema": prop,
                        **({"explode": True} if prop.get("type") == "array" else {}),
                    }
                )
        operation: dict[str, Any] = {
            "operationId": op.name,
            "summary": op.summary + (" (admin only)" if op.admin else ""),
            "tags": [op.openapi_path.split("/")[2]],
            "responses": {
                str(op.status): {
                    "description": "OK",
                    "content": {
                        "application/json": {"schema": refs[(op.response, "serialization")]}
                    },
                },
                "default": error,
            },
        }
        if parameters:
            operation["parameters"] = parameters
        if op.body is not None:
            operation["requestBody"] = {
                "required": True,
                "content": {"application/json": {"schema": refs[(op.body, "validation")]}},
            }
        paths.setdefault(op.openapi_path, {})[op.method.lower()] = operation
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "听风 tingfeng console API",
            "version": "1",
            "description": (
                "The web console's operations. Authenticate with the console's session "
                "cookie (changes also need the X-CSRF-Token header) or with "
                "`Authorization: Bearer <token>` from POST /api/tokens. Times are ISO 8601 "
                'in the [daemon] time zone. Errors are {"error": "..."}.'
            ),
        },
        "servers": [{"url": "/"}],
        "security": [{"bearer": []}, {"session": []}],
        "paths": paths,
        "components": {
            "schemas": defs.get("$defs", {}),
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer"},
                "session": {"type": "apiKey", "in": "cookie", "name": "tingfeng_session"},
            },
        },
    }
