-- The rows wap/write_temp/write_temp.sql typed, each marked published_as_is when it is exactly
-- the bar stocks.daily_prices holds: the body of stocks.tmp_daily_prices_fetched on a day with
-- published years to compare with. A compact fetch repeats 99 published bars per symbol;
-- marked here, in the pass that types them, they are neither read back and joined with the
-- published year again (wap/write_temp/changed_rows.sql) nor written with their raw line, the
-- widest column, which nothing reads on a row that is left out as unchanged.
--
-- The mark is changed_rows.sql's test of an unchanged row but for one condition that needs the
-- whole batch: the row is the only one of its symbol and date. write temp uses the mark only
-- when duplicates.sql finds no repeated key (otherwise it types the batch again without it).
-- Parameters: typed_rows (wap/write_temp/write_temp.sql, rendered), trade_years (the published
-- years compared with: a row in another year is not marked, and changed_rows.sql decides it).
with

typed_rows as (
    select *
    from ({{typed_rows}}) as t
),

published_rows as (
    select
        symbol,
        trade_date,
        open,
        high,
        low,
        close,
        volume
    from stocks.daily_prices
    where trade_year in ({{trade_years}})
),

judged as (
    select
        t.*,
        coalesce(
            t.parse_error is null
            and (t.forming_date is null or t.trade_date <> t.forming_date)
            and exists (
                select 1
                from published_rows as p
                where p.symbol = t.symbol
                    and p.trade_date = t.trade_date
                    and p.open = t.open
                    and p.high = t.high
                    and p.low = t.low
                    and p.close = t.close
                    and p.volume = t.volume
            ),
            false
        ) as published_as_is
    from typed_rows as t
)

select
    symbol,
    trade_date,
    open,
    high,
    low,
    close,
    volume,
    fetched_at,
    forming_date,
    ingest_run_id,
    ingest_date,
    source_file,
    case when published_as_is then cast(null as varchar) else raw_line end as raw_line,
    parse_error,
    trade_year,
    published_as_is
from judged
