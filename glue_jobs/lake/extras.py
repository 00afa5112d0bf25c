"""Packages only the local runtime needs. The Glue wheel leaves them out of its requirements
(Glue stages never import them), so a plain `pip install tickerlake` lacks them: the part
that needs one says so and how to get it, instead of a bare ModuleNotFoundError."""
from __future__ import annotations

import importlib

from glue_jobs.lake.errors import ConfigError

LOCAL_EXTRA = "pip install 'tickerlake[local]'"


def require(module: str, needed_for: str) -> None:
    """Raise ConfigError naming the missing package and the extra that installs it."""
    try:
        importlib.import_module(module)
    except ImportError:
        raise ConfigError(
            f"{needed_for} needs the Python package {module!r}, which is not installed: "
            f"{LOCAL_EXTRA} installs it (`make run` and `make test` do it for you)"
        ) from None
