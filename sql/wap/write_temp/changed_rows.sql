-- The rows this run audits and publishes: the rows it fetched (stocks.tmp_daily_prices_fetched,
-- de-duplicated) less those identical to what is published. A compact fetch brings 100
-- sessions per symbol, one of them new: the 99 others are usually exactly the published bars,
-- and auditing and re-merging them would cost the day a hundred times its new data.
--
-- A fetched row is unchanged when stocks.daily_prices holds the same symbol and date with the
-- same open, high, low, close and volume (every field the vendor can restate), the row parsed
-- whole, it is not the bar still forming at fetch time, and it is the only row of its symbol
-- and date in the batch (two disagreeing rows of one fetch both go to the uniqueness rule).
-- The publish merge keeps a published row whose prices did not change, so leaving an
-- unchanged row out changes nothing published.
-- Parameters: trade_years (the fetched rows' years: only those partitions are read), keys_repeat
-- (whether some symbol and date has more than one fetched row: write temp's duplicates.sql).
with

-- Only the columns that decide whether a row is unchanged: the wide ones (the raw line, the
-- source file) are read once, by changed_rows, for the few rows that changed.
fetched_keys as (
    select
        symbol,
        trade_date,
        open,
        high,
        low,
        close,
        volume,
        forming_date,
        parse_error
    from stocks.tmp_daily_prices_fetched
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

-- Keys with more than one row, looked for only when write temp found some (keys_repeat): a
-- batch without any, every day's, then skips grouping its 500,000 rows by key.
repeated_keys as (
    select
        symbol,
        trade_date
    from fetched_keys
    where {{keys_repeat}}
        and trade_date is not null
    group by symbol, trade_date
    having count(*) > 1
),

unchanged_keys as (
    select
        f.symbol as symbol,
        f.trade_date as trade_date
    from fetched_keys as f
    inner join published_rows as p
        on p.symbol = f.symbol
        and p.trade_date = f.trade_date
        and p.open = f.open
        and p.high = f.high
        and p.low = f.low
        and p.close = f.close
        and p.volume = f.volume
    where f.parse_error is null
        and (f.forming_date is null or f.trade_date <> f.forming_date)
        and not exists (
            select 1
            from repeated_keys as r
            where r.symbol = f.symbol
                and r.trade_date = f.trade_date
        )
),

changed_rows as (
    select
        f.symbol,
        f.trade_date,
        f.open,
        f.high,
        f.low,
        f.close,
        f.volume,
        f.fetched_at,
        f.forming_date,
        f.ingest_run_id,
        f.ingest_date,
        f.source_file,
        f.raw_line,
        f.parse_error,
        f.trade_year
    from stocks.tmp_daily_prices_fetched as f
    where not exists (
        select 1
        from unchanged_keys as u
        where u.symbol = f.symbol
            and u.trade_date = f.trade_date
    )
)

select * from changed_rows
