"""Tables in, tables out: clean a pandas DataFrame or a Hugging Face ``datasets.Dataset``.

The rows are read like JSONL lines (``text``/``id``/``site``/``url`` columns); the result is the
same kind of table holding the kept rows with their text cleaned, plus the audit record.
"""

from __future__ import annotations

from typing import Any

from dedup.clean import Cleaner


def _clean_rows(rows: list[dict[str, Any]], cleaner: Cleaner | None):
    cleaner = cleaner or Cleaner()
    results = cleaner.fit_transform(rows)
    kept = [r.output_fields(cleaner.text_field) for r in results if r.kept]
    audit = [r.audit() for r in results]
    return kept, audit


def clean_dataframe(frame: Any, cleaner: Cleaner | None = None) -> tuple[Any, list[dict]]:
    """``(kept rows as a DataFrame with the same columns, audit record)``."""
    import pandas as pd

    kept, audit = _clean_rows(frame.to_dict(orient="records"), cleaner)
    return pd.DataFrame(kept, columns=frame.columns), audit


def clean_dataset(dataset: Any, cleaner: Cleaner | None = None) -> tuple[Any, list[dict]]:
    """``(kept rows as a datasets.Dataset with the same features, audit record)``."""
    from datasets import Dataset

    kept, audit = _clean_rows(list(dataset), cleaner)
    if not kept:
        return dataset.select([]), audit
    return Dataset.from_list(kept, features=dataset.features), audit
