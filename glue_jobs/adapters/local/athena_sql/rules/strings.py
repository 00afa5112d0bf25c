"""Trino's rules for strings: the functions below, rewritten where DuckDB answers otherwise."""
from __future__ import annotations

from glue_jobs.adapters.local.athena_sql.surface import EXACT, declare

declare("functions/string", EXACT, "length", "lower", "upper", "trim", "ltrim", "rtrim", "substr", "substring", "replace", "concat", "concat_ws", "split_part", "strpos", "position", "starts_with", "ends_with", "lpad", "rpad", "reverse", "chr", "codepoint", "format")
declare("functions/regexp", EXACT, "regexp_like", "regexp_extract", "regexp_extract_all", "regexp_replace")
declare("functions/conditional", EXACT, "coalesce", "nullif", "if", "try")
declare("functions/conversion", EXACT, "cast", "try_cast", "typeof")
