"""Train the boilerplate classifier on gold pages, and score it by site-grouped cross-validation.

Gold pages are dicts with ``text`` (the whole page, a block per line), ``gold`` (its main
text) and ``site``. A block's label comes from *consuming* the gold's word multiset: blocks
in order of their overlap with the gold (longest first on ties), each is content only when
most of its words are still unused. Comments, related headlines and menus reuse the
article's words, so "most of its words occur in the gold" would call them content.

Site statistics are computed over all pages given (they need no labels: that is what the
step does on a user's corpus); the lexicon and the trees only see the training pages.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.model_selection import GroupKFold

from dedup.boilerplate.features import (
    CONTEXT_NAMES,
    NAMES,
    block_features,
    context_features,
    refine_blocks,
)
from dedup.boilerplate.model import BoilerplateModel
from dedup.boilerplate.pages import Page, split_page
from dedup.boilerplate.rules import DEFAULT_FRACTION, DEFAULT_MIN_PAGES, repeated_blocks
from dedup.boilerplate.sites import Counts, SiteCounter, SiteIndex
from dedup.boilerplate.trees import TreeEnsemble

_WORD = re.compile(r"\w+")
LEXICON_MIN_PAGES = 10  # a word needs this many training pages to enter the lexicon
LEXICON_CLIP = 4.0
INNER_FOLDS = 3
DEFAULT_THRESHOLD = 0.5
TREE_PARAMS: dict[str, Any] = {
    "max_iter": 250,
    "learning_rate": 0.08,
    "max_depth": 7,
    "max_leaf_nodes": 31,
    "min_samples_leaf": 40,
    "l2_regularization": 1.0,
}


def words(text: str) -> list[str]:
    return _WORD.findall(text.lower())


def block_labels(page: Page, gold: str) -> np.ndarray:
    """1 for a boilerplate block, 0 for content, by consuming the gold's word multiset."""
    remaining = Counter(words(gold))
    bags = [Counter(words(page.text[s:e])) for s, e in page.blocks.tolist()]
    sizes = [sum(b.values()) for b in bags]
    overlap = [
        sum(min(c, remaining[w]) for w, c in bag.items()) / n if n else 0.0
        for bag, n in zip(bags, sizes, strict=True)
    ]
    labels = np.ones(page.n_blocks, dtype=np.int8)
    for b in sorted(range(page.n_blocks), key=lambda b: (-overlap[b], -sizes[b], b)):
        if not sizes[b]:
            continue
        bag = bags[b]
        free = sum(min(c, remaining[w]) for w, c in bag.items())
        if free > sizes[b] / 2:
            labels[b] = 0
            for w, c in bag.items():
                remaining[w] = max(remaining[w] - c, 0)
    return labels


@dataclass
class Corpus:
    """Pages of a gold set with their blocks, labels and site statistics."""

    pages: list[Page]
    labels: list[np.ndarray]
    sites: list[str | None]
    index: dict[str | None, SiteIndex]
    corpus: Counts

    @property
    def groups(self) -> np.ndarray:
        names = {s: i for i, s in enumerate(dict.fromkeys(self.sites))}
        return np.array([names[s] for s in self.sites])


def site_of(row: dict[str, Any]) -> str | None:
    from dedup.io.records import host_of

    site = row.get("site")
    return str(site) if site not in (None, "") else host_of(row.get("url"))


def prepare(rows: Sequence[dict[str, Any]]) -> Corpus:
    """Split every page, label its blocks from its gold and count its site's repeats."""
    counter = SiteCounter()
    pages, sites = [], []
    for row in rows:
        page = split_page(row["text"])
        site = site_of(row)
        counter.add(site, page)
        pages.append(page)
        sites.append(site)
    index, corpus = counter.finish()
    pages = [refine_blocks(p, index[s]) for p, s in zip(pages, sites, strict=True)]
    labels = [block_labels(p, row["gold"]) for p, row in zip(pages, rows, strict=True)]
    return Corpus(pages, labels, sites, index, corpus)


def learn_lexicon(pages: Sequence[Page], labels: Sequence[np.ndarray]) -> dict[str, float]:
    """Log-odds of a word being in boilerplate rather than content, over pages (not tokens)."""
    in_bp: Counter[str] = Counter()
    in_content: Counter[str] = Counter()
    for page, lab in zip(pages, labels, strict=True):
        o, w = page.block_tokens, page.words
        bp = {t for b in np.flatnonzero(lab == 1).tolist() for t in w[o[b] : o[b + 1]]}
        ct = {t for b in np.flatnonzero(lab == 0).tolist() for t in w[o[b] : o[b + 1]]}
        in_bp.update(bp)
        in_content.update(ct)
    n_bp = max(sum(in_bp.values()), 1)
    n_ct = max(sum(in_content.values()), 1)
    prior = np.log(n_bp / n_ct)
    lexicon = {}
    for word in in_bp.keys() | in_content.keys():
        b, c = in_bp[word], in_content[word]
        if b + c >= LEXICON_MIN_PAGES:
            value = float(np.log((b + 1) / (c + 1)) - prior)
            lexicon[word] = round(float(np.clip(value, -LEXICON_CLIP, LEXICON_CLIP)), 3)
    return dict(sorted(lexicon.items()))


def _weights(page: Page) -> np.ndarray:
    """Tokens per block: the word-level score weighs a block by its words."""
    return np.diff(page.block_tokens).astype(np.float64)


def page_features(
    data: Corpus, lexicon: dict[str, float], which: Sequence[int]
) -> list[np.ndarray]:
    return [
        block_features(data.pages[i], data.index[data.sites[i]], data.corpus, lexicon)
        for i in which
    ]


def _stack(
    feats: list[np.ndarray], data: Corpus, which: Sequence[int]
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    x = np.concatenate(feats) if feats else np.zeros((0, len(NAMES)), np.float32)
    y = np.concatenate([data.labels[i] for i in which])
    w = np.concatenate([_weights(data.pages[i]) for i in which])
    return x, y, np.maximum(w, 0.5)


def _fit_trees(
    x: np.ndarray, y: np.ndarray, w: np.ndarray, seed: int
) -> HistGradientBoostingClassifier:
    model = HistGradientBoostingClassifier(**TREE_PARAMS, random_state=seed, early_stopping=False)
    return model.fit(x, y, sample_weight=w)


def _context(
    first: TreeEnsemble, feats: list[np.ndarray], data: Corpus, which: Sequence[int]
) -> list[np.ndarray]:
    out = []
    for f, i in zip(feats, which, strict=True):
        p = first.predict_proba(f) if len(f) else np.zeros(0)
        out.append(np.column_stack([f, context_features(p, _weights(data.pages[i]))]))
    return out


def fit_model(
    data: Corpus, train: Sequence[int], *, seed: int = 0, second: bool = True
) -> BoilerplateModel:
    """Fit the lexicon and both passes on the pages ``train`` of ``data``.

    Pass 2 is trained on pass-1 scores that are themselves out-of-fold (site-grouped, inner
    folds), so it learns how far to trust pass 1 on pages pass 1 has not seen.
    """
    train = list(train)
    lexicon = learn_lexicon([data.pages[i] for i in train], [data.labels[i] for i in train])
    feats = page_features(data, lexicon, train)
    x, y, w = _stack(feats, data, train)
    first = TreeEnsemble.from_sklearn(_fit_trees(x, y, w, seed), NAMES)
    model2 = None
    if second:
        groups = data.groups[train]
        inner = np.zeros(len(train), dtype=int)
        for k, (_, test) in enumerate(GroupKFold(INNER_FOLDS).split(train, groups=groups)):
            inner[test] = k
        ctx: list[np.ndarray | None] = [None] * len(train)
        for k in range(INNER_FOLDS):
            fit_on = [j for j in range(len(train)) if inner[j] != k]
            xs, ys, ws = _stack([feats[j] for j in fit_on], data, [train[j] for j in fit_on])
            part = TreeEnsemble.from_sklearn(_fit_trees(xs, ys, ws, seed), NAMES)
            held = [j for j in range(len(train)) if inner[j] == k]
            for j, c in zip(
                held,
                _context(part, [feats[j] for j in held], data, [train[j] for j in held]),
                strict=True,
            ):
                ctx[j] = c
        x2 = np.concatenate([c for c in ctx if c is not None])
        model2 = TreeEnsemble.from_sklearn(_fit_trees(x2, y, w, seed), NAMES + CONTEXT_NAMES)
    return BoilerplateModel(
        first=first,
        second=model2,
        lexicon=lexicon,
        threshold=DEFAULT_THRESHOLD,
        info={"pages": len(train), "blocks": int(len(y)), "tree_params": TREE_PARAMS},
    )


def page_scores(model: BoilerplateModel, data: Corpus, which: Sequence[int]) -> list[np.ndarray]:
    """The model's block scores for the pages ``which`` of ``data``."""
    feats = page_features(data, model.lexicon, which)
    return [model.score(f, _weights(data.pages[i])) for f, i in zip(feats, which, strict=True)]


def kept_text(page: Page, remove: np.ndarray) -> str:
    """The page's kept blocks, one per line."""
    return "\n".join(
        page.text[s:e] for (s, e), r in zip(page.blocks.tolist(), remove, strict=True) if not r
    )


def cross_val_scores(
    rows: Sequence[dict[str, Any]], *, n_splits: int = 5, seed: int = 0, second: bool = True
) -> tuple[Corpus, list[np.ndarray]]:
    """Out-of-fold block scores of every page: each page is scored by a model trained on
    the other folds' sites only (folds are whole sites)."""
    data = prepare(rows)
    scores: list[np.ndarray | None] = [None] * len(rows)
    order = np.random.default_rng(seed).permutation(data.groups.max() + 1)
    groups = order[data.groups]
    for train, test in GroupKFold(n_splits).split(np.zeros(len(rows)), groups=groups):
        model = fit_model(data, train, seed=seed, second=second)
        for i, s in zip(test, page_scores(model, data, test), strict=True):
            scores[i] = s
    return data, [s for s in scores if s is not None]


def cross_val_clean(
    rows: Sequence[dict[str, Any]],
    *,
    n_splits: int = 5,
    seed: int = 0,
    threshold: float = DEFAULT_THRESHOLD,
    second: bool = True,
    repetition_only: bool = False,
    fraction: float = DEFAULT_FRACTION,
    min_pages: int = DEFAULT_MIN_PAGES,
) -> list[str]:
    """Each page's cleaned text by site-grouped cross-validation, in input order: the
    classifier's verdict (trained on the other folds' sites) or the repetition rule.

    ``repetition_only`` skips the classifier: the rule alone, which needs no training.
    """
    if repetition_only:
        data = prepare(rows)
        scores = [np.zeros(p.n_blocks) for p in data.pages]
    else:
        data, scores = cross_val_scores(rows, n_splits=n_splits, seed=seed, second=second)
    out = []
    for page, site, score in zip(data.pages, data.sites, scores, strict=True):
        ruled, _ = repeated_blocks(page, data.index[site], fraction=fraction, min_pages=min_pages)
        remove = ruled if repetition_only else ruled | (score >= threshold)
        out.append(kept_text(page, remove))
    return out


def train(
    rows: Sequence[dict[str, Any]], *, seed: int = 0, second: bool = True
) -> BoilerplateModel:
    """The model shipped with the package: trained on all of ``rows``."""
    data = prepare(rows)
    return fit_model(data, range(len(rows)), seed=seed, second=second)
