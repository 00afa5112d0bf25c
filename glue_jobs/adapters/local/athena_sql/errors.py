"""The two ways a statement is refused before it runs. Both are the user's to fix (exit 2)."""
from __future__ import annotations

from glue_jobs.ports.engine import QueryError


class AthenaRejects(QueryError):
    """Athena would refuse this statement; the message is Athena's where it has one."""

    def __init__(self, message: str):
        super().__init__(message)
        self.athena_message = message


class NotEmulated(QueryError):
    """Valid Athena SQL that the local engine cannot answer exactly (yet)."""

    def __init__(self, construct: str, why: str = ""):
        message = f"valid Athena SQL that the local engine does not support yet: {construct}"
        super().__init__(message + (f" ({why})" if why else ""))
        self.construct = construct


RUNTIME_ERROR_MARK = "athena-twin: "
"""The prefix of a failure a rewritten statement raises while it runs (DuckDB's error()),
e.g. Athena's "Division by zero": the engine shows the text after it, nothing of DuckDB's."""
