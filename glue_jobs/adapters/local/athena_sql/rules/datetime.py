"""Trino's rules for datetime: the functions below, rewritten where DuckDB answers otherwise."""
from __future__ import annotations

from glue_jobs.adapters.local.athena_sql.surface import EXACT, declare

declare("functions/datetime", EXACT, "date_trunc", "date_add", "date_diff", "date_format", "date_parse", "format_datetime", "year", "month", "day", "day_of_month", "quarter", "week", "week_of_year", "day_of_week", "dow", "day_of_year", "doy", "year_of_week", "yow", "extract", "current_date", "now", "current_timestamp", "from_unixtime", "to_unixtime", "last_day_of_month", "date", "from_iso8601_date", "hour", "minute", "second")
