"""The intraday producer (issue 14): quotes for a watchlist, on a schedule the key's limits
can sustain, only while a session is open (or on the synthetic source's own session clock),
put on the stream as glue_jobs.lake.quote_record records."""
