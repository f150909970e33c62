"""Build the Cython extensions of fastzmq.

Every ``src/fastzmq/*.pyx`` becomes one extension module. While developing, build one
module in place with
``FASTZMQ_ONLY=_ring python setup.py build_ext --inplace -t build/tmp_ring``. Set
``FASTZMQ_CYTHON_TRACE=1`` to build with line tracing (for profiling).
"""

import glob
import os

from Cython.Build import cythonize
from setuptools import Extension, setup

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.path.join("src", "fastzmq")


def extensions():
    exts = []
    only = os.environ.get("FASTZMQ_ONLY")  # build one module: FASTZMQ_ONLY=_ring
    for pyx in sorted(glob.glob(os.path.join(SRC, "*.pyx"))):
        mod = os.path.splitext(os.path.basename(pyx))[0]
        if only and mod not in only.split(","):
            continue
        name = "fastzmq." + mod
        exts.append(
            Extension(
                name,
                [pyx],
                include_dirs=[SRC],
                extra_compile_args=["-O3", "-std=gnu11", "-Wno-unused-function"],
            )
        )
    return cythonize(
        exts,
        language_level=3,
        compiler_directives={
            "boundscheck": False,
            "wraparound": False,
            "cdivision": True,
            "initializedcheck": False,
            "embedsignature": True,
            "linetrace": os.environ.get("FASTZMQ_CYTHON_TRACE") == "1",
        },
    )


setup(ext_modules=extensions())
