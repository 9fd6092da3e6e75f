"""A gradient-boosted tree ensemble as plain arrays: saved to JSON, evaluated with numpy.

The classifier is trained with scikit-learn's ``HistGradientBoostingClassifier`` and shipped
as its trees' node arrays, so loading it needs neither pickle nor a matching scikit-learn
version; the evaluation here gives the same scores as the trained model (tested).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
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

    @cached_property
    def _flat(self) -> tuple[np.ndarray, ...]:
        """The nodes of all trees in flat arrays, leaves made into splits that lead to
        themselves (threshold +inf, NaN to the left, both children the leaf), so every row
        takes ``depth`` steps with no test for having arrived."""
        n_trees, width = self.feature.shape
        base = (np.arange(n_trees, dtype=np.int64) * width)[:, None]
        leaf = self.feature < 0
        here = base + np.arange(width)
        left = np.where(leaf, here, self.left + base)
        right = np.where(leaf, here, self.right + base)
        child = np.stack([left.ravel(), right.ravel()], axis=1).ravel()  # left at 2n, right 2n+1
        feature = np.where(leaf, 0, self.feature).ravel().astype(np.int64)
        threshold = np.where(leaf, np.inf, self.threshold).ravel()
        nan_left = np.where(leaf, True, self.nan_left).ravel()
        return base.ravel(), feature, threshold, nan_left, child, self.value.ravel()

    def raw(self, x: np.ndarray) -> np.ndarray:
        """Sum of the leaf values reached, plus the baseline, per row of ``x``."""
        x = np.ascontiguousarray(x, dtype=np.float64)
        roots, feature, threshold, nan_left, child, value = self._flat
        n_rows = len(x)
        node = np.repeat(roots[None, :], n_rows, axis=0)
        cells = x.ravel()
        row_start = (np.arange(n_rows, dtype=np.int64) * x.shape[1])[:, None]
        has_nan = bool(np.isnan(cells).any())
        for _ in range(self.depth):
            v = cells[row_start + feature[node]]
            go_left = v <= threshold[node]
            if has_nan:
                go_left |= np.isnan(v) & nan_left[node]
            node = child[2 * node + ~go_left]
        return self.baseline + value[node].sum(axis=1)

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
