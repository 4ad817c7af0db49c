"""Synthetic regional news for dedup tests, the evaluation and the benchmark.

Stories are built from a small grammar of government-press sentences, so two
different stories on one topic in one county share vocabulary and set phrases
the way real ones do (the hard negatives), while each story still has its own
facts, places, numbers and people. Every variant of a story is made the way
copies arise in the wild: re-published as is, retitled, edited, trimmed to its
first paragraphs, or given another outlet's dateline, byline and captions.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

COUNTIES = ["嘉祥县", "鱼台县", "金乡县", "汶上县", "泗水县", "梁山县", "微山县", "兖州区"]
TOWNS = [
    "纸坊镇",
    "卧龙山街道",
    "马集镇",
    "万张街道",
    "老僧堂镇",
    "黄垓乡",
    "孟姑集镇",
    "满硐乡",
    "仲山镇",
    "梁宝寺镇",
    "疃里镇",
    "大张楼镇",
    "张黄镇",
    "清平镇",
    "唐口街道",
    "王鲁镇",
]
SURNAMES = (
    "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董萧程曹袁邓许傅沈曾彭吕苏卢蒋蔡贾"
    "丁魏薛叶阎余潘杜戴夏钟汪田任姜范方石姚谭廖邹熊金陆郝孔白崔康毛邱秦江史顾侯邵孟龙万段"
)
GIVEN = (
    "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰萍建国文"
    "斌宁浩凯鹏飞晨曦雪梅志红春燕海涛立新振宇"
)

TOPICS: dict[str, dict[str, list[str]]] = {
    "燃气安全": {
        "dept": ["县应急管理局", "县市场监管局", "县住建局", "县消防救援大队", "县城管局"],
        "object": [
            "瓶装液化石油气经营网点",
            "燃气充装站",
            "餐饮场所燃气管道",
            "老旧小区燃气设施",
            "液化气钢瓶",
            "燃气报警装置",
            "燃气企业",
            "液化石油气储配站",
        ],
        "action": [
            "开展拉网式排查",
            "组织专项整治",
            "进行突击检查",
            "实施联合执法",
            "开展隐患大起底",
            "推进安全改造",
            "组织应急演练",
            "开展入户安检",
        ],
        "result": [
            "排查隐患{n}处",
            "责令整改{n}家",
            "查扣违规钢瓶{n}只",
            "关停不合规网点{n}个",
            "更换老化软管{n}米",
            "安装报警器{n}台",
            "约谈负责人{n}名",
            "立案查处{n}起",
        ],
    },
    "防汛": {
        "dept": ["县水务局", "县应急管理局", "县气象局", "县防汛抗旱指挥部", "县自然资源局"],
        "object": [
            "河道堤防",
            "低洼易涝区域",
            "在建工地基坑",
            "水库塘坝",
            "城区排水管网",
            "地下车库",
            "危旧房屋",
            "山洪沟道",
        ],
        "action": [
            "开展汛前检查",
            "加密巡查频次",
            "落实值班值守",
            "储备防汛物资",
            "组织转移避险演练",
            "清淤疏浚",
            "加固薄弱堤段",
            "启动应急响应",
        ],
        "result": [
            "转移群众{n}人",
            "清理淤泥{n}立方米",
            "储备编织袋{n}条",
            "出动巡查人员{n}人次",
            "排查风险点{n}处",
            "加固堤防{n}米",
            "疏通管网{n}公里",
            "备足抽水泵{n}台",
        ],
    },
    "疫苗接种": {
        "dept": ["县卫生健康局", "县疾控中心", "县人民医院", "县妇幼保健院", "各镇街卫生院"],
        "object": [
            "流感疫苗",
            "新冠疫苗加强针",
            "狂犬病疫苗",
            "老年人肺炎疫苗",
            "适龄儿童免疫规划疫苗",
            "HPV疫苗",
            "带状疱疹疫苗",
            "乙肝疫苗",
        ],
        "action": [
            "开设接种门诊",
            "延长服务时间",
            "组织上门接种",
            "开展入校宣传",
            "设立绿色通道",
            "开展冷链核查",
            "举办健康讲座",
            "推进预约接种",
        ],
        "result": [
            "累计接种{n}剂次",
            "覆盖学生{n}人",
            "建立台账{n}份",
            "培训接种人员{n}名",
            "发放宣传册{n}份",
            "服务老年人{n}人",
            "设立接种点{n}个",
            "随访观察{n}人",
        ],
    },
    "三夏生产": {
        "dept": ["县农业农村局", "县农机服务中心", "县供销社", "县气象局", "县农技推广站"],
        "object": [
            "小麦机收",
            "玉米抢种",
            "秸秆综合利用",
            "农机跨区作业",
            "高标准农田",
            "粮食收购",
            "病虫害统防统治",
            "种子市场",
        ],
        "action": [
            "组织机具调度",
            "开展技术指导",
            "设立服务站点",
            "实施秸秆禁烧巡查",
            "开展农资打假",
            "推广免耕播种",
            "组织专家下田",
            "启动最低收购价",
        ],
        "result": [
            "投入收割机{n}台",
            "完成机收{n}亩",
            "收购小麦{n}吨",
            "培训农民{n}人次",
            "检查农资门店{n}家",
            "建设农田{n}亩",
            "调运种子{n}公斤",
            "发放补贴{n}万元",
        ],
    },
}

OPENERS = [
    "近日，",
    "日前，",
    "连日来，",
    "今年以来，",
    "入夏以来，",
    "为切实做好相关工作，",
    "为进一步保障人民群众生命财产安全，",
    "按照上级部署要求，",
    "{d}月{dd}日，",
]
LINKS = [
    "同时，",
    "此外，",
    "在此基础上，",
    "下一步，",
    "据了解，",
    "据介绍，",
    "截至目前，",
    "与此同时，",
]
CLOSERS = [
    "确保各项工作落到实处。",
    "切实筑牢安全防线。",
    "推动工作取得实效。",
    "为全县经济社会发展提供有力保障。",
    "让群众看得见、感受得到。",
    "形成齐抓共管的工作合力。",
]
QUOTES = [
    "“我们将坚持问题导向，逐项销号。”{who}介绍说。",
    "“这次检查很细致，我们心里更踏实了。”{place}居民{who}说。",
    "{who}表示，将把这项工作作为重点任务持续推进。",
    "“下一步还要扩大覆盖面。”{who}说。",
]


def _name(rng: random.Random) -> str:
    return rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2))))


@dataclass
class Story:
    """One news story as first published."""

    title: str
    paragraphs: list[str]
    county: str
    topic: str
    extra_sentences: list[str] = field(default_factory=list)

    @property
    def text(self) -> str:
        return "\n".join(self.paragraphs)


class Corpus:
    """A deterministic generator of stories and their copies."""

    def __init__(self, seed: int = 7) -> None:
        self.rng = random.Random(seed)

    def sentence(self, topic: str, county: str) -> str:
        rng, vocab = self.rng, TOPICS[topic]
        n = rng.randint(3, 980)
        town = rng.choice(TOWNS)
        kind = rng.random()
        if kind < 0.15:
            return rng.choice(QUOTES).format(who=_name(rng), place=town)
        lead = rng.choice(OPENERS + LINKS).format(d=rng.randint(1, 12), dd=rng.randint(1, 28))
        dept = rng.choice(vocab["dept"])
        obj = rng.choice(vocab["object"])
        act = rng.choice(vocab["action"])
        res = rng.choice(vocab["result"]).format(n=n)
        where = rng.choice([f"在{town}", f"对{town}辖区", f"围绕{county}{town}", f"深入{town}各村"])
        tail = rng.choice(CLOSERS) if rng.random() < 0.3 else "。"
        mid = rng.choice(["，", "，共", "，累计", "，已"])
        body = f"{lead}{dept}{where}{obj}{act}{mid}{res}"
        return body + ("，" + tail if tail != "。" else "。")

    def story(self, topic: str | None = None, county: str | None = None) -> Story:
        rng = self.rng
        topic = topic or rng.choice(list(TOPICS))
        county = county or rng.choice(COUNTIES)
        paragraphs = [
            "".join(self.sentence(topic, county) for _ in range(rng.randint(2, 4)))
            for _ in range(rng.randint(4, 8))
        ]
        vocab = TOPICS[topic]
        title = (
            f"{county}{rng.choice(vocab['dept']).removeprefix('县')}{rng.choice(vocab['action'])}"
        )
        return Story(title, paragraphs, county, topic)

    # Copies -----------------------------------------------------------------

    def exact(self, story: Story) -> tuple[str, str]:
        return story.title, story.text

    def retitled(self, story: Story) -> tuple[str, str]:
        rng = self.rng
        vocab = TOPICS[story.topic]
        prefix = rng.choice(["聚焦", "关注", "直击", ""])
        result = rng.choice(vocab["result"]).format(n=rng.randint(3, 99))
        title = f"{prefix}{story.county}：{rng.choice(vocab['object'])}{result}"
        return title, story.text

    def edited(self, story: Story, share: float = 0.2) -> tuple[str, str]:
        """Some sentences rewritten, some dropped, a few words swapped."""
        rng = self.rng
        out = []
        for para in story.paragraphs:
            sentences = [s + "。" for s in para.split("。") if s]
            kept = []
            for s in sentences:
                roll = rng.random()
                if roll < share / 2:
                    kept.append(self.sentence(story.topic, story.county))
                elif roll < share:
                    continue
                else:
                    kept.append(s.replace("近日", "日前").replace("开展", "组织开展"))
            out.append("".join(kept) or para)
        return story.title, "\n".join(out)

    def trimmed(self, story: Story) -> tuple[str, str]:
        """The first paragraphs only (portals often run just the lead)."""
        keep = self.rng.randint(1, max(1, min(3, len(story.paragraphs) - 1)))
        return story.title, "\n".join(story.paragraphs[:keep])

    def redated(self, story: Story) -> tuple[str, str]:
        """Another outlet's dateline and byline, a photo caption, an editor line."""
        rng = self.rng
        short = story.county.removesuffix("县").removesuffix("区")
        dateline = rng.choice(
            [
                f"本报{short}讯（记者 {_name(rng)} 通讯员 {_name(rng)}）",
                f"本报讯（通讯员 {_name(rng)}）",
                f"新华社济南{rng.randint(1, 12)}月{rng.randint(1, 28)}日电（记者 {_name(rng)}）",
                f"大众网{short}消息：",
            ]
        )
        paragraphs = list(story.paragraphs)
        paragraphs[0] = dateline + paragraphs[0]
        if rng.random() < 0.5:
            paragraphs.insert(0, f"■本报通讯员 {_name(rng)}")
        if rng.random() < 0.5:
            paragraphs.insert(
                len(paragraphs) // 2,
                f"图为工作人员在{rng.choice(TOWNS)}检查现场。■通讯员 {_name(rng)} {_name(rng)} 摄",
            )
        paragraphs.append(
            f"（责任编辑：{_name(rng)}）" if rng.random() < 0.5 else f"编辑：{_name(rng)}"
        )
        if rng.random() < 0.3:
            paragraphs[-2] += "（下转第2版）"
        return story.title, "\n".join(paragraphs)

    def short_items(self, count: int) -> list[tuple[str, str]]:
        """One-line notices and photo captions: little text, much shared wording."""
        rng = self.rng
        items = []
        for _ in range(count):
            county, town = rng.choice(COUNTIES), rng.choice(TOWNS)
            kind = rng.random()
            if kind < 0.4:
                title = f"{county}关于{rng.choice(['停水', '停电', '道路施工', '交通管制'])}的通知"
                cause = rng.choice(["管网维修", "线路检修", "道路改造"])
                effect = rng.choice(["停水", "停电", "临时封闭"])
                text = f"因{cause}，{town}{rng.randint(1, 30)}日将{effect}，请相互转告。"
            elif kind < 0.7:
                title = f"{town}{rng.choice(['春耕', '夏收', '秋种'])}忙"
                work = rng.choice(["收割小麦", "播种玉米", "管护果园"])
                text = f"图为{town}农民在田间{work}。■通讯员 {_name(rng)} 摄"
            else:
                title = f"{county}召开{rng.choice(['安全生产', '防汛', '招商引资'])}工作会议"
                text = (
                    f"{rng.randint(1, 12)}月{rng.randint(1, 28)}日，{county}召开会议部署相关工作。"
                )
            items.append((title, text))
        return items


FOOTER = (
    "主办：{county}人民政府办公室 承办：{county}大数据中心\n"
    "网站标识码：3708290001 鲁ICP备05012345号 鲁公网安备 37082902000123号\n"
    "联系电话：0537-6812345 技术支持：{county}政务服务中心"
)


@dataclass
class Item:
    """One article of the labelled set: a copy of ``base`` (duplicate) or a different story."""

    kind: str
    base: int
    title: str
    text: str
    duplicate: bool


def labelled_set(seed: int = 11, stories: int = 150) -> tuple[list[tuple[str, str]], list[Item]]:
    """Originals, then their copies and same-topic, same-county different stories.

    Each original gets one copy of every kind and two different stories on its
    topic in its county (the hard negatives); short items (notices, captions)
    are negatives with ``base`` -1 that must not join any cluster.
    """
    corpus = Corpus(seed)
    originals: list[Story] = [corpus.story() for _ in range(stories)]
    items: list[Item] = []
    for i, story in enumerate(originals):
        for kind, make in (
            ("exact", corpus.exact),
            ("retitled", corpus.retitled),
            ("edited", corpus.edited),
            ("trimmed", corpus.trimmed),
            ("redated", corpus.redated),
        ):
            title, text = make(story)
            items.append(Item(kind, i, title, text, True))
        title, text = corpus.retitled(story)
        title, text = corpus.edited(Story(title, text.split("\n"), story.county, story.topic))
        items.append(Item("edited+retitled", i, title, text, True))
        for _ in range(2):
            other = corpus.story(story.topic, story.county)
            items.append(Item("different", i, other.title, other.text, False))
    for title, text in corpus.short_items(stories):
        items.append(Item("short", -1, title, text, False))
    corpus.rng.shuffle(items)
    return [(s.title, s.text) for s in originals], items


@dataclass
class Score:
    """Pairwise outcome counts of the labelled evaluation, per kind and overall."""

    true_pos: int = 0
    false_pos: int = 0
    false_neg: int = 0
    true_neg: int = 0

    @property
    def precision(self) -> float:
        called = self.true_pos + self.false_pos
        return self.true_pos / called if called else 1.0

    @property
    def recall(self) -> float:
        wanted = self.true_pos + self.false_neg
        return self.true_pos / wanted if wanted else 1.0


async def evaluate(
    db_url: str, cfg: object, seed: int = 11, stories: int = 150
) -> dict[str, Score]:
    """Store the originals, then every item through ``store_articles``; score the clusters.

    A duplicate is right only when it joined its original's cluster; anything
    else that joined an existing cluster is a false positive.
    """
    from storage.articles import store_articles
    from storage.db import Database
    from storage.models import Source
    from watchers.article import ArticleDraft

    bases, items = labelled_set(seed, stories)
    db = Database(db_url)
    await db.migrate()
    scores: dict[str, Score] = {"all": Score()}
    try:
        async with db.writing() as session:
            origin = Source(name="origin", kind="feed", url="http://origin.example/")
            copies = Source(name="copies", kind="feed", url="http://copies.example/")
            session.add_all([origin, copies])
            await session.flush()
            drafts = [
                ArticleDraft(url=f"http://origin.example/{i}", title=t, text=x)
                for i, (t, x) in enumerate(bases)
            ]
            clusters = [a.cluster_id for a in await store_articles(session, origin, drafts, cfg)]  # type: ignore[union-attr,arg-type]
            for start in range(0, len(items), 25):
                batch = items[start : start + 25]
                stored = await store_articles(
                    session,
                    copies,
                    [
                        ArticleDraft(
                            url=f"http://copies.example/{start + j}", title=it.title, text=it.text
                        )
                        for j, it in enumerate(batch)
                    ],
                    cfg,  # type: ignore[arg-type]
                )
                for item, article in zip(batch, stored, strict=True):
                    assert article is not None
                    joined = article.cluster_id != article.id
                    right = item.base >= 0 and article.cluster_id == clusters[item.base]
                    for score in (scores.setdefault(item.kind, Score()), scores["all"]):
                        if item.duplicate and right:
                            score.true_pos += 1
                        elif item.duplicate:
                            score.false_neg += 1
                            score.false_pos += joined
                        elif joined:
                            score.false_pos += 1
                        else:
                            score.true_neg += 1
            await session.rollback()
    finally:
        await db.close()
    return scores
