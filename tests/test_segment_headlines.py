"""Headline assignment on layouts from issue 15: banners, captions, two-line heads, briefs.

The gold pages g-l (tests/fixtures/pages) are checked item by item in
test_segment_text.py; here we check what a reader of an alert would notice on them,
that the same stories re-laid with other line widths and orders still come out right,
and that bad pages give items or a clear reason, never an empty item or a crash.
"""

from __future__ import annotations

import dataclasses
import importlib
import itertools
import random
import re
import sys
import unicodedata
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from watchers.segment import PageItem, SegmentError, segment_bytes, segment_text

PAGES = Path(__file__).parent / "fixtures" / "pages"


def norm(text: str) -> str:
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", text))


def page(name: str) -> list[PageItem]:
    return segment_text((PAGES / name).read_text(encoding="utf-8"))


def by_title(items: list[PageItem], title: str) -> PageItem:
    return next(i for i in items if norm(i.title) == norm(title))


def test_page_banners_are_reported_and_kept_out_of_headlines() -> None:
    items = page("page-g-banners-before.txt")
    first = items[0]
    assert (first.kicker, first.title) == ("", "“一窗受理”跑出审批加速度")
    top = ["深化改革 锐意进取", "改革“落子”满盘活", "济宁经济技术开发区"]
    assert first.banner.splitlines() == top
    parkfin = by_title(items, "园区金融服务站开到企业门口")
    assert parkfin.kicker == "" and parkfin.banner == "优化营商环境进行时"
    sorting = by_title(items, "垃圾分类进社区 绿色生活成新风")
    assert sorting.kicker == "济宁经开区" and sorting.banner == "奋进新征程 建功新时代"
    for item in items:
        assert item.banner.splitlines()[0] not in item.text
    # it may have lost a kicker it cannot tell from the banner block: less sure than
    # the same story under a single banner line
    text = (PAGES / "page-g-banners-before.txt").read_text(encoding="utf-8")
    plain = segment_text(text.replace("改革“落子”满盘活\n\n济宁经济技术开发区\n\n", "", 1))
    assert plain[0].title == first.title and plain[0].confidence > first.confidence


def test_headline_after_its_body_is_not_swallowed_by_the_next_caption() -> None:
    items = page("page-h-after-photo.txt")
    assert [i.kind for i in items] == ["article", "photo", "article", "article", "photo"]
    waterway = items[3]
    assert (waterway.kicker, waterway.title) == ("梁山县", "河道清淤疏浚工程完工")
    assert items[4].text.startswith("傍晚时分") and items[4].text.endswith("记者 杨帆 摄")
    assert items[1].text.endswith("■通讯员 刘同庆 摄") and items[1].title == ""
    assert items[0].banner == "县域经济" and items[0].title == "小甘薯长成富民大产业"


def test_kicker_and_title_printed_in_one_box_come_apart() -> None:
    items = page("page-i-two-line.txt")
    assert (items[0].kicker, items[0].title) == ("经开区综合行政执法局", "精细执法 城市有序")
    ecommerce = by_title(items, "农村电商直播间卖出“加速度”")
    assert ecommerce.kicker == "邹城市"
    # a title wrapped over two lines stays one title
    assert by_title(items, "建美丽庭院享美好生活").kicker == "疃里镇"


def test_subheads_of_long_stories_stay_in_them() -> None:
    items = page("page-j-subheads-after.txt")
    assert len(items) == 4
    econ = items[0]
    assert econ.title == "工业经济“半年红”是怎样炼成的" and econ.kicker == "兖州区"
    assert "链条延伸 集群成势" in econ.text and econ.text.endswith("信心更足了。")
    assert by_title(items, "家庭医生签约服务守护群众健康").text.count("慢病管理 精准到户") == 1


def test_briefs_without_datelines_are_items_of_their_own() -> None:
    items = page("page-k-briefs.txt")
    assert len(items) == 7 and all(i.kicker == "" for i in items)
    blood = by_title(items, "梁山县无偿献血活动温暖全城")
    assert blood.text.startswith("6月14日是世界献血者日") and blood.place == ""
    assert items[0].banner == "简讯"


def test_one_page_may_print_headlines_before_and_after_their_bodies() -> None:
    items = page("page-l-mixed.txt")
    assert [norm(i.title) for i in items] == [
        norm("“一窗受理”跑出审批加速度"),
        "小甘薯长成富民大产业",
        "城乡书房点亮乡村夜读",
        "河道清淤疏浚工程完工",
        "幸福食堂让老人吃上热乎饭",
        norm("农村电商直播间卖出“加速度”"),
    ]


def test_subtitles_dashed_or_not_stay_with_their_own_headline() -> None:
    """A 副题 under the title is neither the title nor the next story's kicker."""
    garlic_body = (
        "本报金乡讯（通讯员 王晓明）金乡县大蒜冷链物流园正式投入运营，日均吞吐鲜蒜三千吨。"
    )
    paddy_body = "本报鱼台讯（通讯员 刘洋）鱼台县推广稻虾共作模式，种养面积十二万亩，农户收入增加。"
    after = (
        f"{garlic_body}\n\n"
        "金乡县\n大蒜冷链物流园投入运营\n——首批二十余家冷藏企业入驻\n\n"
        f"{paddy_body}\n\n"
        "鱼台县\n稻田综合种养带动农民增收\n"
    )
    before = (
        "金乡县\n\n大蒜冷链物流园投入运营\n\n——首批二十余家冷藏企业入驻\n\n"
        f"{garlic_body}\n\n"
        "鱼台县\n\n稻田综合种养带动农民增收\n\n建美丽庭院享美好生活\n\n"
        f"{paddy_body}\n"
    )
    for text in (after, before):
        garlic, paddy = segment_text(text)
        assert (garlic.kicker, garlic.title) == ("金乡县", "大蒜冷链物流园投入运营")
        assert garlic.subtitle == "首批二十余家冷藏企业入驻"
        assert (paddy.kicker, paddy.title) == ("鱼台县", "稻田综合种养带动农民增收")
    assert segment_text(before)[1].subtitle == "建美丽庭院享美好生活"


def _generator() -> ModuleType:
    sys.path.insert(0, str(PAGES))
    try:
        return importlib.import_module("generate")
    finally:
        sys.path.remove(str(PAGES))


_PAGE_LINES = [
    "深化改革 锐意进取",
    "改革“落子”满盘活",
    "济宁经济技术开发区",
    "优化营商环境进行时",
    "奋进新征程 建功新时代",
    "县域经济",
    "乡村振兴看金乡",
    "学习贯彻党的二十大精神",
]


def _variants(gen: ModuleType) -> Iterator[tuple[str, Any]]:
    """Every layout at other wrap widths and headline orders, with and without
    extra page-level lines (a banner block on top, section headers between stories)."""
    rng = random.Random(15)
    for name, layout in gen.PAGES.items():
        for wrap, after, extra in itertools.product([0, 13, 21], [False, True], [False, True]):
            banners = dict(layout.banners)
            if extra:
                banners = {0: "\n".join(rng.sample(_PAGE_LINES, rng.randint(1, 3)))}
                for k in rng.sample(range(1, len(layout.items)), 2):
                    banners[k] = rng.choice(_PAGE_LINES)
            tag = f"w{wrap}-{'after' if after else 'before'}{'-banners' if extra else ''}"
            yield (
                f"{name[:-4]}-{tag}.txt",
                dataclasses.replace(layout, wrap=wrap, after=after, banners=banners),
            )


def test_every_layout_survives_other_line_widths_orders_and_banners(tmp_path: Path) -> None:
    """The gold layouts re-laid: items, titles and places still right on >= 98 %.

    Guards against rules that fit the committed pages only.
    """
    gen = _generator()
    gen.HERE = tmp_path
    wrong: list[str] = []
    total = 0
    for variant, layout in _variants(gen):
        gold = gen.render(variant, layout)
        items = segment_text((tmp_path / variant).read_text(encoding="utf-8"))
        assert len(items) == len(gold), variant
        for want in gold:
            total += 1
            hits = [i for i in items if want["start"] in norm(i.text)]
            got = hits[0] if len(hits) == 1 else None
            if got is None or want["end"] not in norm(got.text):
                wrong.append(f"{variant}: {want['title'] or want['start']} not cut out")
            elif want["title"] not in norm(got.kicker + got.title) or got.place != want["place"]:
                wrong.append(f"{variant}: {got.kicker!r}/{got.title!r} for {want['title']!r}")
            elif len(norm(got.kicker + got.title)) > len(want["kicker"] + want["title"]) + 4:
                wrong.append(f"{variant}: {got.kicker!r} taken into {want['title']!r}")
    assert len(wrong) <= total // 50, wrong  # >= 98 % right, as the acceptance asks


# Bad input: items or a clear reason, never a crash, never an item with neither title nor text.


def assert_sound(items: list[PageItem]) -> None:
    for item in items:
        assert item.text.strip() or item.title.strip()
        assert item.kind in ("article", "photo") and 0.0 <= item.confidence <= 1.0


def test_page_of_only_captions_gives_photo_items() -> None:
    text = (
        "6月10日，农民驾驶收割机抢收小麦。■通讯员 刘同庆 摄\n\n"
        "傍晚时分，群众在文化广场上跳起广场舞。\n\n■通讯员 杨帆 摄\n\n"
        "市民在早市上选购新鲜蔬菜。 记者 周宁 摄\n"
    )
    items = segment_text(text)
    assert_sound(items)
    assert [i.kind for i in items] == ["photo"] * 3
    assert all(i.title == "" and i.text.endswith("摄") for i in items)


def test_page_without_any_dateline_still_gives_headed_items() -> None:
    text = (
        "县域观察\n\n鱼台县开展防汛应急演练\n\n"
        "6月12日，鱼台县在东鱼河畔开展防汛应急演练，三百余人参加。\n\n"
        "嘉祥县消防宣传走进企业\n\n"
        "近日，嘉祥县消防救援大队走进工业园区，为企业员工讲解消防器材使用方法。\n"
    )
    items = segment_text(text)
    assert_sound(items)
    assert [i.title for i in items] == ["鱼台县开展防汛应急演练", "嘉祥县消防宣传走进企业"]
    assert items[0].banner == "县域观察"


def test_one_enormous_paragraph_is_one_article() -> None:
    sentence = "全县持续推进项目建设，重点项目进展顺利，群众满意度不断提升。"
    text = "本报金乡讯（通讯员 王晓明）" + sentence * 20_000  # ~600 k characters, one line
    (item,) = segment_text(text)
    assert_sound([item])
    assert item.place == "金乡" and len(item.text) > 500_000 and item.title == ""


def test_page_of_headlines_only_gives_no_items() -> None:
    assert segment_text("县域观察\n\n深化改革 锐意进取\n\n稻田综合种养带动农民增收\n") == []


@pytest.mark.parametrize("name", sorted(p.name for p in PAGES.glob("page-*.txt")))
def test_no_fixture_item_is_empty_or_unsure_without_reason(name: str) -> None:
    items = page(name)
    assert_sound(items)
    for item in items:
        if item.kind == "article":
            assert item.title, item.text[:30]  # every fixture article has a headline


def test_pdf_without_text_layer_is_a_reason_not_a_crash() -> None:
    fpdf = pytest.importorskip("fpdf")
    pdf = fpdf.FPDF()
    pdf.add_page()
    pdf.rect(10, 10, 100, 100, style="F")
    with pytest.raises(SegmentError, match=r"^scan\.pdf: no text layer.*OCR"):
        segment_bytes(bytes(pdf.output()), name="scan.pdf")
