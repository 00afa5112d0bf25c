"""Trino's rules for aggregates: the functions below, rewritten where DuckDB answers otherwise."""
from __future__ import annotations

from glue_jobs.adapters.local.athena_sql.surface import EXACT, declare

declare("functions/aggregate", EXACT, "count", "sum", "avg", "min", "max", "count_if", "min_by", "max_by", "arbitrary", "any_value", "array_agg", "bool_and", "bool_or", "every", "stddev", "stddev_samp", "stddev_pop", "variance", "var_samp", "var_pop", "corr", "covar_samp", "covar_pop", "map_agg", "geometric_mean")
declare("functions/window", EXACT, "row_number", "rank", "dense_rank", "percent_rank", "cume_dist", "ntile", "lag", "lead", "first_value", "last_value", "nth_value")
