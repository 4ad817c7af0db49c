"""我的订阅: a staff member picks topics and how to receive them, without asking an
administrator to edit config.toml.

Each person's channels (a chat bot or any Apprise URL they own, an email address for a
digest) and subscriptions are theirs alone: every channel id in a URL or a form is
checked against the logged-in user, and another user's is "not found". A channel URL
carries its bot's token, so it is never shown back in full, and a test send's error
is redacted before it is shown. Changes take effect at once through ``Console.changed``.
"""

from __future__ import annotations

import asyncio
import re
from typing import Any
from urllib.parse import urlencode

import aiohttp_jinja2
import structlog
from aiohttp import web
from multidict import MultiDictProxy

from daemon.console_config import channel_config, email_server
from daemon.notify.apprise_urls import check_apprise_url, scheme_of
from daemon.notify.channels import redact, sender_for
from daemon.redaction import masked_channel_url
from daemon.web.app import console_of
from daemon.web.auth import current_user
from storage import accounts, console_defs
from storage.console_defs import DefinitionError, TopicView
from storage.console_models import ConsoleChannel, User

routes = web.RouteTableDef()
log = structlog.get_logger("tingfeng.web")

TIME = re.compile(r"([01]?\d|2[0-3]):[0-5]\d")
EMAIL = re.compile(r"[^@\s<>\"',;]+@[^@\s<>\"',;]+\.[^@\s<>\"',;.]+")
MAX_URL = 2000
TEST_TIMEOUT = 30.0
WEEKDAYS = {
    "mon": "周一",
    "tue": "周二",
    "wed": "周三",
    "thu": "周四",
    "fri": "周五",
    "sat": "周六",
    "sun": "周日",
}


class FormError(Exception):
    """A form that cannot be saved as filled in; the message says which field and why."""


def _uid(user: User) -> int:
    assert user.id is not None
    return user.id


def shown_target(channel: ConsoleChannel) -> str:
    """What the page shows of where a channel sends: an email address (the owner's own)
    or a chat URL's scheme and host only."""
    return channel.url if channel.kind == "email" else masked_channel_url(channel.url)


def schedule(channel: ConsoleChannel) -> str:
    settings = channel.settings
    if settings.get("mode") != "digest":
        return "即时"
    at = settings.get("at", "08:00")
    if settings.get("every") == "weekly":
        return f"每{WEEKDAYS.get(settings.get('weekday', 'mon'), '周一')} {at} 摘要"
    return f"每天 {at} 摘要"


def topic_state(view: TopicView, file_topics: set[str]) -> str:
    """ "config" (read-only, from config.toml), "console", or "deleted"."""
    if view.console is not None:
        return "console"
    return "config" if view.name in file_topics else "deleted"


def channel_form(form: MultiDictProxy[Any], *, kind: str, editing: bool) -> dict[str, Any]:
    """The channel fields of a submitted form, checked: label, url (None: keep the
    stored one), settings. Raises FormError naming the field."""
    label = str(form.get("label", "")).strip()
    if kind == "email":
        address = str(form.get("address", "")).strip()
        if len(address) > 254 or not EMAIL.fullmatch(address):
            raise FormError(f"邮箱地址“{address[:80]}”无效（例如 wang.fang@example.cn）")
        at = str(form.get("at", "")).strip()
        if not TIME.fullmatch(at):
            raise FormError(f"摘要时间“{at[:20]}”无效：请用 HH:MM，00:00 到 23:59")
        every = str(form.get("every", "daily"))
        if every not in ("daily", "weekly"):
            raise FormError("发送频率须为每天或每周")
        weekday = str(form.get("weekday", "mon"))
        if weekday not in WEEKDAYS:
            raise FormError("请选择每周哪一天发送")
        settings = {"mode": "digest", "at": at, "every": every, "weekday": weekday}
        return {"label": label or address, "url": address, "settings": settings}
    url = str(form.get("url", "")).strip()
    if editing and not url:
        return {"label": label, "url": None, "settings": {"mode": "instant"}}
    if not url:
        raise FormError("请填写机器人地址（企业微信 / 钉钉 / 飞书机器人或任意 Apprise 地址）")
    if len(url) > MAX_URL:
        raise FormError(f"地址太长（最多 {MAX_URL} 个字符）")
    if problem := check_apprise_url(url):
        raise FormError(f"地址无法使用：{problem}")
    if scheme_of(url) in ("console", "mailto", "mailtos"):
        raise FormError("这里填写聊天机器人地址；邮件请选“邮件摘要”")
    label = label or f"{scheme_of(url)} 机器人"
    return {"label": label, "url": url, "settings": {"mode": "instant"}}


async def _page(
    request: web.Request,
    *,
    notices: list[str] | None = None,
    errors: list[str] | None = None,
    status: int = 200,
    draft: dict[str, str] | None = None,
) -> web.Response:
    console = console_of(request)
    user = await accounts.get_user(console.db, _uid(current_user(request))) or current_user(request)
    file_topics = console.config.file_topics()
    await console_defs.ensure_topics(console.db, ((t.name, t.query) for t in file_topics))
    views = await console_defs.list_topics(console.db)
    channels = await console_defs.user_channels(console.db, _uid(user))
    subscribed = {
        (s.topic_id, s.channel_id)
        for s in await console_defs.user_subscriptions(console.db, _uid(user))
    }
    names = {t.name for t in file_topics}
    states = {v.id: topic_state(v, names) for v in views}
    followed = {topic for topic, _ in subscribed}
    # A deleted topic stays listed only for those who still follow it.
    shown = [v for v in views if states[v.id] != "deleted" or v.id in followed]
    context = {
        "nav": "subscriptions",
        "topics": shown,
        "states": states,
        "channels": channels,
        "targets": {c.id: shown_target(c) for c in channels},
        "schedules": {c.id: schedule(c) for c in channels},
        "subscribed": subscribed,
        "email_ready": email_server(console.config) is not None,
        "weekdays": WEEKDAYS,
        "draft": draft or {},
        "feed": feed_url(request, user.feed_token) if user.feed_token else None,
        "notices": notices or [],
        "errors": errors or [],
    }
    return aiohttp_jinja2.render_template("subscriptions.html.j2", request, context, status=status)


def feed_url(request: web.Request, token: str) -> str:
    """The user's Atom feed of their subscribed topics; the token in it is the reader's
    key, shown only to its owner."""
    base = console_of(request).config.web.public_url or str(request.url.origin())
    return f"{base.rstrip('/')}/feeds/user.xml?{urlencode({'token': token})}"


@routes.get("/subscriptions")
async def subscriptions(request: web.Request) -> web.Response:
    return await _page(request)


def _pairs(values: list[str]) -> list[tuple[int, int | None]]:
    """``topic:channel`` / ``topic:console`` checkbox values as (topic id, channel id)."""
    pairs: list[tuple[int, int | None]] = []
    for value in values:
        topic, _, channel = value.partition(":")
        if not topic.isdigit() or not (channel.isdigit() or channel == "console"):
            raise FormError("表单内容无效，请刷新页面后重试")
        pairs.append((int(topic), int(channel) if channel.isdigit() else None))
    return pairs


@routes.post("/subscriptions")
async def save_subscriptions(request: web.Request) -> web.Response:
    console = console_of(request)
    user = current_user(request)
    form = await request.post()
    try:
        pairs = _pairs([str(v) for v in form.getall("sub", [])])
        await console_defs.set_subscriptions(console.db, _uid(user), pairs)
    except (FormError, DefinitionError) as exc:
        return await _page(request, errors=[f"订阅未保存：{exc}"], status=400)
    await console.changed()
    return await _page(request, notices=["订阅已保存，立即生效。"])


@routes.post("/subscriptions/channels")
async def add_channel(request: web.Request) -> web.Response:
    console = console_of(request)
    user = current_user(request)
    form = await request.post()
    kind = "email" if form.get("kind") == "email" else "chat"
    draft = {k: str(form.get(k, "")) for k in ("kind", "label", "address", "at", "every")}
    if kind == "email" and email_server(console.config) is None:
        return await _page(
            request, errors=["管理员尚未配置邮件服务器，暂不能用邮件接收"], status=400
        )
    try:
        fields = channel_form(form, kind=kind, editing=False)
        channel = await console_defs.add_channel(
            console.db, _uid(user), fields["label"], kind, fields["url"], fields["settings"]
        )
    except (FormError, DefinitionError) as exc:
        return await _page(request, errors=[f"接收方式未添加：{exc}"], status=400, draft=draft)
    await console.changed()
    return await _page(request, notices=[f"已添加接收方式“{channel.label}”。"])


async def _own_channel(request: web.Request) -> ConsoleChannel:
    """The channel in the URL if it is the logged-in user's; anyone else's is 404."""
    console = console_of(request)
    user = current_user(request)
    raw = request.match_info["channel_id"]
    channel = (
        await console_defs.get_channel(console.db, _uid(user), int(raw)) if raw.isdigit() else None
    )
    if channel is None:
        raise web.HTTPNotFound(text="404: 没有这个接收方式")
    return channel


async def _edit_page(
    request: web.Request,
    channel: ConsoleChannel,
    *,
    errors: list[str] | None = None,
    status: int = 200,
) -> web.Response:
    context = {
        "nav": "subscriptions",
        "channel": channel,
        "target": shown_target(channel),
        "weekdays": WEEKDAYS,
        "errors": errors or [],
    }
    return aiohttp_jinja2.render_template("channel_edit.html.j2", request, context, status=status)


@routes.get("/subscriptions/channels/{channel_id}")
async def edit_channel(request: web.Request) -> web.Response:
    return await _edit_page(request, await _own_channel(request))


@routes.post("/subscriptions/channels/{channel_id}")
async def save_channel(request: web.Request) -> web.Response:
    channel = await _own_channel(request)
    console = console_of(request)
    form = await request.post()
    try:
        fields = channel_form(form, kind=channel.kind, editing=True)
        saved = await console_defs.update_channel(
            console.db,
            channel.owner_id,
            channel.id or 0,
            fields["label"] or channel.label,
            fields["url"],
            fields["settings"],
        )
    except (FormError, DefinitionError) as exc:
        return await _edit_page(request, channel, errors=[f"未保存：{exc}"], status=400)
    await console.changed()
    return await _page(request, notices=[f"接收方式“{saved.label}”已保存，立即生效。"])


@routes.post("/subscriptions/channels/{channel_id}/delete")
async def delete_channel(request: web.Request) -> web.Response:
    channel = await _own_channel(request)
    console = console_of(request)
    await console_defs.delete_channel(console.db, channel.owner_id, channel.id or 0)
    await console.changed()
    return await _page(request, notices=[f"已删除接收方式“{channel.label}”及经它的订阅。"])


async def send_test(request: web.Request, channel: ConsoleChannel) -> str | None:
    """One test message through the channel now, by the sender the outbox uses;
    None when the service confirmed, else the redacted reason."""
    console = console_of(request)
    config = channel_config(console.config, channel)
    if config is None:
        return "邮件服务器未配置，无法发送" if channel.kind == "email" else "渠道设置无效"
    user = current_user(request)
    secret = config.url.get_secret_value()
    try:
        sender = sender_for(config)
        await asyncio.wait_for(sender.pace(), TEST_TIMEOUT)
        await sender.send(
            "[听风] 测试消息",
            f"这是 {user.name} 在听风控制台发送的测试消息：“{channel.label}”可以收到提醒。",
        )
    except TimeoutError:
        return f"{TEST_TIMEOUT:.0f} 秒内未能发送（发送频率限制）"
    except Exception as exc:
        # Whatever the service or Apprise raised, the person sees one redacted line.
        return redact(f"{exc}".splitlines()[0][:300] or type(exc).__name__, secret)
    return None


@routes.post("/subscriptions/channels/{channel_id}/test")
async def test_channel(request: web.Request) -> web.Response:
    channel = await _own_channel(request)
    problem = await send_test(request, channel)
    if problem is not None:
        log.warning("test message failed", channel=channel.name, error=problem)
        return await _page(request, errors=[f"“{channel.label}”测试消息发送失败：{problem}"])
    return await _page(request, notices=[f"测试消息已发送到“{channel.label}”，请查收。"])


@routes.post("/subscriptions/feed")
async def rotate_feed(request: web.Request) -> web.Response:
    """A new feed link; every link made before stops working at once."""
    console = console_of(request)
    had = current_user(request).feed_token is not None
    await accounts.rotate_feed_token(console.db, _uid(current_user(request)))
    notice = "已生成新的订阅源链接，旧链接已失效。" if had else "已生成订阅源链接。"
    return await _page(request, notices=[notice])
