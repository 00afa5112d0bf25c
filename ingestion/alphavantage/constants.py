"""Constants of the Alpha Vantage TIME_SERIES_DAILY endpoint and of our use of it.

Limits (checked against public reports, see tests/fixtures/alphavantage/SOURCES.md):
a free key gets 25 requests a day and answers bursts faster than about one request a
second with an `Information` body; premium plans are counted per minute (75 and up).
Our defaults are the free key's: 25 a day, at most 5 a minute and at least 1.2 s
between calls. 5 a minute is the old documented free rate, well under the burst
limit, and costs nothing that matters: 25 calls take five minutes, inside a Lambda's
15. Premium users raise TICKERLAKE_CALLS_PER_MINUTE / TICKERLAKE_CALLS_PER_DAY.
"""
from __future__ import annotations

DEFAULT_BASE_URL = "https://www.alphavantage.co/query"
FUNCTION = "TIME_SERIES_DAILY"
QUOTE_FUNCTION = "GLOBAL_QUOTE"  # the intraday producer's (ingestion/alphavantage/quote.py)

# JSON body layout.
META_KEY = "Meta Data"
SERIES_KEY = "Time Series (Daily)"
META_SYMBOL = "2. Symbol"
META_LAST_REFRESHED = "3. Last Refreshed"
META_OUTPUT_SIZE = "4. Output Size"
META_TIME_ZONE = "5. Time Zone"
BAR_FIELDS = ("1. open", "2. high", "3. low", "4. close", "5. volume")
# Every problem comes back as HTTP 200 with one of these keys instead of the data.
MESSAGE_KEYS = ("Note", "Information", "Error Message")

# CSV body layout (also the raw zone's layout, whatever the source).
CSV_COLUMNS = ("timestamp", "open", "high", "low", "close", "volume")

OUTPUTSIZE_COMPACT = "compact"  # the latest 100 sessions; the only size a free key gets
OUTPUTSIZE_FULL = "full"  # 20+ years; premium only on this endpoint
COMPACT_BARS = 100

DATATYPE_CSV = "csv"
DATATYPE_JSON = "json"
DATATYPES = (DATATYPE_CSV, DATATYPE_JSON)
# CSV by default: Athena and the Glue crawler read line-oriented CSV natively, while the
# JSON body is pretty-printed with dates as object keys, which Athena's JSON SerDe cannot read.
DEFAULT_DATATYPE = DATATYPE_CSV

FREE_CALLS_PER_DAY = 25
DEFAULT_CALLS_PER_MINUTE = 5
DEFAULT_MIN_INTERVAL_S = 1.2

DEFAULT_TIMEOUT_S = 30.0
DEFAULT_MAX_ATTEMPTS = 4  # HTTP attempts per call for transport errors and 5xx
DEFAULT_BACKOFF_BASE_S = 2.0
DEFAULT_BACKOFF_MAX_S = 60.0

# Every HTTP attempt has an overall deadline and a size cap, enforced while the body streams
# in (requests' timeout is per socket read: a server sending a byte every few seconds would
# otherwise hold the run, and the lake's lock, for ever). A compact answer is ~5 KB of CSV or
# ~20 KB of JSON and comes in well under a second; a full one is up to a few MB.
DEFAULT_DEADLINE_S = {OUTPUTSIZE_COMPACT: 60.0, OUTPUTSIZE_FULL: 300.0}
DEFAULT_MAX_BYTES = {OUTPUTSIZE_COMPACT: 2 * 1024 * 1024, OUTPUTSIZE_FULL: 64 * 1024 * 1024}

# Real keys are 16 upper-case letters and digits. A shorter key cannot be masked safely: a
# 3-letter key would be masked inside ordinary words of every error body.
MIN_KEY_LENGTH = 8

# Configuration names (environment variables; the CLI flags mirror them).
ENV_API_KEY = "ALPHAVANTAGE_API_KEY"
ENV_BASE_URL = "ALPHAVANTAGE_BASE_URL"
ENV_SECRET_ID = "ALPHAVANTAGE_SECRET_ID"  # Secrets Manager secret holding the key, on AWS
ENV_CALLS_PER_MINUTE = "TICKERLAKE_CALLS_PER_MINUTE"
ENV_CALLS_PER_DAY = "TICKERLAKE_CALLS_PER_DAY"
ENV_MIN_INTERVAL_S = "TICKERLAKE_MIN_INTERVAL_S"
ENV_FETCH_DEADLINE_S = "TICKERLAKE_FETCH_DEADLINE_S"  # one compact answer, seconds
ENV_FETCH_DEADLINE_FULL_S = "TICKERLAKE_FETCH_DEADLINE_FULL_S"  # one full answer (--start), seconds
ENV_FETCH_MAX_BYTES = "TICKERLAKE_FETCH_MAX_BYTES"  # one compact answer, bytes
ENV_FETCH_MAX_BYTES_FULL = "TICKERLAKE_FETCH_MAX_BYTES_FULL"  # one full answer, bytes
