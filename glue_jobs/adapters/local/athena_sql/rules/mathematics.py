"""Trino's rules for mathematics: the functions below, rewritten where DuckDB answers otherwise."""
from __future__ import annotations

from glue_jobs.adapters.local.athena_sql.surface import EXACT, declare

declare("functions/math", EXACT, "abs", "round", "floor", "ceil", "ceiling", "sqrt", "cbrt", "power", "pow", "exp", "ln", "log", "log2", "log10", "sign", "truncate", "width_bucket", "pi", "e", "degrees", "radians", "sin", "cos", "tan", "asin", "acos", "atan", "atan2", "is_nan", "is_finite", "is_infinite", "nan", "infinity", "random", "rand")
declare("functions/comparison", EXACT, "greatest", "least")
