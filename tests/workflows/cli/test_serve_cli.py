"""`tickerlake serve get|http|verify|rebuild|sync` on a real local lake (published by
`tickerlake run`) and the real SQLite serving table, plus the function-URL handler on it."""
from __future__ import annotations

import json
import shutil
import sqlite3
import threading
import urllib.error
import urllib.request
from decimal import Decimal

import pytest

from glue_jobs.ports.serving import Bar, Deletion
from glue_jobs.runtime import SERVING_FILE, open_runtime
from workflows.cli import serve_commands
from workflows.cli.main import main
from workflows.entry import serve_http

DAY = "2024-01-10"


@pytest.fixture(scope="module")
def published_lake(tmp_path_factory):
    """Two published partitions (trade_year 2023 and 2024) of three symbols, no serving table."""
    lake = tmp_path_factory.mktemp("serve") / "lake"
    assert main(["run", "--lake", str(lake), "--symbols", "AAPL,MSFT,IBM", "--date", DAY,
                 "--start", "2023-11-01", "--no-dashboard"]) == 0
    return lake


@pytest.fixture
def lake(published_lake, tmp_path, capsys):
    copy = tmp_path / "lake"
    shutil.copytree(published_lake, copy)
    shutil.rmtree(copy / "serving", ignore_errors=True)  # the serve stage may have filled it
    capsys.readouterr()
    return copy


def serve(lake, *args) -> int:
    return main(["serve", *args, "--lake", str(lake)])


def published_rows(lake) -> dict[tuple[str, str], dict]:
    engine = open_runtime(str(lake)).engine
    rows = engine.query("select symbol, trade_date, open, high, low, close, volume, ingest_run_id "
                        "from stocks.daily_prices").to_pylist()
    return {(r["symbol"], r["trade_date"].isoformat()): r for r in rows}


def table(lake):
    return open_runtime(str(lake)).serving


def test_rebuild_fills_the_table_with_every_published_row_exactly_and_again_writes_nothing(lake, capsys):
    assert serve(lake, "rebuild") == 0
    out, err = capsys.readouterr()
    assert "144 rows read, 0 already equal, 144 written, 0 deleted" in out
    assert "trade_year=2023 (1/2)" in err and "trade_year=2024 (2/2)" in err  # progress per partition
    pub = published_rows(lake)
    bars = list(table(lake).scan())
    assert {b.key for b in bars} == set(pub) and len(pub) == 144
    for b in bars:
        row = pub[b.key]
        # prices are the exact decimal of the published double's shortest text
        assert b.close == Decimal(repr(row["close"])) and float(b.close) == row["close"]
        assert (b.volume, b.ingest_run_id) == (row["volume"], row["ingest_run_id"])

    assert serve(lake, "rebuild") == 0  # idempotent: nothing to write the second time
    assert "144 already equal, 0 written, 0 deleted" in capsys.readouterr().out


def test_get_answers_a_range_and_the_last_n_in_date_order_in_each_format(lake, capsys):
    assert serve(lake, "rebuild") == 0
    capsys.readouterr()
    pub = published_rows(lake)
    assert serve(lake, "get", "aapl", "--from", "2023-12-01", "--to", "2023-12-31", "--format", "json") == 0
    rows = json.loads(capsys.readouterr().out, parse_float=Decimal)
    dates = [r["trade_date"] for r in rows]
    assert dates == sorted(k[1] for k in pub if k[0] == "AAPL" and k[1].startswith("2023-12"))
    first = pub[("AAPL", dates[0])]
    assert rows[0]["close"] == Decimal(repr(first["close"])) and rows[0]["volume"] == first["volume"]

    assert serve(lake, "get", "AAPL", "--last", "3", "--format", "csv") == 0
    lines = capsys.readouterr().out.splitlines()
    newest = sorted(k[1] for k in pub if k[0] == "AAPL")[-3:]
    assert [line.split(",")[1] for line in lines[1:]] == newest

    assert serve(lake, "get", "AAPL", "--from", "2030-01-01") == 0  # a symbol it holds, no bars there
    assert capsys.readouterr().out.rstrip().endswith("(0 bars)")


@pytest.mark.parametrize("args,words", [
    (["get", "ZZZ"], "no bars for symbol ZZZ"),
    (["get", "AAPL", "--from", "2024-02-30"], "--from '2024-02-30' is not a date"),
    (["get", "AAPL", "--from", "2024-02-01", "--to", "2024-01-01"], "--from 2024-02-01 is after --to 2024-01-01"),
    (["get", "AAPL", "--last", "0"], "--last 0: give 1 to"),
    (["get", "not a symbol"], "is not a ticker"),
])
def test_bad_input_to_get_is_one_line_and_exit_2(lake, capsys, args, words):
    assert serve(lake, "rebuild") == 0
    capsys.readouterr()
    assert serve(lake, *args) == 2
    err = capsys.readouterr().err
    assert words in err and "Traceback" not in err and len(err.strip().splitlines()) == 1


def test_reading_a_lake_without_a_serving_table_says_how_to_fill_it(lake, capsys):
    assert serve(lake, "get", "AAPL") == 2
    assert "no serving table at" in capsys.readouterr().err
    assert not (lake / SERVING_FILE).exists()  # a read did not create an empty table


def test_verify_names_each_difference_exits_7_and_rebuild_repairs_them(lake, capsys):
    assert serve(lake, "rebuild") == 0
    assert serve(lake, "verify") == 0
    assert "equal: every symbol has the same rows and values" in capsys.readouterr().out

    t = table(lake)
    aapl = t.get_bars("AAPL", last=3)
    newer = "29991231T000000Z-zzzzzz"
    # other values written under a newer version than the publish (by hand, or a bug), a lost
    # row, an extra row
    t.put_bars([Bar("AAPL", aapl[0].trade_date, aapl[0].open, aapl[0].high, aapl[0].low, Decimal("1.5"),
                    aapl[0].volume, aapl[0].ingest_run_id, aapl[0].version + "z")])
    t.delete_bars([Deletion("AAPL", aapl[1].trade_date, newer)])
    t.put_bars([Bar("MSFT", "2023-12-25", Decimal(1), Decimal(1), Decimal(1), Decimal(1), 1, "x", aapl[2].version)])
    # and a damaged row at its own version: a write conditional on that version cannot fix it
    with sqlite3.connect(lake / SERVING_FILE) as con:
        con.execute("update bars set volume = 7 where symbol = 'IBM' and trade_date = ?", (aapl[2].trade_date,))
    capsys.readouterr()

    assert serve(lake, "verify") == 7
    out = capsys.readouterr().out
    assert f"AAPL {aapl[0].trade_date}: different values: close published {aapl[0].close} serving 1.5" in out
    assert f"AAPL {aapl[1].trade_date}: missing (published, not in the serving table)" in out
    assert "MSFT 2023-12-25: extra (in the serving table, not published)" in out
    assert f"IBM {aapl[2].trade_date}: different values: volume published" in out and "serving 7" in out
    assert "3 symbols differ" in out and "fix: tickerlake serve rebuild" in out

    assert serve(lake, "rebuild") == 0
    assert "3 written, 1 deleted" in capsys.readouterr().out
    assert serve(lake, "verify") == 0


def test_rebuild_never_deletes_what_it_cannot_rewrite(lake, capsys):
    assert serve(lake, "rebuild") == 0
    t = table(lake)
    extra_2023 = Bar("MSFT", "2023-12-25", Decimal(1), Decimal(1), Decimal(1), Decimal(1), 1, "x", "20000101T000000Z-old000")
    extra_2024 = Bar("MSFT", "2024-01-06", Decimal(1), Decimal(1), Decimal(1), Decimal(1), 1, "x", "20000101T000000Z-old000")
    t.put_bars([extra_2023, extra_2024])
    # the 2023 partition's data file is damaged: its dates must be left alone, 2024 still repaired
    loc = next(p.location for p in open_runtime(str(lake)).catalog.list_partitions("stocks", "daily_prices")
               if p.values["trade_year"] == "2023")
    for f in (lake / loc).glob("*.parquet"):
        f.write_bytes(b"not parquet")
    before_2023 = t.get_bars("AAPL", end="2023-12-31")
    capsys.readouterr()

    assert serve(lake, "rebuild") == 1
    err = capsys.readouterr().err
    assert "trade_year=2023" in err and "cannot be read" in err and "Traceback" not in err
    assert t.get_bars("MSFT", start="2023-12-25", end="2023-12-25") == [extra_2023]  # kept: cannot rewrite 2023
    assert t.get_bars("AAPL", end="2023-12-31") == before_2023
    assert t.get_bars("MSFT", start="2024-01-06", end="2024-01-06") == []  # 2024 was read: extra deleted


def test_rebuild_without_a_published_table_refuses_and_keeps_the_table(tmp_path, capsys):
    lake = tmp_path / "empty"
    lake.mkdir()
    t = open_runtime(str(lake)).serving
    t.put_bars([Bar("AAPL", "2024-01-02", Decimal(1), Decimal(1), Decimal(1), Decimal(1), 1, "x", "v1")])
    assert serve(lake, "rebuild") == 2
    assert "nothing to rebuild from; the serving table is left as it is" in capsys.readouterr().err
    assert len(list(t.scan())) == 1


def test_verify_reports_the_lag_behind_a_newer_publish(lake, capsys):
    assert serve(lake, "rebuild") == 0
    served = max(b.version for b in table(lake).scan())
    # a later publish the serving table has not seen (its rows not loaded yet)
    runtime = open_runtime(str(lake))
    part = runtime.catalog.list_partitions("stocks", "daily_prices")[-1]
    newer = "29990101T000000Z-newer0"
    shutil.copytree(lake / part.location, lake / part.location.replace(part.location.split("/")[-2], f"v={newer}"))
    from glue_jobs.ports.catalog import Partition

    runtime.catalog.switch_partitions("stocks", "daily_prices", [Partition(
        part.values, part.location.replace(part.location.split("/")[-2], f"v={newer}"))])
    capsys.readouterr()
    assert serve(lake, "verify") == 0  # same rows: equal, but behind by a version
    out = capsys.readouterr().out
    assert "lag: behind by 1 published version" in out and newer in out and served in out


def test_sync_runs_the_event_queue_drain_or_says_it_is_not_available(lake, capsys):
    code = serve(lake, "sync")
    err = capsys.readouterr().err
    assert code == 0 or (code == 2 and "serve sync is not available" in err)


# -- HTTP ------------------------------------------------------------------------------------


@pytest.fixture
def http_server(lake, capsys):
    assert serve(lake, "rebuild") == 0
    capsys.readouterr()
    runtime = open_runtime(str(lake))
    server = serve_commands.make_server(lambda: runtime.serving, 0, say=lambda line: None)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server, runtime
    server.shutdown()
    server.server_close()


def fetch(server, path, method="GET"):
    host, port = server.server_address[:2]
    req = urllib.request.Request(f"http://{host}:{port}{path}", method=method)
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            return resp.status, resp.headers["Content-Type"], resp.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.headers["Content-Type"], exc.read().decode()


def test_http_answers_json_bars_on_localhost_only(http_server):
    server, runtime = http_server
    assert server.server_address[0] == "127.0.0.1"
    status, kind, body = fetch(server, "/bars/AAPL?from=2023-12-01&to=2023-12-08&last=2")
    assert (status, kind) == (200, "application/json")
    rows = json.loads(body, parse_float=Decimal)
    expected = runtime.serving.get_bars("AAPL", start="2023-12-01", end="2023-12-08", last=2)
    assert [(r["trade_date"], r["close"]) for r in rows] == [(b.trade_date, b.close) for b in expected]
    assert len(rows) == 2


@pytest.mark.parametrize("path,method,status,words", [
    ("/bars/AAPL?from=yesterday", "GET", 400, "is not a date"),
    ("/bars/AAPL?last=abc", "GET", 400, "is not a whole number"),
    ("/bars/ZZZ", "GET", 404, "no bars for symbol ZZZ"),
    ("/nothing", "GET", 404, "no such path"),
    ("/bars/AAPL", "POST", 405, "not allowed"),
])
def test_http_errors_are_json_with_their_status(http_server, path, method, status, words):
    server, _ = http_server
    got, kind, body = fetch(server, path, method)
    assert (got, kind) == (status, "application/json")
    assert words in json.loads(body)["error"]


def test_a_port_in_use_is_one_line(http_server):
    server, runtime = http_server
    with pytest.raises(Exception) as err:
        serve_commands.make_server(lambda: runtime.serving, server.server_address[1])
    assert "cannot listen on 127.0.0.1" in str(err.value) and "--port" in str(err.value)


# -- the function-URL Lambda ---------------------------------------------------------------


def url_event(path, query="", method="GET"):
    return {"version": "2.0", "rawPath": path, "rawQueryString": query,
            "requestContext": {"http": {"method": method, "path": path}}}


def test_the_function_url_handler_answers_as_the_local_server(lake, capsys):
    assert serve(lake, "rebuild") == 0
    t = table(lake)
    resp = serve_http.handler(url_event("/bars/msft", "last=5"), None, serving=t)
    assert resp["statusCode"] == 200 and resp["headers"]["content-type"] == "application/json"
    rows = json.loads(resp["body"], parse_float=Decimal)
    assert [(r["trade_date"], r["close"]) for r in rows] == [(b.trade_date, b.close) for b in t.get_bars("MSFT", last=5)]
    bad = serve_http.handler(url_event("/bars/MSFT", "to=2024-1-1"), None, serving=t)
    assert bad["statusCode"] == 400 and "is not a date" in json.loads(bad["body"])["error"]
    missing = serve_http.handler(url_event("/bars/NOPE"), None, serving=t)
    assert missing["statusCode"] == 404


def test_the_function_url_handler_answers_500_json_when_unconfigured():
    resp = serve_http.handler(url_event("/bars/AAPL"), None, env={})
    assert resp["statusCode"] == 500 and "TICKERLAKE_LAKE is not set" in json.loads(resp["body"])["error"]


# -- the dashboard's data-health section ---------------------------------------------------


def serving_panel(lake) -> str:
    page = (lake / "dashboard" / "index.html").read_text()
    start = page.index('data-panel-id="serving_health"')
    section = page[page.rindex('<h2 class="section">', 0, start):start]
    assert "Data health" in section  # the panel sits in the data-health section
    return page[start:page.index("</section>", start)]


def test_the_dashboard_shows_the_serving_tables_lag_counts_and_the_last_verify(lake, capsys):
    assert main(["dashboard", "--lake", str(lake)]) == 0
    assert "no serving table in this lake yet" in serving_panel(lake)

    assert serve(lake, "rebuild") == 0
    assert main(["dashboard", "--lake", str(lake)]) == 0
    panel = serving_panel(lake)
    version = max(b.version for b in table(lake).scan())
    rows = sum(1 for _ in table(lake).scan())
    assert "up to date" in panel and version in panel
    assert f'<div class="v c-green">{rows:,} / {rows:,}</div><div class="k">rows served / published</div>' in panel
    assert '<div class="v c-red">never</div>' in panel and "run tickerlake serve verify" in panel

    bar = table(lake).get_bars("IBM", last=1)[0]
    with sqlite3.connect(lake / SERVING_FILE) as con:
        con.execute("update bars set close = '0.5' where symbol = 'IBM' and trade_date = ?", (bar.trade_date,))
        con.execute("delete from bars where symbol = 'IBM' and trade_date = (select min(trade_date) from bars)")
        deleted = con.execute("select changes()").fetchone()[0]
    assert serve(lake, "verify") == 7
    assert main(["dashboard", "--lake", str(lake)]) == 0
    panel = serving_panel(lake)
    assert f'<div class="v c-red">{rows - deleted:,} / {rows:,}</div>' in panel  # counted on every render
    assert '<div class="v c-red">1 symbols differ</div><div class="k">last full comparison (' in panel
    assert f"<td>IBM</td><td>{bar.trade_date}</td><td>different values</td><td>close: {bar.close} vs 0.5</td>" in panel
    assert "</td><td>missing</td>" in panel

    assert serve(lake, "rebuild") == 0 and serve(lake, "verify") == 0
    assert main(["dashboard", "--lake", str(lake)]) == 0
    panel = serving_panel(lake)
    assert '<div class="v c-green">equal</div>' in panel and "<td>IBM</td>" not in panel


def test_serve_http_as_a_user_starts_it_prints_its_url_answers_and_stops_on_ctrl_c(lake, capsys):
    import os
    import re
    import signal
    import subprocess
    import sys

    assert serve(lake, "rebuild") == 0
    proc = subprocess.Popen([sys.executable, "-m", "workflows.cli.main", "serve", "http", "--port", "0",
                             "--lake", str(lake)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "PYTHONUNBUFFERED": "1"},
                            # as from a terminal: a suite started in the background (`make test &`)
                            # ignores SIGINT, and a child inherits that and would never stop
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    try:
        line = proc.stdout.readline()
        url = re.search(r"http://127\.0\.0\.1:\d+", line).group(0)
        with urllib.request.urlopen(f"{url}/bars/IBM?last=1", timeout=10) as resp:
            assert [r["symbol"] for r in json.loads(resp.read())] == ["IBM"]
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=60) == 0  # the outcome, not the speed: a loaded machine may take a while
        assert "Traceback" not in proc.stderr.read()
    finally:
        if proc.poll() is None:
            proc.kill()
