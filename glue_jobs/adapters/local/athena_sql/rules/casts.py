"""Trino's rules for CAST and TRY_CAST (functions/conversion)."""
from __future__ import annotations
