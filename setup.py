"""Build the Cython extensions of fastzmq.

Every ``src/fastzmq/*.pyx`` becomes one extension module. While developing, build one
module in place with
``FASTZMQ_ONLY=_ring python setup.py build_ext --inplace -t build/tmp_ring``. Set
``FASTZMQ_CYTHON_TRACE=1`` to build with line tracing (for profiling).

The modules are built without debug information and linked stripped (``-g0``, ``-s``):
a wheel then holds about a tenth of the bytes. Stripping removes only the static symbol
table and debug sections; ``PyInit_*`` stays in the dynamic symbol table, and Cython's
cross-module ``cimport`` goes through ``__pyx_capi__`` capsules and type lookups by
name, never through ELF symbols, so nothing that imports a module needs what is
removed. Set ``FASTZMQ_DEBUG=1`` to keep symbols and ``-g`` (gdb, perf).
"""

import glob
import os
import sys

from Cython.Build import cythonize
from setuptools import Extension, setup

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.path.join("src", "fastzmq")
# Modules that only build on Linux (timerfd, eventfd, recvmmsg); elsewhere they are left
# out and pgm:// / epgm:// raise EPROTONOSUPPORT at bind/connect (_pgm_transport.py).
LINUX_ONLY = {"_pgmsrc", "_pgmrcv"}


def _flags():
    """(compile, link) flags: optimised; stripped unless FASTZMQ_DEBUG=1."""
    compile_args = ["-O3", "-std=gnu11", "-Wno-unused-function"]
    link_args = []
    if os.environ.get("FASTZMQ_DEBUG") != "1":
        compile_args.append("-g0")  # after sysconfig's CFLAGS, so it overrides their -g
        if sys.platform == "darwin":
            link_args.append("-Wl,-S,-x")  # ld64: no debug, no local symbols (-s is obsolete)
        else:
            link_args.append("-s")
    return compile_args, link_args


def extensions():
    compile_args, link_args = _flags()
    exts = []
    only = os.environ.get("FASTZMQ_ONLY")  # build one module: FASTZMQ_ONLY=_ring
    for pyx in sorted(glob.glob(os.path.join(SRC, "*.pyx"))):
        mod = os.path.splitext(os.path.basename(pyx))[0]
        if only and mod not in only.split(","):
            continue
        if mod in LINUX_ONLY and not sys.platform.startswith("linux"):
            continue
        name = "fastzmq." + mod
        exts.append(
            Extension(
                name,
                [pyx],
                include_dirs=[SRC],
                extra_compile_args=compile_args,
                extra_link_args=link_args,
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
