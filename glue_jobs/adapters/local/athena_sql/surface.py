"""What the local engine answers as Athena does: every function and construct it accepts,
exact or approximate (with the bound), and those it refuses. sql/README.md is written from
this list (tests/glue_jobs/adapters/local/athena_sql/test_surface.py keeps the two equal).

A function the list does not name is refused: as "not supported yet" when Athena has it
(trino_functions.py), as Athena's own "Function 'x' not registered" when Athena does not."""
from __future__ import annotations

import re
from dataclasses import dataclass

from sqlglot import exp

EXACT = "exact"
APPROXIMATE = "approximate"
REFUSED = "refused"


@dataclass(frozen=True)
class Entry:
    name: str
    status: str
    section: str  # the Trino documentation page, e.g. "functions/datetime"
    note: str = ""


SURFACE: dict[str, Entry] = {}


def declare(section: str, status: str, *names: str, note: str = "") -> None:
    for name in names:
        key = name.lower()
        if key in SURFACE:
            raise RuntimeError(f"{key} is declared twice in the local engine's surface")
        SURFACE[key] = Entry(key, status, section, note)


# Func nodes that are syntax, not a function a user calls by name
_CONSTRUCTS = (exp.Cast, exp.Array, exp.Struct, exp.Exists, exp.Case, exp.Any, exp.All)
_CALL = re.compile(r"\s*([A-Za-z_][A-Za-z0-9_]*)\s*\(")


def trino_name(node: exp.Expression) -> str | None:
    """The function a node calls, as a Trino user spells it (lower case), or None when the
    node is an operator, a literal or a keyword form (CURRENT_DATE, ARRAY[...])."""
    if isinstance(node, exp.Anonymous):
        return node.name.lower()
    if not isinstance(node, exp.Func) or isinstance(node, _CONSTRUCTS):
        return "cast" if type(node) is exp.Cast else "try_cast" if isinstance(node, exp.TryCast) else None
    # the arguments blanked, but for literals and keywords: some generators spell the name from
    # one (sha256 and sha512 are one node whose length argument says which; to_utf8 its charset)
    shallow = node.__class__(**{k: (exp.Null() if isinstance(v, exp.Expression)
                                    and not isinstance(v, (exp.Literal, exp.Var)) else v)
                                for k, v in node.args.items() if not isinstance(v, list)})
    try:
        text = shallow.sql("trino")
    except Exception:  # a shallow copy some generators cannot print: print the whole node
        text = node.sql("trino")
    match = _CALL.match(text)
    return match.group(1).lower() if match else None
