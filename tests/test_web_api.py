"""The JSON API: session or Bearer token, CSRF only for the session, admin endpoints
refused to staff, errors as JSON, an OpenAPI document that lists every route, and no
secret in any answer."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from aiohttp.test_utils import TestClient
from openapi_spec_validator import validate

from daemon.config import parse_config
from daemon.notify.outbox import deliver_due
from tests.conftest import Catcher
from tests.notify_support import draft, make_config, seed
from tests.notify_support import statuses as row_statuses
from tests.web_support import add_user, console_server, database_of, log_in

TOKEN = "s3cretChannelT0ken"
TOPICS = '[[topics]]\nname = "燃气安全"\nquery = "液化气"\nchannels = ["chat"]\n'


def channels(catcher: Catcher) -> str:
    return (
        f'[[channels]]\nname = "chat"\n'
        f'url = "json://user:{TOKEN}@127.0.0.1:{catcher.server.port}/alerts"\n'
    )


def api_routes(client: TestClient) -> list[tuple[str, str]]:
    """(method, path template) of every /api route the server has."""
    found = []
    for route in client.app.router.routes():
        path = route.resource.canonical if route.resource else ""
        if path.startswith("/api/") and route.method != "HEAD":
            found.append((route.method, path))
    return found


def concrete(path: str) -> str:
    return path.replace("{id}", "1").replace("{name}", "燃气")


async def token_for(client: TestClient, csrf: str) -> str:
    made = await client.post("/api/tokens", headers={"X-CSRF-Token": csrf})
    assert made.status == 201, await made.text()
    return str((await made.json())["token"])


async def bearer_of(client: TestClient, name: str, password: str) -> dict[str, str]:
    """Log in, make an API token, log out: the headers a script would send."""
    token = await token_for(client, await log_in(client, name, password))
    client.session.cookie_jar.clear()
    return {"Authorization": f"Bearer {token}"}


async def test_every_api_route_refuses_anonymous_callers(tmp_path: Path) -> None:
    async with console_server(tmp_path) as client:
        routes = api_routes(client)
        assert len(routes) >= 8
        for method, path in routes:
            answer = await client.request(method, concrete(path))
            assert answer.status == 401, (method, path)
            assert "error" in await answer.json()
        bad = await client.get("/api/me", headers={"Authorization": "Bearer nope"})
        assert bad.status == 401 and (await bad.json()) == {"error": "invalid API token"}


async def test_bearer_needs_no_csrf_and_a_session_does(tmp_path: Path) -> None:
    config = (
        '[[sources]]\nname = "嘉祥发布"\nkind = "feed"\n'
        'url = "http://127.0.0.1:9/rss?token=FeedSecret99"\n'
    )
    async with console_server(tmp_path, config) as client:
        await add_user(client, "admin", "pw-admin", admin=True)
        csrf = await log_in(client, "admin", "pw-admin")

        refused = await client.post("/api/tokens")
        assert refused.status == 403
        assert "CSRF" in (await refused.json())["error"]
        token = await token_for(client, csrf)
        session_pause = await client.post("/api/sources/嘉祥发布/pause")
        assert session_pause.status == 403  # the session needs the header
        client.session.cookie_jar.clear()

        bearer = {"Authorization": f"Bearer {token}"}
        me = await (await client.get("/api/me", headers=bearer)).json()
        assert me == {"id": 1, "name": "admin", "role": "admin", "has_api_token": True}
        # nothing stored yet: the daemon has not run, so there is no row to pause
        early = await client.post("/api/sources/嘉祥发布/pause", headers=bearer)
        assert early.status == 409 and "首次运行" in (await early.json())["error"]
        answer = await client.get("/api/sources", headers=bearer)
        assert "FeedSecret99" not in await answer.text()
        listed = await answer.json()
        assert [(s["name"], s["state"]) for s in listed["sources"]] == [("嘉祥发布", "new")]
        assert listed["sources"][0]["url"] == "http://127.0.0.1:9/rss?token=***"
        missing = await client.post("/api/sources/nope/pause", headers=bearer)
        assert missing.status == 404 and "nope" in (await missing.json())["error"]

        rotated = await client.post("/api/tokens", headers=bearer)
        assert rotated.status == 201
        assert (await client.get("/api/me", headers=bearer)).status == 401
        fresh = {"Authorization": f"Bearer {(await rotated.json())['token']}"}
        assert (await client.get("/api/me", headers=fresh)).status == 200


async def test_staff_cannot_reach_admin_endpoints(tmp_path: Path) -> None:
    async with console_server(tmp_path) as client:
        await add_user(client, "staff", "pw-staff")
        csrf = await log_in(client, "staff", "pw-staff")
        token = await token_for(client, csrf)
        bearer = {"Authorization": f"Bearer {token}"}
        for method, path in [
            ("GET", "/api/sources"),
            ("POST", "/api/sources/x/pause"),
            ("POST", "/api/sources/x/resume"),
            ("GET", "/api/outbox"),
            ("POST", "/api/outbox/1/retry"),
            ("POST", "/api/outbox/retry-dead"),
        ]:
            answer = await client.request(method, path, headers=bearer)
            assert answer.status == 403, (method, path)
            assert "管理员" in (await answer.json())["error"]


async def test_openapi_document_is_valid_and_lists_every_route(tmp_path: Path) -> None:
    async with console_server(tmp_path) as client:
        await add_user(client, "staff", "pw-staff")
        await log_in(client, "staff", "pw-staff")
        answer = await client.get("/api/openapi.json")
        assert answer.status == 200
        document: dict[str, Any] = await answer.json()
        validate(document)  # raises on anything OpenAPI 3.1 does not allow
        assert document["openapi"].startswith("3.1")
        assert {"title", "version"} <= set(document["info"])
        for method, path in api_routes(client):
            assert path in document["paths"], path
            assert method.lower() in document["paths"][path], (method, path)
        refs = re.findall(r'"#/components/schemas/([^"]+)"', await answer.text())
        assert refs and set(refs) <= set(document["components"]["schemas"])


async def test_outbox_over_the_api_and_no_secret_in_any_answer(
    tmp_path: Path, catcher: Catcher
) -> None:
    web_text = f"[daemon]\nmax_attempts = 1\n\n{TOPICS}\n{channels(catcher)}"
    (tmp_path / "web").mkdir()
    async with console_server(tmp_path / "web", web_text) as client:
        db = database_of(client)
        config = make_config(
            tmp_path,
            channels(catcher),
            daemon="max_attempts = 1",
            topics=TOPICS,
            storage_url=f"sqlite:///{tmp_path}/web/console.db",
        )
        await seed(db, config, [("鱼台融媒", draft(1))])
        catcher.fail_next = 1
        assert (await deliver_due(db, config)).dead == 1
        await add_user(client, "admin", "pw-admin", admin=True)
        csrf = await log_in(client, "admin", "pw-admin")
        bearer = {"Authorization": f"Bearer {await token_for(client, csrf)}"}

        answers = []
        for method, path in api_routes(client):
            if method == "GET":
                answer = await client.get(concrete(path))
                answers.append(await answer.text())
        dead = await client.get("/api/outbox?status=dead", headers=bearer)
        body = await dead.json()
        answers.append(await dead.text())
        (row,) = body["deliveries"]
        assert (row["topic"], row["title"], row["status"]) == (
            "燃气安全",
            "液化气专项整治第1期",
            "dead",
        )
        assert row["channel"] == "chat" and "500" in row["reason"]
        assert body["counts"]["dead"] == 1
        bogus = await client.get("/api/outbox?status=sent", headers=bearer)
        assert bogus.status == 400 and "status" in (await bogus.json())["error"]

        retried = await client.post(f"/api/outbox/{row['id']}/retry", headers=bearer)
        assert (await retried.json()) == {"retried": 1}
        again = await client.post(f"/api/outbox/{row['id']}/retry", headers=bearer)
        assert again.status == 409 and "error" in await again.json()
        assert await row_statuses(db) == {"pending": 1}
        assert (await deliver_due(db, config)).sent == 1
        assert len(catcher.received) == 1

        for answer in answers:
            assert TOKEN not in answer
        unknown = await client.get("/api/nothing-here", headers=bearer)
        assert unknown.status == 404 and "error" in await unknown.json()


NEWS_CONFIG = f"""[daemon]
first_run_window = "0s"

[[topics]]
name = "燃气安全"
query = "液化气"
channels = ["chat"]

[[topics]]
name = "防汛"
query = "防汛"

[[channels]]
name = "chat"
url = "json://user:{TOKEN}@127.0.0.1:9/alerts"
"""
OWN_SECRET = "Hush-Own-Bot-Token-77"


async def test_news_channels_and_subscriptions_for_the_caller_only(tmp_path: Path) -> None:
    async with console_server(tmp_path, NEWS_CONFIG) as client:
        db = database_of(client)
        config = parse_config(NEWS_CONFIG, tmp_path / "config.toml")
        flood = draft(2, title="县里部署防汛工作", text="防汛物资到位，" * 10)
        await seed(db, config, [("鱼台融媒", draft(1)), ("鱼台融媒", flood)])
        await add_user(client, "wang", "pw-wang")
        await add_user(client, "li", "pw-li")
        answers: list[str] = []

        async def call(method: str, path: str, who: dict[str, str], **kw: Any) -> Any:
            answer = await client.request(method, path, headers=who, **kw)
            answers.append(await answer.text())
            return answer

        wang = await bearer_of(client, "wang", "pw-wang")
        li = await bearer_of(client, "li", "pw-li")

        empty = await (await call("GET", "/api/matches", wang)).json()
        assert empty["subscribed_only"] and empty["stories"] == []
        everything = await (await call("GET", "/api/matches?all=true", wang)).json()
        assert everything["total"] == 2
        assert {t for s in everything["stories"] for t in s["topics"]} == {"燃气安全", "防汛"}

        made = await call(
            "POST",
            "/api/channels",
            wang,
            json={"label": "我的机器人", "url": f"json://127.0.0.1:9/hook?token={OWN_SECRET}"},
        )
        assert made.status == 201
        channel = await made.json()
        assert channel["target"] == "json://127.0.0.1…" and channel["mode"] == "instant"
        bad = await call("POST", "/api/channels", wang, json={"url": "nonsense://"})
        assert bad.status == 400 and "地址无法使用" in (await bad.json())["error"]
        mail = await call(
            "POST", "/api/channels", wang, json={"kind": "email", "address": "a@b.cn"}
        )
        assert mail.status == 409
        not_json = await call("POST", "/api/channels", wang, data="label=x")
        assert not_json.status == 415

        gas_id = next(s for s in everything["stories"] if s["topics"] == ["燃气安全"])["article_id"]
        story = await (await call("GET", f"/api/stories/{gas_id}", wang)).json()
        topic_id = story["matches"][0]["topic_id"]
        assert story["title"] == "液化气专项整治第1期" and "液化" in story["text"]
        assert [d["channel"] for d in story["deliveries"]] == ["chat"]

        subs = {"subscriptions": [{"topic_id": topic_id, "channel_id": channel["id"]}]}
        saved = await (await call("PUT", "/api/subscriptions", wang, json=subs)).json()
        assert saved["subscriptions"] == [
            {
                "topic_id": topic_id,
                "topic": "燃气安全",
                "topic_state": "config",
                "channel_id": channel["id"],
                "channel": "我的机器人",
            }
        ]
        mine = await (await call("GET", "/api/matches?q=专项", wang)).json()
        assert [s["title"] for s in mine["stories"]] == ["液化气专项整治第1期"]
        assert "液化" in mine["stories"][0]["snippet"]
        wrong_day = await call("GET", "/api/matches?from=2024-13-01", wang)
        assert wrong_day.status == 400 and "from" in (await wrong_day.json())["error"]

        # li cannot see, use or delete wang's channel
        assert (await (await call("GET", "/api/channels", li)).json()) == {"channels": []}
        assert (await call("DELETE", f"/api/channels/{channel['id']}", li)).status == 404
        assert (await call("POST", f"/api/channels/{channel['id']}/test", li)).status == 404
        theft = await call("PUT", "/api/subscriptions", li, json=subs)
        assert theft.status == 404
        assert (await (await call("GET", "/api/subscriptions", li)).json()) == {"subscriptions": []}
        assert (await call("GET", "/api/stories/999", li)).status == 404

        assert (await call("GET", "/api/channels", wang)).status == 200
        gone = await call("DELETE", f"/api/channels/{channel['id']}", wang)
        assert gone.status == 200
        assert (await (await call("GET", "/api/subscriptions", wang)).json()) == {
            "subscriptions": []
        }
        for answer in answers:
            assert TOKEN not in answer and OWN_SECRET not in answer


async def test_topics_owner_or_admin_edit_last_save_wins_config_read_only(
    tmp_path: Path,
) -> None:
    async with console_server(tmp_path, NEWS_CONFIG) as client:
        await add_user(client, "admin", "pw-admin", admin=True)
        await add_user(client, "wang", "pw-wang")
        await add_user(client, "li", "pw-li")
        admin = await bearer_of(client, "admin", "pw-admin")
        wang = await bearer_of(client, "wang", "pw-wang")
        li = await bearer_of(client, "li", "pw-li")

        broken = await client.post(
            "/api/topics", headers=wang, json={"name": "燃气巡查", "query": "液化气 AND"}
        )
        assert broken.status == 400 and "列" in (await broken.json())["error"]
        clash = await client.post("/api/topics", headers=wang, json={"name": "防汛", "query": "x"})
        assert clash.status == 400 and "配置文件" in (await clash.json())["error"]
        made = await client.post(
            "/api/topics",
            headers=wang,
            json={"name": "燃气巡查", "query": "液化气 OR 燃气", "places": ["鱼台"]},
        )
        assert made.status == 201, await made.text()
        topic = await made.json()
        assert (topic["origin"], topic["owner"], topic["version"]) == ("console", "wang", 1)
        assert topic["definition"]["places"] == ["鱼台"] and topic["editable"]

        edit = {"name": "燃气巡查", "query": "液化气", "version": 1}
        path = f"/api/topics/{topic['id']}"
        assert (await client.put(path, headers=li, json=edit)).status == 403
        assert (await client.delete(path, headers=li)).status == 403
        by_admin = await (await client.put(path, headers=admin, json=edit)).json()
        assert by_admin["overwrote"] is None and by_admin["topic"]["version"] == 2
        stale = await (await client.put(path, headers=wang, json={**edit, "query": "燃气"})).json()
        assert stale["overwrote"]["by"] == "admin" and stale["overwrote"]["version"] == 2
        assert stale["topic"]["query"] == "燃气" and stale["topic"]["version"] == 3

        listed = await (await client.get("/api/topics", headers=li)).json()
        by_name = {t["name"]: t for t in listed["topics"]}
        assert by_name["防汛"]["origin"] == "config" and not by_name["防汛"]["editable"]
        assert not by_name["燃气巡查"]["editable"]  # li is neither owner nor admin
        config_topic = f"/api/topics/{by_name['防汛']['id']}"
        assert (await client.put(config_topic, headers=admin, json=edit)).status == 403
        assert (await client.put("/api/topics/999", headers=admin, json=edit)).status == 404

        assert (await client.delete(path, headers=wang)).status == 200
        after = await (await client.get("/api/topics", headers=wang)).json()
        assert {t["name"]: t["origin"] for t in after["topics"]}["燃气巡查"] == "deleted"
