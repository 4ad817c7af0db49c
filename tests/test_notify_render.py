"""Rendering per service: byte limits, splitting, markup, user template overrides."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from daemon.notify.render import Alert, Renderer, RenderError, highlight, snippet_segments
from daemon.notify.services import SERVICES, split_message
from rules.normalize import normalize

TZ = ZoneInfo("Asia/Shanghai")
FILLER = "县应急管理局组织开展安全生产大检查，各乡镇街道认真落实属地责任，"


def long_alert(n: int = 0, title: str = "") -> Alert:
    """A 5,000-character article whose hit sits deep in the text."""
    title = title or f"鱼台县开展燃气安全专项整治{n}"
    text = (FILLER * 100)[:2500] + "瓶装液化石油气充装站存在隐患" + (FILLER * 100)[:2486]
    assert len(text) == 5000
    combined = normalize(title) + "\n" + normalize(text)
    start = combined.index("液化石油气")
    return Alert(
        topic="燃气安全",
        title=title,
        url=f"http://news.example/{n}.html",
        source="鱼台融媒",
        also=["济宁日报"],
        place="鱼台",
        published=datetime(2024, 6, 7, 23, 30, tzinfo=UTC),
        text=text,
        hits=[[start, start + 5, "液化石油气"]],
    )


def test_wecom_alert_fits_2048_bytes_and_email_carries_full_snippet() -> None:
    alert = long_alert()
    renderer = Renderer(TZ)
    wecom = SERVICES["wecombot"]
    title, body = renderer.alert(alert, wecom.format, wecom.snippet_radius)
    parts = split_message(title, body, wecom)
    assert len(parts) == 1
    ((t, b),) = parts
    assert len(f"{t}\n{b}".encode()) < 2048
    assert "【液化石油气】" in b and alert.url in b
    assert "另见：济宁日报" in b and "2024-06-08 07:30" in b  # Asia/Shanghai
    email = SERVICES["mailto"]
    _, html = renderer.alert(alert, "html", email.snippet_radius)
    full = snippet_segments(alert, email.snippet_radius)
    assert str(highlight(full, "html")) in html
    assert sum(len(s.text) for s in full) > 2 * email.snippet_radius - 5
    assert f'<a href="{alert.url}" style=' in html


def test_oversized_block_is_cut_at_a_character_boundary_keeping_the_link() -> None:
    alert = long_alert()
    wecom = SERVICES["wecombot"]
    title, body = Renderer(TZ).alert(alert, "text", radius=3000)
    assert len(body.encode()) > 2048
    ((t, b),) = split_message(title, body, wecom)
    assert len(f"{t}\n{b}".encode()) <= 2048
    assert b.endswith("\n" + alert.url)
    b.encode("utf-8").decode("utf-8")  # valid UTF-8 all the way


def test_long_digest_splits_for_wecom_between_items() -> None:
    alerts = [long_alert(n) for n in range(30)]
    wecom = SERVICES["wecombot"]
    subject, body = Renderer(TZ).digest(alerts, date(2024, 6, 8), "text")
    assert subject == "[听风] 6月8日 1个主题 30条"
    parts = split_message(subject, body, wecom)
    assert len(parts) > 1
    for t, b in parts:
        assert len(f"{t}\n{b}".encode()) <= 2048
        assert t.startswith(subject + " (")
    joined = "\n".join(b for _, b in parts)
    for alert in alerts:
        assert joined.count(alert.url) == 1


def test_markdown_escapes_titles_and_bolds_hits() -> None:
    alert = long_alert(title="燃气[整治]_专项")
    _, body = Renderer(TZ).alert(alert, "markdown")
    assert r"[燃气\[整治\]\_专项](http://news.example/0.html)" in body
    assert "**液化石油气**" in body


def test_broken_user_template_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "alert.text.j2").write_text("{{ a.title }} {{ a.no_such_field }}\n")
    with pytest.raises(RenderError, match=r"alert\.text\.j2.*no_such_field"):
        Renderer(TZ, tmp_path).alert(long_alert(), "text")
    (tmp_path / "alert.text.j2").write_text("{% if %}\n")
    with pytest.raises(RenderError, match=r"alert\.text\.j2 line 1"):
        Renderer(TZ, tmp_path).alert(long_alert(), "text")


def test_user_template_overrides_by_file_name(tmp_path: Path) -> None:
    (tmp_path / "alert.text.j2").write_text("自定义：{{ a.title }} {{ a.url }}")
    _, body = Renderer(TZ, tmp_path).alert(long_alert(), "text")
    assert body == "自定义：鱼台县开展燃气安全专项整治0 http://news.example/0.html"
