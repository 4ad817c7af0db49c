"""Every answer under /api/ is JSON, errors included: ``{"error": "..."}`` with the
status code, whether the refusal came from a handler, the session check, CSRF or the
router. A script should never have to parse an HTML error page.

Kept apart from daemon/web/api.py because the application wires it in as a middleware
before any page module is imported.
"""

from __future__ import annotations

import json
import re

import structlog
from aiohttp import web

from daemon.web.auth import Handler

log = structlog.get_logger("tingfeng.web")
_STATUS_PREFIX = re.compile(r"^\d{3}: ")


def error_response(status: int, message: str) -> web.Response:
    return web.json_response({"error": message}, status=status)


@web.middleware
async def json_errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    if not request.path.startswith("/api/"):
        return await handler(request)
    try:
        return await handler(request)
    except web.HTTPException as exc:
        if exc.status < 400 or (exc.content_type == "application/json" and _is_json(exc.text)):
            raise
        message = _STATUS_PREFIX.sub("", exc.text or exc.reason).strip() or exc.reason
        return error_response(exc.status, message)
    except Exception:
        log.exception("API request failed", path=request.path)
        return error_response(500, "internal error (logged on the server)")


def _is_json(text: str | None) -> bool:
    try:
        json.loads(text or "")
    except ValueError:
        return False
    return True
