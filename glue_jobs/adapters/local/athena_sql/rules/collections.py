"""Trino's rules for collections: the functions below, rewritten where DuckDB answers otherwise."""
from __future__ import annotations

from glue_jobs.adapters.local.athena_sql.surface import EXACT, declare

declare("functions/array", EXACT, "cardinality", "element_at", "contains", "array_join", "array_min", "array_max", "array_sort", "array_distinct", "array_position", "slice", "transform", "filter", "reduce", "flatten", "split")
declare("functions/map", EXACT, "map", "map_keys", "map_values")
declare("select", EXACT, "unnest")
