"""Run the panel queries on an Engine (DuckDB locally, Athena in the cloud) and render the
local page, or check that every panel has data. Macros are expanded as Grafana would for a
time range and a symbol selection, so the queries are exactly the dashboard's."""
from __future__ import annotations

import contextlib
import datetime as dt
import logging
import os
import threading
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path

from glue_jobs.lake import trading_calendar
from glue_jobs.lake.errors import ConfigError
from glue_jobs.ports.engine import Engine, QueryError
from workflows.dashboards.macros import TimeRange, expand
from workflows.dashboards.page import PageContext, PanelData, assemble_page, panel_html
from workflows.dashboards.panels import DashboardSpec, Panel, load_spec, sql_root

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PanelProblem:
    """A panel whose query failed or came back empty; str() is the line the CLI prints."""

    panel_id: str
    title: str
    sql_file: str
    problem: str

    def __str__(self) -> str:
        return f"panel {self.panel_id} ({self.title}, sql/panels/{self.sql_file}): {self.problem}"


@dataclass(frozen=True)
class Selection:
    time_range: TimeRange
    variables: dict[str, list[str]]


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text if len(text) < 600 else text[:600] + " ..."


def resolve_selection(engine: Engine, spec: DashboardSpec, *, symbols: list[str] | None = None,
                      as_of: dt.date | None = None, sessions: int | None = None,
                      today: dt.date | None = None) -> Selection:
    """The time range and variable values the page uses: the whole lake up to `as_of`
    (or up to today, so that today's runs show), or the last `sessions` sessions; the
    given symbols, or the first few in the lake."""
    today = today or dt.datetime.now(dt.timezone.utc).date()
    try:
        bounds = engine.query(_local_sql("time_bounds"))
    except QueryError as exc:
        if "symbol_years" not in str(exc):
            raise
        raise ConfigError(
            "the dashboard reads stocks.symbol_years (each symbol's first and newest bar per year), which "
            "this lake does not have yet: it was published before the summary existed. Run `tickerlake "
            "doctor --repair` (it writes the summary from the published prices) or the next `tickerlake run`"
        ) from None
    first, last = (bounds.column(0)[0].as_py(), bounds.column(1)[0].as_py()) if bounds.num_rows else (None, None)
    end = as_of or max(d for d in (last, today) if d is not None)
    if sessions:
        start = trading_calendar.last_sessions(end, sessions)[0]
    else:
        start = min(first, end) if first else end
    from workflows.dashboards import constants  # here: the page helper's import block moves (issue 15)

    variables: dict[str, list[str]] = constants.values()  # the alerts' threshold the panels mark with
    for var in spec.variables:
        if var.name == "symbol" and symbols:
            variables[var.name] = [s.strip().upper() for s in symbols if s.strip()]
            continue
        table = engine.query(expand(var.sql, TimeRange.for_dates(start, end), {}))
        values = [str(v) for v in table.column(0).to_pylist() if v is not None]
        if not values:
            raise ConfigError(
                f"dashboard variable ${var.name} ({var.sql_file}) found no values: the lake has no "
                "published prices yet; run `tickerlake run` first"
            )
        variables[var.name] = values[: var.local_default_count]
    return Selection(TimeRange.for_dates(start, end), variables)


def _local_sql(name: str) -> str:
    """A query only the local page needs (Grafana has its own time picker)."""
    return (sql_root() / "panels" / "variables" / f"{name}.sql").read_text(encoding="utf-8")


def _query(engine: Engine, panel: Panel, selection: Selection) -> tuple[str, object]:
    """(the expanded SQL, its Arrow table or the exception that stopped it)."""
    sql = ""
    try:
        sql = expand(panel.sql, selection.time_range, selection.variables)
        return sql, engine.query(f"-- sql/panels/{panel.sql_file}\n{sql}")
    except Exception as exc:  # a dashboard shows every panel it can; the failing one says why
        log.warning("panel %s failed: %s", panel.id, exc)
        return sql, exc


def _panel_data(panel: Panel, sql: str, answer: object) -> PanelData:
    if isinstance(answer, BaseException):
        return PanelData(panel, error=_first_line(answer), sql=sql)
    return PanelData(panel, columns=list(answer.column_names), rows=answer.to_pylist(), sql=sql)


def run_panel(engine: Engine, panel: Panel, selection: Selection) -> PanelData:
    """One panel's rows, or the error that stopped its query."""
    return _panel_data(panel, *_query(engine, panel, selection))


# Panel queries answered at once. The local engine answers one query at a time, and part of
# each query (planning, a single-threaded step, Python binding its values) leaves a core idle
# on the two-core machines this runs on; a second engine fills it. More would only contend.
PAGE_ENGINES = 2


class _Engines:
    """The engines the page's queries borrow, one each while it runs: `engine`, and while it
    is busy a sibling (an engine of its own on the same lake), made the first time it is
    needed (a page whose queries never overlap opens none) or opened ahead (open_ahead)."""

    def __init__(self, engine: Engine, most: int):
        sibling = getattr(engine, "sibling", None)  # engines that answer queries at once need none
        self.most = most if callable(sibling) else 1
        self._sibling = sibling
        self._free = [engine]
        self._ahead: Future | None = None
        self._lock = threading.Lock()

    def open_ahead(self) -> None:
        """Open the sibling now, in a thread of its own, while the caller does other work: the
        page's selection runs on `engine` alone, and the sibling is needed as soon as it ends
        (DuckDB's connection and settings: 0.04 to 0.05 s of wall at load 6 that was on the
        page's way). A sibling that cannot open fails the panel that borrows it, as before."""
        if self.most < 2 or self._ahead is not None:
            return
        ahead: Future = Future()

        def open_sibling() -> None:
            try:
                ahead.set_result(self._sibling())  # type: ignore[misc]
            except BaseException as exc:  # the borrower's panel reports it
                ahead.set_exception(exc)

        self._ahead = ahead
        threading.Thread(target=open_sibling, name="tickerlake-panels-open", daemon=True).start()

    def borrow(self) -> Engine:
        # never more borrowers than `most` (the pool's workers), so never more engines
        with self._lock:
            if self._free:
                return self._free.pop()
            ahead, self._ahead = self._ahead, None
        if ahead is not None:
            return ahead.result()
        return self._sibling()  # type: ignore[misc]

    def give_back(self, engine: Engine) -> None:
        with self._lock:
            self._free.append(engine)


def _query_on(engines: _Engines, panel: Panel, selection: Selection) -> tuple[str, object]:
    try:
        engine = engines.borrow()
    except Exception as exc:  # a sibling that cannot open: this panel says why, the page goes on
        log.warning("panel %s: no engine: %s", panel.id, exc)
        return "", exc
    try:
        return _query(engine, panel, selection)
    finally:
        engines.give_back(engine)


def panels_as_answered(engine: Engine, panels: Iterable[Panel], selection: Selection, *,
                       engines: int = PAGE_ENGINES) -> Iterator[PanelData]:
    """Each panel's data as soon as its query answers, while the other panels' queries run in
    worker threads, up to `engines` at once (see PAGE_ENGINES): while DuckDB works (without the
    GIL) this thread turns the answers into rows and HTML instead of waiting. In the order the
    queries end, not the page's: drawn in page order, the panels after the longest query (the
    52-week panel) waited for it and were drawn after the last query (the heatmap: 0.05 to 0.09 s
    at 20 years)."""
    return _answered(_Engines(engine, engines), panels, selection)


def _answered(pool_of: _Engines, panels: Iterable[Panel], selection: Selection) -> Iterator[PanelData]:
    with ThreadPoolExecutor(max_workers=pool_of.most, thread_name_prefix="tickerlake-panels") as pool:
        pending = {pool.submit(_query_on, pool_of, panel, selection): panel for panel in panels}
        try:
            for answer in as_completed(pending):
                yield _panel_data(pending[answer], *answer.result())
        finally:  # a caller that stops early (an error in its HTML) leaves no query queued
            for answer in pending:
                answer.cancel()


def check_panels(engine: Engine, *, symbols: list[str] | None = None, as_of: dt.date | None = None,
                 spec: DashboardSpec | None = None) -> list[PanelProblem]:
    """Run every panel query as the local page would; a problem for each that errors or
    returns no rows (unless the panel is `empty_ok`). An empty list means every panel has
    something to show."""
    spec = spec or load_spec()
    try:
        selection = resolve_selection(engine, spec, symbols=symbols, as_of=as_of)
    except Exception as exc:
        return [PanelProblem("variables", "dashboard variables", "variables/", _first_line(exc))]
    problems = []
    for panel in spec.panels:
        data = run_panel(engine, panel, selection)
        if data.error:
            problems.append(PanelProblem(panel.id, panel.title, panel.sql_file, f"query failed: {data.error}"))
        elif not data.rows and not panel.empty_ok:
            problems.append(PanelProblem(panel.id, panel.title, panel.sql_file,
                                         "returned no rows for the demo selection "
                                         f"({_describe(selection)})"))
    return problems


def _describe(selection: Selection) -> str:
    tr = selection.time_range
    parts = [f"{tr.start:%Y-%m-%d}..{tr.end:%Y-%m-%d}"]
    parts += [f"${k}={','.join(v)}" for k, v in selection.variables.items()]
    return ", ".join(parts)


def render_dashboard(engine: Engine, out_path: str | os.PathLike[str], *, symbols: list[str] | None = None,
                     as_of: dt.date | None = None, sessions: int | None = None,
                     spec: DashboardSpec | None = None, source: str = "local lake",
                     extras: dict[str, list[str]] | None = None) -> Path:
    """Write the static dashboard page for the lake behind `engine` to `out_path`.

    Panels whose query fails show the error in place; the page is still written. `extras`:
    HTML panels computed outside SQL (the serving table's health), by section name."""
    spec = spec or load_spec()
    # engines that can keep the files' footers between the page's queries do so while it renders
    with getattr(engine, "keeping_file_footers", contextlib.nullcontext)():
        return _render(engine, spec, Path(out_path), symbols=symbols, as_of=as_of, sessions=sessions,
                       source=source, extras=extras)


def _render(engine: Engine, spec: DashboardSpec, out: Path, *, symbols: list[str] | None,
            as_of: dt.date | None, sessions: int | None, source: str,
            extras: dict[str, list[str]] | None) -> Path:
    engines = _Engines(engine, PAGE_ENGINES)
    engines.open_ahead()  # beside the selection's queries, which the first engine answers alone
    selection = resolve_selection(engine, spec, symbols=symbols, as_of=as_of, sessions=sessions)
    ctx = PageContext(
        time_from=f"{selection.time_range.start:%Y-%m-%d}",
        time_to=f"{selection.time_range.end:%Y-%m-%d}",
        variables=selection.variables,
        generated_at=dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        source=source,
    )
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".tmp")
    drawn = {data.panel.id: panel_html(data, ctx) for data in _answered(engines, spec.panels, selection)}
    tmp.write_text(assemble_page(spec, drawn, ctx, extras), encoding="utf-8")
    os.replace(tmp, out)
    return out.resolve()
