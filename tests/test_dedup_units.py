"""Cleaning, hashing, sketching, URL identity and continuation pairing."""

from __future__ import annotations

from storage.canonical import canonical_url, url_key
from storage.dedup.config import DedupConfig
from storage.dedup.index import similarity
from storage.dedup.joins import join_continuations, page_number, pick_head
from storage.dedup.minhash import sketch
from storage.dedup.shingles import clean_text, shingles
from tests.dedup_corpus import FOOTER, Corpus
from watchers.article import ArticleDraft

CFG = DedupConfig()


def test_canonical_url_ignores_what_does_not_name_the_page() -> None:
    same = [
        "http://www.Jiaxiang.gov.cn/art/2024/5/20/art_1_1.html",
        "HTTPS://WWW.JIAXIANG.GOV.CN/art/2024/5/20/art_1_1.html?utm_source=wx&from=timeline",
        "http://www.jiaxiang.gov.cn:80/art/2024/5/20/art_1_1.html#comments",
    ]
    assert len({url_key(u) for u in same}) == 1
    assert canonical_url("http://a.cn/news/index.html") == canonical_url("http://a.cn/news/")
    assert canonical_url("http://a.cn/news/INDEX.HTM") == "http://a.cn/news/"
    assert url_key("http://a.cn/x?id=1") != url_key("http://a.cn/x?id=2")
    assert url_key("http://a.cn/app#/article/1") != url_key("http://a.cn/app#/article/2")
    assert url_key("http://a.cn/p.txt#item-1a2b") != url_key("http://a.cn/p.txt#item-3c4d")


def test_cleaning_strips_datelines_bylines_captions_markers_and_footers() -> None:
    body = "县应急管理局对全县瓶装液化石油气经营网点开展拉网式检查，共排查隐患12处。"
    dressed = "\n".join(
        [
            "■本报通讯员 付哲",
            "本报嘉祥讯（记者 张伟 通讯员 李超）" + body + "（下转第2版）",
            "图为检查现场。■通讯员 王者东 李超 摄",
            "（责任编辑：王芳）",
            FOOTER.format(county="嘉祥县"),
        ]
    )
    assert clean_text(dressed) == clean_text(body)
    assert clean_text("新华社济南5月20日电（记者 王磊）" + body) == clean_text(body)


def test_body_sentences_with_footer_words_survive() -> None:
    long_line = "本次活动主办单位为县文旅局，" + "群众踊跃参与各项活动，" * 12
    assert "主办单位" in clean_text(long_line)


def test_exact_hash_ignores_title_and_punctuation_for_real_articles() -> None:
    story = Corpus(3).story()
    a = sketch(story.title, story.text, CFG)
    b = sketch("另一个标题", story.text.replace("，", ", "), CFG)
    assert a.digest == b.digest and a.band_keys == b.band_keys


def test_short_items_are_identified_by_title_and_whole_text() -> None:
    caption_a = sketch("纸坊镇夏收忙", "图为农民在田间收割小麦。■通讯员 王伟 摄", CFG)
    caption_b = sketch("纸坊镇夏收忙", "图为农民在田间播种玉米。■通讯员 李强 摄", CFG)
    assert caption_a.digest != caption_b.digest
    assert caption_a.band_keys == () and caption_a.shingles == frozenset()
    assert sketch("", "", CFG).digest == ""


def test_huge_articles_are_shingled_up_to_max_chars() -> None:
    corpus = Corpus(5)
    text = "\n".join(corpus.story().text for _ in range(200))
    assert len(clean_text(text)) > CFG.max_chars
    huge = sketch("长文", text, CFG)
    assert len(huge.shingles) <= CFG.max_chars
    assert len(huge.band_keys) == CFG.bands + CFG.lead_bands


def test_similarity_gives_containment_for_a_trimmed_copy() -> None:
    story = Corpus(9).story()
    full = frozenset(shingles(clean_text(story.text), 4))
    lead = frozenset(shingles(clean_text(story.paragraphs[0]), 4))
    sim = similarity(lead, full)
    assert sim.containment == 1.0 and sim.jaccard < 0.5


def test_page_numbers_from_labels_and_markers() -> None:
    assert page_number("第02版") == "2"
    assert page_number("（下转第2版）") == "2"
    assert page_number("A3") == "a3"
    assert page_number("第二版") == "2"
    assert page_number("要闻") == ""


def test_a_part_joins_the_head_that_points_at_its_page() -> None:
    heads = [("县统计局改革统计体制", "1", "下转第2版"), ("全县夏粮喜获丰收", "1", "下转第3版")]
    assert pick_head("改革统计体制", "第2版", "上接第1版", heads) == 0
    assert pick_head("夏粮喜获丰收", "3", "1", heads) == 1
    both_to_two = [(t, "1", "2") for t, _, _ in heads]
    assert pick_head("全县夏粮喜获丰收", "2", "1", both_to_two) == 1
    assert pick_head("别的文章", "2", "1", both_to_two) is None


def test_join_continuations_in_one_batch_chains_parts_into_the_head() -> None:
    head = ArticleDraft(
        url="u1", title="统计改革", text="第一部分。", page="1", continued_to="第2版"
    )
    part2 = ArticleDraft(
        url="u2",
        title="统计改革",
        text="第二部分。",
        page="2",
        continued_from="1",
        continued_to="3",
    )
    part3 = ArticleDraft(
        url="u3", title="统计改革", text="第三部分。", page="3", continued_from="2"
    )
    other = ArticleDraft(url="u4", title="无关", text="别的。", page="2")
    drafts = [part3, head, other, part2]
    join_continuations(drafts)
    assert head.text == "第一部分。\n第二部分。\n第三部分。"
    assert head.parts == ["u2", "u3"]
    assert part2.continuation_of == "u1" and part3.continuation_of == "u1"
    assert not other.continuation_of


def test_minhash_permutations_stay_datasketchs_affine32_draws() -> None:
    """Stored band keys depend on them: these are datasketch's MinHash(128, SEED, affine32)."""
    from storage.dedup.minhash import _permutations

    p = _permutations(128)
    assert p[:, :3].tolist() == [
        [1359374705, 2825159923, 2200832333],
        [305578477, 920391388, 146568606],
    ]
    assert p[:, -2:].tolist() == [[3042241181, 2950609165], [2580301049, 3997785915]]
    assert [int(x) for x in p.astype("uint64").sum(axis=1)] == [272350179406, 287626129806]
