"""Prove that the Cython modules in use are the compiled extensions, not Python stand-ins."""

from __future__ import annotations

import glob
import importlib
import importlib.machinery
import inspect
import os

import pytest

import fastzmq

PKG_DIR = os.path.dirname(fastzmq.__file__)
EXT_SUFFIXES = tuple(importlib.machinery.EXTENSION_SUFFIXES)
NAMED = ["_ring", "_trie", "_socket", "_io", "_pipe"]
# A source tree has the .pyx files; an installed wheel only the extension modules.
PRESENT = [os.path.basename(p)[:-4] for p in glob.glob(os.path.join(PKG_DIR, "*.pyx"))] + [
    os.path.basename(p).split(".")[0]
    for suffix in EXT_SUFFIXES
    for p in glob.glob(os.path.join(PKG_DIR, "*" + suffix))
]
OTHERS = sorted(set(NAMED + PRESENT) - {"_frame"})


def assert_compiled(module):
    assert module.__file__.endswith(EXT_SUFFIXES), (
        f"{module.__name__} loaded from {module.__file__}"
    )
    own = [
        obj
        for obj in vars(module).values()
        if callable(obj) and getattr(obj, "__module__", None) == module.__name__
    ]
    assert own, f"{module.__name__} defines nothing callable"
    for obj in own:
        assert not inspect.isfunction(obj), f"{obj!r} is a Python function"


def test_frame_is_compiled():
    from fastzmq import _frame  # no importorskip: the codec must be built

    assert_compiled(_frame)
    for name in ("scan", "encode_frame", "encode_message", "parse_command", "_bench_scan"):
        func = getattr(_frame, name)
        assert type(func).__name__ in ("cython_function_or_method", "builtin_function_or_method")
    for cls in (_frame.Decoder, _frame.Scanner, _frame.Frame):
        assert "__dict__" not in cls.__dict__, f"{cls} is a Python class"


@pytest.mark.parametrize("name", OTHERS)
def test_other_module_is_compiled(name):
    assert_compiled(importlib.import_module(f"fastzmq.{name}"))
