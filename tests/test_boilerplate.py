"""Site boilerplate: repetition counting, labels, the shipped model, and the seed documents
among sibling pages that wear their sites' templates around other real article texts."""

from __future__ import annotations

import json
import re
from collections import Counter

import numpy as np
import pytest
from conftest import read_jsonl, shared
from sklearn.ensemble import HistGradientBoostingClassifier

from dedup.audit import rebuild_text
from dedup.boilerplate.model import BoilerplateModel
from dedup.boilerplate.pages import split_page
from dedup.boilerplate.sites import SiteCounter
from dedup.boilerplate.train import block_labels
from dedup.boilerplate.trees import TreeEnsemble
from dedup.clean import Cleaner
from dedup.errors import ConfigError
from dedup.io.records import Record
from dedup.steps.boilerplate import REASON, SiteBoilerplate

# -- sibling pages built from real article texts --------------------------------------------


@pytest.fixture(scope="module")
def articles() -> list[tuple[str, list[str]]]:
    """(headline, paragraphs) of real news articles: the gold main texts of AEB pages."""
    rows = [r for r in read_jsonl(shared("boilerplate", "dev.jsonl")) if r["source"] == "aeb"]
    out = []
    for row in rows:
        paras = [p for p in row["gold"].split("\n") if len(p.split()) >= 12]
        title = row["text"].split("\n")[0]
        if len(paras) >= 6 and 4 <= len(title.split()) <= 16:
            out.append((title, paras[:8]))
    assert len(out) >= 20
    return out


def _capitalized(words: list[str], k: int) -> list[str]:
    seen = []
    for w in words:
        w = w.strip(".,;:'\"()")
        if w[:1].isupper() and len(w) > 3 and w not in seen:
            seen.append(w)
    return seen[:k]


def digital_journal_page(body: str, hours: int, section: str) -> tuple[str, str, str]:
    """A one-line page in seed 000's template: byline, body, tag and navigation footer."""
    tags = _capitalized(body.split(), 3)
    byline = f"By By Ken Hanly {hours} hour{'s' if hours > 1 else ''} ago in {section}"
    footer = f"More about {', '.join(tags)} More news from {' '.join(tags)} Latest News Top News"
    return byline, body, footer


def read_inserts_page(paras: list[str], headlines: list[str]) -> str:
    """Paragraphs with a ``Read: <headline>`` line after every second one (seed 002's site)."""
    out = []
    for i, p in enumerate(paras):
        out.append(p)
        if i % 2 == 0 and headlines:
            out.append(f"Read: {headlines.pop(0)}")
    return "\n\n".join(out)


def _removed_mask(text: str, removals) -> np.ndarray:
    mask = np.zeros(len(text), dtype=bool)
    for r in removals:
        assert text[r.start : r.end] == r.text
        mask[r.start : r.end] = True
    return mask


def _words_all_removed(text: str, mask: np.ndarray, start: int, end: int) -> bool:
    return all(
        mask[start + m.start() : start + m.end()].all()
        for m in re.finditer(r"\w+", text[start:end])
    )


def _words_none_removed(text: str, mask: np.ndarray, start: int, end: int) -> bool:
    return not any(
        mask[start + m.start() : start + m.end()].any()
        for m in re.finditer(r"\w+", text[start:end])
    )


def test_seed_000_loses_byline_and_footer_among_siblings(seed_texts, articles):
    text = seed_texts["000"]
    body_start = text.index("The US Central Command")
    footer_start = text.index("More about US Iraq relations")
    docs = [{"id": "000", "text": text, "site": "digitaljournal.com"}]
    for i, (_, paras) in enumerate(articles[:8]):
        byline, body, footer = digital_journal_page(" ".join(paras), 1 + i % 5, "Politics")
        docs.append(
            {"id": f"dj{i}", "text": f"{byline} {body} {footer}", "site": "digitaljournal.com"}
        )
    step = SiteBoilerplate().fit(docs)
    removals = step.decide(Record(id="000", text=text, site="digitaljournal.com"))
    assert removals and {r.reason for r in removals} == {REASON}
    mask = _removed_mask(text, removals)
    assert _words_all_removed(text, mask, 0, body_start), "byline kept"
    assert _words_all_removed(text, mask, footer_start, len(text)), "footer kept"
    assert _words_none_removed(text, mask, body_start, footer_start), "article text removed"
    # The siblings lose their own template and keep their bodies.
    for doc in docs[1:]:
        page = doc["text"]
        mask = _removed_mask(page, step.decide(Record(id=doc["id"], text=page, site=doc["site"])))
        lo, hi = page.index(" ", page.index(" ago in ") + 8), page.rindex(" More about ")
        assert _words_none_removed(page, mask, lo, hi)


def test_seed_002_loses_its_read_lines_among_siblings(seed_texts, articles):
    text = seed_texts["002"]
    headlines = [t for t, _ in articles]
    docs = [{"id": "002", "text": text, "site": "eurasiareview.com"}]
    for i, (_, paras) in enumerate(articles[8:16]):
        others = headlines[16 + 4 * i : 20 + 4 * i]
        docs.append(
            {"id": f"er{i}", "text": read_inserts_page(paras, others), "site": "eurasiareview.com"}
        )
    step = SiteBoilerplate().fit(docs)
    removals = step.decide(Record(id="002", text=text, site="eurasiareview.com"))
    mask = _removed_mask(text, removals)
    read_lines = [m.span() for m in re.finditer(r"^Read: .*$", text, flags=re.M)]
    assert len(read_lines) == 4
    for start, end in read_lines:
        assert _words_all_removed(text, mask, start, end)
    kept = np.ones(len(text), dtype=bool)
    for start, end in read_lines:
        kept[start:end] = False
    body_words = [m for m in re.finditer(r"\w+", text) if kept[m.start()]]
    assert not any(mask[m.start() : m.end()].any() for m in body_words), "article text removed"
    for r in removals:
        assert r.evidence["site_size"] == len(docs)
        assert 0.0 <= r.evidence["score"] <= 1.0


def test_seeds_alone_keep_their_article_text(seed_texts):
    """A page from a site seen once gets the classifier alone; it must not eat the article."""
    step = SiteBoilerplate().fit([seed_texts["000"], seed_texts["002"]])
    for text in seed_texts.values():
        removals = step.decide(Record(id="x", text=text))
        removed = sum(r.end - r.start for r in removals)
        assert removed < 0.05 * len(text)


# -- repetition counting --------------------------------------------------------------------


STORIES = [
    "The council voted on Monday to close the old bridge over the river",
    "Heavy snow closed schools across the northern counties this week",
    "A new library opened downtown with a collection of rare maps",
    "Farmers reported the best apple harvest in a decade",
    "The orchestra announced a season of works by living composers",
]


def test_fuzzy_blocks_count_together_and_numbers_are_folded():
    counter = SiteCounter()
    pages = [
        f"By Jane Roe {h} hours ago in Politics\n{story}\n"
        "Share this story on every network\nLatest News Top News"
        for h, story in zip([1, 2, 3, 5, 8], STORIES, strict=True)
    ]
    pages[0] = pages[0].replace("1 hours ago", "1 hour ago")
    for p in pages:
        counter.add("site", split_page(p))
    sites, corpus = counter.finish()
    index = sites["site"]
    assert index.n_pages == 5
    page = split_page(pages[0])
    keys = page.block_keys
    exact = index.blocks.lookup(keys, default=1)
    fuzzy = np.maximum(index.fuzzy.lookup(keys, default=1), exact)
    assert exact[0] == 1 and fuzzy[0] == 5  # "1 hour" vs "N hours": only a fuzzy match
    assert exact[2] == 5 and exact[3] == 5
    assert exact[1] == 1 and fuzzy[1] == 1  # the story line is each page's own
    assert corpus.lookup(keys, default=1).tolist() == [1, 1, 1, 1]  # one site only


def test_identical_pages_count_once():
    counter = SiteCounter()
    for _ in range(3):
        counter.add("s", split_page("Same article text here\nfooter line"))
    counter.add("s", split_page("Another article entirely\nfooter line"))
    index = counter.finish()[0]["s"]
    assert index.n_pages == 2
    assert index.blocks.lookup(split_page("x\nfooter line").block_keys).tolist()[1] == 2


def test_one_line_pages_are_split_into_sentences():
    page = split_page("First sentence here. Second one follows! A third?")
    assert page.one_line and page.n_blocks == 3
    page = split_page("line one\nline two. still two\nline three")
    assert not page.one_line and page.n_blocks == 3


# -- labels, trees, the model file ----------------------------------------------------------


def test_labels_consume_the_gold_words():
    page = split_page(
        "News\nSport\nThe council voted to close the old bridge on Monday.\n"
        "Residents said the bridge was unsafe.\nMore news\nThe council"
    )
    gold = (
        "The council voted to close the old bridge on Monday. Residents said the bridge was unsafe."
    )
    # "News", "More news" and the related "The council" reuse gold words but are not the article.
    assert block_labels(page, gold).tolist() == [1, 1, 0, 0, 1, 1]


def test_exported_trees_score_like_scikit_learn():
    rng = np.random.default_rng(0)
    x = rng.random((2000, 5))
    x[rng.random(x.shape) < 0.05] = np.nan
    y = (np.nan_to_num(x[:, 0]) + np.nan_to_num(x[:, 1]) * x[:, 2] > 0.6).astype(int)
    model = HistGradientBoostingClassifier(max_iter=30, max_depth=5, random_state=0).fit(x, y)
    trees = TreeEnsemble.from_sklearn(model, list("abcde"))
    again = TreeEnsemble.from_dict(json.loads(json.dumps(trees.to_dict())))
    np.testing.assert_allclose(again.predict_proba(x), model.predict_proba(x)[:, 1], atol=1e-9)
    whole = x[~np.isnan(x).any(axis=1)]  # no missing value: the path that skips NaN routing
    np.testing.assert_allclose(
        again.predict_proba(whole), model.predict_proba(whole)[:, 1], atol=1e-9
    )


def test_shipped_model_loads_and_bad_files_are_refused(tmp_path):
    model = BoilerplateModel.load()
    assert model.second is not None and 0 < model.threshold < 1 and len(model.lexicon) > 100
    with pytest.raises(ConfigError, match="not found"):
        BoilerplateModel.load(tmp_path / "missing.json")
    bad = tmp_path / "bad.json"
    bad.write_text("{not json", encoding="utf-8")
    with pytest.raises(ConfigError, match="not a boilerplate model"):
        BoilerplateModel.load(bad)
    data = model.to_dict()
    data["first"]["features"] = data["first"]["features"][:-1]
    bad.write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(ConfigError, match="features differ"):
        SiteBoilerplate(model=str(bad)).fit(["a page"])


def test_repetition_rule_alone(articles):
    pages = [f"{paras[0]}\n{paras[1]}\nSubscribe to our newsletter" for _, paras in articles[:6]]
    docs = [{"id": str(i), "text": p, "site": "s"} for i, p in enumerate(pages)]
    step = SiteBoilerplate(model=None).fit(docs)
    removals = step.decide(Record(id="0", text=pages[0], site="s"))
    assert [r.text.strip() for r in removals] == ["Subscribe to our newsletter"]
    assert removals[0].evidence == {"site_pages": 6, "site_size": 6, "repeated": "block"}
    # Below min_pages the rule does not apply; above 1 it is off.
    few = SiteBoilerplate(model=None).fit(docs[:3])
    assert few.decide(Record(id="0", text=pages[0], site="s")) == []
    off = SiteBoilerplate(model=None, fraction=1.5).fit(docs)
    assert off.decide(Record(id="0", text=pages[0], site="s")) == []


def test_cleaner_removes_boilerplate_and_rebuilds(seed_texts, articles):
    docs = [{"id": "002", "text": seed_texts["002"], "site": "e"}]
    headlines = [t for t, _ in articles]
    for i, (_, paras) in enumerate(articles[8:14]):
        docs.append(
            {
                "id": str(i),
                "text": read_inserts_page(paras, headlines[20 + 4 * i :][:4]),
                "site": "e",
            }
        )
    results = Cleaner(steps=["boilerplate"]).fit_transform(docs)
    first = results[0]
    assert "Read:" not in first.text
    assert "Booster for Trump's campaign" in first.text
    for result in results:
        record = [r.to_dict() for r in result.removals]
        assert rebuild_text(result.text, record) == result.record.text


def test_counts_spilled_by_site_equal_counts_in_memory(tmp_path):
    """Past the memory budget pages wait on disk grouped by site: same indexes, same
    removals, and the work directory is gone afterwards."""
    rows = read_jsonl(shared("boilerplate", "dev.jsonl"))
    pages = Counter(r["site"] for r in rows)
    rows = [r for r in rows if pages[r["site"]] >= 3][:400]
    docs = [{"id": r["id"], "text": r["text"], "site": r["site"]} for r in rows]
    whole = SiteBoilerplate(memory=None).fit(docs)
    spilled = SiteBoilerplate(memory=200_000, workdir=str(tmp_path)).fit(docs)
    assert spilled.spilled_ and not whole.spilled_
    assert list(tmp_path.iterdir()) == []
    assert set(whole.sites_) == set(spilled.sites_)
    assert sum(i.n_pages > 1 for i in whole.sites_.values()) >= 5
    for site, index in whole.sites_.items():
        other = spilled.sites_[site]
        assert index.n_pages == other.n_pages
        for part in ("ngrams", "blocks", "fuzzy", "prefixes"):
            a, b = getattr(index, part), getattr(other, part)
            assert np.array_equal(a.keys, b.keys) and np.array_equal(a.counts, b.counts)
    assert np.array_equal(whole.corpus_.keys, spilled.corpus_.keys)
    assert np.array_equal(whole.corpus_.counts, spilled.corpus_.counts)
    for r in rows[:60]:
        record = Record(id=r["id"], text=r["text"], site=r["site"])
        assert whole.decide(record) == spilled.decide(record)


def test_site_counter_spills_only_past_its_budget(seed_texts):
    words = (seed_texts["000"] + " " + seed_texts["002"]).split()
    stories = [" ".join(words[k * 40 : k * 40 + 40]) for k in range(5)]
    pages = [split_page(f"Menu Home News\n{story}\nShare this story") for story in stories]
    roomy, tight = SiteCounter(memory=None), SiteCounter(memory=1)
    for page in pages:
        roomy.add("a.example", page)
        tight.add("a.example", page)
    assert not roomy.spilled and tight.spilled
    assert roomy.finish()[0]["a.example"].n_pages == tight.finish()[0]["a.example"].n_pages == 5


def test_title_features_find_the_headline_the_first_line_carries():
    """A scraped page opens with its document title; the article's headline repeats it, the
    section kicker and the related headlines do not (a real dev page of theguardian.com)."""
    from dedup.boilerplate.features import NAMES, _title

    rows = read_jsonl(shared("boilerplate", "dev.jsonl"))
    row = next(r for r in rows if (r.get("url") or "").endswith("consumer-lending-soars-debt"))
    page = split_page(row["text"])
    lines = [row["text"][s:e] for s, e in page.blocks.tolist()]
    title = _title(page)
    assert lines[0].startswith("Consumer lending soars |")
    assert title[0].tolist() == [-1.0, -1.0]
    head = lines.index("Consumer lending soars")
    assert title[head].tolist() == [1.0, 1.0]
    assert title[lines.index("Mortgage lending figures"), 1] == 0.0
    assert title[head + 1].tolist() == [0.0, 0.0]  # the standfirst shares no title word
    assert {"title_cover", "title_run", "title_run@-1"} <= set(NAMES)


def test_copies_count_the_blocks_of_a_page_that_open_alike():
    """A teaser list repeats a related article's lead (a real dev page of latimes.com): each
    copy knows how many come before and after it; the article's own paragraphs have none."""
    from dedup.boilerplate.features import NAMES, _copies

    rows = read_jsonl(shared("boilerplate", "dev.jsonl"))
    row = next(r for r in rows if "Barbara Boxer is starting a super PAC" in r["text"])
    page = split_page(row["text"])
    lines = [row["text"][s:e] for s, e in page.blocks.tolist()]
    copies = np.expm1(_copies(page)).round().astype(int)
    gorsuch = [i for i, t in enumerate(lines) if t.startswith("President Trump nominated")]
    n = len(gorsuch)
    assert n == 4
    assert [tuple(copies[i]) for i in gorsuch] == [(k, n - 1 - k) for k in range(n)]
    # The caption and the caption with its credit open with the same words.
    boxer = [i for i, t in enumerate(lines) if t.startswith("Former U.S. Sen. Barbara Boxer")]
    assert len(boxer) == 2 and lines[boxer[1]].endswith("(Associated Press)")
    assert tuple(copies[boxer[1]]) == (1, 0)
    gold = set(row["gold"].split("\n"))
    article = [i for i, t in enumerate(lines) if t in gold and len(t.split()) >= 20]
    assert article and all(tuple(copies[i]) == (0, 0) for i in article)
    assert {"log_copies_before", "log_copies_after"} <= set(NAMES)


def test_comments_head_marks_the_blocks_below_it_not_a_menu_link():
    """A real dev page of theguardian.com: "Your comments" in the menu at the top marks
    nothing; the "Comments" head below the article marks every block after it."""
    from dedup.boilerplate.features import NAMES, block_features
    from dedup.boilerplate.sites import SiteCounter

    rows = read_jsonl(shared("boilerplate", "dev.jsonl"))
    row = next(
        r for r in rows if (r.get("url") or "").endswith("working-class-voters-america-republican")
    )
    page = split_page(row["text"])
    lines = [row["text"][s:e] for s, e in page.blocks.tolist()]
    counter = SiteCounter()
    counter.add("site", page)
    index, corpus = counter.finish()
    feats = block_features(page, index["site"], corpus, {})
    below = feats[:, NAMES.index("below_comments_head")]
    since = feats[:, NAMES.index("log_since_comments_head")]
    menu, head = lines.index("Your comments"), lines.index("Comments")
    assert menu < 20 < head
    assert not below[: head + 1].any()
    assert below[head + 1 :].all()
    # "1 comment, displaying first" right below is a head too: the count starts again there.
    assert lines[head + 1].startswith("1 comment, displaying first")
    assert np.allclose(np.expm1(since[head + 1 : head + 4]), [1, 1, 2])
    gold = set(row["gold"].split("\n"))
    article = [i for i, t in enumerate(lines) if t in gold and len(t.split()) >= 20]
    assert article and all(i < head for i in article)
