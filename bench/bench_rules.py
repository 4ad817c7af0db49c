"""Rule-engine benchmark: ``python bench/bench_rules.py [--mb 20] [--brute-mb 4] [--e2e-mb 9]``.

Builds 10,000 single-term topics drawn from jieba's dictionary plus 1,000 boolean
topics, and a synthetic corpus (words sampled from the same dictionary by frequency,
in clauses and sentences) of at least ``--mb`` MB of UTF-8 article text, then reports:

(a) substring mode vs a brute-force per-topic scan: identical (article, topic) pairs
    and the speed ratio, both timed on the same first ``--brute-mb`` MB (the brute
    force is O(topics x text) and would take many minutes on the full corpus);
(b) word mode over the full corpus vs segmenting every article with jieba and
    looking the terms up;
(c) compile time for all topics and the process's peak memory;
(d) end to end: ``tingfeng match`` run as a user runs it (a new process, reading
    JSONL, writing JSON lines) with the 10,000 single-term topics over ``--e2e-mb`` MB,
    with a cold and a warm compiled-matcher cache, against a brute-force substring
    scan of the same articles in this process, plus the engine alone in-process;
(e) a daemon's memory: ``tingfeng run`` with 1,000 sources and the 10,000 topics,
    its resident and peak memory once started.

``--sections`` picks some of them (``d,e`` skips the 20 MB corpus of a-c).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import jieba

from rules import Document, TopicRule, compile_rules, match_form, parse_query
from rules.query import And, Near, Node, Not, Or, Term
from rules.wordcheck import base_dictionary

_CJK = re.compile(r"^[\u4e00-\u9fff]+$")


def load_words() -> tuple[list[str], list[int]]:
    path = os.path.join(os.path.dirname(jieba.__file__), "dict.txt")
    words, freqs = [], []
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            word, freq, *_ = line.split()
            if _CJK.match(word):
                words.append(word)
                freqs.append(int(freq))
    return words, freqs


def make_topics(words: list[str], rng: random.Random) -> list[TopicRule]:
    pool = [w for w in words if 2 <= len(w) <= 4]
    singles = rng.sample(pool, 10_000)
    topics = [TopicRule(f"t{i}", w) for i, w in enumerate(singles)]
    common = [w for w in pool if len(w) == 2]
    templates = [
        "({a} OR {b}) {c} -{d}",
        "{a} NEAR/10 {b}",
        "title:{a} ({b} OR {c})",
        "{a} -{b}",
        "({a} OR {b} OR {c}) -({d} OR {e})",
        "({a} {b}) OR ({c} NEAR/5 {d})",
    ]
    for i in range(1_000):
        picks = dict(zip("abcde", rng.sample(common, 5), strict=True))
        topics.append(TopicRule(f"b{i}", templates[i % len(templates)].format(**picks)))
    return topics


def make_corpus(
    words: list[str], freqs: list[int], mb: float, rng: random.Random
) -> list[Document]:
    cum: list[int] = []
    total = 0
    for f in freqs:
        total += f
        cum.append(total)
    docs: list[Document] = []
    size = 0
    while size < mb * 1_000_000:
        title = "".join(rng.choices(words, cum_weights=cum, k=rng.randint(3, 7)))
        sentences = []
        for _ in range(rng.randint(15, 40)):
            clauses = [
                "".join(rng.choices(words, cum_weights=cum, k=rng.randint(4, 12)))
                for _ in range(rng.randint(1, 3))
            ]
            sentences.append("，".join(clauses) + "。")
        text = "".join(sentences)
        docs.append(Document(f"d{len(docs)}", title, text))
        size += len(title.encode()) + len(text.encode())
    return docs


def brute_force(topics: list[TopicRule], docs: list[Document]) -> set[tuple[str, str]]:
    """Per topic, per article: plain ``str`` searches, no automaton, no shared work."""
    forms = [(match_form(d.title), match_form(d.text)) for d in docs]
    pairs: set[tuple[str, str]] = set()
    for rule in topics:
        root = parse_query(rule.query).root
        for doc, (title, text) in zip(docs, forms, strict=True):
            fields = {"title": title, "text": text}
            if _brute(root, fields, rule.fields)[0]:
                pairs.add((doc.id, rule.name))
    return pairs


def _occurrences(term: str, text: str) -> list[int]:
    out, i = [], text.find(term)
    while i >= 0:
        out.append(i)
        i = text.find(term, i + 1)
    return out


def _brute(node: Node, fields: dict[str, str], default: tuple[str, ...]) -> tuple[bool, list]:
    if isinstance(node, Term):
        spans = [
            (f, i, i + len(node.text))
            for f in ((node.field,) if node.field else default)
            for i in _occurrences(node.text, fields[f])
        ]
        return bool(spans), spans
    if isinstance(node, Not):
        return not _brute(node.child, fields, default)[0], []
    if isinstance(node, And | Or):
        results = [_brute(c, fields, default) for c in node.children]
        ok = all(r[0] for r in results) if isinstance(node, And) else any(r[0] for r in results)
        return ok, [s for r in results if r[0] for s in r[1]]
    assert isinstance(node, Near)
    ls = _brute(node.left, fields, default)[1]
    rs = _brute(node.right, fields, default)[1]
    hits = [
        (a, b)
        for a in ls
        for b in rs
        if a[0] == b[0] and a != b and max(a[1], b[1]) - min(a[2], b[2]) <= node.distance
    ]
    return bool(hits), [s for pair in hits for s in pair]


def pairs_of(results: list, docs: list[Document]) -> set[tuple[str, str]]:
    return {(d.id, m.topic) for d, ms in zip(docs, results, strict=True) for m in ms}


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _tingfeng() -> list[str]:
    """The console script as installed (what a user types), else ``python -m daemon``."""
    script = shutil.which("tingfeng", path=os.path.dirname(sys.executable))
    return [script] if script else [sys.executable, "-m", "daemon"]


def _timed_run(argv: list[str], env: dict[str, str], out: Path) -> tuple[float, float]:
    """Wall seconds and peak RSS (MB) of one child process, stdout to ``out``."""
    t = time.perf_counter()
    with open(out, "wb") as fh:
        proc = subprocess.Popen(argv, stdout=fh, env=env)
        _, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - t
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode:
        raise SystemExit(f"{argv} failed with status {proc.returncode}")
    return elapsed, usage.ru_maxrss / 1024


def _write_rules(path: Path, topics: list[TopicRule], mode: str) -> None:
    with open(path, "w", encoding="utf-8") as fh:
        for t in topics:
            fh.write(f'[[topics]]\nname = "{t.name}"\nquery = "{t.query}"\nmode = "{mode}"\n\n')


def end_to_end(topics: list[TopicRule], docs: list[Document], work: Path) -> bool:
    """(d): the ``match`` command against a brute-force scan; True when substring pairs agree."""
    singles = topics[:10_000]
    data = work / "articles.jsonl"
    with open(data, "w", encoding="utf-8") as fh:
        for d in docs:
            row = {"id": d.id, "title": d.title, "text": d.text}
            fh.write(json.dumps(row, ensure_ascii=False) + "\n")
    mb = data.stat().st_size / 1e6
    print(
        f"(d) end to end: {len(singles)} single-term topics, {len(docs)} articles, "
        f"{mb:.1f} MB JSONL"
    )

    forms = [(match_form(d.title), match_form(d.text)) for d in docs]
    terms = [(rule.name, match_form(rule.query)) for rule in singles]  # as queries fold them
    t = time.perf_counter()
    brute = {
        (doc.id, name)
        for name, term in terms
        for doc, (title, text) in zip(docs, forms, strict=True)
        if term in title or term in text
    }
    brute_s = time.perf_counter() - t
    print(f"    brute-force substring scan (in this process): {brute_s:.2f} s, {len(brute)} pairs")

    same = True
    for mode in ("substring", "word"):
        rules_path = work / f"rules-{mode}.toml"
        _write_rules(rules_path, singles, mode)
        env = {**os.environ, "TINGFENG_CACHE_DIR": str(work / f"cache-{mode}")}
        argv = [*_tingfeng(), "match", "--rules", str(rules_path), "--input", str(data)]
        out = work / f"out-{mode}.jsonl"
        cold, cold_rss = _timed_run(argv, env, out)
        warm, warm_rss = _timed_run(argv, env, out)
        with open(out, encoding="utf-8") as fh:
            pairs = {(x["id"], x["topic"]) for x in map(json.loads, fh)}
        matcher = compile_rules([TopicRule(r.name, r.query, mode=mode) for r in singles])
        t = time.perf_counter()
        matcher.match_many(docs)
        engine_s = time.perf_counter() - t
        agree = ""
        if mode == "substring":
            same = pairs == brute
            agree = f", identical to brute force={same}"
        print(
            f"    {mode:9} `tingfeng match`: cold cache {cold:.2f} s ({brute_s / cold:.1f}x), "
            f"warm cache {warm:.2f} s (**{brute_s / warm:.1f}x**), peak RSS {warm_rss:.0f} MB "
            f"(cold {cold_rss:.0f} MB); in-process matching {engine_s:.2f} s "
            f"(**{brute_s / engine_s:.1f}x**); {len(pairs)} pairs{agree}"
        )
    return same


def daemon_memory(topics: list[TopicRule], work: Path, sources: int = 1_000) -> None:
    """(e): ``tingfeng run`` with ``sources`` sources and the single-term topics, RSS once up."""
    lines = ["[storage]", f'url = "sqlite:///{work / "daemon.db"}"', ""]
    for i in range(sources):  # a closed local port: every fetch fails fast, nothing is stored
        lines += [
            "[[sources]]",
            f'name = "s{i}"',
            'kind = "feed"',
            f'url = "http://127.0.0.1:9/feed{i}.xml"',
            'every = "6h"',
            "",
        ]
    for t in topics[:10_000]:
        lines += ["[[topics]]", f'name = "{t.name}"', f'query = "{t.query}"', ""]
    config = work / "daemon.toml"
    config.write_text("\n".join(lines), encoding="utf-8")
    env = {**os.environ, "TINGFENG_CACHE_DIR": str(work / "cache-daemon")}
    for start in ("cold cache", "warm cache"):
        proc = subprocess.Popen(
            [*_tingfeng(), "run", "--config", str(config)],
            stderr=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            env=env,
            text=True,
        )
        assert proc.stderr is not None
        t = time.perf_counter()
        for line in proc.stderr:
            if "daemon started" in line:
                break
        up = time.perf_counter() - t
        time.sleep(10)  # let the first (failing) fetches of every source run
        status = Path(f"/proc/{proc.pid}/status").read_text()
        proc.send_signal(signal.SIGTERM)
        proc.communicate(timeout=60)
        kb = {
            k: int(v.split()[0])
            for k, v in (x.split(":", 1) for x in status.splitlines())
            if k in ("VmRSS", "VmHWM")
        }
        print(
            f"(e) daemon, {sources} sources + {len(topics[:10_000])} topics ({start}): "
            f"started in {up:.1f} s, RSS {kb['VmRSS'] / 1024:.0f} MB, "
            f"peak {kb['VmHWM'] / 1024:.0f} MB"
        )


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--mb", type=float, default=20.0, help="corpus size in MB of UTF-8 text")
    ap.add_argument("--brute-mb", type=float, default=4.0, help="share compared with brute force")
    ap.add_argument("--e2e-mb", type=float, default=9.0, help="(d)'s corpus in MB of UTF-8 text")
    ap.add_argument("--sections", default="a,b,c,d,e", help="which sections to run")
    ap.add_argument("--seed", type=int, default=7)
    args = ap.parse_args()
    sections = set(args.sections.split(","))
    rng = random.Random(args.seed)

    words, freqs = load_words()
    topics = make_topics(words, rng)
    ok = True
    if "d" in sections or "e" in sections:
        with tempfile.TemporaryDirectory(prefix="bench-rules-") as tmp:
            if "d" in sections:
                e2e_docs = make_corpus(words, freqs, args.e2e_mb, random.Random(args.seed + 1))
                ok = end_to_end(topics, e2e_docs, Path(tmp))
            if "e" in sections:
                daemon_memory(topics, Path(tmp))
    if not sections & {"a", "b", "c"}:
        return 0 if ok else 1
    docs = make_corpus(words, freqs, args.mb, rng)
    chars = sum(len(d.title) + len(d.text) for d in docs)
    mb = sum(len(d.title.encode()) + len(d.text.encode()) for d in docs) / 1e6
    print(f"corpus: {len(docs)} articles, {mb:.1f} MB UTF-8, {chars / 1e6:.2f} M chars")
    print(f"topics: {len(topics)} (10,000 single-term + 1,000 boolean)")

    t = time.perf_counter()
    base_dictionary()
    print(f"jieba dictionary load (once per process): {time.perf_counter() - t:.2f} s")

    substring = [TopicRule(r.name, r.query, mode="substring") for r in topics]
    t = time.perf_counter()
    sub_matcher = compile_rules(substring)
    compile_sub = time.perf_counter() - t
    t = time.perf_counter()
    word_matcher = compile_rules(topics)
    compile_word = time.perf_counter() - t
    print(f"compile {len(topics)} topics: substring {compile_sub:.2f} s, word {compile_word:.2f} s")

    # (a) substring mode == brute force, on the same sample
    sample, size = [], 0
    for d in docs:
        if size >= args.brute_mb * 1e6:
            break
        sample.append(d)
        size += len(d.title.encode()) + len(d.text.encode())
    t = time.perf_counter()
    sub_results = sub_matcher.match_many(sample)
    engine_s = time.perf_counter() - t
    t = time.perf_counter()
    expected = brute_force(substring, sample)
    brute_s = time.perf_counter() - t
    got = pairs_of(sub_results, sample)
    same = got == expected
    print(
        f"(a) substring on {size / 1e6:.1f} MB: engine {engine_s:.2f} s, brute force "
        f"{brute_s:.2f} s, ratio {brute_s / engine_s:.1f}x; pairs {len(got)} "
        f"identical={same}"
    )
    t = time.perf_counter()
    full_sub = sub_matcher.match_many(docs)
    print(
        f"    substring on full corpus: {time.perf_counter() - t:.2f} s, "
        f"{sum(map(len, full_sub))} pairs"
    )

    # (b) word mode vs segment-everything
    t = time.perf_counter()
    word_results = word_matcher.match_many(docs)
    word_s = time.perf_counter() - t
    singles = {r.query: r.name for r in topics[:10_000]}
    seg = jieba.Tokenizer()
    for term in singles:
        seg.add_word(term)
    seg.lcut("预热")
    t = time.perf_counter()
    seg_pairs = set()
    for d in docs:
        for field in (d.title, d.text):
            for w in seg.lcut(match_form(field)):
                name = singles.get(w)
                if name:
                    seg_pairs.add((d.id, name))
    seg_s = time.perf_counter() - t
    word_pairs = pairs_of(word_results, docs)
    single_pairs = {p for p in word_pairs if p[1].startswith("t")}
    agree = len(single_pairs & seg_pairs) / max(1, len(single_pairs | seg_pairs))
    print(
        f"(b) word mode on {mb:.1f} MB: engine {word_s:.2f} s, jieba segment-everything "
        f"{seg_s:.2f} s, ratio {seg_s / word_s:.1f}x; {len(word_pairs)} pairs "
        f"(single-term agreement with segment-and-look-up: {agree:.1%})"
    )

    assert word_matcher.match_many(docs[:50]) == word_results[:50], "not deterministic"
    print(f"(c) peak RSS: {peak_mb():.0f} MB (includes the corpus and jieba's dictionary)")
    return 0 if same and ok else 1


if __name__ == "__main__":
    sys.exit(main())
