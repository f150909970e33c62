"""Decorators that hand a function a Context or a socket, closed when it returns.

pyzmq's ``zmq.decorators``::

    @context()
    @socket(zmq.PUSH)
    def work(ctx, push): ...

A leading string argument (or ``name=``) names the keyword argument that receives
the object; without one it is appended to the positional arguments. The remaining
arguments go to ``Context(...)`` or ``ctx.socket(...)``. ``@socket`` takes its
context from the keyword argument ``context_name`` (default ``"context"``), else
the first positional Context, else ``Context.instance()``.
"""

from __future__ import annotations

import functools
from typing import Any, Callable, TypeVar

__all__ = ["context", "socket"]

F = TypeVar("F", bound=Callable[..., Any])


def _split_name(args: tuple, kwargs: dict) -> tuple[str | None, tuple, dict]:
    kwargs = dict(kwargs)
    if isinstance(kwargs.get("name"), str):
        return kwargs.pop("name"), args, kwargs
    if args and isinstance(args[0], str):
        return args[0], args[1:], kwargs
    return None, args, kwargs


def _injecting(
    make: Callable[[tuple, dict], Any], name: str | None, func: Callable[..., Any]
) -> Callable[..., Any]:
    """``func`` wrapped so that each call runs inside ``with make(args, kwargs) as obj``."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        with make(args, kwargs) as obj:
            if name is None:
                args = (*args, obj)
            elif name in kwargs:
                raise TypeError(f"{func.__name__}() got multiple values for argument '{name}'")
            else:
                kwargs[name] = obj
            return func(*args, **kwargs)

    return wrapper


def context(*args: Any, **kwargs: Any) -> Callable[[F], F]:
    """Decorator: call the function with a new Context, terminated when it returns."""
    name, ctx_args, ctx_kwargs = _split_name(args, kwargs)

    def decorate(func: F) -> F:
        from fastzmq.context import Context

        def make(call_args: tuple, call_kwargs: dict) -> Any:
            return Context(*ctx_args, **ctx_kwargs)

        return _injecting(make, name, func)  # type: ignore[return-value]

    return decorate


def socket(*args: Any, **kwargs: Any) -> Callable[[F], F]:
    """Decorator: call the function with a new socket, closed when it returns."""
    name, sock_args, sock_kwargs = _split_name(args, kwargs)
    context_name = sock_kwargs.pop("context_name", "context")

    def decorate(func: F) -> F:
        from fastzmq.context import Context

        def find_context(call_args: tuple, call_kwargs: dict) -> Context:
            ctx = call_kwargs.get(context_name)
            if isinstance(ctx, Context):
                return ctx
            for arg in call_args:
                if isinstance(arg, Context):
                    return arg
            return Context.instance()

        def make(call_args: tuple, call_kwargs: dict) -> Any:
            return find_context(call_args, call_kwargs).socket(*sock_args, **sock_kwargs)

        return _injecting(make, name, func)  # type: ignore[return-value]

    return decorate
