"""Near-duplicate documents: shingle, drop site-common shingles, MinHash, LSH, verify, cluster.

Two documents are near-duplicates when their *content* shingle sets (the shingles their site
does not repeat on many pages) have a Jaccard similarity of at least ``threshold``, or when the
smaller one is contained in the larger one to at least ``containment`` (versions that grow by
appending). A page with almost no content of its own (fewer than ``min_content`` shingles left)
is compared on its whole shingle set instead, and only to other such pages, with the stricter
``strict_threshold``. Clusters are connected components of verified pairs; each keeps one
document (see :func:`dedup.sketch.cluster.choose_keepers`).

The input is read once (with two or more workers, by a second process:
:mod:`dedup.io.prefetch`). Worker threads shingle and hash batches of documents; each
document's set and number tokens go to stores (:mod:`dedup.sketch.store`) that stay in memory
up to the ``memory`` budget and spill to a work directory beyond it, and its (site, shingle)
keys are counted per 1/65536 of the key space. A key is site-common only if its bucket reaches
the least count that makes one common; only the keys of such buckets are counted exactly,
1/64 of the key space at a time (in a corpus without sites, where a shingle must be on 5 % of
all documents, few). The workers set aside the keys of buckets already on their way there
while they shingle; the stored sets are read back only for the rest. Every set is sketched
while it is at hand; only the sets that hold a site-common shingle are read back and sketched
on their content, and only the sets of candidate pairs are read back for exact verification.
Memory is then bounded by the budget plus the signatures and a few numbers per document, and
the output does not depend on the budget or the workers.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager, nullcontext
from functools import partial
from typing import Any

import numpy as np

from dedup import compiled
from dedup.engines.local import default_workers, map_ordered
from dedup.errors import ConfigError
from dedup.groups import sorted_unique
from dedup.io.prefetch import Prefetch, can_prefetch
from dedup.io.records import (
    DEFAULT_ID_FIELD,
    DEFAULT_SITE_FIELD,
    DEFAULT_TEXT_FIELD,
    Record,
    as_records,
    batched,
)
from dedup.io.writers import encode_values
from dedup.sketch.cluster import (
    best_first,
    choose_keepers,
    component_parts,
    components,
    guarded_components,
    signature_links,
)
from dedup.sketch.common import (
    DEFAULT_COMMON_FRACTION,
    DEFAULT_COMMON_MIN_DOCS,
    SiteKeys,
    common_keys,
    distinct_sets,
    is_member,
    limits_of,
    set_fingerprints,
    site_keys,
    site_limits,
)
from dedup.sketch.lsh import banded_candidates, optimal_params
from dedup.sketch.minhash import (
    DEFAULT_NUM_PERM,
    DEFAULT_SEED,
    oph_signatures,
    permutations,
    signatures,
)
from dedup.sketch.store import (
    DEFAULT_MEMORY,
    Budget,
    GrowingRows,
    PartitionSpools,
    SetStore,
    parse_memory,
)
from dedup.sketch.verify import PairSimilarity, pair_similarity
from dedup.steps.base import Drop, Removal, Step
from dedup.text.hashing import owner_salts
from dedup.text.shingle import (
    DEFAULT_NGRAM,
    SHINGLE_KINDS,
    SetView,
    ShingleBatch,
    shingle_sets,
)
from dedup.text.tokenize import ByteBatch

DEFAULT_THRESHOLD = 0.2
DEFAULT_CONTAINMENT = 0.7
DEFAULT_STRICT_THRESHOLD = 0.8
DEFAULT_MIN_CONTENT = 10
DEFAULT_MIN_CONTENT_SHARE = 0.2
CONTAINMENT_LSH_THRESHOLD = 0.1
LSH_MISS = 1e-4  # chance that the LSH bands miss a pair at the threshold (containment off)
DEFAULT_NUMBERS_SHARE = 0.5
DEFAULT_MIN_NUMBERS = 3
DEFAULT_MIN_LINK = 0.1
BATCH_CHARS = 1 << 20  # characters of text shingled per batch (bounds the temporaries)
REASON = "near-duplicate"
SKETCHES = ("oph", "minhash")
SIGN_BLOCK = 4096  # documents sketched at once
VERIFY_BUDGET = 1 << 21  # shingles of candidate pairs read back and compared at once
RESKETCH_BUDGET = 1 << 19  # shingles of the sets read back and sketched again at once
VERIFY_PAIRS = 1 << 20  # candidate pairs verified per block
_PLAUSIBLE_SD = 5.0  # candidates this far below every threshold are not read back
_PLAUSIBLE_SLACK = 0.05
_PLAUSIBLE_BLOCK = 1 << 16
_PARTITION_BITS = 6  # the (site, shingle) keys are counted a 1/64 of the key space at a time
_PARTITIONS = 1 << _PARTITION_BITS
_COUNT_ENTRIES = 1 << 17  # set-aside keys counted at once at least (partitions joined up to it)
_ONE = encode_values([1.0])[0]  # a keeper's similarity in the output
_SHINGLE_AHEAD = 8  # shingled batches (~2 MB each) per worker waiting for the stores
_BUCKET_BITS = 16  # (site, shingle) keys are first counted per 1/65536 of the key space
_CLUSTER_PARTS = 4  # parts of the pairs' components per worker, clustered on the threads
# ... when there are this many pairs per document: each part sets up state for every document
# (~17 ms at a million), so fewer pairs go in one part (1M, 78 K pairs: 0.12 s in eight parts
# on two threads, 0.05 s in one).
_SPLIT_PAIRS = 0.5
_WATCH_FROM = 4096  # documents read before the workers set any bucket's keys aside
log = logging.getLogger(__name__)


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
    lsh_threshold : float or None, default=None
        Jaccard level the LSH bands are tuned for. ``None``: with the containment rule on, half
        of ``threshold`` and at most 0.1, so that containment pairs (whose Jaccard is lower)
        still become candidates; with it off, the longest bands that miss a pair at
        ``threshold`` with probability 1e-4 at most. Lower finds more candidates.
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
        Threads that shingle, hash and sketch (numpy and the compiled loops release the GIL);
        ``None`` or ``-1`` uses every core. The output does not depend on it.
    memory : int, str or None, default="512M"
        Budget for the per-document data a fit keeps for its later stages (shingle sets for
        exact verification, shingle keys for counting site-common ones), in bytes or as
        ``"512M"``, ``"2G"``. Past it, that data goes to a temporary work directory and is
        read back in blocks, so memory stays bounded at any corpus size; ``None``: no limit.
        Signatures and a few numbers per document (about 600 bytes at 128 permutations)
        stay in memory on top of it. The output does not depend on it.
    workdir : str or None, default=None
        Where the work directory goes (default: the system's temporary directory). It is
        removed when ``fit`` returns; with two or more workers, the space its files took is
        given back by another thread meanwhile.
    verify_all : bool, default=False
        Check every LSH candidate on the exact sets. By default candidates whose signatures
        put them far below every threshold (five standard deviations and more) are not
        read back; on corpora that quote themselves that is most of them.

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
    n_candidates_, n_verified_ : int
        LSH candidate pairs, and those checked on the exact sets.
    timings_ : dict of str to float
        Seconds spent in each stage.
    spilled_bytes_ : int
        Bytes written to the work directory (0 when the data fit the ``memory`` budget).
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
        lsh_threshold: float | None = None,
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
        memory: int | str | None = DEFAULT_MEMORY,
        workdir: str | None = None,
        verify_all: bool = False,
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
        self.memory = memory
        self.workdir = workdir
        self.verify_all = verify_all

    def _validate(self) -> None:
        for name in ("threshold", "strict_threshold", "lsh_threshold", "common_fraction"):
            value = getattr(self, name)
            if value is None and name == "lsh_threshold":
                continue
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
        try:
            parse_memory(self.memory)
        except ValueError as exc:
            raise ConfigError(str(exc)) from None

    # -- fitting -------------------------------------------------------------------------

    def fit(self, docs: Any, y: None = None) -> NearDuplicates:
        """Shingle, sketch, index and cluster ``docs``; return ``self``."""
        self._validate()
        budget = Budget(parse_memory(self.memory), self.workdir, release_aside=self._workers() > 1)
        try:
            self._fit(docs, budget)
        finally:
            for store in ("_store", "_number_store"):
                if hasattr(self, store):
                    getattr(self, store).close()
                    delattr(self, store)
            self.spilled_bytes_ = budget.spilled
            budget.close()
        return self

    def _fit(self, docs: Any, budget: Budget) -> None:
        ids: list[str] = []
        site_codes: dict[str | None, int] = {}
        sites: list[int] = []

        def texts_of(batches: Iterable[tuple]) -> Iterator[tuple[Any, np.ndarray, int]]:
            for batch_ids, batch_sites, texts in batches:  # ids and sites stay here
                ids.extend(batch_ids)
                lo = len(sites)
                sites.extend(site_codes.setdefault(s, len(site_codes)) for s in batch_sites)
                yield texts, np.asarray(sites[lo:], dtype=np.int32), lo

        # With more than one worker, a second process reads and encodes the input (parsing
        # holds the GIL); the batches and what is read from them are the same.
        prefetch = (
            self._workers() > 1
            and self.shingle == "word"
            and compiled.enabled()
            and can_prefetch(docs)
        )
        self.prefetched_ = prefetch
        self.timings_: dict[str, float] = {}
        # Pass over the input: each document's set and numbers go to stores, its (site,
        # shingle) keys are counted per bucket of the key space, a fingerprint stays.
        self._store = SetStore(budget, "sets")
        self._number_store = SetStore(budget, "numbers")
        fps = []
        buckets = np.zeros(1 << _BUCKET_BITS, dtype=np.int64)
        # Every set is sketched whole while it is at hand; only the sets that hold a
        # site-common shingle are read back and sketched again, on their content.
        sigs = GrowingRows(self.num_perm, np.uint32)
        sign = partial(_sign, num_perm=self.num_perm, seed=self.seed, sketch=self.sketch)
        # The keys of buckets already well on their way to site-common are set aside while
        # their sets are at hand; the rest of the heavy buckets' keys are read back later.
        parts = PartitionSpools(budget, "keys", _PARTITIONS)
        watch = _Watch(self)
        shingler = partial(
            _shingle_part, ngram=self.ngram, kind=self.shingle, sign=sign, watch=watch, parts=parts
        )
        masks: list[np.ndarray | None] = []  # per batch, the buckets whose keys were set aside
        with (
            self._stage("shingle"),
            Prefetch(docs, BATCH_CHARS) if prefetch else nullcontext() as source,
        ):
            batches = texts_of(source if prefetch else self._batches(docs))
            # The stores' appends write to disk past the budget, where the system may hold a
            # write up: the workers go on with batches further ahead meanwhile.
            shingled = map_ordered(shingler, batches, self._workers(), ahead=_SHINGLE_AHEAD)
            for full, numbers, fp, counts, batch_sigs, mask in shingled:
                self._store.append(full)
                self._number_store.append(numbers)
                fps.append(fp)
                buckets += counts
                sigs.append(batch_sigs)
                masks.append(mask)
                watch.update(buckets, sites, site_codes)
            self._store.finish()
            self._number_store.finish()
        self.signatures_ = sigs.finish()
        del sigs
        self.ids_ = ids
        self.sites_ = np.asarray(sites, dtype=np.int64)
        self._site_codes = site_codes
        n = len(ids)
        with self._stage("common"):
            self._content_fp = np.concatenate(fps) if fps else np.empty(0, np.uint64)
            del fps  # the fingerprints of the full sets; content sets replace them when sketched
            distinct = distinct_sets(self._content_fp, self.sites_)
            limit = site_limits(
                self.sites_,
                distinct,
                fraction=self.common_fraction,
                min_docs=self.common_min_docs,
                unknown_site=self._site_codes.get(None),
            )
            present = np.bincount(self.sites_, minlength=len(limit)) > 0
            least = int(limit[present].min()) if present.any() else 0
            # A key is common only if its bucket holds at least the least site limit.
            heavy = buckets >= max(least, 1)
            keys, holders = self._common_keys(heavy, distinct, limit, parts, masks)
            self._common = SiteKeys(keys)
        with self._stage("sketch"):
            self._sketch_content(n, holders, sign)
            del self._common  # each stored set starts with its content set from here on
        with self._stage("candidates"):
            bands, rows = self._bands()
            cands = banded_candidates(
                self.signatures_,
                bands,
                rows,
                valid=self.set_sizes_ > 0,
                flip=~self.content_mode_,  # modes never share buckets
                workers=self._workers(),
            )
        with self._stage("verify"):
            self.n_candidates_ = len(cands)
            self.n_verified_ = 0
            found, found_jaccard = [np.empty((0, 2), np.int64)], [np.empty(0)]
            for lo in range(0, len(cands), VERIFY_PAIRS):  # bounds the per-pair temporaries
                pairs, jaccard = self._verify(cands[lo : lo + VERIFY_PAIRS])
                found.append(pairs)
                found_jaccard.append(jaccard)
            del cands
            self.pairs_ = np.concatenate(found)
            jac_ok = np.concatenate(found_jaccard)
        with self._stage("cluster"):
            labels = self._cluster(n, jac_ok)
            self.keepers_ = choose_keepers(labels, self.set_sizes_)
            self.similarity_ = np.ones(n)
            dup = np.flatnonzero(self.keepers_ != np.arange(n))
            # Most documents were verified against their keeper already.
            known = _lookup_pairs(
                self.pairs_,
                np.minimum(dup, self.keepers_[dup]),
                np.maximum(dup, self.keepers_[dup]),
                n,
            )
            self.similarity_[dup[known >= 0]] = jac_ok[known[known >= 0]]
            dup = dup[known < 0]
            if len(dup):
                # Keeper first, the pairs of a keeper together: its set is read and put in
                # the table once for all of its members.
                dup = dup[np.argsort(self.keepers_[dup], kind="stable")]
                to_keeper = self._similarity(np.stack([self.keepers_[dup], dup], axis=1))
                self.similarity_[dup] = to_keeper.jaccard
        self._clusters: dict[str, str] | None = None  # built on first use, as is the index
        self._index: dict[str, int] | None = None
        del self._content_fp

    def _batches(self, docs: Any) -> Iterator[tuple[list[str], list[str | None], list[str]]]:
        """``(ids, sites, texts)`` of batches of about ``BATCH_CHARS`` characters."""
        records = as_records(
            docs, text_field=self.text_field, id_field=self.id_field, site_field=self.site_field
        )
        for chunk in batched(records, BATCH_CHARS):
            yield [r.id for r in chunk], [r.site for r in chunk], [r.text for r in chunk]

    def _common_keys(
        self,
        heavy: np.ndarray,
        distinct: np.ndarray,
        limit: np.ndarray,
        parts: PartitionSpools,
        masks: list[np.ndarray | None],
    ) -> tuple[np.ndarray, np.ndarray]:
        """The sorted site-common ``(site, shingle)`` keys, counted exactly for the keys of
        ``heavy`` buckets only, a partition of the key space at a time; and the documents
        whose sets hold one of them (sorted).

        ``parts`` holds the keys of the buckets ``masks[b]`` of each batch ``b``, set aside
        while shingling; the keys of heavy buckets a batch did not set aside are read back
        from the stored sets now. Keys of buckets set aside that did not become heavy are
        dropped (their bucket is below every site's limit, and so is each of them).
        """
        try:
            if not heavy.any():
                return np.empty(0, np.uint64), np.empty(0, np.int64)
            workers = self._workers()
            missing_of: dict[int, np.ndarray] = {}  # the masks are shared between batches
            rest = []
            for (lo, hi), mask in zip(self._store.spans(), masks, strict=True):
                if id(mask) not in missing_of:
                    missing_of[id(mask)] = heavy if mask is None else heavy & ~mask
                missing = missing_of[id(mask)]
                if missing.any():
                    rest.append((lo, hi, missing))

            def keyer(item: tuple[int, int, np.ndarray]) -> None:  # on the worker threads
                lo, hi, missing = item  # the reads run on the workers too
                sets = self._store.read_docs(lo, hi)
                parts.append(*_heavy_entries(sets, self.sites_[lo:hi], lo, missing))

            # Each thread appends its batches' keys itself (on one thread, the appends held
            # up the rest); the counting does not depend on the order they come back in.
            for _ in map_ordered(keyer, rest, workers):
                pass
            holds = np.zeros(len(distinct), dtype=bool)
            shift = np.uint64(64 - _BUCKET_BITS)

            def partition(span: tuple[int, int]) -> np.ndarray:  # on the worker threads
                keys, docs = parts.take(*span)
                sel = heavy[(keys >> shift).astype(np.intp)]
                keys, docs = keys[sel], docs[sel]
                common = common_keys(keys, docs, self.sites_, distinct, limit)
                holds[docs[is_member(keys, common)]] = True
                return common

            # Partitions are ranges of the key space in order: the keys come out sorted. Small
            # neighbours are counted together (a partition at a time, a small corpus spent
            # its time in the calls, not the counting); none is split.
            sizes = parts.sizes()
            spans = _spans(sizes, max(int(sizes.max()), _COUNT_ENTRIES))
            keys = np.concatenate([np.empty(0, np.uint64), *map_ordered(partition, spans, workers)])
            return keys, np.flatnonzero(holds)
        finally:
            parts.close()

    def _plausible(self, pairs: np.ndarray) -> np.ndarray:
        """False for candidates whose signatures put them far below every threshold.

        The exact check reads both sets back; most LSH candidates of a corpus that quotes
        itself share one paragraph and fail it. The least Jaccard that passes is known from
        the two set sizes (containment is a function of Jaccard and the sizes), and the
        signature estimate of a pair's Jaccard is off by more than ``_PLAUSIBLE_SD`` standard
        deviations (plus ``_PLAUSIBLE_SLACK``) so rarely that the clusters do not change.
        """
        keep = np.empty(len(pairs), dtype=bool)
        sizes = self.set_sizes_.astype(np.float64)

        def block(lo: int) -> np.ndarray:  # on the worker threads
            part = pairs[lo : lo + _PLAUSIBLE_BLOCK]
            a, b = part[:, 0], part[:, 1]
            if compiled.enabled():
                equal = compiled.pair_equal_slots(self.signatures_, part)
            else:
                equal = np.count_nonzero(self.signatures_[a] == self.signatures_[b], axis=1)
            est = equal / self.num_perm
            small = np.minimum(sizes[a], sizes[b])
            c = min(self.containment, 1.0) * small
            need_c = np.divide(c, sizes[a] + sizes[b] - c, out=np.ones(len(a)), where=c > 0)
            content = self._both_content(part)
            need = np.where(content, np.minimum(self.threshold, need_c), self.strict_threshold)
            if self.containment > 1:
                need = np.where(content, self.threshold, need)
            sd = np.sqrt(need * (1 - need) / self.num_perm)
            return est >= need - _PLAUSIBLE_SD * sd - _PLAUSIBLE_SLACK

        starts = range(0, len(pairs), _PLAUSIBLE_BLOCK)
        for lo, part in zip(starts, map_ordered(block, starts, self._workers()), strict=True):
            keep[lo : lo + len(part)] = part
        return keep

    def _verify(self, cands: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The candidates that pass the rules on their exact sets, with their Jaccard."""
        if not self.verify_all:
            cands = cands[self._plausible(cands)]
        sim = self._similarity(cands, early=True)
        jac, con = sim.jaccard, sim.containment  # exact for the pairs that pass
        both_content = self._both_content(cands)
        ok = np.where(
            both_content,
            (jac >= self.threshold) | (con >= self.containment),
            jac >= self.strict_threshold,
        )
        ok[ok] = self._numbers_agree(cands[ok])  # only pairs that pass so far
        self.n_verified_ += len(cands)
        return cands[ok], jac[ok]

    def _both_content(self, pairs: np.ndarray) -> np.ndarray:
        """True for pairs of two pages compared on their content (the other rule: whole pages)."""
        return self.content_mode_[pairs[:, 0]] & self.content_mode_[pairs[:, 1]]

    def _least_overlap(self, pairs: np.ndarray) -> np.ndarray:
        """Per pair, an intersection size below which it certainly fails every rule (a
        little under the least that passes, so rounding never cuts a pair that passes)."""
        both_content = self._both_content(pairs)
        a = self.set_sizes_[pairs[:, 0]].astype(np.float64)
        b = self.set_sizes_[pairs[:, 1]].astype(np.float64)
        # |A & B| / |A | B| >= t  <=>  |A & B| >= t (|A| + |B|) / (1 + t)
        least = np.where(
            both_content,
            self.threshold * (a + b) / (1 + self.threshold),
            self.strict_threshold * (a + b) / (1 + self.strict_threshold),
        )
        if self.containment <= 1:
            least = np.where(
                both_content, np.minimum(least, self.containment * np.minimum(a, b)), least
            )
        return np.maximum(np.floor(least * (1 - 1e-9)) - 1, 0).astype(np.int64)

    def _workers(self) -> int:
        return self.n_jobs if self.n_jobs and self.n_jobs > 0 else default_workers()

    def _bands(self) -> tuple[int, int]:
        """LSH bands and rows: for ``lsh_threshold`` when given; else, with the containment
        rule on, for a low Jaccard (containment pairs have one); else the longest bands that
        still miss a pair at ``threshold`` with probability below ``LSH_MISS``."""
        if self.lsh_threshold is not None:
            return optimal_params(self.lsh_threshold, self.num_perm)
        if self.containment <= 1:
            return optimal_params(min(self.threshold / 2, CONTAINMENT_LSH_THRESHOLD), self.num_perm)
        for rows in range(self.num_perm, 0, -1):
            bands = self.num_perm // rows
            if (1 - self.threshold**rows) ** bands <= LSH_MISS:
                return bands, rows
        return self.num_perm, 1

    @contextmanager
    def _stage(self, name: str) -> Iterator[None]:
        """Time a stage into ``timings_`` (seconds) and the debug log."""
        start, cpu = time.perf_counter(), time.process_time()
        yield
        seconds = time.perf_counter() - start
        self.timings_[name] = self.timings_.get(name, 0.0) + seconds
        log.debug(
            "neardup %s: %.2f s (CPU %.2f s), peak RSS %d MB",
            name,
            seconds,
            time.process_time() - cpu,
            _peak_rss() >> 20,
        )

    def _sketch_content(self, n: int, holders: np.ndarray, sign: Callable) -> None:
        """Signatures of the content sets (site-common shingles left out).

        Pages with content of their own are sketched on it, content-less pages on all their
        shingles (see the class docstring). A set without a common shingle is its own
        content set: its signature from the shingling pass stands, and only the sets of
        ``holders`` are read back (in blocks, on the worker threads) and sketched again. Each
        content set is written over the first entries of its stored set (the rest is not
        read again): verification, which reads a set back many times over, takes the first
        ``set_sizes_`` entries (looking up the common shingles at each read took a quarter
        of that stage at corpus scale).
        """
        full_size = self._store.sizes()
        self.set_sizes_ = full_size.copy()
        self.content_mode_ = self._content_mode(full_size, full_size)
        self.common_share_ = np.zeros(n)
        if not len(holders):
            return
        blocks = [holders[lo:hi] for lo, hi in _spans(full_size[holders], RESKETCH_BUDGET)]

        def resketch(docs: np.ndarray) -> None:  # on the worker threads, rows of their own
            full = self._store.gather(docs)
            is_common, n_common = self._common.members(full, self.sites_[docs])
            content_size = full_size[docs] - n_common
            mode = self._content_mode(content_size, full_size[docs])
            sets = _drop_common(full, is_common, mode)
            self._store.put(docs, sets)  # the content set first: verification reads it
            self.signatures_[docs] = sign(sets)
            self.content_mode_[docs] = mode
            self.set_sizes_[docs] = np.diff(sets.offsets)
            self.common_share_[docs] = 1.0 - content_size / np.maximum(full_size[docs], 1)
            self._content_fp[docs] = set_fingerprints(sets)

        for _ in map_ordered(resketch, blocks, self._workers()):
            pass

    def _content_mode(self, content_size: np.ndarray, full_size: np.ndarray) -> np.ndarray:
        """True for the pages with content of their own (sketched on their content set)."""
        return (content_size >= self.min_content) & (
            content_size >= self.min_content_share * full_size
        )

    def _content_sets(self, docs: np.ndarray) -> SetView:
        """The content sets of ``docs`` (sorted, distinct), read back from the store: the
        first entries of each stored set (see :meth:`_sketch_content`)."""
        return self._store.view(docs, self.set_sizes_[docs])

    def _similarity(
        self, pairs: np.ndarray, numbers: bool = False, early: bool = False
    ) -> PairSimilarity:
        """Exact similarity of ``pairs`` on the content sets (or the number sets), reading the
        sets of a bounded number of documents at a time. ``early``: a pair that cannot pass
        the rules is only known not to (see :meth:`_least_overlap`)."""
        pairs = np.asarray(pairs, dtype=np.int64).reshape(-1, 2)
        sizes = self._number_store.sizes() if numbers else self.set_sizes_
        read = self._number_store.view if numbers else self._content_sets
        inter = np.zeros(len(pairs), dtype=np.int64)
        spans = _spans(sizes[pairs[:, 0]] + sizes[pairs[:, 1]], VERIFY_BUDGET)

        def overlap(span: tuple[int, int]) -> np.ndarray:
            chunk = pairs[span[0] : span[1]]
            docs = sorted_unique(chunk)
            floor = self._least_overlap(chunk) if early else None
            return pair_similarity(read(docs), np.searchsorted(docs, chunk), floor).intersection

        # Chunks on the worker threads: reading back (a map of the file) and sorting hold no
        # lock, and results land by position, so the output does not depend on the workers.
        for (lo, hi), part in zip(spans, map_ordered(overlap, spans, self._workers()), strict=True):
            inter[lo:hi] = part
        return PairSimilarity(
            pairs=pairs,
            intersection=inter,
            size_a=sizes[pairs[:, 0]],
            size_b=sizes[pairs[:, 1]],
        )

    def _cluster(self, n: int, jaccard: np.ndarray) -> np.ndarray:
        """Cluster labels: connected components, guarded against chaining two articles."""
        if self.min_link <= 0 or len(self.pairs_) == 0:
            return components(n, self.pairs_)
        fp = self._content_fp
        # Best edges first; ties broken by content, not by input position.
        a, b = self.pairs_[:, 0], self.pairs_[:, 1]
        lo, hi = np.minimum(fp[a], fp[b]), np.maximum(fp[a], fp[b])
        rules = {"threshold": self.threshold, "containment": self.containment}
        if compiled.enabled():
            return self._guarded_in_parts(n, jaccard, lo, hi, rules)
        rank = best_first(jaccard, lo, hi, self._workers())
        order_of = np.empty(len(rank), dtype=np.int64)
        order_of[rank] = np.arange(len(rank))
        linked = signature_links(self.signatures_, self.set_sizes_, **rules)
        return guarded_components(
            n, self.pairs_, order_of, linked, min_link=self.min_link, member_key=fp
        )

    def _guarded_in_parts(
        self, n: int, jaccard: np.ndarray, lo: np.ndarray, hi: np.ndarray, rules: dict
    ) -> np.ndarray:
        """The compiled guarded clustering, the connected components of the pairs spread over
        the worker threads in parts: groups join only inside a component, and a component's
        pairs keep their best-first order without the others', so the labels are the same."""
        workers = self._workers()
        # Ranked once, on all the threads (most pairs may lie in one component, one part).
        order = best_first(jaccard, lo, hi, workers)
        # More parts than threads: a thread done with a small part takes the next.
        split = workers > 1 and len(self.pairs_) >= _SPLIT_PAIRS * n
        parts = component_parts(n, self.pairs_, _CLUSTER_PARTS * workers if split else 1)
        part_of = np.empty(len(self.pairs_), dtype=np.int64)
        place = np.empty(len(self.pairs_), dtype=np.int64)  # of each pair in its part
        for k, edges in enumerate(parts):
            part_of[edges] = k
            place[edges] = np.arange(len(edges))
        part_in_order = part_of[order]

        def cluster(k: int) -> np.ndarray:  # on the worker threads
            edges = parts[k]
            rank = place[order[part_in_order == k]]
            return compiled.guarded_components(
                self.pairs_[edges],
                rank,
                self.signatures_,
                self.set_sizes_,
                min_link=self.min_link,
                member_key=self._content_fp,
                # A part of most pairs (one component may hold them): judged on all threads.
                workers=workers if len(edges) * workers > len(self.pairs_) else 1,
                **rules,
            )

        alone = np.arange(n, dtype=np.int64)
        labels = alone.copy()
        for got in map_ordered(cluster, range(len(parts)), workers):
            moved = np.flatnonzero(got != alone)  # the documents of the part's groups
            labels[moved] = got[moved]
        return labels

    def _numbers_agree(self, pairs: np.ndarray) -> np.ndarray:
        """False for pairs that agree in words but not in figures (templated reports).

        Two weekly grain reports or earnings tables share every word but their numbers. When
        both documents hold ``min_numbers`` distinct numbers, at least ``numbers_share`` of the
        smaller set of numbers must stand in the other document too. Corrections (one figure
        changed), truncations and insertions keep most of their numbers.
        """
        if self.numbers_share <= 0 or len(pairs) == 0:
            return np.ones(len(pairs), dtype=bool)
        num = self._similarity(pairs, numbers=True)
        judged = np.minimum(num.size_a, num.size_b) >= self.min_numbers
        return ~judged | (num.containment >= self.numbers_share)

    # -- results -------------------------------------------------------------------------

    def is_duplicate(self) -> np.ndarray:
        """True for every document that is dropped in favour of its keeper."""
        return self.keepers_ != np.arange(len(self.keepers_))

    @property
    def clusters_(self) -> dict[str, str]:
        """The id of the document each document's cluster keeps, by id (built on first use:
        at a million documents the dict costs ~0.4 s that ``dedup clusters`` does not need)."""
        if self._clusters is None:
            ids = self.ids_
            self._clusters = dict(zip(ids, [ids[k] for k in self.keepers_.tolist()], strict=True))
        return self._clusters

    def cluster_rows(self) -> Iterator[dict[str, Any]]:
        """``{"id", "cluster", "similarity"}`` for every document, in input order."""
        ids = self.ids_
        # Python ints and floats, not numpy scalars: at a million rows the indexing showed.
        for doc_id, keeper, sim in zip(
            ids, self.keepers_.tolist(), self._rounded_similarity(), strict=True
        ):
            yield {"id": doc_id, "cluster": ids[keeper], "similarity": sim}

    def _rounded_similarity(self) -> list[float]:
        """Each document's similarity to its keeper, as the output gives it."""
        return [round(s, 4) for s in self.similarity_.tolist()]

    def cluster_columns(self) -> dict[str, list[bytes]]:
        """The rows of :meth:`cluster_rows` as JSON-encoded columns, for
        :meth:`dedup.io.writers.JsonlWriter.write_columns` (each id is encoded once; keepers,
        most of the rows, are their own cluster with similarity 1.0)."""
        ids = encode_values(self.ids_)
        dup = np.flatnonzero(self.is_duplicate())
        cluster = list(ids)
        for i, k in zip(dup.tolist(), self.keepers_[dup].tolist(), strict=True):
            cluster[i] = ids[k]
        similarity = [_ONE] * len(ids)
        other = np.flatnonzero(self.similarity_ != 1.0)
        rounded = [round(s, 4) for s in self.similarity_[other].tolist()]
        for i, value in zip(other.tolist(), encode_values(rounded), strict=True):
            similarity[i] = value
        return {"id": ids, "cluster": cluster, "similarity": similarity}

    def decide(self, record: Record) -> Drop | list[Removal]:
        if self._index is None:
            self._index = {doc_id: i for i, doc_id in enumerate(self.ids_)}
        i = self._index[record.id]
        k = int(self.keepers_[i])
        if k == i:
            return []
        return Drop(
            reason=REASON,
            keeper=self.ids_[k],
            similarity=round(float(self.similarity_[i]), 4),
        )


def _peak_rss() -> int:
    """Largest resident set of this process so far, in bytes (0 where unknown)."""
    try:
        import resource
    except ImportError:  # not on Unix
        return 0
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def _shingle_part(
    item: tuple[list[str] | ByteBatch, np.ndarray, int],
    *,
    ngram: int,
    kind: str,
    sign: Callable,
    watch: _Watch,
    parts: PartitionSpools,
) -> tuple:
    """One batch of documents (runs on the worker threads): unique shingles, numbers, set
    fingerprints, how many of the (site, shingle) keys fall in each bucket, signatures, and
    the buckets whose keys went to ``parts`` (those ``watch`` has in view)."""
    texts, site, lo = item
    full, numbers = shingle_sets(texts, ngram=ngram, kind=kind)
    shift = np.uint64(64 - _BUCKET_BITS)
    if compiled.enabled():
        salts = owner_salts(site)
        counts = compiled.bucket_counts(full.hashes, full.offsets, salts, shift, 1 << _BUCKET_BITS)
    else:
        keys, _ = site_keys(full, site)
        counts = np.bincount((keys >> shift).astype(np.intp), minlength=1 << _BUCKET_BITS)
    mask = watch.mask  # read once: the appending thread replaces it
    if mask is not None:
        parts.append(*_heavy_entries(full, site, lo, mask))
    return full, numbers, set_fingerprints(full), counts, sign(full), mask


class _Watch:
    """The buckets of the (site, shingle) key space whose keys the workers set aside while
    shingling: those with at least half the least site limit so far (a bucket that ends
    heavy has usually crossed that early, so few of its keys need reading back).

    Updated by the appending thread when the corpus has grown by a tenth since the last
    update, so that only a few dozen masks exist at any corpus size.
    """

    def __init__(self, step: NearDuplicates) -> None:
        self.step = step
        self.mask: np.ndarray | None = None
        self._pages = np.zeros(0, dtype=np.int64)  # per site code
        self._counted = 0  # documents in self._pages
        self._next = _WATCH_FROM

    def update(self, buckets: np.ndarray, sites: list[int], codes: dict) -> None:
        """Recompute the mask from the bucket counts and site sizes of the batches so far."""
        n = len(sites)
        if n < self._next:
            return
        new = np.asarray(sites[self._counted :], dtype=np.int64)
        grown = np.bincount(new, minlength=len(codes))
        grown[: len(self._pages)] += self._pages
        self._pages, self._counted = grown, n
        self._next = n + max(n // 10, 1)
        limit = limits_of(
            self._pages,
            fraction=self.step.common_fraction,
            min_docs=self.step.common_min_docs,
            unknown_site=codes.get(None),
        )
        least = int(limit[self._pages > 0].min())
        mask = buckets >= max(1, least // 2)
        if self.mask is None or not np.array_equal(mask, self.mask):
            self.mask = mask


def _sign(sets: ShingleBatch, *, num_perm: int, seed: int, sketch: str) -> np.ndarray:
    """The ``(n_docs, num_perm)`` signatures of ``sets``, ``SIGN_BLOCK`` documents at a time."""
    out = np.empty((sets.n_docs, num_perm), dtype=np.uint32)
    for lo in range(0, sets.n_docs, SIGN_BLOCK):
        part = _slice(sets, lo, min(lo + SIGN_BLOCK, sets.n_docs))
        if sketch == "oph":
            out[lo : lo + part.n_docs] = oph_signatures(part, num_perm, seed)
        else:
            out[lo : lo + part.n_docs] = signatures(part, permutations(num_perm, seed))
    return out


def _heavy_entries(sets: ShingleBatch, site: np.ndarray, lo: int, heavy: np.ndarray) -> tuple:
    """The (site, shingle) keys of the documents ``lo, lo + 1, ...`` of ``sets`` that fall in
    ``heavy`` buckets, with their documents, ordered by partition of the key space, and the
    count per partition."""
    if compiled.enabled():
        return compiled.heavy_keys(
            sets.hashes,
            sets.offsets,
            owner_salts(site),
            heavy,
            64 - _BUCKET_BITS,
            64 - _PARTITION_BITS,
            lo,
        )
    keys, doc = site_keys(sets, site)
    doc += lo
    sel = heavy[(keys >> np.uint64(64 - _BUCKET_BITS)).astype(np.intp)]
    keys, doc = keys[sel], doc[sel]
    part = (keys >> np.uint64(64 - _PARTITION_BITS)).astype(np.int16)
    order = np.argsort(part, kind="stable")
    counts = np.bincount(part, minlength=_PARTITIONS)
    return keys[order], doc[order].astype(np.int32), counts


def _spans(cost: np.ndarray, budget: int) -> list[tuple[int, int]]:
    """Consecutive ``(lo, hi)`` spans of items whose ``cost`` adds up to about ``budget``
    each (at least one item per span)."""
    total = np.cumsum(cost)
    spans = []
    lo = 0
    while lo < len(total):
        base = total[lo - 1] if lo else 0
        hi = max(lo + 1, int(np.searchsorted(total, base + budget, side="right")))
        spans.append((lo, hi))
        lo = hi
    return spans


def _lookup_pairs(pairs: np.ndarray, a: np.ndarray, b: np.ndarray, n: int) -> np.ndarray:
    """Row of ``(a[k], b[k])`` in ``pairs`` (rows sorted, ``a < b``), or -1 where absent."""
    codes = pairs[:, 0] * n + pairs[:, 1]
    want = a * n + b
    # Searched in order: each search starts where the last one ended (5x faster at 1M).
    order = np.argsort(want, kind="stable")
    at = np.empty(len(want), dtype=np.int64)
    at[order] = np.searchsorted(codes, want[order])
    found = at < len(codes)
    found[found] = codes[at[found]] == want[found]
    return np.where(found, at, -1)


def _drop_common(full: ShingleBatch, is_common: np.ndarray, mode: np.ndarray) -> ShingleBatch:
    """The content sets: the common entries left out of the documents in content ``mode``."""
    if compiled.enabled():
        return ShingleBatch(*compiled.drop_marked(full.hashes, full.offsets, is_common, mode))
    return full.select(~(is_common & np.repeat(mode, np.diff(full.offsets))))


def _slice(batch: ShingleBatch, lo: int, hi: int) -> ShingleBatch:
    offs = batch.offsets[lo : hi + 1]
    return ShingleBatch(batch.hashes[offs[0] : offs[-1]], offs - offs[0])
