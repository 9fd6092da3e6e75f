"""Cleaning steps and their registry: a new step adds its module here and one line to STEPS."""

from dedup.steps.base import Drop, Removal, Step
from dedup.steps.neardup import NearDuplicates

STEPS: dict[str, type[Step]] = {
    NearDuplicates.name: NearDuplicates,
}

__all__ = ["STEPS", "Drop", "NearDuplicates", "Removal", "Step"]
