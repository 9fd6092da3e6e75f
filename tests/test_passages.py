import doctest
import json
import re

import numpy as np
import pytest
from conftest import read_jsonl
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from dedup import STEPS, Cleaner, ConfigError, Record
from dedup.audit import rebuild_text
from dedup.clean import apply_removals
from dedup.cli import app
from dedup.steps import passages as passages_module
from dedup.steps.passages import (
    DEFAULT_MIN_TOKENS,
    REASON,
    RepeatedPassages,
    SharedPassages,
    find_repeats,
    repeated_runs,
)
from dedup.text.wordspans import word_spans

HEADINGS = [
    "Pentagon seems resigned to the reduction",
    "Iraqi parliament voted for all foreign troops to leave",
    "US helped defeat the Islamic State ISIS",
]
BODY = [
    "Some time ago the Iraqi parliament voted for all foreign troops to be withdrawn.",
    "The US at the time threatened Iraq with sanctions if it were forced to withdraw.",
    "However, Iraq now has a pro-US premier, and no longer is pushing for an immediate pullout "
    "nor is the US threatening Iraq.",
    "However, Trump may feel that a reduction in troops will help him win the November election.",
    "At the same time he is leaving a substantial number there indicating he still supports "
    "keeping a presence in Iraq.",
    "With the help of the US Iraqi forces including militias have mainly defeated ISIS.",
    "However, the US wants to keep some troops in Iraq to counter Iranian influence.",
    "Iran-supported militia have launched attacks on US forces in Iraq.",
    "ISIS is now so weak that Iraqi forces are capable of coping with any terrorist activity by "
    "the group.",
    "The US invaded Iraq back in 2003 but left in 2011, only to return in 20014 after the "
    "Islamic State seized large areas of the country.",
    "In the past the Pentagon has resisted any major troop cuts but this time seems resigned to "
    "the reduction.",
    "In recognition of the great progress the Iraqi forces have made",
]
WORDS = re.compile(r"\w+")


def words(n: int, prefix: str = "w") -> list[str]:
    """``n`` distinct words: text without any natural repeat."""
    return [f"{prefix}{i}x" for i in range(n)]


def check_removals(text: str, removals) -> None:
    """The invariants every result holds."""
    pos = 0
    for r in removals:
        assert pos <= r.start < r.end <= len(text)
        assert r.text == text[r.start : r.end]
        assert r.reason == REASON
        pos = r.end
    cleaned = apply_removals(text, removals)
    assert rebuild_text(cleaned, [r.to_dict() for r in removals]) == text
    for r in removals:
        ks, ke = r.evidence["kept_start"], r.evidence["kept_end"]
        if "kept_id" not in r.evidence:
            assert 0 <= ks < ke <= r.start  # the kept occurrence comes first ...
        for other in removals:  # ... and nothing of it is removed
            assert other.end <= ks or other.start >= ke
        assert 0 < r.evidence["similarity"] <= 1


# -- the seed documents -----------------------------------------------------------------------


def test_seed_000_keeps_every_sentence_and_heading_once(seed_texts):
    text = seed_texts["000"]
    removals = RepeatedPassages().fit([]).decide(Record(id="000", text=text))
    check_removals(text, removals)
    cleaned = apply_removals(text, removals)
    for piece in HEADINGS + BODY:
        assert text.count(piece) >= 1
        assert cleaned.count(piece) == 1, piece
    # The second copy is gone as one passage; what comes after it is not this step's job.
    assert len(removals) == 1
    assert removals[0].text.startswith("Some time ago")
    assert removals[0].text.endswith("large areas of the country.")
    assert cleaned.startswith("By By Ken Hanly 1 hour ago in Politics")
    assert 'the month of September." More about US Iraq relations' in cleaned
    kept = text[removals[0].evidence["kept_start"] : removals[0].evidence["kept_end"]]
    assert kept.startswith("Some time ago") and "US helped defeat" in kept


def test_seed_002_is_unchanged(seed_texts):
    assert find_repeats(seed_texts["002"]) == []


def test_seeds_share_the_quote_which_is_reported_not_removed(seed_texts):
    docs = [{"id": "000", "text": seed_texts["000"]}, {"id": "002", "text": seed_texts["002"]}]
    shared = SharedPassages().fit(docs)
    groups = list(shared.groups())
    assert len(groups) == 1
    first, second = groups[0]
    assert (first["id"], second["id"]) == ("000", "002")
    for occurrence in groups[0]:
        quote = seed_texts[occurrence["id"]][occurrence["start"] : occurrence["end"]]
        assert "In recognition of the great progress" in quote
        assert "during the month of September." in quote
    assert second["similarity"] == 1.0
    # Off by default; with cross_document the later copy goes.
    plain = Cleaner(steps=["passages"]).fit_transform(docs)
    assert plain[1].text == seed_texts["002"]
    cross = RepeatedPassages(cross_document=True).fit(docs)
    removed = cross.decide(Record(id="002", text=seed_texts["002"]))
    check_removals(seed_texts["002"], removed)
    assert len(removed) == 1 and removed[0].evidence["kept_id"] == "000"
    assert removed[0].text.startswith('"In recognition of the great progress')
    assert all("kept_id" not in r.evidence for r in cross.decide(Record("000", docs[0]["text"])))
    through_cleaner = Cleaner(
        steps=["passages"], params={"passages": {"cross_document": True}}
    ).fit_transform(docs)
    assert [len(r.removals) for r in through_cleaner] == [1, 1]
    assert "In recognition" not in through_cleaner[1].text


def test_shared_passages_edited_quote_and_nothing_shared(seed_texts):
    quote = (
        "In recognition of the great progress the Iraqi forces have made and in consultation "
        "and coordination with the Government of Iraq and our coalition partners, the United "
        "States has decided to reduce our troop presence in Iraq from about 5,200 to 3,000."
    )
    edited = quote.replace("great", "huge").replace("partners", "allies")
    docs = [
        " ".join(words(30, "a")) + ". " + quote,
        " ".join(words(30, "b")) + ". " + " ".join(words(25, "c")) + ".",
        edited + " " + " ".join(words(30, "d")) + ".",
    ]
    shared = SharedPassages().fit(docs)
    [group] = list(shared.groups())
    assert [o["id"] for o in group] == ["0", "2"]
    assert 0.6 <= group[1]["similarity"] < 1.0
    assert docs[2][group[1]["start"] : group[1]["end"]] == edited
    [row] = list(shared.rows(docs))
    assert row["text"] == quote and row["documents"] == 2
    assert list(SharedPassages().fit([seed_texts["002"]]).groups()) == []
    assert list(SharedPassages().fit([]).rows([])) == []


# -- what is and is not a repeated passage ----------------------------------------------------


def test_glued_copy_on_one_line_is_removed_and_first_kept(seed_texts):
    paragraph = seed_texts["002"].split("\n\n")[0]
    text = paragraph + " Then it went on." + paragraph.replace(" ", "  ")
    removals = find_repeats(text)
    check_removals(text, removals)
    assert [r.text.strip() for r in removals] == [paragraph.replace(" ", "  ")]
    assert apply_removals(text, removals) == paragraph + " Then it went on."


def test_a_copy_ninety_percent_the_same_is_removed(seed_texts):
    paragraph = seed_texts["002"].split("\n\n")[5]  # 79 words
    tokens = paragraph.split(" ")
    edited = [("CHANGED" if i % 10 == 5 else t) for i, t in enumerate(tokens)]
    copy = " ".join(edited)
    text = paragraph + "\n" + copy + "\nThe end."
    removals = find_repeats(text)
    check_removals(text, removals)
    assert [r.text.strip() for r in removals] == [copy]
    assert 0.85 <= removals[0].evidence["similarity"] < 0.95
    # The threshold is an option: demanding more keeps it (no exact stretch is long enough).
    assert find_repeats(text, threshold=0.95) == []


def test_recurring_short_phrases_are_never_removed(seed_texts):
    phrases = ["US troops in Iraq", "Donald Trump", "no no", "the United States has decided"]
    text = seed_texts["002"]
    for i, phrase in enumerate(phrases * 5):
        before, after = " ".join(words(6, f"b{i}_")), " ".join(words(4, f"a{i}_"))
        text += f" {before} {phrase} {after}, {phrase}."
    assert find_repeats(text) == []


@pytest.mark.parametrize("n", [DEFAULT_MIN_TOKENS - 1, DEFAULT_MIN_TOKENS])
def test_min_tokens_boundary(n):
    passage = " ".join(words(n, "p")) + "."
    text = " ".join(words(30, "a")) + ". " + passage + " " + " ".join(words(30, "b")) + ". "
    text += passage + " The end."
    removals = find_repeats(text)
    assert [r.text.strip() for r in removals] == ([passage] if n >= DEFAULT_MIN_TOKENS else [])


def test_numbers_do_not_count_towards_the_length():
    row = "rate 1,000,000 of 2,000,000 or 3.000.000 and 4 5 6 7 8 9 10 11 12 13 14 15 16."
    text = f"{row} {' '.join(words(40))}. {row} The end."
    assert find_repeats(text) == []


def test_three_copies_all_point_to_the_first():
    passage = " ".join(words(25, "p")) + "."
    filler = [" ".join(words(20, f"f{i}")) + "." for i in range(3)]
    text = " ".join([passage, filler[0], passage, filler[1], passage, filler[2]])
    removals = find_repeats(text)
    check_removals(text, removals)
    assert len(removals) == 2
    first = text.index(passage)
    assert all(r.evidence["kept_start"] == first for r in removals)
    assert apply_removals(text, removals).count(passage) == 1


def test_a_copy_with_its_headings_missing_stays_one_passage():
    sentences = [" ".join(words(12, f"s{i}")) + "." for i in range(6)]
    first = " ".join(
        [sentences[0], "A heading here", sentences[1], sentences[2], "Another heading"]
        + sentences[3:]
    )
    copy = "".join(sentences)  # glued, no headings
    text = first + copy
    removals = find_repeats(text)
    check_removals(text, removals)
    assert [r.text for r in removals] == [copy]


def test_periodic_text_keeps_its_first_period():
    text = "ha " * 200
    removals = find_repeats(text)
    check_removals(text, removals)
    assert WORDS.findall(apply_removals(text, removals)) == ["ha"] * 6


def test_large_one_line_document_with_an_edited_copy():
    rng = np.random.default_rng(0)
    vocab = np.array(words(5000, "v"))
    body = " ".join(rng.choice(vocab, 100_000))
    tokens = body.split(" ")
    copy = " ".join(t if i % 25 else "EDIT" for i, t in enumerate(tokens))
    text = body + ". " + copy
    removals = find_repeats(text)
    check_removals(text, removals)
    removed = sum(r.end - r.start for r in removals)
    assert removed >= 0.99 * len(copy)
    assert removals[0].start >= len(body)


# -- API: registry, cleaner, parameters -------------------------------------------------------


def test_registry_and_cleaner(seed_texts):
    assert STEPS["passages"] is RepeatedPassages
    results = Cleaner(steps=["passages"]).fit_transform(
        [{"id": k, "text": v} for k, v in seed_texts.items()]
    )
    assert [len(r.removals) for r in results] == [1, 0]
    assert results[0].removals[0].reason == "repeated passage"
    audit = results[0].audit()
    assert audit["removals"][0]["evidence"]["similarity"] > 0.9


def test_step_and_function_agree(seed_texts):
    step = RepeatedPassages(min_tokens=20, ngram=7).fit(["anything"])
    text = seed_texts["000"]
    assert step.decide(Record("x", text)) == find_repeats(text, min_tokens=20, ngram=7)
    assert step.get_params()["min_tokens"] == 20


@pytest.mark.parametrize(
    "params",
    [
        {"threshold": 0},
        {"threshold": 1.5},
        {"min_tokens": 3},
        {"ngram": 0},
        {"max_gap": -1},
    ],
)
def test_bad_parameters_are_refused_in_fit(params):
    step = RepeatedPassages(**params)  # __init__ only stores
    with pytest.raises(ConfigError):
        step.fit([])


def test_bad_cross_parameters_are_refused():
    with pytest.raises(ConfigError):
        SharedPassages(threshold=0).fit(["a"])
    with pytest.raises(ConfigError):
        RepeatedPassages(cross_document=True, cross_ngram=20).fit(["a"])


def test_decide_before_fit_is_an_error():
    with pytest.raises(ConfigError, match="not fitted"):
        RepeatedPassages().decide(Record("a", "text"))


def test_docstring_examples():
    assert doctest.testmod(passages_module).failed == 0


# -- properties -------------------------------------------------------------------------------

SEPARATORS = st.sampled_from([" ", "", ". ", ".", "\n", ", ", '."', "  \n "])


@st.composite
def documents(draw):
    """Texts made of fresh word runs and (possibly edited) copies of earlier stretches."""
    pieces: list[str] = []
    fresh = 0
    for _ in range(draw(st.integers(1, 8))):
        if pieces and draw(st.booleans()):
            source = " ".join(pieces).split()
            lo = draw(st.integers(0, len(source) - 1))
            hi = draw(st.integers(lo + 1, len(source)))
            chunk = source[lo:hi]
            for i in draw(st.lists(st.integers(0, len(chunk) - 1), max_size=3)):
                chunk[i] = "edit"
            pieces.append(" ".join(chunk))
        else:
            n = draw(st.integers(1, 40))
            pieces.append(" ".join(f"t{fresh + i}x" for i in range(n)))
            fresh += n
    seps = draw(st.lists(SEPARATORS, min_size=len(pieces), max_size=len(pieces)))
    return "".join(p + s for p, s in zip(pieces, seps, strict=True))


@settings(max_examples=150, deadline=None)
@given(documents(), st.integers(1, 8), st.integers(8, 30), st.floats(0.5, 1.0))
def test_invariants_hold_on_any_document(text, ngram, min_tokens, threshold):
    removals = find_repeats(
        text, ngram=ngram, min_tokens=max(min_tokens, ngram), threshold=threshold
    )
    check_removals(text, removals)


@settings(max_examples=50, deadline=None)
@given(st.text(alphabet='ab cD.\n"é', max_size=300))
def test_invariants_hold_on_arbitrary_text(text):
    removals = find_repeats(text, ngram=2, min_tokens=2)
    check_removals(text, removals)


@settings(max_examples=50, deadline=None)
@given(st.integers(1, 300), SEPARATORS)
def test_a_document_without_repeats_loses_nothing(n, sep):
    text = sep.join(words(n))
    assert find_repeats(text, ngram=1, min_tokens=1) == []


@settings(max_examples=50, deadline=None)
@given(st.integers(DEFAULT_MIN_TOKENS, 200), SEPARATORS.filter(bool), SEPARATORS.filter(bool))
def test_a_doubled_text_loses_exactly_its_second_copy(n, inner, glue):
    body = inner.join(words(n))
    text = body + glue + body
    removals = find_repeats(text)
    check_removals(text, removals)
    assert WORDS.findall(apply_removals(text, removals)) == WORDS.findall(body)


# -- tokens with character offsets ------------------------------------------------------------


def test_word_spans_offsets_case_and_glue():
    texts = ['September."Some time IraqThe café ÉTÉ été', "", "x\u0130y naïve"]
    spans = word_spans(texts)
    got = [
        [t[a:b] for a, b in zip(s.starts, s.ends, strict=True)]
        for t, s in ((t, spans.of(i)) for i, t in enumerate(texts))
    ]
    assert got == [
        ["September", "Some", "time", "Iraq", "The", "café", "ÉTÉ", "été"],
        [],
        ["x\u0130y", "naïve"],
    ]
    first = spans.of(0).hashes
    assert first[6] == first[7]  # case-folded beyond ASCII
    assert spans.of(2).numeric.tolist() == [False, False]


def test_repeated_runs_on_token_hashes():
    h = np.r_[np.arange(30), np.arange(100, 110), np.arange(30)].astype(np.uint64)
    runs = repeated_runs(h, ngram=5, min_tokens=20)
    assert runs.start.tolist() == [40] and runs.end.tolist() == [70]
    assert (runs.kept_start.tolist(), runs.kept_end.tolist()) == ([0], [30])


# -- command line -----------------------------------------------------------------------------


runner = CliRunner()


def test_cli_passages_reports_the_shared_quote(tmp_path, seed_texts):
    src = tmp_path / "seeds.jsonl"
    src.write_text(
        "".join(json.dumps({"id": k, "text": v}) + "\n" for k, v in seed_texts.items()),
        encoding="utf-8",
    )
    out = tmp_path / "shared.jsonl"
    result = runner.invoke(app, ["passages", str(src), "-o", str(out)])
    assert result.exit_code == 0, result.output
    rows = read_jsonl(out)
    assert len(rows) == 1
    row = rows[0]
    assert set(row) == {"passage", "documents", "occurrences", "text"}
    assert row["documents"] == 2 and [o["id"] for o in row["occurrences"]] == ["000", "002"]
    assert row["text"].startswith("In recognition of the great progress")
    # An existing output is refused, a bad option too: one line, exit code 2.
    again = runner.invoke(app, ["passages", str(src), "-o", str(out)])
    assert again.exit_code == 2 and "already exists" in again.output
    bad = runner.invoke(
        app, ["passages", str(src), "-o", str(tmp_path / "x.jsonl"), "--threshold", "2"]
    )
    assert bad.exit_code == 2 and "threshold" in bad.output


def test_cli_clean_with_the_passages_step(tmp_path, seed_texts):
    src = tmp_path / "seeds.jsonl"
    src.write_text(
        "".join(json.dumps({"id": k, "text": v}) + "\n" for k, v in seed_texts.items()),
        encoding="utf-8",
    )
    out = tmp_path / "clean.jsonl"
    result = runner.invoke(app, ["clean", str(src), "-o", str(out), "--steps", "passages", "-q"])
    assert result.exit_code == 0, result.output
    cleaned = {d["id"]: d["text"] for d in read_jsonl(out)}
    assert cleaned["002"] == seed_texts["002"]
    assert all(cleaned["000"].count(s) == 1 for s in BODY)
    audit = read_jsonl(tmp_path / "clean.removals.jsonl")
    assert [len(a["removals"]) for a in audit] == [1, 0]
    assert audit[0]["removals"][0]["reason"] == "repeated passage"
