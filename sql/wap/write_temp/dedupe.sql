-- De-duplicate stocks.tmp_daily_prices as wap/write_temp/write_temp.sql first wrote it (run only when
-- wap/write_temp/duplicates.sql found a key with more than one row), per symbol and trading date:
--   * exact copies of a row within one fetch are dropped (counted as duplicates);
--   * a dropped file's rows win over a fetch's (a drop is deliberate: a drop's ingest_run_id carries
--     '-drop-', glue_jobs/lake/layout.py), then the latest fetch wins: rows from the others are
--     dropped (counted as duplicates);
--   * rows of the same fetch that disagree are all kept, for the uniqueness rule to catch.
-- Only the rows of a duplicated key go through the window functions. A date that did not
-- parse keys by its raw text, the raw line's first field.
with

staged_rows as (
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
        raw_line,
        parse_error,
        trade_year,
        coalesce(cast(trade_date as varchar), split_part(raw_line, ',', 1)) as date_key
    from stocks.tmp_daily_prices
),

duplicated_keys as (
    select
        symbol,
        date_key
    from staged_rows
    group by symbol, date_key
    having count(*) > 1
),

single_rows as (
    select s.*
    from staged_rows as s
    where not exists (
        select 1
        from duplicated_keys as d
        where d.symbol = s.symbol
            and d.date_key = s.date_key
    )
),

duplicated_rows as (
    select s.*
    from staged_rows as s
    where exists (
        select 1
        from duplicated_keys as d
        where d.symbol = s.symbol
            and d.date_key = s.date_key
    )
),

exact_copies as (
    select
        *,
        row_number() over (
            partition by ingest_run_id, symbol, raw_line
            order by source_file
        ) as copy_number
    from duplicated_rows
),

distinct_rows as (
    select *
    from exact_copies
    where copy_number = 1
),

fetch_order as (
    select
        *,
        -- dense_rank: every row of the winning fetch ranks 1, disagreeing ones included
        dense_rank() over (
            partition by symbol, date_key
            order by
                case when strpos(ingest_run_id, '-drop-') > 0 then 1 else 0 end desc,
                fetched_at desc,
                ingest_run_id desc
        ) as fetch_rank
    from distinct_rows
),

kept_rows as (
    select * from single_rows
    union all
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
        raw_line,
        parse_error,
        trade_year,
        date_key
    from fetch_order
    where fetch_rank = 1
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
    raw_line,
    parse_error,
    trade_year
from kept_rows
