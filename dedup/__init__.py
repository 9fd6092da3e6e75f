"""dedup: near-duplicate and boilerplate detection for scraped text corpora."""

from dedup.clean import Cleaner, CleanResult
from dedup.errors import ConfigError, DedupError, InputError, OutputError
from dedup.io.readers import RecordReader
from dedup.io.records import Record
from dedup.sketch.minhash import from_datasketch, to_datasketch
from dedup.steps import STEPS, Drop, NearDuplicates, Removal, Step

__version__ = "0.1.0"

__all__ = [
    "STEPS",
    "CleanResult",
    "Cleaner",
    "ConfigError",
    "DedupError",
    "Drop",
    "InputError",
    "NearDuplicates",
    "OutputError",
    "Record",
    "RecordReader",
    "Removal",
    "Step",
    "from_datasketch",
    "to_datasketch",
]
