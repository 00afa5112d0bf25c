-- Whether stocks.tmp_daily_prices, as wap/write_temp/write_temp.sql first wrote it, needs de-duplicating:
-- how many symbol/date keys hold more than one row (0 for a batch without duplicates, so
-- wap/write_temp/dedupe.sql is skipped). A date that did not parse keys by its raw text, the
-- raw line's first field; only those rows have their raw line read.
with

dated_keys as (
    select
        symbol,
        trade_date
    from stocks.tmp_daily_prices
    where trade_date is not null
    group by symbol, trade_date
    having count(*) > 1
),

undated_keys as (
    select
        symbol,
        split_part(raw_line, ',', 1) as unparsed_date
    from stocks.tmp_daily_prices
    where trade_date is null
    group by symbol, split_part(raw_line, ',', 1)
    having count(*) > 1
),

counted as (
    select count(*) as keys from dated_keys
    union all
    select count(*) as keys from undated_keys
)

select sum(keys) as duplicate_keys
from counted
