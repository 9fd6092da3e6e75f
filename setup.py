"""Build the compiled loops (``dedup/_loops.c``); the metadata is in pyproject.toml.

The library is optional: without a C compiler the install goes on and dedup runs its numpy
code instead (see dedup/compiled.py). A copy of the built library is also left beside the
sources, so that code run from the checkout (``python -m pytest``, ``python -m dedup.cli``),
which imports ``dedup`` from there rather than from the install, finds it too.
"""

import shutil
import sys
from pathlib import Path

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

ROOT = Path(__file__).resolve().parent


class BuildExtBesideSources(build_ext):
    def run(self) -> None:
        stems = {ext.name: ROOT.joinpath(*ext.name.split(".")) for ext in self.extensions}
        for stem in stems.values():
            for old in stem.parent.glob(stem.name + ".*.so"):  # an older build: never stale
                old.unlink()
        super().run()
        for ext in self.extensions:
            built = Path(self.get_ext_fullpath(ext.name)).resolve()
            beside = stems[ext.name].with_name(built.name)
            if built.exists() and built != beside:
                shutil.copyfile(built, beside)


flags = [] if sys.platform == "win32" else ["-O3", "-std=c99"]
setup(
    ext_modules=[
        Extension("dedup._loops", ["dedup/_loops.c"], extra_compile_args=flags, optional=True)
    ],
    cmdclass={"build_ext": BuildExtBesideSources},
)
