"""Near-duplicate documents: shingle, drop site-common shingles, MinHash, LSH, verify, cluster.

Two documents are near-duplicates when their *content* shingle sets (the shingles their site
does not repeat on many pages) have a Jaccard similarity of at least ``threshold``, or when the
smaller one is contained in the larger one to at least ``containment`` (versions that grow by
appending). A page with almost no content of its own (fewer than ``min_content`` shingles left)
is compared on its whole shingle set instead, and only to other such pages, with the stricter
``strict_threshold``. Clusters are connected components of verified pairs; each keeps one
document (see :func:`dedup.sketch.cluster.choose_keepers`).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from functools import partial
from typing import Any

import numpy as np

from dedup.engines.local import default_workers, map_ordered
from dedup.errors import ConfigError
from dedup.io.records import (
    DEFAULT_ID_FIELD,
    DEFAULT_SITE_FIELD,
    DEFAULT_TEXT_FIELD,
    Record,
    as_records,
)
from dedup.sketch.cluster import choose_keepers, components, guarded_components
from dedup.sketch.common import (
    DEFAULT_COMMON_FRACTION,
    DEFAULT_COMMON_MIN_DOCS,
    common_mask,
    set_fingerprints,
)
from dedup.sketch.lsh import band_keys, candidate_pairs, optimal_params
from dedup.sketch.minhash import (
    DEFAULT_NUM_PERM,
    DEFAULT_SEED,
    oph_signatures,
    permutations,
    signatures,
)
from dedup.sketch.verify import pair_similarity
from dedup.steps.base import Drop, Removal, Step
from dedup.text.shingle import (
    DEFAULT_NGRAM,
    SHINGLE_KINDS,
    ShingleBatch,
    shingles_and_numbers,
)

DEFAULT_THRESHOLD = 0.2
DEFAULT_CONTAINMENT = 0.7
DEFAULT_STRICT_THRESHOLD = 0.8
DEFAULT_MIN_CONTENT = 10
DEFAULT_MIN_CONTENT_SHARE = 0.2
DEFAULT_LSH_THRESHOLD = 0.1
DEFAULT_NUMBERS_SHARE = 0.5
DEFAULT_MIN_NUMBERS = 3
DEFAULT_MIN_LINK = 0.1
BATCH_CHARS = 1 << 20  # characters of text shingled per batch (bounds the temporaries)
REASON = "near-duplicate"
SKETCHES = ("oph", "minhash")
SIGN_BLOCK = 4096  # documents sketched at once
log = logging.getLogger(__name__)


def concat_batches(batches: list[ShingleBatch]) -> ShingleBatch:
    """One batch holding the documents of ``batches`` in order."""
    if not batches:
        return ShingleBatch(np.empty(0, np.uint64), np.zeros(1, np.int64))
    hashes = np.concatenate([b.hashes for b in batches])
    counts = np.concatenate([np.diff(b.offsets) for b in batches])
    offsets = np.zeros(len(counts) + 1, dtype=np.int64)
    np.cumsum(counts, out=offsets[1:])
    return ShingleBatch(hashes, offsets)


def batched(records: Iterable[Record], max_chars: int = BATCH_CHARS) -> Iterator[list[Record]]:
    """Consecutive groups of records holding about ``max_chars`` characters of text."""
    batch: list[Record] = []
    size = 0
    for record in records:
        batch.append(record)
        size += len(record.text) + 1
        if size >= max_chars:
            yield batch
            batch, size = [], 0
    if batch:
        yield batch


class NearDuplicates(Step):
    """Find clusters of near-duplicate documents; keep one document per cluster.

    Parameters
    ----------
    threshold : float, default=0.2
        Least exact Jaccard similarity of two documents' content shingle sets.
    containment : float, default=0.7
        Least share of the smaller content set found in the larger (``>1`` turns it off).
    ngram : int, default=5
        Shingle size, in words (or characters with ``shingle="char"``).
    shingle : {"word", "char"}, default="word"
    num_perm : int, default=128
        MinHash permutations.
    seed : int, default=1
        Seed of the permutations; the same seed gives the same output.
    sketch : {"oph", "minhash"}, default="oph"
        ``"oph"``: one-permutation MinHash with densification, one pass over the shingles;
        ``"minhash"``: ``num_perm`` multiply-shift permutations (the classic scheme, 5-6x
        slower). Both only choose candidates for exact verification; the clusters agree on
        the benchmark sets.
    lsh_threshold : float, default=0.1
        Jaccard level the LSH bands are tuned for; below ``threshold`` so that containment
        pairs (whose Jaccard is lower) still become candidates.
    common_fraction, common_min_docs : float, int, default=0.05, 2
        A shingle is site-common (left out) when at least ``max(common_min_docs,
        common_fraction * pages)`` distinct pages of its site carry it (documents without a
        site: at least 4 pages). On a small site, then, text two pages share is not evidence:
        only near-identical pages are found there (``strict_threshold``).
    min_content, min_content_share : int, float, default=10, 0.2
        Pages with fewer content shingles (in number, or as a share of all their shingles)
        are compared on all their shingles instead, and only with other such pages.
    strict_threshold : float, default=0.8
        Jaccard needed between two such content-less pages.
    numbers_share, min_numbers : float, int, default=0.5, 3
        Documents that agree in words but not in figures are not duplicates: when both hold
        ``min_numbers`` distinct numbers, ``numbers_share`` of the smaller set of numbers must
        occur in the other document (0 turns the rule off).
    min_link : float, default=0.1
        Guard against chaining: two groups of documents join only when at least this share
        of their members' pairs are similar (estimated from the signatures), so one article
        copied into another does not fuse both articles' clusters (0: plain components).
    n_jobs : int or None, default=1
        Processes that shingle and hash; ``None`` or ``-1`` uses every core. The output does
        not depend on it.

    Attributes
    ----------
    ids_ : list of str
    keepers_ : ndarray of int
        Index of each document's keeper (itself for keepers and singletons).
    similarity_ : ndarray of float
        Exact Jaccard similarity of each document to its keeper (1.0 for keepers).
    clusters_ : dict of str to str
        Keeper id of every document id.
    signatures_ : ndarray of shape (n_docs, num_perm), uint32
    pairs_ : ndarray of shape (n_pairs, 2)
        Verified near-duplicate pairs (document indices).
    """

    name = "neardup"

    def __init__(
        self,
        *,
        threshold: float = DEFAULT_THRESHOLD,
        containment: float = DEFAULT_CONTAINMENT,
        ngram: int = DEFAULT_NGRAM,
        shingle: str = "word",
        num_perm: int = DEFAULT_NUM_PERM,
        seed: int = DEFAULT_SEED,
        sketch: str = "oph",
        lsh_threshold: float = DEFAULT_LSH_THRESHOLD,
        common_fraction: float = DEFAULT_COMMON_FRACTION,
        common_min_docs: int = DEFAULT_COMMON_MIN_DOCS,
        min_content: int = DEFAULT_MIN_CONTENT,
        min_content_share: float = DEFAULT_MIN_CONTENT_SHARE,
        strict_threshold: float = DEFAULT_STRICT_THRESHOLD,
        numbers_share: float = DEFAULT_NUMBERS_SHARE,
        min_numbers: int = DEFAULT_MIN_NUMBERS,
        min_link: float = DEFAULT_MIN_LINK,
        text_field: str = DEFAULT_TEXT_FIELD,
        id_field: str = DEFAULT_ID_FIELD,
        site_field: str = DEFAULT_SITE_FIELD,
        n_jobs: int | None = 1,
    ) -> None:
        self.threshold = threshold
        self.containment = containment
        self.ngram = ngram
        self.shingle = shingle
        self.num_perm = num_perm
        self.seed = seed
        self.sketch = sketch
        self.lsh_threshold = lsh_threshold
        self.common_fraction = common_fraction
        self.common_min_docs = common_min_docs
        self.min_content = min_content
        self.min_content_share = min_content_share
        self.strict_threshold = strict_threshold
        self.numbers_share = numbers_share
        self.min_numbers = min_numbers
        self.min_link = min_link
        self.text_field = text_field
        self.id_field = id_field
        self.site_field = site_field
        self.n_jobs = n_jobs

    def _validate(self) -> None:
        for name in ("threshold", "strict_threshold", "lsh_threshold", "common_fraction"):
            value = getattr(self, name)
            if not 0.0 < value <= 1.0:
                raise ConfigError(f"{name} must be in (0, 1], got {value}")
        if self.containment <= 0:
            raise ConfigError(f"containment must be positive, got {self.containment}")
        if self.shingle not in SHINGLE_KINDS:
            raise ConfigError(f"shingle must be one of {SHINGLE_KINDS}, got {self.shingle!r}")
        if not 1 <= self.ngram <= (8 if self.shingle == "word" else 64):
            raise ConfigError(f"ngram out of range for {self.shingle} shingles: {self.ngram}")
        if self.sketch not in SKETCHES:
            raise ConfigError(f"sketch must be one of {SKETCHES}, got {self.sketch!r}")
        if self.num_perm < 2:
            raise ConfigError(f"num_perm must be at least 2, got {self.num_perm}")

    # -- fitting -------------------------------------------------------------------------

    def fit(self, docs: Any, y: None = None) -> NearDuplicates:
        """Shingle, sketch, index and cluster ``docs``; return ``self``."""
        self._validate()
        ids: list[str] = []
        site_codes: dict[str | None, int] = {}
        sites: list[int] = []
        records = as_records(
            docs, text_field=self.text_field, id_field=self.id_field, site_field=self.site_field
        )

        def texts_of(chunks: Iterable[list[Record]]) -> Iterator[list[str]]:
            for chunk in chunks:  # ids and sites are kept here, texts go to the workers
                for r in chunk:
                    ids.append(r.id)
                    sites.append(site_codes.setdefault(r.site, len(site_codes)))
                yield [r.text for r in chunk]

        shingler = partial(_sketch_input, ngram=self.ngram, kind=self.shingle)
        workers = self.n_jobs if self.n_jobs and self.n_jobs > 0 else default_workers()
        self.timings_: dict[str, float] = {}
        with self._stage("shingle"):
            parts = list(map_ordered(shingler, texts_of(batched(records)), workers))
        self.ids_ = ids
        self.sites_ = np.asarray(sites, dtype=np.int64)
        self._site_codes = site_codes
        self._numbers = concat_batches([p[1] for p in parts])
        self._full = concat_batches([p[0] for p in parts])
        del parts
        self._fit_sets()
        return self

    @contextmanager
    def _stage(self, name: str) -> Iterator[None]:
        """Time a stage into ``timings_`` (seconds) and the debug log."""
        start = time.perf_counter()
        yield
        seconds = time.perf_counter() - start
        self.timings_[name] = self.timings_.get(name, 0.0) + seconds
        log.debug("neardup %s: %.2f s", name, seconds)

    def _fit_sets(self) -> None:
        """Every stage after shingling; the full sets are released once the content sets exist."""
        full = self._full
        del self._full
        n = full.n_docs
        with self._stage("common"):
            self._content_sets(full)
        del full  # the content sets replace the full sets from here on
        sets = self._sets
        with self._stage("sketch"):
            self._sketch(sets)
        with self._stage("candidates"):
            bands, rows = optimal_params(self.lsh_threshold, self.num_perm)
            keys = band_keys(self.signatures_, bands, rows)
            keys[~self.content_mode_] ^= np.uint64(0x5DEECE66D)  # modes never share buckets
            cands = candidate_pairs(keys, valid=self.set_sizes_ > 0)
        with self._stage("verify"):
            sim = pair_similarity(sets, cands)
            jac, con = sim.jaccard, sim.containment
            both_content = self.content_mode_[cands[:, 0]] & self.content_mode_[cands[:, 1]]
            ok = np.where(
                both_content,
                (jac >= self.threshold) | (con >= self.containment),
                jac >= self.strict_threshold,
            )
            ok &= self._numbers_agree(cands)
            self.n_candidates_ = len(cands)
            self.pairs_ = cands[ok]
        with self._stage("cluster"):
            labels = self._cluster(n, sets, jac[ok])
            self.keepers_ = choose_keepers(labels, self.set_sizes_)
            self.similarity_ = np.ones(n)
            dup = np.flatnonzero(self.keepers_ != np.arange(n))
            if len(dup):
                to_keeper = pair_similarity(sets, np.stack([dup, self.keepers_[dup]], axis=1))
                self.similarity_[dup] = to_keeper.jaccard
        self.clusters_ = dict(zip(self.ids_, (self.ids_[k] for k in self.keepers_), strict=True))
        self._index = {doc_id: i for i, doc_id in enumerate(self.ids_)}
        del self._sets

    def _content_sets(self, full: ShingleBatch) -> None:
        """Leave site-common shingles out of the sets of pages that have content of their own."""
        n = full.n_docs
        common = common_mask(
            full,
            self.sites_,
            fraction=self.common_fraction,
            min_docs=self.common_min_docs,
            unknown_site=self._site_codes.get(None),
        )
        content_size = np.bincount(full.doc_ids()[~common], minlength=n)
        # Content-less pages are sketched on all their shingles, the others on their content.
        full_size = np.diff(full.offsets)
        self.content_mode_ = (content_size >= self.min_content) & (
            content_size >= self.min_content_share * full_size
        )
        self._sets = full.select(~(common & self.content_mode_[full.doc_ids()]))
        self.set_sizes_ = np.diff(self._sets.offsets)
        self.common_share_ = 1.0 - content_size / np.maximum(full_size, 1)

    def _sketch(self, sets: ShingleBatch) -> None:
        """Signatures of all sets, a block of documents at a time (bounded temporaries)."""
        n = sets.n_docs
        self.signatures_ = np.empty((n, self.num_perm), dtype=np.uint32)
        perms = permutations(self.num_perm, self.seed)
        for lo in range(0, n, SIGN_BLOCK):
            part = _slice(sets, lo, min(lo + SIGN_BLOCK, n))
            if self.sketch == "oph":
                block = oph_signatures(part, self.num_perm, self.seed)
            else:
                block = signatures(part, perms)
            self.signatures_[lo : lo + part.n_docs] = block

    def _cluster(self, n: int, sets: ShingleBatch, jaccard: np.ndarray) -> np.ndarray:
        """Cluster labels: connected components, guarded against chaining two articles."""
        if self.min_link <= 0 or len(self.pairs_) == 0:
            return components(n, self.pairs_)
        fp = set_fingerprints(sets)
        sizes = self.set_sizes_.astype(np.float64)
        sigs = self.signatures_
        # Best edges first; ties broken by content, not by input position.
        a, b = self.pairs_[:, 0], self.pairs_[:, 1]
        lo, hi = np.minimum(fp[a], fp[b]), np.maximum(fp[a], fp[b])
        rank = np.lexsort((hi, lo, -jaccard))
        order_of = np.empty(len(rank), dtype=np.int64)
        order_of[rank] = np.arange(len(rank))

        def linked(x: np.ndarray, y: np.ndarray) -> np.ndarray:
            # Estimated from the signatures: cheap for groups of any size.
            j = np.mean(sigs[x] == sigs[y], axis=1)
            small = np.maximum(np.minimum(sizes[x], sizes[y]), 1)
            c = j * (sizes[x] + sizes[y]) / ((1 + j) * small)
            return (j >= self.threshold) | (c >= self.containment)

        return guarded_components(
            n, self.pairs_, order_of, linked, min_link=self.min_link, member_key=fp
        )

    def _numbers_agree(self, pairs: np.ndarray) -> np.ndarray:
        """False for pairs that agree in words but not in figures (templated reports).

        Two weekly grain reports or earnings tables share every word but their numbers. When
        both documents hold ``min_numbers`` distinct numbers, at least ``numbers_share`` of the
        smaller set of numbers must stand in the other document too. Corrections (one figure
        changed), truncations and insertions keep most of their numbers.
        """
        if self.numbers_share <= 0 or len(pairs) == 0:
            return np.ones(len(pairs), dtype=bool)
        num = pair_similarity(self._numbers, pairs)
        judged = np.minimum(num.size_a, num.size_b) >= self.min_numbers
        return ~judged | (num.containment >= self.numbers_share)

    # -- results -------------------------------------------------------------------------

    def is_duplicate(self) -> np.ndarray:
        """True for every document that is dropped in favour of its keeper."""
        return self.keepers_ != np.arange(len(self.keepers_))

    def cluster_rows(self) -> Iterator[dict[str, Any]]:
        """``{"id", "cluster", "similarity"}`` for every document, in input order."""
        for i, doc_id in enumerate(self.ids_):
            yield {
                "id": doc_id,
                "cluster": self.ids_[self.keepers_[i]],
                "similarity": round(float(self.similarity_[i]), 4),
            }

    def decide(self, record: Record) -> Drop | list[Removal]:
        i = self._index[record.id]
        k = int(self.keepers_[i])
        if k == i:
            return []
        return Drop(
            reason=REASON,
            keeper=self.ids_[k],
            similarity=round(float(self.similarity_[i]), 4),
        )


def _sketch_input(texts: list[str], *, ngram: int, kind: str) -> tuple[ShingleBatch, ShingleBatch]:
    """Unique shingles and number tokens of a batch (runs in the worker processes)."""
    shingles, numbers = shingles_and_numbers(texts, ngram=ngram, kind=kind)
    return shingles.unique(), numbers


def _slice(batch: ShingleBatch, lo: int, hi: int) -> ShingleBatch:
    offs = batch.offsets[lo : hi + 1]
    return ShingleBatch(batch.hashes[offs[0] : offs[-1]], offs - offs[0])
