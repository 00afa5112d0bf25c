"""Importing Great Expectations early, in a background thread.

Importing GE (and the scipy and pydantic it pulls in) costs about 3 s of CPU, more than the
audit of a real day's changed rows. A run that will audit starts the import when its WAP
stages begin: crawl and write temp spend most of their time inside DuckDB, which releases
the GIL, so the import runs beside them instead of inside the audit. The audit's own
`import great_expectations` then finds the module loaded, or waits on Python's import lock
until this thread has finished it. Nothing else is shared: the audit builds its GE context
itself, as before. A failed import here is ignored; the audit's import raises it again.
"""
from __future__ import annotations

import os
import threading

_started: threading.Thread | None = None
_guard = threading.Lock()


def _import_ge() -> None:
    try:
        import great_expectations  # noqa: F401
        import great_expectations.expectations  # noqa: F401
        from great_expectations.data_context.types import base  # noqa: F401
    except Exception:  # noqa: BLE001  # the audit imports it again and reports what failed
        pass


def start() -> threading.Thread:
    """Start the import once per process (later calls return the same thread)."""
    global _started
    with _guard:
        if _started is None:
            # as the audit's Suite sets it before importing: GE reads it at import
            os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
            _started = threading.Thread(target=_import_ge, name="tickerlake-ge-import", daemon=True)
            _started.start()
        return _started
