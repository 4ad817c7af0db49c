"""Local copies of real e-paper sites (``fixtures/real/<family>``) served over real HTTP.

Files are served as bytes exactly as kept (BOM, CRLF), or re-encoded (GBK) without a
charset in the Content-Type header. Pages shared by the team (``../shared/realpages``)
are mapped in by path, never copied. Pages of an issue that a fixture does not keep
(most of a 24-page paper) answer an empty page, as an advertisement page would.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field
from pathlib import Path

from aiohttp import web

from tests.sites import Hits, page_response

REAL = Path(__file__).parent / "fixtures" / "real"
SHARED_PAGES = Path(__file__).parents[1] / ".." / "shared" / "realpages"
EMPTY_PAGE = b"<html><head><title></title></head><body></body></html>"


def _content_type(path: str) -> str:
    return "application/pdf" if path.endswith(".pdf") else "text/html"


@dataclass
class RealSite:
    """What one family's site serves, and how."""

    family: str
    encoding: str = ""
    shared: dict[str, str] = field(default_factory=dict)
    empty_pages: str = r"$^"
    redirects: dict[str, str] = field(default_factory=dict)
    # Placeholders in the kept files, filled when the server's address is known.
    fill: dict[str, str] = field(default_factory=dict)

    def files(self) -> dict[str, bytes]:
        root = REAL / self.family
        out = {
            "/" + f.relative_to(root).as_posix(): f.read_bytes()
            for f in root.rglob("*")
            if f.is_file() and f.name != "PROVENANCE.md"
        }
        for path, name in self.shared.items():
            out[path] = (SHARED_PAGES / name).read_bytes()
        return out

    def app(self) -> tuple[web.Application, Hits]:
        hits = Hits()
        files = self.files()
        empty = re.compile(self.empty_pages)

        async def serve(request: web.Request) -> web.StreamResponse:
            hits.log.append((request.method, request.path, time.monotonic()))
            if request.path in self.redirects:
                raise web.HTTPFound(self.redirects[request.path])
            body = files.get(request.path)
            if body is None:
                if not empty.search(request.path):
                    raise web.HTTPNotFound()
                body = EMPTY_PAGE
            for key, value in self.fill.items():
                body = body.replace(key.encode(), value.encode())
            if self.encoding:
                body = body.decode("utf-8").encode(self.encoding)
            return page_response(request, body, _content_type(request.path))

        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", serve)
        return app, hits
