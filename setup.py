"""Build the compiled loops (``dedup/_loops.c``) beside the package; the metadata is in
pyproject.toml. The library is optional: without a C compiler the install goes on and dedup
runs its numpy code instead (see dedup/compiled.py)."""

import sys

from setuptools import Extension, setup

flags = [] if sys.platform == "win32" else ["-O3", "-std=c99"]
setup(
    ext_modules=[
        Extension("dedup._loops", ["dedup/_loops.c"], extra_compile_args=flags, optional=True)
    ]
)
