from __future__ import annotations

import datetime as dt
import hashlib
import json

from glue_jobs.lake import layout
from ingestion.alphavantage.classify import classify
from ingestion.alphavantage.parse import parse_csv, parse_json
from ingestion.landing import Landing, SymbolRecord
from ingestion.source_api import FetchResult
from tests.support.recorded import recorded

AS_OF = dt.date(2026, 11, 20)
FETCHED = dt.datetime(2026, 11, 20, 18, 30, tzinfo=dt.timezone.utc)  # 13:30 in New York


def result(body, status=200, datatype="csv", **kw):
    return FetchResult("IBM", body, "application/json", status, classify(body, status), FETCHED, datatype, **kw)


def landing(lake):
    return Landing(lake, run_id="r1", as_of=AS_OF, source_name="alphavantage")


def test_a_csv_body_lands_byte_exact(lake):
    land, record = landing(lake), SymbolRecord("IBM")
    body = recorded("data_compact.csv")
    land.land(result(body), record)
    key = layout.raw_key("2026-11-20", "IBM", "r1", "csv")
    assert lake.get_bytes(key) == body
    assert (record.raw_key, record.rows, record.bytes) == (key, 6, len(body))
    assert record.sha256 == hashlib.sha256(body).hexdigest()
    assert record.forming_date == "2026-11-20"  # fetched before the close on the bar's day


def test_a_json_body_lands_as_received_with_a_csv_rendering_next_to_it(lake):
    land, record = landing(lake), SymbolRecord("IBM")
    body = recorded("data_compact.json")
    land.land(result(body, datatype="json"), record)
    assert lake.get_bytes(layout.raw_key("2026-11-20", "IBM", "r1", "json")) == body
    rendering = lake.get_bytes(record.csv_key)
    assert parse_csv(rendering).bars == parse_json(body).bars
    assert record.last_refreshed == "2026-11-20 13:14:34" and record.forming_date == "2026-11-20"
    assert [o.role for o in land.objects] == ["raw", "raw_csv_rendering"]


def test_a_rejected_body_lands_with_its_reason_and_the_echoed_key_masked(lake):
    land, record = landing(lake), SymbolRecord("IBM")
    body = recorded("information_daily_cap.json")
    land.land(result(body), record)
    stored = lake.get_bytes(record.rejected_keys[0])
    assert b"FIXTUREKEY0123456" not in stored
    assert stored == body.replace(b"FIXTUREKEY0123456", b"***")
    reason = json.loads(lake.get_bytes(layout.rejected_reason_key("2026-11-20", "IBM", "r1")))
    assert reason["kind"] == "daily_cap" and reason["redacted"] is True
    assert reason["symbol"] == "IBM" and reason["run_id"] == "r1" and reason["http_status"] == 200
    assert reason["fetched_at"] == FETCHED.isoformat() and "FIXTUREKEY0123456" not in reason["message"]
    assert not lake.list_keys(layout.RAW_PREFIX)


def test_every_bad_answer_of_a_symbol_is_kept(lake):
    land, record = landing(lake), SymbolRecord("IBM")
    land.land(result(recorded("note_per_minute.json")), record)
    page = result(recorded("html_502.html"), status=502)
    land.land(result(recorded("data_compact.csv"), earlier=(page,)), record)
    keys = lake.list_keys(layout.REJECTED_PREFIX)
    assert [k.rsplit("/", 1)[1] for k in keys] == ["body-2.html", "body.json", "reason-2.json", "reason.json"]
    assert record.rejected_keys == [keys[1], keys[0]] and record.raw_key


def test_a_transport_failure_leaves_a_reason_without_a_body(lake):
    land, record = landing(lake), SymbolRecord("IBM")
    land.land(result(b"", status=0), record)
    assert [k.rsplit("/", 1)[1] for k in lake.list_keys("")] == ["reason.json"]


def test_the_manifest_lists_every_object_written(lake):
    land = landing(lake)
    land.land(result(recorded("data_compact.json"), datatype="json"), SymbolRecord("IBM"))
    land.land(result(recorded("error_invalid_symbol.json")), SymbolRecord("IBM"))
    key = land.write_manifest({"status": "partial"})
    manifest = json.loads(lake.get_bytes(key))
    listed = {o["key"]: o for o in manifest["objects"]}
    assert set(listed) | {key} == set(lake.list_keys(""))
    for k, entry in listed.items():
        assert entry["sha256"] == hashlib.sha256(lake.get_bytes(k)).hexdigest()
    assert (manifest["run_id"], manifest["as_of"], manifest["source"], manifest["status"]) == (
        "r1", "2026-11-20", "alphavantage", "partial")


def test_the_manifest_keeps_each_record_as_it_was_when_written(lake):
    import dataclasses

    land, record = landing(lake), SymbolRecord("IBM")
    land.land(result(recorded("html_502.html"), status=502), record)
    land.land(result(recorded("data_compact.csv")), record)
    assert record.as_dict() == dataclasses.asdict(record)
    assert [o.as_dict() for o in land.objects] == [dataclasses.asdict(o) for o in land.objects]
    doc = record.as_dict()
    record.rejected_keys.append("later")  # a later answer of the same symbol
    assert "later" not in doc["rejected_keys"]
