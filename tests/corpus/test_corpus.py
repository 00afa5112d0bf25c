"""Every corpus case through ingest, crawl and WAP: the outcome the rules give, a message that
names the symbol (and date), and per symbol raw rows = published + quarantined + dropped."""
from __future__ import annotations

import json

import pytest

from tests.corpus.cases import CASES, SHARED, Case
from tests.corpus.conftest import FIXTURE_KEY, GOOD, INGEST_RUN
from tests.corpus.harness import KEY, Outcome
from tests.support.recorded import lake_files


def check(case: Case, out: Outcome) -> None:
    sym = case.symbol
    published, held, raw = out.published(sym), out.quarantined(sym), out.raw_rows(sym)
    days = {p["day"] for p in published}
    if case.expect == "rejected":
        reasons = out.rejected(sym)
        assert [r["kind"] for r in reasons] == list(case.kinds)
        assert all(r["symbol"] == sym and r["message"] and r["run_id"] == INGEST_RUN for r in reasons)
        # what a person reads: the reason files (symbol, time, kind, message) and the ingest's problems
        texts = [json.dumps(r) for r in reasons] + [p for p in out.problems() if sym in p]
        record = out.record(sym)
        if case.data_after:
            assert record.status == "fetched" and raw == len(published) == 100
        else:
            assert record.status in ("failed", "carried") and raw == 0 and published == []
    elif case.expect == "quarantined":
        rules = {r for h in held for r in h["rule"].split(",")}
        assert held and set(case.rules) <= rules, rules
        assert days.isdisjoint(h["day"] for h in held)  # a held bar's date is not in prod
        texts = [h["reason"] for h in held]
    elif case.expect == "warning":
        outcomes = out.rules()
        for rule in case.rules:
            assert outcomes[rule]["kind"] == "warning" and outcomes[rule]["success"] is False
        texts = [outcomes[rule]["example"] or "" for rule in case.rules]
        assert held == [] and len(published) == raw
    elif case.expect in ("dropped", "published"):
        assert held == [] and out.rejected(sym) == [] and len(published) == raw - case.dropped
        texts = []
    elif case.expect == "blocked":
        message = str(out.blocked or "")
        assert out.blocked is not None and all(rule in message for rule in case.rules)
        assert f"{INGEST_RUN} (ingest date 2026-11-20)" in message
        assert f"tickerlake set-aside --ingest-run {INGEST_RUN}" in message
        assert published == [] and out.prod_checksum() == "no table"
        texts = [message] + [h["reason"] for h in held]
    else:
        raise AssertionError(f"unknown expectation {case.expect!r}")
    for word in case.words:
        assert any(case.text(word) in t for t in texts), f"{case.text(word)!r} not in {texts[:3]}"
    # every raw row is accounted for
    if case.expect == "blocked":
        staged = out.query(f"select count(*) as n from stocks.tmp_daily_prices where symbol = '{sym}'")[0]["n"]
        assert raw == staged + case.dropped and len(held) <= staged
    else:
        assert raw == len(published) + len(held) + case.dropped


@pytest.mark.parametrize("case", [
    pytest.param(c, marks=pytest.mark.xfail(strict=True, reason=c.known_gap)) if c.known_gap else c for c in SHARED
], ids=[c.name for c in SHARED])
def test_shared_case(case: Case, shared: Outcome):
    check(case, shared)


def test_own_case(own):
    case, out = own
    check(case, out)
    if case.expect != "blocked" and case.symbol != "BADKEY":
        assert len(out.published(GOOD)) == 100  # the symbol before it is published
    if case.expect == "rejected":
        assert out.record(case.symbol).status == "carried"  # stops the ingest: tried again next run
        assert out.run_log()["totals"]["reconciled"] is True
    for name, data in lake_files(out.storage).items():
        for key in (KEY, FIXTURE_KEY):
            assert key.encode() not in data, f"the API key leaked into {name}"


def test_the_shared_run_publishes_and_reconciles(shared: Outcome):
    assert shared.blocked is None and shared.wap["publish"]["status"] == "published"
    totals = shared.run_log()["totals"]
    assert totals["reconciled"] is True
    assert totals["raw_rows"] == sum(shared.raw_rows(c.symbol) for c in SHARED)
    assert totals["duplicates_dropped"] == sum(c.dropped for c in SHARED)
    held = shared.query("select count(*) as n from stocks.daily_prices_quarantine")[0]["n"]
    assert totals["quarantined_rows"] == held
    for name, data in lake_files(shared.storage).items():
        assert KEY.encode() not in data, f"the API key leaked into {name}"


def test_the_corpus_covers_the_issue():
    assert len(CASES) >= 25
    assert len({c.symbol for c in CASES}) == len(CASES)
    assert {c.expect for c in CASES} == {"rejected", "quarantined", "dropped", "warning", "published", "blocked"}
