"""Shared fixtures: the project's sample corpus and the evaluation data beside the project."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from hypothesis import settings

from dedup.text.shingle import ShingleBatch

# No per-example deadline: the first example that reaches a compiled loop compiles it (a few
# seconds on a fresh install), and the machines the tests run on are shared and noisy.
settings.register_profile("project", deadline=None)
settings.load_profile("project")

ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = ROOT.parent / "shared" / "data"
SAMPLE = ROOT / "corpus" / "sample.jsonl"


def read_jsonl(path: Path) -> list[dict]:
    with open(path, encoding="utf-8") as fh:
        return [json.loads(line) for line in fh]


def assert_same_batch(a: ShingleBatch, b: ShingleBatch) -> None:
    """The same documents' sets, entry for entry."""
    assert a.hashes.dtype == b.hashes.dtype == np.uint64
    assert a.hashes.tolist() == b.hashes.tolist()
    assert a.offsets.tolist() == b.offsets.tolist()


def shared(*parts: str) -> Path:
    """A path under the shared evaluation data; skip the test when it is absent."""
    path = SHARED_DATA.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"shared evaluation data not available ({'/'.join(parts)} missing)")
    return path


@pytest.fixture(scope="session")
def sample_docs() -> list[dict]:
    return read_jsonl(SAMPLE)


@pytest.fixture(scope="session")
def seed_texts() -> dict[str, str]:
    folder = shared("seeds")
    return {p.name[:3]: p.read_text(encoding="utf-8") for p in sorted(folder.glob("*.txt"))}
