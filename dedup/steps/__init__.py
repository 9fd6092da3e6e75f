"""Cleaning steps and their registry: a new step adds its module here and one line to STEPS."""

from dedup.steps.base import Drop, Removal, Step
from dedup.steps.boilerplate import SiteBoilerplate
from dedup.steps.neardup import NearDuplicates
from dedup.steps.passages import RepeatedPassages

STEPS: dict[str, type[Step]] = {
    NearDuplicates.name: NearDuplicates,
    RepeatedPassages.name: RepeatedPassages,
    SiteBoilerplate.name: SiteBoilerplate,
}

__all__ = [
    "STEPS",
    "Drop",
    "NearDuplicates",
    "Removal",
    "RepeatedPassages",
    "SiteBoilerplate",
    "Step",
]
