"""What Athena refuses, refused here before anything runs, in Athena's words where it has
them; and valid Athena SQL the local engine does not answer exactly, refused as that.

Pure checks over tokens and sqlglot trees: `check_tokens` before parsing (the grammar's own
rules that sqlglot is lenient about), `check_functions` on the parsed tree, `check_resolved`
after columns are resolved, `check_typed` after types are known."""
from __future__ import annotations

from sqlglot import exp
from sqlglot.tokens import TokenType

from glue_jobs.adapters.local.athena_sql import types
from glue_jobs.adapters.local.athena_sql.errors import AthenaRejects, NotEmulated
from glue_jobs.adapters.local.athena_sql.surface import REFUSED, SURFACE, trino_name
from glue_jobs.adapters.local.athena_sql.trino_functions import TRINO_FUNCTIONS


def _where(token) -> str:
    return f"line {token.line}:{token.col - len(token.text) + 1}"


def check_tokens(tokens: list) -> None:
    """Trino's grammar: `OFFSET m` comes before `LIMIT n` (or `FETCH FIRST`), never after."""
    depth = 0
    limit_at: dict[int, object] = {}
    for token in tokens:
        if token.token_type == TokenType.L_PAREN:
            depth += 1
        elif token.token_type == TokenType.R_PAREN:
            limit_at.pop(depth, None)
            depth -= 1
        elif token.token_type == TokenType.LIMIT:
            limit_at[depth] = token
        elif token.token_type == TokenType.OFFSET and depth in limit_at:
            raise AthenaRejects(f"{_where(token)}: mismatched input 'OFFSET'. Expecting: <EOF> "
                                "(Athena's grammar is OFFSET m LIMIT n)")
        elif token.token_type == TokenType.SEMICOLON:
            limit_at.clear()


def check_functions(tree: exp.Expression) -> None:
    """Every function called is one the local engine answers as Athena does."""
    for node in tree.walk():
        if not isinstance(node, exp.Func):
            continue
        name = trino_name(node)
        if name is None:
            continue
        entry = SURFACE.get(name)
        if entry is None:
            if name in TRINO_FUNCTIONS:
                raise NotEmulated(name)
            raise AthenaRejects(f"Function '{name}' not registered")
        if entry.status == REFUSED:
            raise NotEmulated(name, entry.note)


def check_resolved(tree: exp.Expression) -> None:
    """Trino resolves GROUP BY, HAVING and WHERE against the FROM clause only: a select-list
    alias there is "cannot be resolved" (ORDER BY may use them)."""
    for select in tree.find_all(exp.Select):
        aliases = {p.alias.lower() for p in select.expressions if p.alias}
        for clause in ("where", "group", "having"):
            part = select.args.get(clause)
            if part is None:
                continue
            for column in part.find_all(exp.Column):
                if column.table or column.name.lower() not in aliases:
                    continue
                if column.find_ancestor(exp.Select) is select:
                    raise AthenaRejects(f"Column '{column.name}' cannot be resolved")


_OPERATORS = {exp.EQ: "=", exp.NEQ: "<>", exp.LT: "<", exp.LTE: "<=", exp.GT: ">", exp.GTE: ">="}


def check_typed(tree: exp.Expression) -> None:
    """Comparisons Trino has no operator for: a date or timestamp against a string, and any
    two operands of different kinds (text, number, date and time, boolean) where both are a
    column, a literal or a cast, whose types are known for sure."""
    for node in tree.walk():
        op = _OPERATORS.get(type(node))
        if op is not None:
            left, right = types.of(node.this), types.of(node.expression)
            if (_temporal_vs_text(left, right) or _temporal_vs_text(right, left)
                    or _different_kinds(node.this, node.expression)):
                raise AthenaRejects(f"Cannot apply operator: {_shown(node.this)} {op} {_shown(node.expression)}")
        elif isinstance(node, exp.Between):
            sides = [node.this, node.args["low"], node.args["high"]]
            kinds = [types.of(s) for s in sides]
            if any(_temporal_vs_text(kinds[0], k) or _temporal_vs_text(k, kinds[0]) for k in kinds[1:]):
                raise AthenaRejects(f"Cannot check if {_shown(sides[0])} is BETWEEN {_shown(sides[1])} "
                                    f"and {_shown(sides[2])}")
        elif isinstance(node, exp.In) and not node.args.get("query"):
            value = types.of(node.this)
            if any(_temporal_vs_text(value, types.of(e)) or _temporal_vs_text(types.of(e), value)
                   for e in node.expressions):
                raise AthenaRejects(f"IN value and list items must be the same type: {types.athena_name(value)}")


def _kind(node: exp.Expression) -> str | None:
    if not isinstance(node, (exp.Column, exp.Literal, exp.Cast)):
        return None
    dt = types.of(node)
    if types.is_string(dt):
        return "text"
    if types.is_numeric(dt):
        return "number"
    if types.is_date(dt) or types.is_timestamp(dt):
        return "time"
    if dt.this == types.T.BOOLEAN:
        return "boolean"
    return None


def _different_kinds(a: exp.Expression, b: exp.Expression) -> bool:
    kinds = _kind(a), _kind(b)
    return None not in kinds and kinds[0] != kinds[1]


def _temporal_vs_text(a: exp.DataType, b: exp.DataType) -> bool:
    return (types.is_date(a) or types.is_timestamp(a)) and types.is_string(b)


def _shown(node: exp.Expression) -> str:
    """A type as Trino's messages show it: a string literal is varchar(<its length>)."""
    if isinstance(node, exp.Literal) and node.is_string:
        return f"varchar({len(node.this)})"
    return types.athena_name(types.of(node))
