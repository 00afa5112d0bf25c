"""The conformance harness's fixture (see athena_harness.py)."""
from athena_harness import athena  # noqa: F401
