-- The first half of an audited backfill's floor (tickerlake bench), in DuckDB's own dialect:
-- what the floor does, plus what write temp cannot leave out, each done once. The raw zone is
-- text, and both engines must accept exactly the same lines, so every line is checked against
-- the strict shapes (write_temp.sql's one whole-line pattern) and typed from its text; a line
-- that fails is left out here (the pipeline quarantines it). The rows are written once, in the
-- published order (year partitions sorted by symbol and date), as a temp table that publish
-- could take as it is. Left out, so this is less than the least: the fetch times' join, the
-- row's text for a quarantine, the duplicate check, the run's bookkeeping.
-- Parameters: raw_glob, out_dir (literals).
copy (
    select
        symbol,
        try_cast("timestamp" as date) as trade_date,
        try_cast(open as double) as open,
        try_cast(high as double) as high,
        try_cast(low as double) as low,
        try_cast(close as double) as close,
        try_cast(volume as bigint) as volume,
        run_id as ingest_run_id,
        year(try_cast("timestamp" as date)) as trade_year
    from read_csv(
        {{raw_glob}},
        header = false,
        skip = 1,
        delim = ',',
        quote = '',
        escape = '',
        auto_detect = false,
        null_padding = true,
        strict_mode = false,
        hive_partitioning = true,
        hive_types = {'ingest_date': 'VARCHAR', 'symbol': 'VARCHAR', 'run_id': 'VARCHAR'},
        columns = {
            'timestamp': 'VARCHAR',
            'open': 'VARCHAR',
            'high': 'VARCHAR',
            'low': 'VARCHAR',
            'close': 'VARCHAR',
            'volume': 'VARCHAR',
            'extra_field': 'VARCHAR'
        }
    )
    where regexp_full_match(
        concat_ws(',', "timestamp", open, high, low, close, volume, extra_field),
        '\d{4}-\d{2}-\d{2},([+-]?(\d+\.?\d*|\.\d+),){4}[+-]?\d{1,18}\r?'
    )
    order by trade_year, symbol, trade_date
) to {{out_dir}} (format parquet, compression zstd, partition_by (trade_year))
