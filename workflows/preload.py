"""Importing the modules of a run's later stages early, in a background thread.

A real day's write temp spends about a second in one DuckDB thread (its typing pass is one
pipeline: the raw bodies are read, split and typed in order), which releases the GIL and
leaves the second core idle. The stages after it import pandas and their own modules when
they start (0.2 s of a day's 3 s): the runner starts those imports beside write temp
instead. The stage's own import then finds the module loaded, or waits on Python's import
lock until this thread has finished it. A failed import here is ignored: the stage's import
raises it again, where the run log records it.
"""
from __future__ import annotations

import importlib
import threading
from collections.abc import Iterable


def _import_all(modules: tuple[str, ...]) -> None:
    for name in modules:
        try:
            importlib.import_module(name)
        except Exception:  # noqa: BLE001  # the stage imports it again and reports what failed
            pass


def start(modules: Iterable[str]) -> threading.Thread:
    """Import `modules`, in order, in a daemon thread; the thread (joined only by tests)."""
    thread = threading.Thread(target=_import_all, args=(tuple(modules),), name="tickerlake-preload",
                              daemon=True)
    thread.start()
    return thread
