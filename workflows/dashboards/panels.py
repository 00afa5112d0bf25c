"""Panel definitions: sql/panels/panels.yml and the SQL files it names, read and checked
once, then handed to both renderers (Grafana JSON, the local HTML page)."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from glue_jobs.lake import sql_files
from glue_jobs.lake.errors import ConfigError

PANEL_TYPES = ("timeseries", "bar", "heatmap", "table", "stat")
UNITS = ("currencyUSD", "percent", "short", "s", "none")
COLORS = ("green", "red", "orange", "blue", "grey")
PANELS_FILE = "panels/panels.yml"
# libyaml's safe loader when PyYAML was built with it: the pure-Python one took 40 ms of every
# page render to read panels.yml; both refuse the same tags
_SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def sql_root() -> Path:
    """The sql/ folder: inside the package when installed from the wheel (Glue), else the
    repository's top level."""
    return sql_files.sql_dir()


@dataclass(frozen=True)
class Variable:
    name: str
    label: str
    sql_file: str
    sql: str
    multi: bool = True
    include_all: bool = True
    local_default_count: int = 4


@dataclass(frozen=True)
class Panel:
    id: str
    section: str
    title: str
    description: str
    type: str
    sql_file: str
    sql: str
    x: str | None = None
    y: tuple[str, ...] = ()
    y2: tuple[str, ...] = ()
    series: str | None = None
    repeat: str | None = None
    unit: str = "none"
    stacked: bool = False
    color_by_sign: bool = False
    horizontal: bool = False
    value_colors: dict[str, str] = field(default_factory=dict)
    width: int = 12
    height: int = 8
    # a panel whose table may hold nothing yet (the intraday history before the first session
    # consumed): `--check` does not call its empty answer a problem, a failing query still is
    empty_ok: bool = False
    points: tuple[str, ...] = ()  # timeseries: y columns drawn as marks, not lines (anomalies)


@dataclass(frozen=True)
class DashboardSpec:
    uid: str
    title: str
    description: str
    tags: tuple[str, ...]
    time_from: str
    time_to: str
    refresh: str
    datasource_uid: str
    variables: tuple[Variable, ...]
    panels: tuple[Panel, ...]

    def panel(self, panel_id: str) -> Panel:
        for p in self.panels:
            if p.id == panel_id:
                return p
        raise KeyError(f"no panel {panel_id!r}; known: {', '.join(p.id for p in self.panels)}")

    def sections(self) -> list[tuple[str, list[Panel]]]:
        """Panels grouped by section, sections in the order they first appear."""
        out: dict[str, list[Panel]] = {}
        for p in self.panels:
            out.setdefault(p.section, []).append(p)
        return list(out.items())


def _names(value: Any, where: str, key: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,)
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return tuple(value)
    raise ConfigError(f"{where}: {key} must be a column name or a list of them, got {value!r}")


def _read_sql(root: Path, name: str, where: str) -> str:
    path = root / "panels" / name
    if not path.is_file():
        raise ConfigError(f"{where}: sql file {path} does not exist")
    return path.read_text(encoding="utf-8")


def parse_spec(doc: dict[str, Any], read_sql) -> DashboardSpec:
    """Build and validate the spec from the parsed YAML; `read_sql(name, where)` returns a
    file's text. Every mistake is a ConfigError naming the panel and the key."""
    if not isinstance(doc, dict) or "panels" not in doc:
        raise ConfigError(f"{PANELS_FILE}: expected a mapping with 'dashboard', 'variables' and 'panels'")
    board = doc.get("dashboard") or {}
    variables = []
    for raw in doc.get("variables") or []:
        where = f"{PANELS_FILE} variable {raw.get('name', '?')!r}"
        if not raw.get("name") or not raw.get("sql"):
            raise ConfigError(f"{where}: needs a name and an sql file")
        variables.append(Variable(
            name=raw["name"], label=raw.get("label", raw["name"]), sql_file=raw["sql"],
            sql=read_sql(raw["sql"], where), multi=bool(raw.get("multi", True)),
            include_all=bool(raw.get("include_all", True)),
            local_default_count=int(raw.get("local_default_count", 4)),
        ))
    var_names = {v.name for v in variables}

    panels: list[Panel] = []
    seen: set[str] = set()
    for index, raw in enumerate(doc["panels"], start=1):
        pid = raw.get("id")
        where = f"{PANELS_FILE} panel {pid or '#' + str(index)}"
        if not pid or not isinstance(pid, str) or not pid.replace("_", "").isalnum():
            raise ConfigError(f"{where}: id must be a name of letters, digits and '_'")
        if pid in seen:
            raise ConfigError(f"{where}: id is used twice")
        seen.add(pid)
        ptype = raw.get("type")
        if ptype not in PANEL_TYPES:
            raise ConfigError(f"{where}: type {ptype!r} is not one of {', '.join(PANEL_TYPES)}")
        unit = raw.get("unit", "none")
        if unit not in UNITS:
            raise ConfigError(f"{where}: unit {unit!r} is not one of {', '.join(UNITS)}")
        y = _names(raw.get("y"), where, "y")
        if ptype in ("timeseries", "bar", "heatmap") and (not raw.get("x") or not y):
            raise ConfigError(f"{where}: a {ptype} panel needs x and y columns")
        if ptype == "heatmap" and (len(y) != 1 or not raw.get("series")):
            raise ConfigError(f"{where}: a heatmap needs one y column and a series column for its rows")
        if raw.get("horizontal") and (ptype != "bar" or len(y) != 1 or raw.get("series") or raw.get("stacked")):
            raise ConfigError(f"{where}: horizontal is for a bar panel with one y column, no series, not stacked")
        points = _names(raw.get("points"), where, "points")
        if points and (ptype != "timeseries" or not set(points) <= set(y)):
            raise ConfigError(f"{where}: points are y columns of a timeseries panel, got {list(points)}")
        if ptype == "stat" and not y:
            raise ConfigError(f"{where}: a stat panel needs y: the columns to show")
        repeat = raw.get("repeat")
        if repeat and repeat not in var_names:
            raise ConfigError(f"{where}: repeat {repeat!r} is not a variable ({', '.join(sorted(var_names))})")
        colors = {str(k): str(v) for k, v in (raw.get("value_colors") or {}).items()}
        bad = sorted(set(colors.values()) - set(COLORS))
        if bad:
            raise ConfigError(f"{where}: value_colors uses {', '.join(bad)}; choose from {', '.join(COLORS)}")
        width, height = int(raw.get("width", 12)), int(raw.get("height", 8))
        if not 1 <= width <= 24 or not 2 <= height <= 30:
            raise ConfigError(f"{where}: width must be 1..24 and height 2..30 grid units")
        if not raw.get("title") or not raw.get("sql"):
            raise ConfigError(f"{where}: needs a title and an sql file")
        panels.append(Panel(
            id=pid, section=str(raw.get("section", "Panels")), title=raw["title"],
            description=str(raw.get("description", "")), type=ptype, sql_file=raw["sql"],
            sql=read_sql(raw["sql"], where), x=raw.get("x"), y=y,
            y2=_names(raw.get("y2"), where, "y2"), series=raw.get("series"), repeat=repeat,
            unit=unit, stacked=bool(raw.get("stacked", False)),
            color_by_sign=bool(raw.get("color_by_sign", False)),
            horizontal=bool(raw.get("horizontal", False)), value_colors=colors,
            width=width, height=height, empty_ok=bool(raw.get("empty_ok", False)),
            points=points,
        ))
    if not panels:
        raise ConfigError(f"{PANELS_FILE}: no panels defined")
    return DashboardSpec(
        uid=str(board.get("uid", "tickerlake")), title=str(board.get("title", "tickerlake")),
        description=str(board.get("description", "")), tags=tuple(board.get("tags") or ()),
        time_from=str(board.get("time_from", "now-1y")), time_to=str(board.get("time_to", "now")),
        refresh=str(board.get("refresh", "")),
        datasource_uid=str(board.get("datasource_uid", "tickerlake-athena")),
        variables=tuple(variables), panels=tuple(panels),
    )


def load_spec(root: Path | None = None) -> DashboardSpec:
    """Read sql/panels/panels.yml and every SQL file it names."""
    root = root or sql_root()
    path = root / PANELS_FILE
    try:
        doc = yaml.load(path.read_text(encoding="utf-8"), Loader=_SAFE_LOADER)
    except FileNotFoundError:
        raise ConfigError(f"panel definitions not found at {path}") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML: {exc}") from None
    return parse_spec(doc, lambda name, where: _read_sql(root, name, where))
