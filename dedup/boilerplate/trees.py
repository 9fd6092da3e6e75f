"""A gradient-boosted tree ensemble as plain arrays: saved to JSON, evaluated with numpy.

The classifier is trained with scikit-learn's ``HistGradientBoostingClassifier`` and shipped
as its trees' node arrays, so loading it needs neither pickle nor a matching scikit-learn
version; the evaluation here gives the same scores as the trained model (tested).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np


@dataclass(frozen=True)
class TreeEnsemble:
    """Binary classifier: ``sigmoid(baseline + sum of the leaf values reached in each tree)``.

    Node arrays are ``(n_trees, max_nodes)``; a split sends a row left when
    ``x[feature] <= threshold`` (NaN goes where ``nan_left`` says); leaves have ``feature = -1``.
    """

    baseline: float
    feature: np.ndarray  # int32
    threshold: np.ndarray  # float64
    left: np.ndarray  # int32
    right: np.ndarray  # int32
    nan_left: np.ndarray  # bool
    value: np.ndarray  # float64
    depth: int
    features: list[str]

    @classmethod
    def from_sklearn(cls, model: Any, features: list[str]) -> TreeEnsemble:
        """Read the trees of a fitted binary ``HistGradientBoostingClassifier``."""
        trees = [p[0].nodes for p in model._predictors]
        width = max(len(t) for t in trees)
        shape = (len(trees), width)
        feature = np.full(shape, -1, dtype=np.int32)
        threshold = np.zeros(shape)
        left = np.zeros(shape, dtype=np.int32)
        right = np.zeros(shape, dtype=np.int32)
        nan_left = np.zeros(shape, dtype=bool)
        value = np.zeros(shape)
        depth = 0
        for i, nodes in enumerate(trees):
            n = len(nodes)
            leaf = nodes["is_leaf"].astype(bool)
            feature[i, :n] = np.where(leaf, -1, nodes["feature_idx"])
            threshold[i, :n] = nodes["num_threshold"]
            left[i, :n] = nodes["left"]
            right[i, :n] = nodes["right"]
            nan_left[i, :n] = nodes["missing_go_to_left"].astype(bool)
            value[i, :n] = np.where(leaf, nodes["value"], 0.0)
            depth = max(depth, int(nodes["depth"].max()))
        return cls(
            baseline=float(np.ravel(model._baseline_prediction)[0]),
            feature=feature,
            threshold=threshold,
            left=left,
            right=right,
            nan_left=nan_left,
            value=value,
            depth=depth,
            features=list(features),
        )

    def raw(self, x: np.ndarray) -> np.ndarray:
        """Sum of the leaf values reached, plus the baseline, per row of ``x``."""
        x = np.asarray(x, dtype=np.float64)
        n_rows, n_trees = len(x), len(self.feature)
        node = np.zeros((n_rows, n_trees), dtype=np.int32)
        trees = np.arange(n_trees)
        rows = np.arange(n_rows)[:, None]
        for _ in range(self.depth):
            feat = self.feature[trees, node]
            inner = feat >= 0
            if not inner.any():
                break
            v = x[rows, np.maximum(feat, 0)]
            go_left = np.where(
                np.isnan(v), self.nan_left[trees, node], v <= self.threshold[trees, node]
            )
            nxt = np.where(go_left, self.left[trees, node], self.right[trees, node])
            node = np.where(inner, nxt, node)
        return self.baseline + self.value[trees, node].sum(axis=1)

    def predict_proba(self, x: np.ndarray) -> np.ndarray:
        """Probability of the positive class (boilerplate) per row of ``x``."""
        return 1.0 / (1.0 + np.exp(-self.raw(x)))

    def to_dict(self) -> dict[str, Any]:
        """Plain lists, ready for ``json.dump``: only each tree's own nodes are kept."""
        trees = []
        for i in range(len(self.feature)):
            n = _tree_size(self.left[i], self.right[i])
            trees.append(
                {
                    "feature": self.feature[i, :n].tolist(),
                    "threshold": [float(t) for t in self.threshold[i, :n]],
                    "left": self.left[i, :n].tolist(),
                    "right": self.right[i, :n].tolist(),
                    "nan_left": self.nan_left[i, :n].astype(int).tolist(),
                    "value": [float(v) for v in self.value[i, :n]],
                }
            )
        return {
            "kind": "gradient boosted trees",
            "baseline": self.baseline,
            "depth": self.depth,
            "features": self.features,
            "trees": trees,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TreeEnsemble:
        trees = data["trees"]
        width = max(len(t["feature"]) for t in trees)
        shape = (len(trees), width)
        arrays = {
            "feature": np.full(shape, -1, dtype=np.int32),
            "threshold": np.zeros(shape),
            "left": np.zeros(shape, dtype=np.int32),
            "right": np.zeros(shape, dtype=np.int32),
            "nan_left": np.zeros(shape, dtype=bool),
            "value": np.zeros(shape),
        }
        for i, t in enumerate(trees):
            for name, arr in arrays.items():
                arr[i, : len(t[name])] = t[name]
        return cls(
            baseline=float(data["baseline"]),
            depth=int(data["depth"]),
            features=list(data["features"]),
            **arrays,
        )


def _tree_size(left: np.ndarray, right: np.ndarray) -> int:
    """Number of nodes of a tree stored from node 0 (the largest child index + 1)."""
    return int(max(left.max(), right.max(), 0)) + 1
