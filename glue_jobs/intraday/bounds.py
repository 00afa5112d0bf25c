"""The range a quote's numbers must lie in before the processor touches them (pure).

A number outside it is not a price a stock trades at, and passing it on breaks something
downstream instead of rejecting it here with its reason: 1E+30 overflows the 28 digits of
the percent-change arithmetic, a previous close of 1E-30 makes the percent overflow the same
way, a volume or sequence past 2**63 overflows SQLite's and Parquet's 64-bit integers, an
event time in the year 3000000 overflows the clock, and a price with 40 significant digits is
refused by DynamoDB (38 at most). Each of those made the record fail its retries and go to the
failure queue; here it is rejected once, named, and kept under stream/rejected/ like a zero price.

The bounds leave ample room around real quotes (the dearest US share trades below $1,000,000,
Alpha Vantage sends four decimal places)."""
from __future__ import annotations

from decimal import Decimal

from glue_jobs.lake.quote_record import QuoteRecord

PRICES = ("price", "open", "high", "low", "previous_close")
SMALLEST_PRICE = Decimal("0.0001")  # the enrichment's own precision: a smaller close divides to noise
PRICE_LIMIT = Decimal("10000000")  # exclusive
CHANGE_LIMIT = PRICE_LIMIT  # |change|: a price minus a close, both in range
# |change %|: the largest a price and a close in range can give (1E+7 over 1E-4, in percent)
PERCENT_LIMIT = PRICE_LIMIT / SMALLEST_PRICE * 100
MAX_DECIMAL_PLACES = 8
VOLUME_LIMIT = 10**15  # exclusive; far inside a signed 64-bit integer
SEQUENCE_LIMIT = 2**63  # exclusive: a signed 64-bit integer in SQLite, Parquet and the history table
EVENT_TIME_LIMIT_MS = 4_102_444_800_000  # 2100-01-01T00:00Z, exclusive; the calendar's and clock's reach


_PLACES = Decimal(1).scaleb(-MAX_DECIMAL_PLACES)


def out_of_range(quote: QuoteRecord) -> str | None:
    """Why `quote` lies outside the range, naming the field and the bound; None when it is inside."""
    # every record of a stream comes here: one chain of comparisons in C answers the common case
    q = quote
    if (SMALLEST_PRICE <= q.price < PRICE_LIMIT and SMALLEST_PRICE <= q.open < PRICE_LIMIT
            and SMALLEST_PRICE <= q.high < PRICE_LIMIT and SMALLEST_PRICE <= q.low < PRICE_LIMIT
            and SMALLEST_PRICE <= q.previous_close < PRICE_LIMIT
            and -CHANGE_LIMIT < q.change < CHANGE_LIMIT and -PERCENT_LIMIT < q.change_percent < PERCENT_LIMIT
            # within the limits above, quantizing to 8 places stays inside the context's 28 digits
            and q.price.quantize(_PLACES) == q.price and q.open.quantize(_PLACES) == q.open
            and q.high.quantize(_PLACES) == q.high and q.low.quantize(_PLACES) == q.low
            and q.previous_close.quantize(_PLACES) == q.previous_close
            and q.change.quantize(_PLACES) == q.change and q.change_percent.quantize(_PLACES) == q.change_percent
            and 0 <= q.volume < VOLUME_LIMIT and 0 <= q.sequence < SEQUENCE_LIMIT
            and 0 <= q.event_time_ms < EVENT_TIME_LIMIT_MS):
        return None
    return _reason(quote)


def _reason(quote: QuoteRecord) -> str | None:
    for name in PRICES:
        value: Decimal = getattr(quote, name)
        if value <= 0:
            return f"{name} is {value}: prices must be positive"
        if value < SMALLEST_PRICE or value >= PRICE_LIMIT:
            return (f"{name} is {shown(value)}: out of range, a price must be at least {SMALLEST_PRICE} "
                    f"and below {PRICE_LIMIT}")
    for name, limit in (("change", CHANGE_LIMIT), ("change_percent", PERCENT_LIMIT)):
        if abs(getattr(quote, name)) >= limit:
            return f"{name} is {shown(getattr(quote, name))}: out of range, its size must be below {limit:f}"
    for name in (*PRICES, "change", "change_percent"):
        places = _decimal_places(getattr(quote, name))
        if places > MAX_DECIMAL_PLACES:
            return (f"{name} is {shown(getattr(quote, name))}: {places} decimal places, more than the "
                    f"{MAX_DECIMAL_PLACES} a quote may carry")
    if not 0 <= quote.volume < VOLUME_LIMIT:
        return f"volume is {quote.volume}: out of range, it must be at least 0 and below {VOLUME_LIMIT}"
    if not 0 <= quote.sequence < SEQUENCE_LIMIT:
        return f"sequence is {quote.sequence}: out of range, it must be at least 0 and below 2**63"
    if not 0 <= quote.event_time_ms < EVENT_TIME_LIMIT_MS:
        return (f"event_time_ms is {quote.event_time_ms}: out of range, it must be at least 0 "
                f"(1970) and below {EVENT_TIME_LIMIT_MS} (2100-01-01)")
    return None


def shown(value: Decimal) -> str:
    """The number as a reason names it: its digits when short, else in E notation (1E+400 in full
    is 401 characters)."""
    exact = _trimmed(value)  # normalize() would round to the context's 28 digits
    text = format(exact, "f")
    return text if len(text) <= 24 else format(exact, "E")


def _decimal_places(value: Decimal) -> int:
    exponent = _trimmed(value).as_tuple().exponent
    return -exponent if isinstance(exponent, int) and exponent < 0 else 0


def _trimmed(value: Decimal) -> Decimal:
    """`value` without trailing zeros, every digit kept."""
    sign, digits, exponent = value.as_tuple()
    if not isinstance(exponent, int):
        return value
    while len(digits) > 1 and digits[-1] == 0:
        digits, exponent = digits[:-1], exponent + 1
    return Decimal((sign, digits, exponent))
