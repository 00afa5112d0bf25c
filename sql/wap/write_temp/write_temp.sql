-- Parse and type the raw rows of this run's ingest runs: the body of the temporary table
-- stocks.tmp_daily_prices as first written (as Parquet by the engine), every row read.
--
-- Every raw value is text. A value that does not parse becomes null and the row keeps a
-- parse_error naming the field and what arrived, so the audit quarantines it instead of
-- the row vanishing. So does a row with a field past volume (extra_field, null on a
-- well-formed row): an unquoted thousands separator (volume 1,234 read as 1 and 234) must
-- not publish volume 1. Duplicates are dropped afterwards, by wap/write_temp/dedupe.sql, and
-- only when wap/write_temp/duplicates.sql finds any: a backfill of millions of rows has none, and
-- sorting them all to look for some would cost more than reading them.
--
-- A row's text as received (raw_line, source_file) is what the quarantine keeps. Typing it for
-- every row costs more than typing the fields, so without keep_text only a row that did not
-- parse keeps it: a batch whose symbol and date keys are unique (wap/write_temp/duplicates.sql)
-- identifies every other row by ingest run, symbol and date, and the audit reads the text
-- again, with keep_text and only_symbols, for the few rows it quarantines. A batch with a
-- repeated key is written again with keep_text: de-duplication compares whole lines.
-- Parameters: ingest_dates, ingest_run_ids (the ingest runs this pipeline run processes, and
-- their dates: the raw table's first partition key, so only their partitions are read);
-- keep_text (every row keeps its raw line and source file); every_symbol, only_symbols (read
-- every symbol's rows, or only those of the listed symbols).
with

raw_rows as (
    select
        symbol,
        ingest_run_id,
        ingest_date,
        "$path" as source_file,
        "timestamp" as timestamp_text,
        open as open_text,
        high as high_text,
        low as low_text,
        close as close_text,
        volume as volume_text,
        extra_field as extra_text,
        -- concat_ws skips nulls: a row with no 7th field has six fields here
        concat_ws(
            ',',
            coalesce("timestamp", ''),
            coalesce(open, ''),
            coalesce(high, ''),
            coalesce(low, ''),
            coalesce(close, ''),
            coalesce(volume, ''),
            extra_field
        ) as line_text
    from stocks.raw_daily
    where ingest_date in ({{ingest_dates}})
        and ingest_run_id in ({{ingest_run_ids}})
        and ({{every_symbol}} or symbol in ({{only_symbols}}))
),

checked as (
    select
        *,
        -- One pattern for the whole line as read: a line that matches it has six fields (none
        -- can hold a comma, and there is no 7th), each of the shape the strict per-field
        -- patterns below ask for, with no blank to trim (Athena's text reader leaves a CRLF
        -- body's CR at the end). So nearly every row is cleaned and typed after one match
        -- instead of twelve string functions and six matches.
        regexp_like(
            line_text,
            '^\d{4}-\d{2}-\d{2},([+-]?(\d+\.?\d*|\.\d+),){4}[+-]?\d{1,18}\r?$'
        ) as well_formed
    from raw_rows
),

cleaned as (
    select
        symbol,
        ingest_run_id,
        ingest_date,
        source_file,
        well_formed,
        -- Athena's text reader splits lines on LF only, so a CRLF body leaves a CR behind
        case when well_formed then timestamp_text else trim(replace(timestamp_text, chr(13), '')) end as raw_timestamp,
        case when well_formed then open_text else trim(replace(open_text, chr(13), '')) end as raw_open,
        case when well_formed then high_text else trim(replace(high_text, chr(13), '')) end as raw_high,
        case when well_formed then low_text else trim(replace(low_text, chr(13), '')) end as raw_low,
        case when well_formed then close_text else trim(replace(close_text, chr(13), '')) end as raw_close,
        case
            when well_formed then replace(volume_text, chr(13), '')
            else trim(replace(volume_text, chr(13), ''))
        end as raw_volume,
        -- blank counts as absent: DuckDB reads an empty field as null, Athena as ''
        case when not well_formed then nullif(trim(replace(extra_text, chr(13), '')), '') end as raw_extra,
        line_text
    from checked
),

lined as (
    select
        symbol,
        ingest_run_id,
        ingest_date,
        source_file,
        well_formed,
        raw_timestamp,
        raw_open,
        raw_high,
        raw_low,
        raw_close,
        raw_volume,
        raw_extra,
        case
            -- the line as read is already the line of the cleaned fields (but for a CR)
            when well_formed then replace(line_text, chr(13), '')
            else concat_ws(
                ',',
                coalesce(raw_timestamp, ''),
                coalesce(raw_open, ''),
                coalesce(raw_high, ''),
                coalesce(raw_low, ''),
                coalesce(raw_close, ''),
                coalesce(raw_volume, ''),
                raw_extra
            )
        end as raw_line
    from cleaned
),

fetches as (
    select
        ingest_run_id,
        symbol,
        cast(fetched_at as timestamp) as fetched_at,
        cast(nullif(forming_date, '') as date) as forming_date
    from stocks.tmp_ingest_fetches
),

typed as (
    select
        symbol,
        ingest_run_id,
        ingest_date,
        source_file,
        raw_timestamp,
        raw_open,
        raw_high,
        raw_low,
        raw_close,
        raw_volume,
        raw_extra,
        raw_line,
        well_formed,
        -- strict shapes first, so both engines accept exactly the same text
        case
            when well_formed then try_cast(raw_timestamp as date)
            when regexp_like(raw_timestamp, '^\d{4}-\d{2}-\d{2}$') then try_cast(raw_timestamp as date)
        end as trade_date,
        case
            when well_formed then try_cast(raw_open as double)
            when regexp_like(raw_open, '^[+-]?(\d+\.?\d*|\.\d+)$') then try_cast(raw_open as double)
        end as open,
        case
            when well_formed then try_cast(raw_high as double)
            when regexp_like(raw_high, '^[+-]?(\d+\.?\d*|\.\d+)$') then try_cast(raw_high as double)
        end as high,
        case
            when well_formed then try_cast(raw_low as double)
            when regexp_like(raw_low, '^[+-]?(\d+\.?\d*|\.\d+)$') then try_cast(raw_low as double)
        end as low,
        case
            when well_formed then try_cast(raw_close as double)
            when regexp_like(raw_close, '^[+-]?(\d+\.?\d*|\.\d+)$') then try_cast(raw_close as double)
        end as close,
        case
            when well_formed then try_cast(raw_volume as bigint)
            when regexp_like(raw_volume, '^[+-]?\d{1,18}$') then try_cast(raw_volume as bigint)
        end as volume
    from lined
),

explained as (
    select
        *,
        case
            -- a well-formed line parsed whole, unless its date does not exist (2024-02-30)
            when well_formed and trade_date is not null then cast(null as varchar)
            else nullif(
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
                    end,
                    case
                        when raw_extra is not null
                            then 'the row has an extra field ''' || raw_extra || ''' after volume '''
                            || coalesce(raw_volume, '') || ''' (an unquoted thousands separator, volume '''
                            || coalesce(raw_volume, '') || ',' || raw_extra || '''?)'
                    end
                ),
                ''
            )
        end as parse_error
    from typed
),

with_fetch as (
    select
        e.*,
        f.fetched_at as fetched_at,
        f.forming_date as forming_date
    from explained as e
    left join fetches as f
        on f.ingest_run_id = e.ingest_run_id
        and f.symbol = e.symbol
),

typed_rows as (
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
        case when {{keep_text}} or parse_error is not null then source_file end as source_file,
        case when {{keep_text}} or parse_error is not null then raw_line end as raw_line,
        parse_error,
        -- a date that did not parse files under the year it was ingested
        coalesce(year(trade_date), year(cast(ingest_date as date))) as trade_year
    from with_fetch
)

select * from typed_rows
