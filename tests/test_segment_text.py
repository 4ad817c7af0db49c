"""Segmentation rules on synthetic pages (tests/fixtures/pages) and small made-up snippets."""

from __future__ import annotations

import json
import re
import unicodedata
from pathlib import Path

import pytest

from watchers.segment import PageItem, SegmentError, segment_bytes, segment_text

PAGES = Path(__file__).parent / "fixtures" / "pages"
GOLD = json.loads((PAGES / "gold.json").read_text(encoding="utf-8"))


def norm(text: str) -> str:
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", text))


def page(name: str) -> list[PageItem]:
    return segment_text((PAGES / name).read_text(encoding="utf-8"))


@pytest.mark.parametrize("name", sorted(GOLD))
def test_fixture_pages_match_gold(name: str) -> None:
    """Every gold item comes out once, whole, with its headline, kicker and place."""
    items = page(name)
    gold = GOLD[name]
    assert len(items) == len(gold)
    for want, got in zip(gold, items, strict=True):
        text = norm(got.text)
        assert got.kind == want["kind"]
        assert want["start"] in text[:60], got.text[:40]
        assert want["end"] in text[-40:], got.text[-40:]
        assert norm(got.title) == want["title"]
        assert norm(got.kicker) == want["kicker"]
        assert got.place == want["place"]


def test_headline_after_body_page() -> None:
    items = page("page-c-after-wrapped.txt")
    assert items[0].title == "大蒜冷链物流园投入运营"
    assert items[0].text.startswith("本报金乡讯（通讯员 王晓明）6月以来")
    assert "大蒜冷链物流园投入运营" not in items[1].text  # the headline left the next body


def test_headline_before_body_page_drops_banners() -> None:
    items = page("page-d-before-long.txt")
    first = items[0]
    assert (first.kicker, first.title) == ("鱼台县农业农村局", "稻田综合种养带动农民增收")
    assert all("县域观察" not in i.text and "政策发布平台" not in i.text for i in items)
    assert all("县域观察" not in i.kicker + i.title for i in items)


def test_unwrap_joins_wraps_and_column_cuts_but_keeps_paragraphs() -> None:
    items = page("page-c-after-wrapped.txt")
    garlic = items[0].text.split("\n")
    assert len(garlic) == 3  # three real paragraphs, one of them cut by a column break
    assert "引导企业拓展海外市场" in garlic[2]  # rejoined across the blank line
    assert "冷库温度全程在线监测" in garlic[1]  # rejoined across a hard wrap


def test_cjk_lines_join_without_space_latin_with_one() -> None:
    text = "本报讯（通讯员 甲乙）瓶装液\n化石油气的 LED\nscreen 升级完成。"
    (item,) = segment_text(text)
    assert "瓶装液化石油气的 LED screen 升级完成。" in item.text


def test_subheads_stay_in_the_body() -> None:
    lake = next(i for i in page("page-c-after-wrapped.txt") if i.title == "湖区生态修复见成效")
    assert "退养还湖 治污先行" in lake.text and "绿色发展 富民增收" in lake.text
    assert lake.text.startswith("本报微山讯") and lake.text.endswith("两位数增长。")


def test_photo_items_inline_separate_and_short_credit() -> None:
    photos_c = [i for i in page("page-c-after-wrapped.txt") if i.kind == "photo"]
    photos_d = [i for i in page("page-d-before-long.txt") if i.kind == "photo"]
    assert len(photos_c) == 1 and photos_c[0].text.endswith("■通讯员 陈立新 摄")
    assert photos_d[0].text.endswith("价格平稳。\n■通讯员 刘芳 摄")  # credit on its own line
    assert photos_d[1].text.endswith("训练。 ■通讯员 周宁")  # short item closed by a credit
    assert all(p.title == "" and p.kicker == "" for p in photos_c + photos_d)


def test_byline_opens_an_article_without_place() -> None:
    tele = next(i for i in page("page-c-after-wrapped.txt") if i.kicker == "泗水县人民医院")
    assert tele.text.startswith("■本报通讯员 孙丽\n")
    assert tele.place == ""
    assert tele.title == "远程会诊让山区群众少跑路"  # wrapped over two lines in one block


def test_continuations_are_recorded_and_removed() -> None:
    bridge = next(i for i in page("page-c-after-wrapped.txt") if i.title == "跨河大桥建设提速")
    assert bridge.continued_to == "2" and "下转" not in bridge.text
    cont = page("page-e-before-wrapped.txt")[0]
    assert (cont.title, cont.continued_from) == ("跨河大桥建设提速", "1")
    assert "上接" not in cont.text and cont.text.startswith("为保障工程质量")


def test_places_from_dateline_variants() -> None:
    text = (
        "本报金乡讯（通讯员 甲乙）金乡县新建了一座公园。\n\n"
        "本报济宁讯(记者 丙丁 通讯员 戊己)济宁市开展了安全检查。\n\n"
        "本报讯（通讯员 庚辛）全县完成了秋播任务。\n\n"
        "新华社北京6月8日电（记者 王磊）夏粮收购进度过半。\n"
    )
    assert [i.place for i in segment_text(text)] == ["金乡", "济宁", "", "北京"]


def test_two_line_headline_joined() -> None:
    text = "专项整治\n瓶装液化气市场\n\n本报讯（通讯员 甲乙）近期开展瓶装液化气专项整治。\n"
    (item,) = segment_text(text)
    assert item.title == "专项整治瓶装液化气市场"


def test_headline_goes_to_the_body_it_shares_words_with() -> None:
    """Structure is a tie here (opens on a dateline, ends on a body): the headlines'
    words decide that they follow their bodies."""
    text = (
        "本报讯（通讯员 甲乙）全镇新建蔬菜大棚三百座，大棚蔬菜远销外地。\n\n"
        "蔬菜大棚\n\n本报讯（通讯员 丙丁）社区开展图书漂流活动，居民交换图书一千册。\n\n"
        "图书漂流\n\n本报讯（通讯员 戊己）各村推广秸秆还田技术，还田面积扩大。\n"
    )
    assert [i.title for i in segment_text(text)] == ["蔬菜大棚", "图书漂流", ""]
    flipped = text.replace("蔬菜大棚\n", "图书漂流X\n").replace("图书漂流\n", "秸秆还田\n")
    assert [i.title for i in segment_text(flipped)] == ["", "图书漂流X", "秸秆还田"]


def test_empty_and_blank_input_give_no_items() -> None:
    assert segment_text("") == []
    assert segment_text("\n \n\u3000\n") == []


def test_page_without_datelines_is_one_article_or_sensible_groups() -> None:
    one = segment_text("今年夏天雨水偏多，\n各地做好防汛准备。\n\n水库水位保持在汛限以下。\n")
    assert len(one) == 1 and one[0].text.count("\n") == 1
    two = segment_text(
        "乡村振兴\n\n今年全镇新建蔬菜大棚三百座。\n\n社区服务\n\n社区开展图书漂流活动。\n"
    )
    assert [(i.title, i.text) for i in two] == [
        ("乡村振兴", "今年全镇新建蔬菜大棚三百座。"),
        ("社区服务", "社区开展图书漂流活动。"),
    ]


def test_gb18030_text_is_decoded() -> None:
    data = "本报金乡讯（通讯员 甲乙）金乡县新建了一座公园。".encode("gb18030")
    (item,) = segment_bytes(data, name="gbk.txt")
    assert item.place == "金乡"


@pytest.mark.parametrize(
    "data",
    [
        bytes(range(256)) * 20,
        b"\x00\x01\x02PK\x03\x04" + bytes(1000),
        b"\x89PNG\r\n\x1a\n" + bytes(500),
    ],
)
def test_binary_input_is_rejected_in_one_line(data: bytes) -> None:
    with pytest.raises(SegmentError, match=r"^blob\.bin: not page text") as info:
        segment_bytes(data, name="blob.bin")
    assert "\n" not in str(info.value)


def test_enormous_input_is_rejected(monkeypatch: pytest.MonkeyPatch) -> None:
    import watchers.segment as segment

    monkeypatch.setattr(segment, "MAX_BYTES", 1000)
    with pytest.raises(SegmentError, match="too large"):
        segment.segment_bytes(b"a" * 1001, name="big.txt")
