"""The console's operations as JSON under /api/, for scripts and other tools.

Each operation is declared once, with the pydantic models of its query, body and
answer; the route table and /api/openapi.json are both generated from those
declarations, so the document cannot drift from what the server does. A caller is the
console's session (changes then need the ``X-CSRF-Token`` header) or
``Authorization: Bearer <token>`` with a token from ``POST /api/tokens``. Errors are
``{"error": "..."}`` (daemon/web/api_errors.py). Channel URLs are never answered back.
"""

from __future__ import annotations

import asyncio
import re
import secrets
import typing
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass, replace
from datetime import date, datetime, time, timedelta
from typing import Any, Literal, TypeVar
from zoneinfo import ZoneInfo

from aiohttp import web
from multidict import MultiDict, MultiDictProxy
from pydantic import BaseModel, ConfigDict, Field, RootModel, ValidationError
from pydantic.json_schema import JsonSchemaMode, models_json_schema

from daemon.console_config import email_server
from daemon.notify.channels import redactor
from daemon.notify.render import snippet_segments
from daemon.redaction import display_text
from daemon.source_health import SourceHealth, State, source_health
from daemon.web import outbox as outbox_page
from daemon.web import today
from daemon.web import topics as topics_page
from daemon.web.app import console_of
from daemon.web.auth import current_user, require_admin, token_hash
from daemon.web.sources import pause_source
from daemon.web.subscriptions import (
    FormError,
    channel_form,
    send_test,
    shown_target,
    topic_state,
)
from storage import accounts, console_defs, deliveries, news
from storage.console_defs import DefinitionError, TopicView
from storage.console_models import ConsoleChannel
from storage.deliveries import Alert

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
    for field, info in model.model_fields.items():
        name = info.alias or field
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


# ── news ─────────────────────────────────────────────────────────────────────────────


class MatchesQuery(BaseModel):
    """今日动态's filters: the same names as the page's query string."""

    model_config = ConfigDict(populate_by_name=True)

    topic: int | None = Field(default=None, description="catalog topic id")
    source: int | None = Field(default=None, description="source id")
    place: str = Field(default="", max_length=today.MAX_TEXT_FILTER)
    since: date | None = Field(default=None, alias="from", description="first local day")
    to: date | None = Field(default=None, description="last local day (inclusive)")
    q: str = Field(default="", max_length=today.MAX_TEXT_FILTER, description="free text")
    all_topics: bool = Field(
        default=False, alias="all", description="staff: every topic, not only subscribed ones"
    )
    page: int = Field(default=1, ge=1)
    per_page: int = Field(default=today.PER_PAGE, ge=1, le=100)


class StoryRowOut(BaseModel):
    article_id: int
    cluster_id: int
    title: str
    url: str
    source: str
    page: str = Field(description="the 版面 label as printed")
    place: str
    time: datetime | None = Field(description="published, else fetched")
    topics: list[str]
    hits: list[list[int | str]] = Field(description="[start, end, term] into title + text")
    also: list[str] = Field(description="other sources that carried the story")
    copies: int
    snippet: str = Field(description="the article's words around the first hit")


class MatchesPage(BaseModel):
    stories: list[StoryRowOut]
    total: int = Field(description="stories over all pages")
    page: int
    per_page: int
    pages: int
    subscribed_only: bool = Field(description="limited to the caller's subscriptions")


def _snippet(row: news.StoryRow) -> str:
    alert = Alert("", row.title, row.url, row.source, row.also, row.place, None, row.text, row.hits)
    return "".join(segment.text for segment in snippet_segments(alert))


@api(
    "GET",
    "/api/matches",
    "Matched stories, newest first (今日动态)",
    MatchesPage,
    query=MatchesQuery,
)
async def matches(request: web.Request, query: MatchesQuery) -> MatchesPage:
    console = console_of(request)
    user = current_user(request)
    since, to = query.since, query.to
    if since and to and since > to:
        raise web.HTTPBadRequest(text="from: later than to")
    filters = news.NewsFilter(
        topic_ids=(query.topic,) if query.topic is not None else (),
        place=query.place.strip(),
        source_id=query.source,
        since=datetime.combine(since, time(0), console.tz) if since else None,
        until=datetime.combine(to + timedelta(days=1), time(0), console.tz) if to else None,
        text=query.q.strip(),
    )
    limited = user.role != "admin" and not query.all_topics
    if limited:
        filters = replace(filters, subscriber=user.id)
    found = await news.list_stories(console.db, filters, query.page, query.per_page)
    snippets = await asyncio.to_thread(lambda: [_snippet(r) for r in found.rows])
    return MatchesPage(
        stories=[
            StoryRowOut(
                article_id=r.article_id,
                cluster_id=r.cluster_id,
                title=r.title,
                url=r.url,
                source=r.source,
                page=r.page,
                place=r.place,
                time=_local(r.time, console.tz),
                topics=r.topics,
                hits=r.hits,
                also=r.also,
                copies=r.copies,
                snippet=snippet,
            )
            for r, snippet in zip(found.rows, snippets, strict=True)
        ],
        total=found.total,
        page=found.page,
        per_page=found.per_page,
        pages=found.pages,
        subscribed_only=limited,
    )


class CopyOut(BaseModel):
    article_id: int
    source: str
    title: str
    url: str
    page: str
    time: datetime | None


class StoryMatchOut(BaseModel):
    topic_id: int
    topic: str
    hits: list[list[int | str]]
    matched_at: datetime | None


class StoryDeliveryOut(BaseModel):
    topic: str
    channel: str = Field(description="a config channel's name or the owner's label")
    owner: str
    recipient: str
    kind: str
    status: str
    sent_at: datetime | None
    last_error: str = Field(description="secrets removed")
    attempts: int


class StoryOut(BaseModel):
    article_id: int
    cluster_id: int | None
    title: str
    url: str
    source: str
    page: str
    pdf: str
    place: str
    published_at: datetime | None
    fetched_at: datetime | None
    text: str
    matches: list[StoryMatchOut]
    copies: list[CopyOut]
    deliveries: list[StoryDeliveryOut] = Field(
        description="staff see only config channels' and their own"
    )


@api("GET", r"/api/stories/{id:\d+}", "One stored article, its copies and alerts", StoryOut)
async def get_story(request: web.Request) -> StoryOut:
    console = console_of(request)
    user = current_user(request)
    viewer = None if user.role == "admin" else user.id
    found = await news.story(console.db, int(request.match_info["id"]), viewer)
    if found is None:
        raise web.HTTPNotFound(text="no such article")
    tz, a = console.tz, found.article
    clean = redactor(*console.config.secrets())
    return StoryOut(
        article_id=a.id or 0,
        cluster_id=a.cluster_id,
        title=a.title,
        url=a.url,
        source=found.source,
        page=a.page,
        pdf=found.pdf,
        place=a.place,
        published_at=_local(a.published_at, tz),
        fetched_at=_local(a.fetched_at, tz),
        text=a.text,
        matches=[
            StoryMatchOut(
                topic_id=m.topic_id,
                topic=m.topic,
                hits=m.hits,
                matched_at=_local(m.created_at, tz),
            )
            for m in found.matches
        ],
        copies=[
            CopyOut(
                article_id=c.article_id,
                source=c.source,
                title=c.title,
                url=c.url,
                page=c.page,
                time=_local(c.time, tz),
            )
            for c in found.copies
        ],
        deliveries=[
            StoryDeliveryOut(
                topic=d.topic,
                channel=d.channel,
                owner=d.owner,
                recipient=d.recipient,
                kind=d.kind,
                status=d.status,
                sent_at=_local(d.sent_at, tz),
                last_error=clean(d.last_error or ""),
                attempts=d.attempts,
            )
            for d in found.deliveries
        ],
    )


class Done(BaseModel):
    ok: bool = True
    message: str = ""


# ── topics ───────────────────────────────────────────────────────────────────────────


TopicField = Literal["title", "text"]
ALL_FIELDS: tuple[TopicField, ...] = ("title", "text")


class TopicIn(BaseModel):
    """A console topic: the keys of a ``[[topics]]`` table but ``channels`` (routing is
    by subscription)."""

    name: str
    query: str
    mode: Literal["word", "substring"] = "word"
    places: list[str] = Field(default_factory=list)
    sources: list[str] = Field(default_factory=list, description="source names; none: all")
    min_hits: int = Field(default=1, ge=1)
    fields: list[TopicField] = Field(default_factory=lambda: list(ALL_FIELDS))
    backfill: str = Field(default="", description="e.g. 3d: match stored articles this far back")

    def definition(self, known_sources: set[str]) -> dict[str, Any]:
        """Checked exactly as the 主题 page checks its form; 400 with the reason (a query
        that does not parse: the parser's column)."""
        form = topics_page.TopicForm(
            name=self.name,
            query=self.query.strip(),
            mode=self.mode,
            places=" ".join(self.places),
            sources=list(self.sources),
            min_hits=str(self.min_hits),
            fields=list(self.fields),
            backfill=self.backfill.strip(),
        )
        try:
            return form.definition(known_sources)
        except topics_page.FormError as exc:
            raise web.HTTPBadRequest(text=str(exc)) from None


class TopicUpdate(TopicIn):
    version: int = Field(description="the version the edit started from (see TopicOut)")


class TopicOut(BaseModel):
    id: int = Field(description="the catalog topic id (subscriptions and matches use it)")
    name: str
    query: str
    origin: Literal["config", "console", "deleted"]
    definition: dict[str, Any] | None = Field(description="a console topic's settings")
    owner: str | None
    version: int | None
    updated_at: datetime | None
    editable: bool = Field(description="the caller may change or delete it")


class TopicList(BaseModel):
    topics: list[TopicOut]


class Overwritten(BaseModel):
    by: str
    at: datetime
    version: int


class TopicSaved(BaseModel):
    topic: TopicOut
    overwrote: Overwritten | None = Field(
        description="someone saved after the caller's version; the caller's save won"
    )


async def _file_topic_names(request: web.Request) -> set[str]:
    """config.toml's topic names, each given its catalog row (so it has an id)."""
    console = console_of(request)
    found = console.config.file_topics()
    await console_defs.ensure_topics(console.db, ((t.name, t.query) for t in found))
    return {t.name for t in found}


async def _topic_outs(
    request: web.Request, views: list[TopicView], file_names: set[str]
) -> list[TopicOut]:
    console = console_of(request)
    owners = {u.id: u.name for u in await accounts.list_users(console.db)}
    user = current_user(request)
    return [
        TopicOut.model_validate(
            {
                "id": view.id,
                "name": view.name,
                "query": view.query,
                "origin": topics_page.origin(view, file_names),
                "definition": view.console.definition if view.console else None,
                "owner": owners.get(view.console.owner_id) if view.console else None,
                "version": view.console.version if view.console else None,
                "updated_at": _local(view.console.updated_at, console.tz) if view.console else None,
                "editable": view.console is not None and topics_page.can_edit(user, view),
            }
        )
        for view in views
    ]


async def _editable_view(request: web.Request) -> TopicView:
    """The console topic in the path, if the caller may change it (403 otherwise)."""
    view = await console_defs.topic_view(console_of(request).db, int(request.match_info["id"]))
    if view is None:
        raise web.HTTPNotFound(text="no such topic")
    if view.console is None or not topics_page.can_edit(current_user(request), view):
        raise web.HTTPForbidden(
            text="only the topic's owner or an admin may change it; config.toml's are read-only"
        )
    return view


@api("GET", "/api/topics", "Every topic: from config.toml, the console, or deleted", TopicList)
async def list_topics(request: web.Request) -> TopicList:
    names = await _file_topic_names(request)
    views = await console_defs.list_topics(console_of(request).db)
    return TopicList(topics=await _topic_outs(request, views, names))


@api(
    "POST",
    "/api/topics",
    "Make a console topic (the caller owns it)",
    TopicOut,
    body=TopicIn,
    status=201,
)
async def create_topic(request: web.Request, body: TopicIn) -> TopicOut:
    console = console_of(request)
    names = await _file_topic_names(request)
    definition = body.definition({s.name for s in console.config.sources})
    try:
        made = await console_defs.create_topic(
            console.db, body.name, definition, current_user(request).id, names
        )
    except DefinitionError as exc:
        raise web.HTTPBadRequest(text=str(exc)) from None
    await console.changed()
    return (await _topic_outs(request, [made], names))[0]


@api(
    "PUT",
    r"/api/topics/{id:\d+}",
    "Change a console topic (its owner or an admin); the last save wins",
    TopicSaved,
    body=TopicUpdate,
)
async def update_topic(request: web.Request, body: TopicUpdate) -> TopicSaved:
    console = console_of(request)
    view = await _editable_view(request)
    names = await _file_topic_names(request)
    definition = body.definition({s.name for s in console.config.sources})
    assert view.console is not None
    try:
        _, overwrite = await console_defs.save_topic(
            console.db,
            view.console.id or 0,
            body.name,
            definition,
            current_user(request).id,
            body.version,
            names,
        )
    except DefinitionError as exc:
        raise web.HTTPBadRequest(text=str(exc)) from None
    await console.changed()
    saved = await console_defs.topic_view(console.db, view.id)
    assert saved is not None
    return TopicSaved(
        topic=(await _topic_outs(request, [saved], names))[0],
        overwrote=Overwritten(
            by=overwrite.user_name,
            at=overwrite.at.astimezone(console.tz),
            version=overwrite.version,
        )
        if overwrite
        else None,
    )


@api(
    "DELETE",
    r"/api/topics/{id:\d+}",
    "Delete a console topic; its subscribers see it as deleted",
    Done,
)
async def delete_topic(request: web.Request) -> Done:
    console = console_of(request)
    view = await _editable_view(request)
    assert view.console is not None
    await console_defs.delete_topic(console.db, view.console.id or 0, current_user(request).id)
    await console.changed()
    return Done(message=f"deleted {view.name}")


# ── the caller's channels and subscriptions ──────────────────────────────────────────


class ChannelOut(BaseModel):
    id: int
    label: str
    kind: Literal["chat", "email"]
    target: str = Field(description="an email address, or a chat URL's scheme and host only")
    mode: Literal["instant", "digest"]
    at: str | None = Field(description="digest time, HH:MM local")
    every: Literal["daily", "weekly"] | None
    weekday: str | None

    @classmethod
    def of(cls, channel: ConsoleChannel) -> ChannelOut:
        settings = channel.settings
        digest = settings.get("mode") == "digest"
        return cls(
            id=channel.id or 0,
            label=channel.label,
            kind="email" if channel.kind == "email" else "chat",
            target=shown_target(channel),
            mode="digest" if digest else "instant",
            at=settings.get("at", "08:00") if digest else None,
            every=settings.get("every", "daily") if digest else None,
            weekday=settings.get("weekday", "mon") if digest else None,
        )


class ChannelList(BaseModel):
    channels: list[ChannelOut]


class ChannelIn(BaseModel):
    """A chat bot (any Apprise URL, sent to at once) or an email address (a digest)."""

    kind: Literal["chat", "email"] = "chat"
    label: str = ""
    url: str = Field(default="", description="chat: the bot's Apprise URL")
    address: str = Field(default="", description="email: the address")
    at: str = Field(default="08:00", description="email: digest time HH:MM")
    every: Literal["daily", "weekly"] = "daily"
    weekday: Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"] = "mon"


def _own_id(request: web.Request) -> int:
    return current_user(request).id or 0


@api("GET", "/api/channels", "The caller's channels (URLs never shown)", ChannelList)
async def list_channels(request: web.Request) -> ChannelList:
    found = await console_defs.user_channels(console_of(request).db, _own_id(request))
    return ChannelList(channels=[ChannelOut.of(c) for c in found])


@api(
    "POST", "/api/channels", "Add a channel of the caller's", ChannelOut, body=ChannelIn, status=201
)
async def add_channel(request: web.Request, body: ChannelIn) -> ChannelOut:
    console = console_of(request)
    if body.kind == "email" and email_server(console.config) is None:
        raise web.HTTPConflict(text="email is not configured on this server ([web] email_url)")
    form = MultiDictProxy(MultiDict({k: str(v) for k, v in body.model_dump().items()}))
    try:
        fields = channel_form(form, kind=body.kind, editing=False)
        channel = await console_defs.add_channel(
            console.db,
            _own_id(request),
            fields["label"],
            body.kind,
            fields["url"],
            fields["settings"],
        )
    except (FormError, DefinitionError) as exc:
        raise web.HTTPBadRequest(text=str(exc)) from None
    await console.changed()
    return ChannelOut.of(channel)


async def _own_channel(request: web.Request) -> ConsoleChannel:
    """The channel in the path if it is the caller's; anyone else's is not found."""
    console = console_of(request)
    channel_id = int(request.match_info["id"])
    channel = await console_defs.get_channel(console.db, _own_id(request), channel_id)
    if channel is None:
        raise web.HTTPNotFound(text=f"no channel {channel_id} of yours")
    return channel


@api(
    "DELETE",
    r"/api/channels/{id:\d+}",
    "Delete a channel of the caller's and its subscriptions",
    Done,
)
async def delete_channel(request: web.Request) -> Done:
    channel = await _own_channel(request)
    console = console_of(request)
    await console_defs.delete_channel(console.db, channel.owner_id, channel.id or 0)
    await console.changed()
    return Done(message=f"deleted {channel.label}")


@api("POST", r"/api/channels/{id:\d+}/test", "Send a test message through a channel", Done)
async def test_channel(request: web.Request) -> Done:
    problem = await send_test(request, await _own_channel(request))
    if problem is not None:
        raise web.HTTPBadGateway(text=f"test message failed: {problem}")
    return Done(message="sent")


class SubscriptionOut(BaseModel):
    topic_id: int
    topic: str
    topic_state: Literal["config", "console", "deleted"]
    channel_id: int | None = Field(description="none: in the console only")
    channel: str | None = Field(description="the channel's label")


class SubscriptionList(BaseModel):
    subscriptions: list[SubscriptionOut]


class SubscriptionIn(BaseModel):
    topic_id: int
    channel_id: int | None = None


class SubscriptionsIn(BaseModel):
    subscriptions: list[SubscriptionIn] = Field(description="replaces all of the caller's")


async def _subscriptions(request: web.Request) -> SubscriptionList:
    console = console_of(request)
    uid = _own_id(request)
    views = {v.id: v for v in await console_defs.list_topics(console.db)}
    labels = {c.id: c.label for c in await console_defs.user_channels(console.db, uid)}
    file_topics = {t.name for t in console.config.file_topics()}
    found = []
    for sub in await console_defs.user_subscriptions(console.db, uid):
        view = views.get(sub.topic_id)
        found.append(
            SubscriptionOut.model_validate(
                {
                    "topic_id": sub.topic_id,
                    "topic": view.name if view else "?",
                    "topic_state": topic_state(view, file_topics) if view else "deleted",
                    "channel_id": sub.channel_id,
                    "channel": labels.get(sub.channel_id) if sub.channel_id else None,
                }
            )
        )
    return SubscriptionList(subscriptions=found)


@api("GET", "/api/subscriptions", "The caller's subscriptions", SubscriptionList)
async def list_subscriptions(request: web.Request) -> SubscriptionList:
    return await _subscriptions(request)


@api(
    "PUT",
    "/api/subscriptions",
    "Replace the caller's subscriptions (topic, and a channel of theirs or none)",
    SubscriptionList,
    body=SubscriptionsIn,
)
async def set_subscriptions(request: web.Request, body: SubscriptionsIn) -> SubscriptionList:
    console = console_of(request)
    pairs = [(s.topic_id, s.channel_id) for s in body.subscriptions]
    try:
        await console_defs.set_subscriptions(console.db, _own_id(request), pairs)
    except DefinitionError as exc:
        # an unknown topic, or a channel id that is not the caller's: nothing changed
        raise web.HTTPNotFound(text=str(exc)) from None
    await console.changed()
    return await _subscriptions(request)


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
