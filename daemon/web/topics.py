"""主题: topics listed, made and edited in the console, with a workbench to try a query
on pasted text and on the last 30 days of stored articles before it goes live.

A topic from config.toml is shown read-only (its file is the truth). A console topic
is edited by its owner or an administrator; a query that does not parse is refused
with the parser's column and nothing is saved. Two people saving one topic: the later
save wins and its author is told whose save it replaced. Matching runs in a worker
thread, so a long pasted text or a backtest never stalls the pages of others.
"""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import aiohttp_jinja2
from aiohttp import web
from multidict import MultiDictProxy
from pydantic import ValidationError

from daemon.backfill import backfill
from daemon.backtest import Summary, backtest, original_quotes
from daemon.console_config import effective_config, topic_config
from daemon.web.app import console_of
from daemon.web.auth import current_user
from rules import Document, QuerySyntaxError, RuleError, TopicRule, compile_rules, parse_query
from storage import accounts, console_defs
from storage.console_defs import DefinitionError, TopicView
from storage.console_models import User
from storage.types import utcnow
from watchers.units import parse_duration

routes = web.RouteTableDef()

BACKTEST_DAYS = 30
EXAMPLES = 5
MAX_QUERY = 5000
MAX_PASTE = 100_000
DEFAULT_BACKFILL = "3d"
MODES = {"word": "按词（中文分词）", "substring": "按字串"}
FIELDS = {"title": "标题", "text": "正文"}
_SPLIT = re.compile(r"[\s,，、;；]+")


@dataclass
class TopicForm:
    """A topic as typed into the form: kept as typed, so a refused form comes back
    filled in."""

    name: str = ""
    query: str = ""
    mode: str = "word"
    places: str = ""
    sources: list[str] = field(default_factory=list)
    min_hits: str = "1"
    fields: list[str] = field(default_factory=lambda: ["title", "text"])
    backfill: str = ""
    version: int = 0
    title: str = ""
    text: str = ""

    @classmethod
    def of(cls, definition: dict[str, Any], name: str, version: int) -> TopicForm:
        return cls(
            name=name,
            query=str(definition.get("query", "")),
            mode=str(definition.get("mode", "word")),
            places=" ".join(definition.get("places", [])),
            sources=list(definition.get("sources", [])),
            min_hits=str(definition.get("min_hits", 1)),
            fields=list(definition.get("fields", ["title", "text"])),
            backfill=str(definition.get("backfill", "")),
            version=version,
        )

    @classmethod
    def posted(cls, form: MultiDictProxy[Any]) -> TopicForm:
        version = str(form.get("version", "0"))
        return cls(
            name=str(form.get("name", "")),
            query=str(form.get("query", "")).strip(),
            mode=str(form.get("mode", "word")),
            places=str(form.get("places", "")),
            sources=[str(s) for s in form.getall("sources", [])],
            min_hits=str(form.get("min_hits", "1")).strip(),
            fields=[str(f) for f in form.getall("fields", [])],
            backfill=str(form.get("backfill", "")).strip(),
            version=int(version) if version.isdigit() else 0,
            title=str(form.get("title", "")),
            text=str(form.get("text", "")),
        )

    def definition(self, known_sources: set[str]) -> dict[str, Any]:
        """The ``[[topics]]`` keys (bar name and channels) this form gives; raises
        FormError naming the field, so nothing half-valid is ever stored."""
        if not self.query:
            raise FormError("查询不能为空")
        if len(self.query) > MAX_QUERY:
            raise FormError(f"查询最长 {MAX_QUERY} 个字符")
        problem = query_problem(self.query)
        if problem is not None:
            raise FormError(problem["message"])
        if self.mode not in MODES:
            raise FormError("匹配方式须为按词或按字串")
        if not self.min_hits.isdigit() or int(self.min_hits) < 1:
            raise FormError(f"最少命中次数“{self.min_hits[:20]}”须为 1 或更大的整数")
        if not self.fields or set(self.fields) - set(FIELDS):
            raise FormError("至少选择标题或正文中的一项")
        unknown = [s for s in self.sources if s not in known_sources]
        if unknown:
            raise FormError(f"没有名为“{unknown[0]}”的来源")
        definition: dict[str, Any] = {
            "query": self.query,
            "mode": self.mode,
            "places": [p for p in _SPLIT.split(self.places) if p],
            "sources": list(self.sources),
            "min_hits": int(self.min_hits),
            "fields": [f for f in FIELDS if f in self.fields],
        }
        if self.backfill:
            try:
                parse_duration(self.backfill)
            except ValueError:
                raise FormError(f"回溯时长“{self.backfill[:20]}”无效（例如 3d、12h）") from None
            definition["backfill"] = self.backfill
        try:
            topic_config(self.name or "?", definition, [])
        except ValidationError as exc:
            raise FormError(f"设置无效：{exc.errors()[0]['msg']}") from None
        return definition

    def rule(self, *, narrowed: bool) -> TopicRule:
        """The topic as the matcher takes it; ``narrowed`` False drops the place and
        source limits (a pasted text has neither)."""
        return TopicRule(
            name=self.name or "试匹配",
            query=self.query,
            mode="substring" if self.mode == "substring" else "word",
            places=tuple(p for p in _SPLIT.split(self.places) if p) if narrowed else (),
            sources=tuple(self.sources) if narrowed else (),
            min_hits=int(self.min_hits) if self.min_hits.isdigit() else 1,
            fields=tuple(f for f in FIELDS if f in self.fields) or ("title", "text"),
        )


class FormError(Exception):
    """A topic form that cannot be used as filled in; the message says why."""


def query_problem(query: str) -> dict[str, Any] | None:
    """None for a query that parses, else the parser's message and 1-based column."""
    try:
        parse_query(query)
    except QuerySyntaxError as exc:
        return {
            "message": f"查询第 {exc.column} 列有误：{exc.message}",
            "column": exc.column,
            "caret": exc.render("查询").split("\n", 1)[1],
        }
    return None


def can_edit(user: User, view: TopicView | None) -> bool:
    """Anyone may make a topic; a console topic is changed by its owner or an admin."""
    if view is None:
        return True
    if view.console is None:
        return False
    return user.role == "admin" or view.console.owner_id == user.id


def origin(view: TopicView, file_names: set[str]) -> str:
    if view.console is not None:
        return "console"
    return "config" if view.name in file_names else "deleted"


async def _file_names(request: web.Request) -> set[str]:
    """config.toml's topics, given catalog rows so they can be subscribed to at once."""
    console = console_of(request)
    topics = console.config.file_topics()
    await console_defs.ensure_topics(console.db, ((t.name, t.query) for t in topics))
    return {t.name for t in topics}


@routes.get("/topics")
async def topic_list(request: web.Request) -> web.Response:
    return await _list_page(request)


async def _list_page(request: web.Request, notices: list[str] | None = None) -> web.Response:
    console = console_of(request)
    names = await _file_names(request)
    views = await console_defs.list_topics(console.db)
    users = {u.id: u.name for u in await accounts.list_users(console.db)}
    context = {
        "nav": "topics",
        "topics": views,
        "origins": {v.id: origin(v, names) for v in views},
        "users": users,
        "notices": notices or [],
    }
    return aiohttp_jinja2.render_template("topics.html.j2", request, context)


@routes.get("/topics/validate")
async def validate(request: web.Request) -> web.Response:
    """Live validation for the query box: ``{"ok": true}`` or the message and column."""
    query = request.query.get("query", "").strip()
    if not query:
        return web.json_response({"ok": False, "message": "查询不能为空", "column": 1})
    if len(query) > MAX_QUERY:
        return web.json_response({"ok": False, "message": f"查询最长 {MAX_QUERY} 个字符"})
    problem = query_problem(query)
    return web.json_response({"ok": True} if problem is None else {"ok": False, **problem})


async def _view_of(request: web.Request) -> TopicView:
    view = await console_defs.topic_view(
        console_of(request).db, int(request.match_info["topic_id"])
    )
    if view is None:
        raise web.HTTPNotFound(text="404: 没有这个主题")
    return view


async def _edit_page(
    request: web.Request,
    view: TopicView | None,
    form: TopicForm,
    *,
    notices: list[str] | None = None,
    errors: list[str] | None = None,
    status: int = 200,
    workbench: dict[str, Any] | None = None,
    backtested: dict[str, Any] | None = None,
    saved: bool = False,
) -> web.Response:
    console = console_of(request)
    user = current_user(request)
    names = await _file_names(request)
    context = {
        "nav": "topics",
        "view": view,
        "origin": origin(view, names) if view is not None else "new",
        "form": form,
        "editable": can_edit(user, view),
        "sources": [s.name for s in console.config.sources],
        "modes": MODES,
        "fields": FIELDS,
        "problem": query_problem(form.query) if form.query else None,
        "workbench": workbench,
        "backtested": backtested,
        "saved": saved,
        "backfill_default": form.backfill or DEFAULT_BACKFILL,
        "notices": notices or [],
        "errors": errors or [],
    }
    return aiohttp_jinja2.render_template("topic_edit.html.j2", request, context, status=status)


@routes.get("/topics/new")
async def new_topic(request: web.Request) -> web.Response:
    return await _edit_page(request, None, TopicForm())


@routes.get(r"/topics/{topic_id:\d+}")
async def show_topic(request: web.Request) -> web.Response:
    view = await _view_of(request)
    if view.console is None:
        form = TopicForm(name=view.name, query=view.query)
        for topic in console_of(request).config.file_topics():
            if topic.name == view.name:
                definition = topic.model_dump(exclude={"name", "channels", "backfill"})
                form = TopicForm.of(definition, view.name, 0)
    else:
        form = TopicForm.of(view.console.definition, view.name, view.console.version)
    notices = ["主题已保存，立即生效。"] if "saved" in request.query else []
    return await _edit_page(request, view, form, notices=notices, saved="saved" in request.query)


@routes.post("/topics/new")
async def post_new(request: web.Request) -> web.Response:
    return await _post(request, None)


@routes.post(r"/topics/{topic_id:\d+}")
async def post_topic(request: web.Request) -> web.Response:
    return await _post(request, await _view_of(request))


async def _post(request: web.Request, view: TopicView | None) -> web.Response:
    """One form, three buttons: try on pasted text, backtest on stored articles, save."""
    posted = await request.post()
    form = TopicForm.posted(posted)
    action = str(posted.get("action", "save"))
    if action == "try":
        return await _try(request, view, form)
    if action == "backtest":
        return await _backtest(request, view, form)
    return await _save(request, view, form)


async def _save(request: web.Request, view: TopicView | None, form: TopicForm) -> web.Response:
    console = console_of(request)
    user = current_user(request)
    if not can_edit(user, view):
        raise web.HTTPForbidden(text="403: 只有主题的创建者或管理员可以修改；配置文件中的主题只读")
    names = await _file_names(request)
    try:
        definition = form.definition({s.name for s in console.config.sources})
        if view is None:
            made = await console_defs.create_topic(
                console.db, form.name, definition, user.id, names
            )
            await console.changed()
            raise web.HTTPSeeOther(f"/topics/{made.id}?saved=1")
        assert view.console is not None and view.console.id is not None
        topic, overwrite = await console_defs.save_topic(
            console.db, view.console.id, form.name, definition, user.id, form.version, names
        )
    except (FormError, DefinitionError) as exc:
        return await _edit_page(request, view, form, errors=[f"未保存：{exc}"], status=400)
    await console.changed()
    notices = ["主题已保存，立即生效。"]
    if overwrite is not None:
        when = overwrite.at.astimezone(console.tz).strftime("%Y-%m-%d %H:%M")
        notices.append(
            f"注意：{overwrite.user_name} 在 {when} 也保存过这个主题（在你打开编辑页之后）。"
            "你的保存已覆盖那次修改，请确认内容无误。"
        )
    saved_view = await console_defs.topic_view(console.db, view.id)
    fresh = TopicForm.of(topic.definition, topic.name, topic.version)
    return await _edit_page(request, saved_view, fresh, notices=notices, saved=True)


def _workbench_match(rule: TopicRule, title: str, text: str) -> dict[str, Any]:
    """Compile the one rule and match the pasted text (CPU: called in a worker thread)."""
    matcher = compile_rules([rule])
    doc = Document("paste", title, text)
    found = matcher.match(doc)
    spans: dict[str, list[list[int]]] = {"title": [], "text": []}
    terms: list[str] = []
    for match in found:
        terms += list(match.terms)
        for quote_field, start, end, _ in original_quotes(doc, match.hits):
            spans[quote_field].append([start, end])
    return {"matched": bool(found), "terms": terms, "spans": spans, "title": title, "text": text}


async def _try(request: web.Request, view: TopicView | None, form: TopicForm) -> web.Response:
    if not (form.title.strip() or form.text.strip()):
        return await _edit_page(request, view, form, errors=["请先粘贴要试匹配的标题或正文"])
    if len(form.title) + len(form.text) > MAX_PASTE:
        return await _edit_page(request, view, form, errors=[f"粘贴的文字最长 {MAX_PASTE} 个字符"])
    problem = query_problem(form.query) if form.query else {"message": "查询不能为空"}
    if problem is not None:
        return await _edit_page(request, view, form, errors=[problem["message"]], status=400)
    try:
        result = await asyncio.to_thread(
            _workbench_match, form.rule(narrowed=False), form.title, form.text
        )
    except RuleError as exc:
        return await _edit_page(request, view, form, errors=[str(exc)], status=400)
    return await _edit_page(request, view, form, workbench=result)


async def _backtest(request: web.Request, view: TopicView | None, form: TopicForm) -> web.Response:
    console = console_of(request)
    problem = query_problem(form.query) if form.query else {"message": "查询不能为空"}
    if problem is not None:
        return await _edit_page(request, view, form, errors=[problem["message"]], status=400)
    rule = form.rule(narrowed=True)
    try:
        matcher = await asyncio.to_thread(compile_rules, [rule])
    except RuleError as exc:
        return await _edit_page(request, view, form, errors=[str(exc)], status=400)
    summary = Summary([rule.name], examples=EXAMPLES)
    since = utcnow() - timedelta(days=BACKTEST_DAYS)
    scanned = await backtest(
        console.db,
        matcher,
        since,
        console.tz,
        lambda stored, found: summary.add(stored.doc, stored.cluster, found, stored.day),
    )
    tally = summary.tallies[rule.name]
    today = utcnow().astimezone(console.tz).date()
    days: list[date] = [today - timedelta(days=n) for n in range(BACKTEST_DAYS - 1, -1, -1)]
    result = {
        "scanned": scanned,
        "articles": tally.articles,
        "clusters": len(tally.clusters),
        "days": [(d, tally.days.get(d, 0)) for d in days],
        "peak": max([1, *tally.days.values()]),
        "examples": tally.examples,
    }
    return await _edit_page(request, view, form, backtested=result)


@routes.post(r"/topics/{topic_id:\d+}/delete")
async def delete(request: web.Request) -> web.Response:
    view = await _view_of(request)
    console = console_of(request)
    user = current_user(request)
    if not can_edit(user, view) or view.console is None:
        raise web.HTTPForbidden(text="403: 只有主题的创建者或管理员可以删除；配置文件中的主题只读")
    if (await request.post()).get("confirm") != "yes":
        form = TopicForm.of(view.console.definition, view.name, view.console.version)
        return await _edit_page(
            request, view, form, errors=["请勾选“确认删除”后再删除"], status=400
        )
    await console_defs.delete_topic(console.db, view.console.id or 0, user.id)
    await console.changed()
    return await _list_page(request, [f"已删除主题“{view.name}”。订阅过它的人会看到“主题已删除”。"])


@routes.post(r"/topics/{topic_id:\d+}/backfill")
async def run_backfill(request: web.Request) -> web.Response:
    """Match the topic against stored articles of the span given and owe its subscribers
    what it finds, through the outbox like any alert (once per story and channel)."""
    view = await _view_of(request)
    console = console_of(request)
    user = current_user(request)
    if not can_edit(user, view) or view.console is None:
        raise web.HTTPForbidden(text="403: 只有主题的创建者或管理员可以回溯")
    form = TopicForm.of(view.console.definition, view.name, view.console.version)
    span = str((await request.post()).get("span", DEFAULT_BACKFILL)).strip()
    try:
        seconds = parse_duration(span)
    except ValueError:
        return await _edit_page(
            request, view, form, errors=[f"回溯时长“{span[:20]}”无效（例如 3d、12h）"], status=400
        )
    config = await effective_config(console.config, console.db)
    topic = next((t for t in config.topics if t.name == view.name), None)
    if topic is None:
        return await _edit_page(request, view, form, errors=["主题定义无效，无法回溯"], status=400)
    report = await backfill(console.db, config, [topic], utcnow() - timedelta(seconds=seconds))
    await console_defs.record(
        console.db, user.id, "topic.backfill", view.name, span=span, owed=report.owed
    )
    await console.changed()
    notice = (
        f"回溯完成：检查了最近 {span} 的 {report.articles} 篇文章，新匹配 {report.matched} 篇，"
        f"向订阅者补发 {report.owed} 条提醒（由守护进程发送）。"
    )
    return await _edit_page(request, view, form, notices=[notice])
