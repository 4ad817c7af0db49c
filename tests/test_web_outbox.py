"""投递 (admin): dead and failed deliveries with their reasons, and retrying them from
the console until they reach the channel."""

from __future__ import annotations

from pathlib import Path

from sqlmodel import select

from daemon.notify.outbox import deliver_due
from storage.console_models import AuditEntry
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


async def test_admin_retries_a_dead_delivery_and_it_is_sent(
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
        await seed(db, config, [("鱼台融媒", draft(1)), ("鱼台融媒", draft(2))])
        catcher.fail_next = 2
        assert (await deliver_due(db, config)).dead == 2
        await add_user(client, "admin", "pw-admin", admin=True)
        await add_user(client, "staff", "pw-staff")

        staff_csrf = await log_in(client, "staff", "pw-staff")
        assert (await client.get("/outbox")).status == 403
        refused = await client.post("/outbox/retry", data={"csrf": staff_csrf, "id": "1"})
        assert refused.status == 403
        client.session.cookie_jar.clear()

        csrf = await log_in(client, "admin", "pw-admin")
        page = await (await client.get("/outbox?status=dead")).text()
        assert "燃气安全" in page and "液化气专项整治第1期" in page and "已放弃" in page
        assert '<a href="/story/1">液化气专项整治第1期</a>' in page
        assert "500" in page  # the reason
        assert "已放弃（2）" in page
        assert TOKEN not in page
        assert "没有此状态的投递" in await (await client.get("/outbox?status=pending")).text()

        retried = await client.post("/outbox/retry?status=dead", data={"csrf": csrf, "id": "1"})
        assert retried.status == 200
        assert "投递 1 已重新排队" in await retried.text()
        assert await row_statuses(db) == {"pending": 1, "dead": 1}
        missing = await client.post("/outbox/retry", data={"csrf": csrf, "id": "99"})
        assert missing.status == 404 and "没有编号为 99 的投递" in await missing.text()
        not_dead = await client.post("/outbox/retry", data={"csrf": csrf, "id": "1"})
        assert not_dead.status == 409

        all_dead = await client.post("/outbox/retry-dead", data={"csrf": csrf})
        assert "1 条已放弃的投递已重新排队" in await all_dead.text()
        assert await row_statuses(db) == {"pending": 2}

        assert (await deliver_due(db, config)).sent == 2
        assert await row_statuses(db) == {"sent": 2}
        sent = " ".join(c["title"] + c["message"] for c in catcher.received)
        assert "液化气专项整治第1期" in sent and "液化气专项整治第2期" in sent
        async with db.session() as session:
            audit = list(
                await session.exec(select(AuditEntry).where(AuditEntry.action == "delivery.retry"))
            )
        assert sorted(a.target for a in audit) == ["delivery:1", "delivery:2"]
        assert {a.detail["was"] for a in audit} == {"dead"}
