"""What each service displays and accepts, and verified senders for the Chinese bots.

WeCom, DingTalk, Feishu and Lark answer HTTP 200 with an error code in the JSON
body (``{"errcode":93000}``), which Apprise counts as success. Those four are sent
here with aiohttp to the URL Apprise would use (Apprise still parses and validates
the channel URL) and count as sent only when the body's code is 0. Everything else
goes through Apprise and its per-service result.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Literal
from urllib.parse import quote

import aiohttp

from daemon.notify.render import Format

Unit = Literal["bytes", "chars"]


class SendError(Exception):
    """The service did not confirm; the message may hold secrets until redacted."""


@dataclass(frozen=True, slots=True)
class Service:
    """How to talk to one kind of service.

    ``limit`` is the largest message it accepts, in ``unit``; ``title_in_body`` says
    the service has no title field, so the title line counts against the limit.
    """

    format: Format = "text"
    limit: int | None = None
    unit: Unit = "chars"
    title_in_body: bool = False
    snippet_radius: int = 60
    rate: str | None = None
    origin: str | None = None  # API origin of a verified sender


GENERIC = Service()
SERVICES: dict[str, Service] = {
    # WeCom bot text: 2048 bytes of UTF-8; the bot shows Markdown raw in text messages.
    "wecombot": Service(
        "text", 2048, "bytes", True, rate="20/min", origin="https://qyapi.weixin.qq.com"
    ),
    "dingtalk": Service(
        "markdown", 18000, "bytes", True, rate="20/min", origin="https://oapi.dingtalk.com"
    ),
    "feishu": Service(
        "text", 18000, "bytes", True, rate="100/min", origin="https://open.feishu.cn"
    ),
    "lark": Service(
        "text", 18000, "bytes", True, rate="100/min", origin="https://open.larksuite.com"
    ),
    "tgram": Service("markdown", 4000, "chars", rate="20/min"),
    "slack": Service("markdown", 3500, "chars"),
    "discord": Service("markdown", 1900, "chars"),
    "mailto": Service("html", snippet_radius=200),
    "mailtos": Service("html", snippet_radius=200),
}


def service_for(scheme: str) -> Service:
    return SERVICES.get(scheme, GENERIC)


def size(text: str, unit: Unit) -> int:
    return len(text.encode("utf-8")) if unit == "bytes" else len(text)


def cut(text: str, budget: int, unit: Unit) -> str:
    """The longest prefix of ``text`` within ``budget``, never splitting a character."""
    if size(text, unit) <= budget:
        return text
    if unit == "chars":
        return text[: max(0, budget)]
    return text.encode("utf-8")[: max(0, budget)].decode("utf-8", errors="ignore")


def fit_block(block: str, budget: int, unit: Unit) -> str:
    """Shorten one block to ``budget``, keeping its last line (the link) intact."""
    if size(block, unit) <= budget:
        return block
    head, _, last = block.rpartition("\n")
    if head and size(last, unit) + 8 < budget:
        return cut(head, budget - size(last, unit) - size("…\n", unit), unit) + "…\n" + last
    return cut(block, budget - size("…", unit), unit) + "…"


def split_message(title: str, body: str, service: Service) -> list[tuple[str, str]]:
    """(title, body) parts that each fit the service, split between blank-line blocks.

    Nothing is rejected: a block too big for one message is shortened cleanly.
    """
    if service.limit is None:
        return [(title, body)]
    unit = service.unit

    def cost(t: str, b: str) -> int:
        return size(f"{t}\n{b}", unit) if service.title_in_body else size(b, unit)

    if cost(title, body) <= service.limit:
        return [(title, body)]
    reserve = size(f"{title} (99/99)\n", unit) if service.title_in_body else 0
    budget = service.limit - reserve
    parts: list[str] = []
    current = ""
    for block in (b.strip("\n") for b in body.split("\n\n")):
        if not block:
            continue
        block = fit_block(block, budget, unit)
        joined = f"{current}\n\n{block}" if current else block
        if size(joined, unit) <= budget:
            current = joined
        else:
            parts.append(current)
            current = block
    if current:
        parts.append(current)
    if len(parts) == 1:
        return [(title, parts[0])]
    return [(f"{title} ({i}/{len(parts)})", part) for i, part in enumerate(parts, 1)]


def _check_errcode(answer: dict[str, Any]) -> str | None:
    code = answer.get("errcode", answer.get("code", answer.get("StatusCode")))
    if code in (0, "0"):
        return None
    message = answer.get("errmsg", answer.get("msg", answer.get("StatusMessage", "")))
    return f"service answered error code {code}: {message}".strip()


def _wecom(plugin: Any, origin: str, title: str, body: str, fmt: Format) -> tuple[str, dict]:
    url = f"{origin}/cgi-bin/webhook/send?key={quote(plugin.key, safe='')}"
    kind = "markdown" if fmt == "markdown" else "text"
    return url, {"msgtype": kind, kind: {"content": f"{title}\n{body}"}}


def _dingtalk(plugin: Any, origin: str, title: str, body: str, fmt: Format) -> tuple[str, dict]:
    url = f"{origin}/robot/send?access_token={quote(plugin.token, safe='')}"
    if plugin.secret:
        stamp = str(round(time.time() * 1000))
        digest = hmac.new(
            plugin.secret.encode(), f"{stamp}\n{plugin.secret}".encode(), hashlib.sha256
        ).digest()
        url += f"&timestamp={stamp}&sign={quote(base64.b64encode(digest), safe='')}"
    at = {"atMobiles": list(plugin.targets), "isAtAll": False}
    if fmt == "markdown":
        text = {"title": title, "text": f"#### {title}\n\n{body}"}
        return url, {"msgtype": "markdown", "markdown": text, "at": at}
    return url, {"msgtype": "text", "text": {"content": f"{title}\n{body}"}, "at": at}


def _feishu(plugin: Any, origin: str, title: str, body: str, fmt: Format) -> tuple[str, dict]:
    url = f"{origin}/open-apis/bot/v2/hook/{quote(plugin.token, safe='')}"
    return url, {"msg_type": "text", "content": {"text": f"{title}\n{body}"}}


_REQUESTS: dict[str, Callable[[Any, str, str, str, Format], tuple[str, dict]]] = {
    "wecombot": _wecom,
    "dingtalk": _dingtalk,
    "feishu": _feishu,
    "lark": _feishu,
}


def verified_sender(
    scheme: str, plugin: Any, origin: str | None, timeout: float
) -> Callable[[str, str, Format], Awaitable[None]] | None:
    """A sender that raises SendError unless the bot's JSON says code 0; None for others."""
    build = _REQUESTS.get(scheme)
    if build is None:
        return None
    base = origin or service_for(scheme).origin or ""

    async def send(title: str, body: str, fmt: Format) -> None:
        url, payload = build(plugin, base, title, body, fmt)
        data = json.dumps(payload, ensure_ascii=False).encode("utf-8")
        headers = {"Content-Type": "application/json; charset=utf-8"}
        client_timeout = aiohttp.ClientTimeout(total=timeout)
        try:
            async with (
                aiohttp.ClientSession(timeout=client_timeout) as session,
                session.post(url, data=data, headers=headers) as response,
            ):
                text = await response.text(errors="replace")
                if response.status != 200:
                    raise SendError(f"HTTP {response.status}: {text[:200]}")
        except TimeoutError:
            raise SendError(f"no answer within {timeout:g}s") from None
        except aiohttp.ClientError as exc:
            raise SendError(f"cannot reach the service: {exc}") from None
        try:
            answer = json.loads(text)
        except ValueError:
            raise SendError(f"unexpected answer (not JSON): {text[:200]}") from None
        problem = _check_errcode(answer) if isinstance(answer, dict) else "unexpected answer"
        if problem:
            raise SendError(problem)

    return send
