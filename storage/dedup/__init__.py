"""Deduplication across pages, editions and sources.

An article is the same story as a stored one when its canonical URL is known, when
its cleaned text hashes the same, or when MinHash LSH over character shingles finds
a candidate that exact Jaccard or containment confirms. Band keys live in the
database (``dedup_bands``), so nothing is rebuilt in memory at start-up and several
instances can share one store. See docs/dedup.md.
"""
