-- Parse, type and de-duplicate the raw rows of this run's ingest runs: the body of the
-- temporary table stocks.tmp_daily_prices (written as Parquet by the engine).
--
-- Every raw value is text. A value that does not parse becomes null and the row keeps a
-- parse_error naming the field and what arrived, so the audit quarantines it instead of
-- the row vanishing. De-duplication, per symbol and trading date:
--   * exact copies of a row within one fetch are dropped (counted as duplicates);
--   * the latest fetch wins: rows from older fetches are dropped (counted as duplicates);
--   * rows of the same fetch that disagree are all kept, for the uniqueness rule to catch.
-- Parameters: ingest_run_ids (the ingest runs this pipeline run processes).
with

raw_rows as (
    select
        symbol,
        run_id,
        ingest_date,
        "$path" as source_file,
        -- Athena's text reader splits lines on LF only, so a CRLF body leaves a CR behind
        trim(replace("timestamp", chr(13), '')) as raw_timestamp,
        trim(replace(open, chr(13), '')) as raw_open,
        trim(replace(high, chr(13), '')) as raw_high,
        trim(replace(low, chr(13), '')) as raw_low,
        trim(replace(close, chr(13), '')) as raw_close,
        trim(replace(volume, chr(13), '')) as raw_volume
    from stocks.raw_daily
    where run_id in ({{ingest_run_ids}})
),

fetches as (
    select
        run_id,
        symbol,
        cast(fetched_at as timestamp) as fetched_at,
        cast(nullif(forming_date, '') as date) as forming_date
    from stocks.tmp_ingest_fetches
),

typed as (
    select
        symbol,
        run_id,
        ingest_date,
        source_file,
        raw_timestamp,
        raw_open,
        raw_high,
        raw_low,
        raw_close,
        raw_volume,
        -- strict shapes first, so both engines accept exactly the same text
        case
            when regexp_like(raw_timestamp, '^\d{4}-\d{2}-\d{2}$') then try_cast(raw_timestamp as date)
        end as trade_date,
        case
            when regexp_like(raw_open, '^[+-]?(\d+\.?\d*|\.\d+)$') then try_cast(raw_open as double)
        end as open,
        case
            when regexp_like(raw_high, '^[+-]?(\d+\.?\d*|\.\d+)$') then try_cast(raw_high as double)
        end as high,
        case
            when regexp_like(raw_low, '^[+-]?(\d+\.?\d*|\.\d+)$') then try_cast(raw_low as double)
        end as low,
        case
            when regexp_like(raw_close, '^[+-]?(\d+\.?\d*|\.\d+)$') then try_cast(raw_close as double)
        end as close,
        case
            when regexp_like(raw_volume, '^[+-]?\d{1,18}$') then try_cast(raw_volume as bigint)
        end as volume,
        concat_ws(
            ',',
            coalesce(raw_timestamp, ''),
            coalesce(raw_open, ''),
            coalesce(raw_high, ''),
            coalesce(raw_low, ''),
            coalesce(raw_close, ''),
            coalesce(raw_volume, '')
        ) as raw_line
    from raw_rows
),

explained as (
    select
        *,
        nullif(
            concat_ws(
                '; ',
                case
                    when coalesce(raw_timestamp, '') = '' then 'timestamp is missing'
                    when trade_date is null then 'timestamp ''' || raw_timestamp || ''' is not a date (YYYY-MM-DD)'
                end,
                case
                    when coalesce(raw_open, '') = '' then 'open is missing'
                    when open is null then 'open ''' || raw_open || ''' is not a number'
                end,
                case
                    when coalesce(raw_high, '') = '' then 'high is missing'
                    when high is null then 'high ''' || raw_high || ''' is not a number'
                end,
                case
                    when coalesce(raw_low, '') = '' then 'low is missing'
                    when low is null then 'low ''' || raw_low || ''' is not a number'
                end,
                case
                    when coalesce(raw_close, '') = '' then 'close is missing'
                    when close is null then 'close ''' || raw_close || ''' is not a number'
                end,
                case
                    when coalesce(raw_volume, '') = '' then 'volume is missing'
                    when volume is null then 'volume ''' || raw_volume || ''' is not a whole number'
                end
            ),
            ''
        ) as parse_error
    from typed
),

with_fetch as (
    select
        e.*,
        f.fetched_at as fetched_at,
        f.forming_date as forming_date
    from explained as e
    left join fetches as f
        on f.run_id = e.run_id
        and f.symbol = e.symbol
),

exact_copies as (
    select
        *,
        row_number() over (
            partition by run_id, symbol, raw_line
            order by source_file
        ) as copy_number
    from with_fetch
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
            partition by symbol, coalesce(cast(trade_date as varchar), raw_timestamp)
            order by fetched_at desc, run_id desc
        ) as fetch_rank
    from distinct_rows
),

latest_fetch as (
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
        run_id,
        ingest_date,
        source_file,
        raw_line,
        parse_error,
        -- a date that did not parse files under the year it was ingested
        coalesce(year(trade_date), year(cast(ingest_date as date))) as trade_year
    from fetch_order
    where fetch_rank = 1
)

select * from latest_fetch
order by trade_year, symbol, trade_date, raw_line
