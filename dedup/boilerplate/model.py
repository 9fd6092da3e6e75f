"""The boilerplate classifier: two tree ensembles and a word lexicon, saved as one JSON file.

Pass 1 scores every block from its features (:func:`~dedup.boilerplate.features.block_features`);
pass 2 scores it again with its neighbours' pass-1 scores added, since boilerplate comes in
runs (a menu, a footer, the comments after an article). The shipped model lives beside this
module (``model.json``); ``dedup train-boilerplate`` writes a new one from gold pages.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from dedup.boilerplate.features import CONTEXT_NAMES, NAMES, context_features
from dedup.boilerplate.trees import TreeEnsemble
from dedup.errors import ConfigError

DEFAULT_MODEL = Path(__file__).with_name("model.json")
FORMAT = 1


@dataclass(frozen=True)
class BoilerplateModel:
    """Block scores in [0, 1] (1: boilerplate) and the score above which a block goes."""

    first: TreeEnsemble
    second: TreeEnsemble | None
    lexicon: dict[str, float]
    threshold: float
    info: dict[str, Any]

    def score(self, x: np.ndarray, weight: np.ndarray) -> np.ndarray:
        """Scores of one page's blocks from their features ``x`` and token counts ``weight``."""
        if len(x) == 0:
            return np.zeros(0)
        p = self.first.predict_proba(x)
        if self.second is None:
            return p
        return self.second.predict_proba(np.column_stack([x, context_features(p, weight)]))

    def to_dict(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "threshold": self.threshold,
            "info": self.info,
            "lexicon": self.lexicon,
            "first": self.first.to_dict(),
            "second": None if self.second is None else self.second.to_dict(),
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), separators=(",", ":"))

    @classmethod
    def load(cls, path: str | Path | None = None) -> BoilerplateModel:
        """Read a model file (default: the shipped one), checking it fits this version."""
        path = Path(path) if path is not None else DEFAULT_MODEL
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise ConfigError(f"{path}: boilerplate model not found") from None
        except (json.JSONDecodeError, UnicodeDecodeError) as e:
            raise ConfigError(f"{path}: not a boilerplate model file ({e})") from None
        if data.get("format") != FORMAT:
            raise ConfigError(f"{path}: model format {data.get('format')}, expected {FORMAT}")
        first = TreeEnsemble.from_dict(data["first"])
        second = None if data["second"] is None else TreeEnsemble.from_dict(data["second"])
        if first.features != NAMES or (
            second is not None and second.features != NAMES + CONTEXT_NAMES
        ):
            raise ConfigError(f"{path}: the model's features differ from this version's")
        return cls(
            first=first,
            second=second,
            lexicon={str(k): float(v) for k, v in data["lexicon"].items()},
            threshold=float(data["threshold"]),
            info=dict(data.get("info", {})),
        )
