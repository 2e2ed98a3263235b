"""Call forms the SDK still accepts for one release, with a `DeprecationWarning`; gone in the next.

- ``client.recommend("demo", "movies", …)``: the model as two arguments; now ``"demo/movies"``.
- ``client.auth.whoami()``: now ``client.whoami()``.
"""

from __future__ import annotations

import functools
import inspect
import warnings
from collections.abc import Callable
from typing import Any, ParamSpec, TypeVar, cast

P = ParamSpec("P")
R = TypeVar("R")


def warn_deprecated(message: str, stacklevel: int = 3) -> None:
    """``stacklevel`` counts from this helper: 3 is whoever called the method that calls it."""
    warnings.warn(f"{message}; the old form will be removed in the next release", DeprecationWarning,
                  stacklevel=stacklevel)


def accepts_org_and_name(method: Callable[P, R]) -> Callable[P, R]:
    """Let ``method(self, model: str, …)`` still be called as ``method(self, org, name, …)``.

    The old form is recognised when the first argument has no ``/``, the second is a string too, and
    the joined call fits the signature; otherwise the arguments pass unchanged and a bad model name
    raises ValueError from `split_model`. The wrapper keeps the method's signature (mypy, ``inspect``)
    and stays a coroutine function when the method is one.
    """
    signature = inspect.signature(method)
    call = cast(Callable[..., Any], method)

    def new_form(args: tuple[Any, ...], kwargs: dict[str, Any]) -> tuple[Any, ...]:
        if len(args) < 3 or not isinstance(args[1], str) or not isinstance(args[2], str) or "/" in args[1]:
            return args
        model = f"{args[1]}/{args[2]}"
        joined = (args[0], model, *args[3:])
        try:
            signature.bind(*joined, **kwargs)
        except TypeError:  # not the old form (e.g. a model name without its org): leave it to split_model
            return args
        warn_deprecated(f"{method.__qualname__}(org, name, …) is deprecated: pass the model as 'org/name', "
                        f"client.{method.__name__}({model!r}, …)", stacklevel=4)
        return joined

    if inspect.iscoroutinefunction(method):
        @functools.wraps(method)
        async def awaitable(*args: Any, **kwargs: Any) -> Any:
            return await call(*new_form(args, kwargs), **kwargs)

        return cast(Callable[P, R], awaitable)

    @functools.wraps(method)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        return call(*new_form(args, kwargs), **kwargs)

    return cast(Callable[P, R], wrapper)
