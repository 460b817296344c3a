"""Why Hydra stopped, in one line: the cause inside nested exception groups.

A Trio nursery wraps what stopped it beside its other tasks' `Cancelled`; a person (and the
journal's stop note) wants the cause, never an exception-group repr. Orders left unmanaged come
first, because they need a human at the broker.
"""

from __future__ import annotations

import trio

from ._errors import HydraError, UnmanagedOrdersError

STOPS = (trio.Cancelled, KeyboardInterrupt, GeneratorExit)
"""Leaves that are a way of stopping, not a failure."""


def leaves(error: BaseException) -> list[BaseException]:
    """The exceptions inside nested exception groups, in order (``error`` itself if none)."""
    if not isinstance(error, BaseExceptionGroup):
        return [error]
    return [leaf for inner in error.exceptions for leaf in leaves(inner)]


def only_stopping(error: BaseException) -> bool:
    """True when every leaf of ``error`` is a cancellation or an interrupt."""
    return all(isinstance(leaf, STOPS) for leaf in leaves(error))


def first_cause(error: BaseException) -> BaseException:
    """The leaf that explains ``error``: an `UnmanagedOrdersError` if there is one, else the
    first that is not a way of stopping, else the first leaf."""
    found = leaves(error)
    causes = [leaf for leaf in found if not isinstance(leaf, STOPS)]
    unmanaged = [leaf for leaf in causes if isinstance(leaf, UnmanagedOrdersError)]
    return (unmanaged or causes or found)[0]


def describe_error(error: BaseException) -> str:
    """``error`` in one line: its cause's message (with its type when it is not a Hydra error,
    or the type alone when it has no message), and how many other causes there were."""
    leaf = first_cause(error)
    text = " ".join(str(leaf).split())
    if not (isinstance(leaf, HydraError) and text):
        text = f"{type(leaf).__name__}: {text}" if text else type(leaf).__name__
    others = sum(1 for other in leaves(error) if not isinstance(other, STOPS)) - 1
    return f"{text} (and {others} more)" if others > 0 else text
