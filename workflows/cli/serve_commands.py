"""`tickerlake serve ...`: read the serving table (get, http), check it against the published
table (verify), rebuild it from the published table (rebuild), and drain the local event queue
into it (sync). Wired in workflows/cli/main.py.

Exit codes: 0 done (verify: equal), 2 a bad symbol, date, count, port or lake (one line),
7 verify found differences (each named), 5 rebuild found the lake's lock held, 1 anything else
(rebuild: a published partition it could not read; the rest was rebuilt)."""
from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any

from glue_jobs.lake.errors import ConfigError
from glue_jobs.ports.serving import ServingTable
from glue_jobs.runtime import ENV_SERVING_TABLE, SERVING_FILE, Runtime
from glue_jobs.serve import http_api
from workflows.runner import open_lake

DEFAULT_PORT = 8077


def _say(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def add_parser(sub: Any, shared: Callable[[argparse.ArgumentParser], None], parser_class: type,
               positive: Callable[[str], int]) -> None:
    """The `serve` subcommand and its own subcommands."""
    p = sub.add_parser("serve", help="the serving table: get, http, verify, rebuild, sync")
    serve = p.add_subparsers(dest="serve_command", required=True, parser_class=parser_class)

    g = serve.add_parser("get", help="a symbol's bars from the serving table")
    shared(g)
    g.add_argument("symbol", help="the ticker, e.g. AAPL")
    g.add_argument("--from", dest="from_date", metavar="YYYY-MM-DD", help="first trade date (inclusive)")
    g.add_argument("--to", dest="to_date", metavar="YYYY-MM-DD", help="last trade date (inclusive)")
    g.add_argument("--last", metavar="N", help="only the newest N bars (in date order)")
    g.add_argument("--format", choices=("table", "csv", "json"), default="table")

    h = serve.add_parser("http", help="JSON over HTTP on 127.0.0.1: GET /bars/{symbol}?from=&to=&last=")
    shared(h)
    h.add_argument("--port", type=_port, default=DEFAULT_PORT,
                   help=f"port on 127.0.0.1 (default {DEFAULT_PORT}; 0 picks a free one and prints it)")

    v = serve.add_parser("verify", help="compare the serving table with the published table; "
                                        "exit 0 equal, 7 differences (each named)")
    shared(v)

    r = serve.add_parser("rebuild", help="make the serving table equal to the published table "
                                         "(idempotent, partition by partition)")
    shared(r)

    s = serve.add_parser("sync", help="drain the local event queue into the serving table now")
    shared(s)


def _port(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port number") from None
    if not 0 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"{value}: a port is 0 to 65535 (0 picks a free one)")
    return value


def _require_table(runtime: Runtime) -> None:
    """A local lake without a serving table yet is a usage error for commands that only read it
    (opening it would create an empty file and answer nothing)."""
    if runtime.kind == "local":
        import os

        path = runtime.storage.uri(SERVING_FILE)
        if not os.path.exists(path):
            raise ConfigError(f"no serving table at {path} yet: the serve stage of `tickerlake run` fills it, "
                              "or `tickerlake serve rebuild` builds it from the published table")


def _serving(runtime: Runtime, *, must_exist: bool = True) -> ServingTable:
    if must_exist:
        _require_table(runtime)
    return runtime.serving


def cmd_serve(args: argparse.Namespace) -> int:
    return {"get": cmd_get, "http": cmd_http, "verify": cmd_verify, "rebuild": cmd_rebuild,
            "sync": cmd_sync}[args.serve_command](args)


def cmd_get(args: argparse.Namespace) -> int:
    try:
        query = http_api.bars_query(args.symbol, args.from_date, args.to_date, args.last,
                                    names={"from": "--from", "to": "--to", "last": "--last"})
        bars = http_api.fetch(_serving(open_lake(args.settings)), query)
    except http_api.ApiError as exc:
        raise ConfigError(exc.message) from None
    sys.stdout.write(http_api.RENDERERS[args.format](bars))
    return 0


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def do_GET(self) -> None:  # noqa: N802 (http.server's name)
        self._answer("GET")

    def do_POST(self) -> None:  # noqa: N802
        self._answer("POST")

    do_PUT = do_DELETE = do_PATCH = do_POST

    def _answer(self, method: str) -> None:
        path, _, query = self.path.partition("?")
        try:
            resp = http_api.handle(self.server.table(), method, path, query)
        except Exception as exc:  # answer JSON, never a traceback page
            self.server.say(f"serve http: {method} {self.path} failed: {type(exc).__name__}: {exc}")
            resp = http_api.error_response(500, "internal error reading the serving table; see the server's log")
        body = resp.body.encode()
        self.send_response(resp.status)
        self.send_header("Content-Type", resp.content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 (http.server's name)
        self.server.say(f"serve http: {self.address_string()} {format % args}")


class _Server(HTTPServer):
    """One thread answers, in turn: the serving table is opened on first use in that thread
    (a SQLite connection belongs to the thread that made it)."""

    def __init__(self, port: int, open_table: Callable[[], ServingTable], say: Callable[[str], None]):
        self._open_table, self._table, self.say = open_table, None, say
        self._lock = threading.Lock()
        super().__init__(("127.0.0.1", port), _Handler)

    def table(self) -> ServingTable:
        with self._lock:
            if self._table is None:
                self._table = self._open_table()
            return self._table


def make_server(open_table: Callable[[], ServingTable], port: int = 0,
                say: Callable[[str], None] = _say) -> _Server:
    """A server on 127.0.0.1 only (never another interface: the serving table has no
    authentication locally); port 0 picks a free one (server.server_address[1])."""
    try:
        return _Server(port, open_table, say)
    except OSError as exc:
        raise ConfigError(f"cannot listen on 127.0.0.1:{port}: {exc.strerror or exc}; pick another with --port") from None


def cmd_http(args: argparse.Namespace) -> int:
    runtime = open_lake(args.settings)
    _require_table(runtime)  # one line before listening, not an error page per request
    server = make_server(lambda: runtime.serving, args.port)
    host, port = server.server_address[:2]
    print(f"serving the serving table on http://{host}:{port}/bars/{{symbol}}?from=&to=&last=  (Ctrl-C stops)",
          flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        _say("serve http: stopped")
    finally:
        server.server_close()
    return 0


def cmd_verify(args: argparse.Namespace) -> int:
    from glue_jobs.serve import consistency

    runtime = open_lake(args.settings)
    result = consistency.health(runtime.storage, runtime.catalog, _serving(runtime), say=_say)
    consistency.record_verify(runtime.storage, result.report,
                              dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"))
    for line in consistency.describe(result.report):
        print(line)
    print(f"lag: {result.lag.describe()}")
    if not result.report.equal:
        print(f"fix: tickerlake serve rebuild{_flags(args)}   (then tickerlake serve verify{_flags(args)})")
        return consistency.EXIT_SERVING_MISMATCH
    return 0


def cmd_rebuild(args: argparse.Namespace) -> int:
    from glue_jobs.lake.context import new_run_id
    from glue_jobs.lake.lock import LakeLock
    from glue_jobs.serve import rebuild

    runtime = open_lake(args.settings)
    run_id = new_run_id()
    # Under the lake's lock: no publish or rollback switches a partition while the rebuild reads
    # it, so its own run id is newer than every version it could meet (see rebuild.py).
    with LakeLock(runtime.storage, run_id):
        _say(f"rebuilding the serving table from {runtime.lake} (version {run_id})")
        result = rebuild.rebuild(runtime.storage, runtime.catalog, _serving(runtime, must_exist=False),
                                 version=run_id, say=_say)
    print(result.summary())
    return 0


def cmd_sync(args: argparse.Namespace) -> int:
    sync = _sync_function()
    runtime = open_lake(args.settings)
    result = sync(runtime)
    print(_describe(result))
    return 0


def _sync_function() -> Callable[[Runtime], Any]:
    """glue_jobs.serve.sync (a function, or a module holding one), or a clear 'not available'."""
    import importlib

    for name in ("glue_jobs.serve", "glue_jobs.serve.sync", "glue_jobs.serve.stage"):
        try:
            module = importlib.import_module(name)
        except ImportError:
            continue
        fn = getattr(module, "sync", None)
        if fn is not None and not callable(fn):
            fn = getattr(fn, "sync", None)
        if callable(fn):
            return fn
    raise ConfigError("serve sync is not available in this build: the local event queue's drain "
                      "(glue_jobs.serve.sync) is not installed; `tickerlake serve rebuild` fills the serving table instead")


def _describe(result: Any) -> str:
    for name in ("describe", "summary"):
        fn = getattr(result, name, None)
        if callable(fn):
            text = fn()
            return "\n".join(text) if isinstance(text, (list, tuple)) else str(text)
    import dataclasses

    if dataclasses.is_dataclass(result):
        return json.dumps(dataclasses.asdict(result), indent=1, default=str)
    return str(result)


def serving_health_extras(runtime: Runtime) -> dict[str, list[str]]:
    """The dashboard's serving-table panel (in "Data health"): lag and mismatches, or why not."""
    import os

    from glue_jobs.serve import consistency
    from workflows.dashboards import serving_health

    compute = None
    absent = None
    if runtime.kind == "local" and not os.path.exists(runtime.storage.uri(SERVING_FILE)):
        absent = "no serving table in this lake yet (the serve stage of `tickerlake run` fills it)"
    elif runtime.kind != "local" and not os.environ.get(ENV_SERVING_TABLE):
        absent = "TICKERLAKE_SERVING_TABLE is not set (the stack output ServingTableName)"
    else:
        def compute():
            return consistency.glance(runtime.storage, runtime.catalog, runtime.serving)
    health = serving_health.collect(compute, absent)
    return {serving_health.SECTION: [serving_health.panel_html(health)]}


def _flags(args: argparse.Namespace) -> str:
    from workflows.runner import lake_flags

    return lake_flags(args.settings)
