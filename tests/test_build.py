"""The install builds the compiled loops wherever it can."""

import shutil
import sysconfig

import pytest

from dedup import compiled


def test_the_compiled_loops_are_built_where_a_c_compiler_is():
    """The install builds ``dedup/_loops.c`` when it can; a silent fallback to numpy would
    skip the tests of the compiled loops and every run several times slower."""
    compiler = sysconfig.get_config_var("CC") or "cc"
    if shutil.which(compiler.split()[0]) is None and shutil.which("cc") is None:
        pytest.skip("no C compiler here: dedup runs its numpy code")
    assert compiled.available(), "dedup/_loops.c was not built at install"
