"""The local quotes table writes each quote's item as the shared item shape
(glue_jobs/lake/quote_items.py) says, though it spells the fields out for speed: a field added
to the shape and not to the SQLite item fails here."""
from __future__ import annotations

import json
from decimal import Decimal

from glue_jobs.adapters.local.quotes_sqlite import _item
from glue_jobs.lake.quote_items import quote_attributes, quote_from
from glue_jobs.ports.serving import Quote


def test_the_item_is_the_shared_shape_with_exact_decimals():
    quote = Quote(symbol="IBM", session="2026-11-30", source="synthetic", anomaly=True, price=Decimal("101.50"),
                  previous_close=Decimal("95"), change=Decimal("6.50"), change_percent=Decimal("6.8421"),
                  moving_average=Decimal("100.125"), event_time_ms=1_796_050_800_000, sequence=7, volume=1200,
                  expires_at=1_796_223_600)
    shared = {k: (str(v) if not isinstance(v, (bool, int)) else v) for k, v in quote_attributes(quote).items()}
    assert _item(quote) == json.dumps(shared, sort_keys=True)
    assert quote_from(json.loads(_item(quote))) == quote
