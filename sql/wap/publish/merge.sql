-- One partition (trade_year) of stocks.daily_prices after this run: its current rows merged
-- with the run's audited rows, written by the engine to a fresh location before the catalog
-- switches the partition to it.
--
-- A dropped file's bar wins over a fetched one (a drop's ingest_run_id carries '-drop-',
-- glue_jobs/lake/layout.py: a drop is deliberate and no scheduled fetch, synthetic or real,
-- undoes it; a newer drop does), then the latest fetch wins per symbol and date, except that a
-- re-fetched bar whose prices did not change keeps the row already published (and its
-- fetched_at), so re-running a day changes nothing. Ordered by symbol and date: tight Parquet min/max statistics per symbol.
--
-- One segment of the year at a time (glue_jobs/lake/segments.py): the rows dated first_date to
-- last_date, both included. A symbol and date lies in one segment, so the segments' merges
-- together are the year's merge; publish carries the segments no row of the run falls in.
-- Parameters: trade_year, first_date, last_date.
with

current_rows as (
    select
        symbol,
        trade_date,
        open,
        high,
        low,
        close,
        volume,
        fetched_at,
        ingest_run_id
    from stocks.daily_prices
    where trade_year = {{trade_year}}
        and trade_date between {{first_date}} and {{last_date}}
),

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
        ingest_run_id,
        raw_line
    from stocks.tmp_daily_prices
    where trade_year = {{trade_year}}
        and trade_date between {{first_date}} and {{last_date}}
),

quarantined_rows as (
    select
        ingest_run_id,
        symbol,
        trade_date,
        raw_line
    from stocks.tmp_daily_prices_quarantine
    where trade_year = {{trade_year}}
),

audited_rows as (
    select
        s.symbol as symbol,
        s.trade_date as trade_date,
        s.open as open,
        s.high as high,
        s.low as low,
        s.close as close,
        s.volume as volume,
        s.fetched_at as fetched_at,
        s.ingest_run_id as ingest_run_id
    from staged_rows as s
    where not exists (
        select 1
        from quarantined_rows as q
        where q.ingest_run_id = s.ingest_run_id
            and q.symbol = s.symbol
            -- a row is its raw line; one typed without it (write temp keeps the text only where
            -- keys repeat or a row did not parse) is its date, unique in such a batch
            and q.trade_date is not distinct from s.trade_date
            and (s.raw_line is null or q.raw_line = s.raw_line)
    )
),

changed_rows as (
    select a.*
    from audited_rows as a
    where not exists (
        select 1
        from current_rows as c
        where c.symbol = a.symbol
            and c.trade_date = a.trade_date
            and c.open = a.open
            and c.high = a.high
            and c.low = a.low
            and c.close = a.close
            and c.volume = a.volume
    )
),

-- The candidates at the keys a changed row has: the published row there, if any, and the
-- changed rows. Only those can compete, so only they are kept aside; the year's rows are read
-- through, not copied into a table of their own first.
touched as (
    select c.*
    from (
        select * from current_rows
        union all
        select * from changed_rows
    ) as c
    where exists (
        select 1
        from changed_rows as a
        where a.symbol = c.symbol
            and a.trade_date = c.trade_date
    )
),

-- Only a symbol and date with more than one candidate needs ranking (a backfill has none):
-- a window over a whole year's rows would sort them all once more. A published partition
-- holds one row per symbol and date (this merge wrote it), so a second candidate comes with
-- a changed row: only the changed rows' keys are counted, not the year's (a day's 5,000
-- keys instead of grouping 1.2 million).
contested_keys as (
    select
        c.symbol as symbol,
        c.trade_date as trade_date
    from touched as c
    group by c.symbol, c.trade_date
    having count(*) > 1
),

uncontested as (
    select c.*
    from (
        select * from current_rows
        union all
        select * from changed_rows
    ) as c
    where not exists (
        select 1
        from contested_keys as k
        where k.symbol = c.symbol
            and k.trade_date = c.trade_date
    )
),

ranked as (
    select
        c.*,
        row_number() over (
            partition by c.symbol, c.trade_date
            order by
                case when strpos(c.ingest_run_id, '-drop-') > 0 then 1 else 0 end desc,
                c.fetched_at desc,
                c.ingest_run_id desc
        ) as recency
    from touched as c
    where exists (
        select 1
        from contested_keys as k
        where k.symbol = c.symbol
            and k.trade_date = c.trade_date
    )
),

merged as (
    select * from uncontested
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
        ingest_run_id
    from ranked
    where recency = 1
)

select * from merged
order by symbol, trade_date
