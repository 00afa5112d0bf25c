"""Lakes for the corpus: one shared lake where every case that does not stop the ingest or block
the batch is one symbol of one ingest run and one WAP (built once per session), and an own
lake per case that does."""
from __future__ import annotations

import datetime as dt

import pytest

from tests.corpus.cases import OWN, SHARED, Case
from tests.corpus.harness import (
    AS_OF,
    KEY,
    Answer,
    IngestSpec,
    Outcome,
    RoutedSource,
    ScriptedSession,
    alphavantage,
    csv_bytes,
    new_clock,
    run_pipeline,
    series,
)
from tests.support.alphavantage_server import FakeAlphaVantage
from tests.support.wap_fixtures import land

INGEST_RUN = "20261120T220000Z-corpus"
WAP_RUN = "20261120T230000Z-corpus"
FIXTURE_KEY = "FIXTUREKEY0123456"  # the key the recorded daily-cap bodies echo


def data_body(case: Case) -> bytes:
    return case.body(case.symbol) if case.body else csv_bytes(series(case.symbol))


def _scripted(cases: list[Case], clock, *, api_key: str = KEY, extra: dict[str, bytes] | None = None):
    answers = {c.symbol: list(c.answers()) for c in cases if c.answers}
    data = {c.symbol: data_body(c) for c in cases}
    data.update(extra or {})
    return alphavantage(clock, session=ScriptedSession(answers, data), api_key=api_key)


@pytest.fixture(scope="session")
def shared(tmp_path_factory) -> Outcome:
    """Every shared case as one symbol of one ingest run, then one WAP."""
    clock = new_clock()
    served = [c for c in SHARED if c.via_server]
    with FakeAlphaVantage(api_key=KEY, as_of=AS_OF, clock=clock.now,
                          failures={c.symbol: list(c.server_failures) for c in served if c.server_failures},
                          invalid_symbols=[c.symbol for c in served if c.invalid]) as server:
        http = alphavantage(clock, base_url=server.base_url)
        source = RoutedSource({c.symbol: http for c in served}, _scripted([c for c in SHARED if not c.via_server], clock))
        spec = IngestSpec(INGEST_RUN, [c.symbol for c in SHARED], source, clock)
        return run_pipeline(tmp_path_factory.mktemp("corpus") / "lake", [spec], wap_run_id=WAP_RUN)


GOOD = "GOODCO"  # the well-behaved symbol fetched before each own case's symbol


def build_own(case: Case, root) -> Outcome:
    """The case's own lake: a good symbol, then the case's symbol, then one WAP."""
    clock = new_clock()
    # a refused key stops at the first call: let that be the case's symbol
    symbols = [case.symbol, GOOD] if case.symbol == "BADKEY" else [GOOD, case.symbol]
    if case.symbol in ("CAPINFO", "BADKEY"):
        # through the fake HTTP server: its daily cap echoes the caller's key; a wrong key is refused
        with FakeAlphaVantage(api_key=KEY, as_of=AS_OF, clock=clock.now,
                              daily_limit=1 if case.symbol == "CAPINFO" else None) as server:
            key = KEY if case.symbol == "CAPINFO" else "WRONGKEY-0000000000"
            spec = IngestSpec(INGEST_RUN, symbols, alphavantage(clock, base_url=server.base_url, api_key=key), clock)
            return run_pipeline(root, [spec], wap_run_id=WAP_RUN)
    if case.symbol == "DRIFTED":
        return run_pipeline(root, [], wap_run_id=WAP_RUN, before_wap=lambda ctx: _land_drifted(ctx, symbols))
    source = _scripted([case], clock, api_key=FIXTURE_KEY, extra={GOOD: csv_bytes(series(GOOD))})
    return run_pipeline(root, [IngestSpec(INGEST_RUN, symbols, source, clock)], wap_run_id=WAP_RUN)


def _land_drifted(ctx, symbols: list[str]) -> None:
    rows = series("DRIFTED")
    bodies = {GOOD: csv_bytes(series(GOOD)),
              "DRIFTED": csv_bytes([r[:5] + [r[4], r[5]] for r in rows],
                                   ["timestamp", "open", "high", "low", "close", "adjusted_close", "volume"])}
    land(ctx.storage, run_id=INGEST_RUN, ingest_date=AS_OF.isoformat(), bodies=bodies,
         fetched_at=dt.datetime(2026, 11, 20, 22, 0, tzinfo=dt.timezone.utc))


@pytest.fixture(params=OWN, ids=[c.name for c in OWN])
def own(request, tmp_path) -> tuple[Case, Outcome]:
    return request.param, build_own(request.param, tmp_path / "lake")


__all__ = ["Answer", "build_own", "own", "shared"]
