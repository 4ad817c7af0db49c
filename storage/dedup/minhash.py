"""MinHash sketches and their LSH band keys, as plain integers the database indexes.

Each article gets two families of band keys: ``full`` bands over the whole cleaned
text find edited and retitled copies (Jaccard), ``lead`` bands over its opening
find trimmed copies (a copy that kept the first paragraphs shares the opening
exactly, while its Jaccard with the long original can be small). The family, the
band number and the sketch shape are mixed into each key, so keys of different
families or of a changed configuration never collide by construction.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np

from rules.normalize import normalize
from storage.dedup.config import DedupConfig
from storage.dedup.shingles import clean_text, letters, shingle_array, shingles

SEED = 20240520


_NONE = np.empty(0, dtype=np.uint64)


@dataclass(frozen=True, slots=True)
class Sketch:
    """What dedup needs to know about one new article, computed off the event loop.

    ``digest`` is the exact content hash ("" when there is nothing to compare:
    empty title and text); ``shingles`` and ``band_keys`` are empty for texts
    too short for near-duplicate search. ``confirm`` holds the same shingles as
    sorted 64-bit hashes (:func:`shingle_array`), what candidates are confirmed on.
    """

    digest: str
    shingles: frozenset[int]
    band_keys: tuple[int, ...]
    confirm: np.ndarray = field(default_factory=lambda: _NONE, compare=False, repr=False)


_MAX32 = np.uint32(0xFFFFFFFF)
# MurmurHash3's 32-bit finalizer, as datasketch's affine32 scheme pre-mixes inputs.
_M1, _M2 = np.uint32(0x85EBCA6B), np.uint32(0xC2B2AE35)


@lru_cache(maxsize=8)
def _permutations(num_perm: int) -> np.ndarray:
    """datasketch's affine32 permutations for ``SEED``: odd ``a`` and any ``b``, mod 2^32.

    The same draws from numpy's frozen ``RandomState`` as ``datasketch.MinHash(
    num_perm, seed=SEED, scheme="affine32").permutations`` (pinned by a test, since
    stored band keys depend on them), without importing datasketch, whose package
    pulls in scipy: 70 MB of a daemon's memory for three lines.
    """
    gen = np.random.RandomState(SEED)
    a = gen.randint(0, 1 << 31, num_perm, dtype=np.uint32) * np.uint32(2) + np.uint32(1)
    b = gen.randint(0, 1 << 32, num_perm, dtype=np.uint32)
    return np.array([a, b])


def signature(
    values: set[int] | frozenset[int], num_perm: int, count: int | None = None
) -> np.ndarray:
    """MinHash hash values of a shingle set (already 32-bit hashes, so no rehashing).

    The same values as datasketch's ``MinHash(scheme="affine32", seed=SEED)`` fed
    through an identity hash function, computed in one numpy pass; ``count``
    computes only the first ``count`` permutations (the ones a band family uses).
    """
    a, b = _permutations(num_perm)[:, :count]
    if not values:
        return np.full(len(a), _MAX32, dtype=np.uint32)
    hv = np.fromiter(values, dtype=np.uint32, count=len(values))
    hv ^= hv >> 16
    hv *= _M1
    hv ^= hv >> 13
    hv *= _M2
    hv ^= hv >> 16
    return (hv[:, None] * a + b).min(axis=0)


def band_keys(hashvalues: np.ndarray, bands: int, rows: int, salt: bytes) -> list[int]:
    """One signed 64-bit key per band (fits SQLite INTEGER and PostgreSQL BIGINT)."""
    raw = np.ascontiguousarray(hashvalues[: bands * rows], dtype="<u4").tobytes()
    width = rows * 4
    return [
        int.from_bytes(
            hashlib.blake2b(
                raw[i * width : (i + 1) * width], digest_size=8, salt=salt + bytes([i % 256])
            ).digest(),
            "little",
            signed=True,
        )
        for i in range(bands)
    ]


def _salt(family: bytes, cfg: DedupConfig) -> bytes:
    shape = f"{cfg.shingle_size}/{cfg.num_perm}/{cfg.rows}/{cfg.lead_chars}".encode()
    return hashlib.blake2b(family + shape, digest_size=15).digest()


def content_digest(title: str, text: str, cleaned: str, min_chars: int) -> str:
    """Exact-duplicate key: the cleaned body, or title and whole text for short items.

    A retitled copy of a real article has the same body, so the title stays out.
    A short item is identified by its title and its *unstripped* text: a photo
    caption is nothing but a caption line and a byline, which stripping would
    empty, and two captions under one headline ("纸坊镇夏收忙") are two photos.
    """
    if len(cleaned) >= min_chars:
        key = cleaned
    else:
        key = f"{letters(normalize(title))}\n{letters(normalize(text))}"
        if key == "\n":
            return ""
    return hashlib.sha1(key.encode()).hexdigest()


def text_shingles(cleaned: str, cfg: DedupConfig) -> frozenset[int]:
    """Shingles used for confirmation; empty when the text is too short to judge."""
    if len(cleaned) < cfg.min_chars:
        return frozenset()
    return frozenset(shingles(cleaned[: cfg.max_chars], cfg.shingle_size))


def sketch(title: str, text: str, cfg: DedupConfig) -> Sketch:
    """Digest, shingles and band keys of one article (CPU work: run it in a thread)."""
    cleaned = clean_text(text)
    digest = content_digest(title, text, cleaned, cfg.min_chars)
    values = text_shingles(cleaned, cfg)
    if not values:
        return Sketch(digest, frozenset(), ())
    width = cfg.bands * cfg.rows
    keys = band_keys(
        signature(values, cfg.num_perm, width), cfg.bands, cfg.rows, _salt(b"full", cfg)
    )
    if cfg.lead_chars and cfg.lead_bands:
        lead = shingles(cleaned[: cfg.lead_chars], cfg.shingle_size)
        width = cfg.lead_bands * cfg.rows
        keys += band_keys(
            signature(lead, cfg.num_perm, width), cfg.lead_bands, cfg.rows, _salt(b"lead", cfg)
        )
    return Sketch(digest, values, tuple(keys), confirm_array(cleaned, cfg))


def confirm_array(cleaned: str, cfg: DedupConfig) -> np.ndarray:
    """What a text is confirmed on: its shingles as sorted 64-bit hashes (empty if short)."""
    if len(cleaned) < cfg.min_chars:
        return _NONE
    return shingle_array(cleaned[: cfg.max_chars], cfg.shingle_size)
