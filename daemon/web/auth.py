"""Who is asking: sessions, CSRF, login throttling, roles, and the login/logout pages.

Every route is closed unless listed in ``PUBLIC``: a new page cannot be left open by
forgetting a decorator. Session tokens live only in the browser's cookie; the database
keeps their SHA-256.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import secrets
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any
from urllib.parse import quote

import aiohttp_jinja2
from aiohttp import web

from daemon.web.passwords import verify_password
from storage import accounts
from storage.console_models import User
from storage.types import utcnow

COOKIE = "tingfeng_session"
LOGIN_COOKIE = "tingfeng_login"  # double-submit CSRF token for the login form
THROTTLE_WINDOW = timedelta(minutes=15)
MAX_FAILURES_PER_USER = 5
MAX_FAILURES_PER_IP = 20
PUBLIC = ("/login", "/static/", "/feeds/")
SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}

routes = web.RouteTableDef()
# What the session middleware found out about the request, for handlers and templates.
USER: web.RequestKey[User | None] = web.RequestKey("user")
CSRF: web.RequestKey[str] = web.RequestKey("csrf", str)
SESSION_HASH: web.RequestKey[str] = web.RequestKey("session_hash", str)
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _console(request: web.Request) -> Any:
    from daemon.web.app import console_of

    return console_of(request)


def current_user(request: web.Request) -> User:
    """The logged-in user (the middleware has already refused anonymous requests)."""
    user = request.get(USER)
    if user is None:
        raise web.HTTPUnauthorized()
    return user


def require_admin(request: web.Request) -> User:
    user = current_user(request)
    if user.role != "admin":
        raise web.HTTPForbidden(text="403: 仅管理员可访问此页面")
    return user


def _is_public(path: str) -> bool:
    return any(path == p or (p.endswith("/") and path.startswith(p)) for p in PUBLIC)


def client_ip(request: web.Request) -> str:
    """The address logins are throttled by.

    Behind a reverse proxy on this machine every request comes from loopback, and
    throttling that would let one person's typos lock everybody out; there the proxy's
    ``X-Forwarded-For`` names the client (its last entry is the one the proxy saw).
    From any other peer the header is ignored, so nobody can pick their own address.
    """
    from daemon.web.serving import is_loopback

    peer = request.remote or ""
    forwarded = request.headers.get("X-Forwarded-For", "")
    if forwarded and is_loopback(peer):
        return forwarded.split(",")[-1].strip() or peer
    return peer


@web.middleware
async def security_headers(request: web.Request, handler: Handler) -> web.StreamResponse:
    response = await handler(request)
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("X-Frame-Options", "DENY")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    response.headers.setdefault(
        "Content-Security-Policy",
        "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
        "frame-ancestors 'none'; form-action 'self'",
    )
    return response


@web.middleware
async def session_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    console = _console(request)
    request[USER] = None
    request[CSRF] = ""
    token = request.cookies.get(COOKIE)
    bearer = _bearer(request)
    if bearer is not None:
        # A script's token: no cookie is involved, so no cross-site request can carry
        # it and CSRF does not apply; a cookie sent along is ignored.
        request[USER] = await accounts.api_token_user(console.db, token_hash(bearer))
        if request[USER] is None:
            raise web.HTTPUnauthorized(
                text='{"error": "invalid API token"}', content_type="application/json"
            )
    elif token:
        found = await accounts.session_user(console.db, token_hash(token))
        if found is not None:
            request[USER], web_session = found
            request[CSRF] = web_session.csrf_token
            request[SESSION_HASH] = token_hash(token)
    if request[USER] is None and not _is_public(request.path):
        if request.path.startswith("/api/"):
            raise web.HTTPUnauthorized(
                text='{"error": "login required"}', content_type="application/json"
            )
        raise web.HTTPFound(f"/login?next={quote(request.path_qs)}")
    if request.method not in SAFE_METHODS and request[USER] is not None and bearer is None:
        await _check_csrf(request, request[CSRF])
    return await handler(request)


def _bearer(request: web.Request) -> str | None:
    """The ``Authorization: Bearer`` token of an API request (only /api/ takes one)."""
    scheme, _, value = request.headers.get("Authorization", "").partition(" ")
    if not request.path.startswith("/api/") or scheme.lower() != "bearer":
        return None
    return value.strip()


async def _check_csrf(request: web.Request, expected: str) -> None:
    sent = request.headers.get("X-CSRF-Token", "")
    if not sent and request.content_type in (
        "application/x-www-form-urlencoded",
        "multipart/form-data",
    ):
        sent = str((await request.post()).get("csrf", ""))
    if not expected or not hmac.compare_digest(sent, expected):
        raise web.HTTPForbidden(text="403: 表单已过期或来源无效（CSRF），请刷新页面后重试")


async def template_context(request: web.Request) -> dict[str, Any]:
    return {"user": request.get(USER), "csrf": request.get(CSRF, "")}


def _safe_next(value: str | None) -> str:
    """Only a path on this site: ``next=//evil.example`` must not redirect away, nor
    a backslash or a tab in place of the second slash, which browsers read as
    ``//evil.example`` too (they turn backslashes into slashes, drop tabs and newlines)."""
    if not value or not value.startswith("/") or value[1:2] == "/":
        return "/"
    return value if "\\" not in value and value.isprintable() else "/"


@routes.get("/login")
async def login_form(request: web.Request) -> web.Response:
    if request.get(USER) is not None:  # already logged in (a bookmarked /login)
        raise web.HTTPFound(_safe_next(request.query.get("next")))
    login_token = request.cookies.get(LOGIN_COOKIE) or secrets.token_urlsafe(24)
    response = aiohttp_jinja2.render_template(
        "login.html.j2",
        request,
        {"next": _safe_next(request.query.get("next")), "login_csrf": login_token, "error": ""},
    )
    _set_cookie(request, response, LOGIN_COOKIE, login_token, max_age=3600)
    return response


@routes.post("/login")
async def login(request: web.Request) -> web.Response:
    console = _console(request)
    form = await request.post()
    name = str(form.get("name", "")).strip()
    password = str(form.get("password", ""))
    next_url = _safe_next(str(form.get("next", "")))
    login_token = request.cookies.get(LOGIN_COOKIE, "")
    if not login_token or not hmac.compare_digest(str(form.get("csrf", "")), login_token):
        raise web.HTTPForbidden(text="403: 登录表单已过期，请刷新页面后重试")

    def fail(message: str, status: int) -> web.Response:
        return aiohttp_jinja2.render_template(
            "login.html.j2",
            request,
            {"next": next_url, "login_csrf": login_token, "error": message, "name": name},
            status=status,
        )

    ip = client_ip(request)
    by_user, by_ip = await accounts.failures_since(
        console.db, utcnow() - THROTTLE_WINDOW, user_name=name, ip=ip
    )
    if by_user >= MAX_FAILURES_PER_USER or by_ip >= MAX_FAILURES_PER_IP:
        return fail("登录失败次数过多，请 15 分钟后再试。", 429)
    user = await accounts.find_user(console.db, name)
    ok = await asyncio.to_thread(verify_password, user.password_hash if user else None, password)
    ok = ok and user is not None and not user.disabled
    await accounts.record_attempt(console.db, name, ip, ok)
    if not ok or user is None or user.id is None:
        return fail("用户名或密码错误，或账户已停用。", 401)
    token = secrets.token_urlsafe(32)
    days = console.config.web.session_days
    await accounts.open_session(
        console.db,
        user.id,
        token_hash(token),
        secrets.token_urlsafe(32),
        utcnow() + timedelta(days=days),
        ip,
    )
    response = web.HTTPFound(next_url)
    _set_cookie(request, response, COOKIE, token, max_age=days * 86400)
    response.del_cookie(LOGIN_COOKIE, path="/")
    raise response


@routes.post("/logout")
async def logout(request: web.Request) -> web.Response:
    session_hash = request.get(SESSION_HASH)
    if session_hash:
        await accounts.close_session(_console(request).db, session_hash)
    response = web.HTTPFound("/login")
    response.del_cookie(COOKIE, path="/")
    raise response


def secure_request(request: web.Request) -> bool:
    """Whether a ``Secure`` cookie will come back from this browser.

    Browsers keep ``Secure`` cookies only from HTTPS, and from ``http://localhost`` and
    loopback addresses, which they count as secure. On plain HTTP to any other address
    a ``Secure`` session cookie is dropped and nobody could log in; there it goes without
    ``Secure`` (the server warned at start that the console belongs behind HTTPS). A
    proxy terminating TLS says so with ``X-Forwarded-Proto: https``; a client faking that
    header only makes its own cookie stricter.
    """
    from daemon.web.serving import is_loopback

    if request.secure or request.headers.get("X-Forwarded-Proto", "").lower() == "https":
        return True
    return is_loopback(request.url.host or "")


def _set_cookie(
    request: web.Request, response: web.StreamResponse, name: str, value: str, max_age: int
) -> None:
    """Every cookie HttpOnly (no script reads it) and SameSite=Lax (no cross-site post
    carries it); ``Secure`` whenever the browser will keep it (:func:`secure_request`)."""
    response.set_cookie(
        name,
        value,
        max_age=max_age,
        path="/",
        httponly=True,
        samesite="Lax",
        secure=_console(request).secure_cookies and secure_request(request),
    )
