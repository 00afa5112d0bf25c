"""The mutants of one SQL file: each the file with one small change that models a bug people
write in such SQL (a comparison off by its boundary, a dropped join key, a lost OR branch, ...).

Pure logic, no I/O: `mutants(name, text)` parses the text with sqlglot (Athena's dialect, Trino),
changes one node of the tree at a time, and turns each change back into an edit of the original
text, so that a mutant keeps the file's comments and layout and differs in one place only. The
edit is found by comparing tokens: the unchanged tree printed, the changed tree printed, and
the original file; a change whose tokens cannot be placed in the original (sqlglot printed that
part differently from how the file spells it) is skipped rather than guessed, and every mutant
is checked to parse back to the changed tree.

The project's `{{name}}` placeholders (glue_jobs/lake/sql_files.py) are not SQL: each is swapped
for a unique identifier before parsing and put back in the mutant, and a change that loses a
placeholder's last use is skipped (rendering would refuse the unused parameter: a crash, not a
bug a user could meet).

A mutant's id is `file:operator:hash`, the hash of what changes (the original tokens, the new
ones, and which occurrence of that same change in the file): stable across runs and across
edits elsewhere in the file, so tests/mutation/equivalent.md can name it.
"""
from __future__ import annotations

import difflib
import hashlib
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import sqlglot
from sqlglot import exp
from sqlglot.dialects.trino import Trino

_PLACEHOLDER = re.compile(r"\{\{\s*[A-Za-z_][A-Za-z0-9_]*\s*\}\}")
_SENTINEL = "__tl_placeholder_{}__"
_SENTINEL_RE = re.compile(r"__tl_placeholder_(\d+)__")


class _Dialect(Trino):
    class Generator(Trino.Generator):
        def not_sql(self, expression: exp.Not) -> str:
            # sqlglot prints `x is not null` as `not x is null`; spelling it as the files do lets
            # the IS NULL mutants be placed in the original text
            inner = expression.this
            if isinstance(inner, exp.Is) and isinstance(inner.expression, exp.Null):
                return f"{self.sql(inner, 'this')} IS NOT NULL"
            return super().not_sql(expression)


_DIALECT = _Dialect()


@dataclass(frozen=True)
class Mutant:
    id: str
    file: str  # the name under sql/, e.g. wap/publish/merge.sql
    line: int  # 1-based, where the change starts in the original file
    operator: str
    description: str  # one line: what was, what is
    text: str  # the whole mutated file


# --- operators: each yields (description, changed copy of the node or None to remove it) ------

_SWAPS = {exp.EQ: exp.NEQ, exp.NEQ: exp.EQ, exp.LT: exp.LTE, exp.LTE: exp.LT, exp.GT: exp.GTE, exp.GTE: exp.GT}


def _comparison(node: exp.Expression) -> Iterator[exp.Expression]:
    swap = _SWAPS.get(type(node))
    if swap is not None:
        yield swap(this=node.this.copy(), expression=node.expression.copy())


def _and_or(node: exp.Expression) -> Iterator[exp.Expression]:
    if isinstance(node, exp.And):
        yield exp.Or(this=node.this.copy(), expression=node.expression.copy())
    elif isinstance(node, exp.Or):
        yield exp.And(this=node.this.copy(), expression=node.expression.copy())


def _drop_condition(node: exp.Expression) -> Iterator[exp.Expression]:
    """One term of an AND chain (a conjunct of a WHERE, ON, HAVING, CASE WHEN: a join key among
    them) or of an OR chain (a lost branch), the others kept."""
    kind = type(node)
    if kind not in (exp.And, exp.Or) or isinstance(node.parent, kind):
        return
    terms = list(node.flatten(unnest=False))  # a parenthesised OR inside an AND stays one term
    for i in range(len(terms)):
        rest = [t.copy() for j, t in enumerate(terms) if j != i]
        chain = rest[0]
        for term in rest[1:]:
            chain = kind(this=chain, expression=term)
        yield chain


def _drop_not(node: exp.Expression) -> Iterator[exp.Expression]:
    if isinstance(node, exp.Not):
        yield node.this.copy()


def _is_null(node: exp.Expression) -> Iterator[exp.Expression]:
    if isinstance(node, exp.Is) and isinstance(node.expression, exp.Null) and not isinstance(node.parent, exp.Not):
        yield exp.Not(this=node.copy())


def _drop_list_item(node: exp.Expression, key: str, keep_one: bool) -> Iterator[exp.Expression]:
    items = node.args.get(key) or []
    if len(items) < (2 if keep_one else 1):
        return
    for i in range(len(items)):
        copy = node.copy()
        copy.set(key, [item.copy() for j, item in enumerate(items) if j != i] or None)
        yield copy


def _partition_by(node: exp.Expression) -> Iterator[exp.Expression]:
    if isinstance(node, exp.Window):
        yield from _drop_list_item(node, "partition_by", keep_one=False)


def _group_by(node: exp.Expression) -> Iterator[exp.Expression]:
    if isinstance(node, exp.Group):
        yield from _drop_list_item(node, "expressions", keep_one=True)


def _ranks(node: exp.Expression) -> bool:
    """An ORDER BY that decides which row wins (a window's), not the order rows come out in: the
    files' final ORDER BY lays out Parquet for its min/max statistics, and reversing it changes
    no value anyone reads, while each such mutant costs a whole run of its tests."""
    return isinstance(node.parent, exp.Window) or isinstance(node.parent, exp.Order) and isinstance(
        node.parent.parent, exp.Window)


def _order_by(node: exp.Expression) -> Iterator[exp.Expression]:
    if isinstance(node, exp.Order) and _ranks(node):
        yield from _drop_list_item(node, "expressions", keep_one=True)


def _distinct(node: exp.Expression) -> Iterator[exp.Expression]:
    if isinstance(node, exp.Select) and node.args.get("distinct"):
        copy = node.copy()
        copy.set("distinct", None)
        yield copy


def _asc_desc(node: exp.Expression) -> Iterator[exp.Expression]:
    if isinstance(node, exp.Ordered) and _ranks(node):
        copy = node.copy()
        copy.set("desc", not node.args.get("desc"))
        yield copy


def _union(node: exp.Expression) -> Iterator[exp.Expression]:
    if isinstance(node, exp.Union):
        copy = node.copy()
        copy.set("distinct", not node.args.get("distinct"))
        yield copy


def _join(node: exp.Expression) -> Iterator[exp.Expression]:
    if not isinstance(node, exp.Join) or node.args.get("kind", "").upper() == "CROSS":
        return
    side = (node.args.get("side") or "").upper()
    if side in ("", "LEFT") and (node.args.get("kind") or "INNER").upper() in ("INNER", "OUTER"):
        copy = node.copy()
        copy.set("kind", None)
        copy.set("side", None if side == "LEFT" else "LEFT")
        yield copy


def _coalesce(node: exp.Expression) -> Iterator[exp.Expression]:
    if isinstance(node, exp.Coalesce):
        args = [node.this, *(node.args.get("expressions") or [])]
        if len(args) < 2:
            return
        # the fallback lost, not the value: coalesce('') in place of coalesce(x, '') is no one's bug
        for i in range(1, len(args)):
            rest = [a.copy() for j, a in enumerate(args) if j != i]
            yield exp.Coalesce(this=rest[0], expressions=rest[1:])


def _number(node: exp.Expression) -> Iterator[exp.Expression]:
    """A bound off by one (`count(*) > 1`, `recency = 1`): only a number compared with, the
    boundary bug; a character code or a CASE's constant off by one is no one's typo, and each
    such mutant that survives costs a whole run of its tests."""
    if not isinstance(node.parent, tuple(_SWAPS)):
        return
    if isinstance(node, exp.Literal) and node.is_number and re.fullmatch(r"\d+", node.this):
        value = int(node.this)
        yield exp.Literal.number(value + 1)
        if value > 0:
            yield exp.Literal.number(value - 1)


OPERATORS: dict[str, Callable[[exp.Expression], Iterator[exp.Expression]]] = {
    "comparison": _comparison,  # = / <>, < / <=, > / >=
    "and_or": _and_or,
    "drop_condition": _drop_condition,
    "drop_not": _drop_not,
    "is_null": _is_null,  # IS NULL -> IS NOT NULL (the other way is drop_not)
    "partition_by": _partition_by,
    "group_by": _group_by,
    "order_by": _order_by,
    "distinct": _distinct,
    "asc_desc": _asc_desc,
    "union": _union,
    "join": _join,  # INNER / LEFT
    "coalesce": _coalesce,
    "number": _number,  # an integer literal off by one
}


# --- turning a changed tree into an edit of the original text ---------------------------------

def _masked(text: str) -> tuple[str, list[str]]:
    found: list[str] = []

    def swap(match: re.Match) -> str:
        found.append(match.group(0))
        return _SENTINEL.format(len(found) - 1)

    return _PLACEHOLDER.sub(swap, text), found


def _unmasked(text: str, found: list[str]) -> str:
    return _SENTINEL_RE.sub(lambda m: found[int(m.group(1))], text)


def _tokens(sql: str) -> list:
    return _DIALECT.tokenize(sql)


def _key(token) -> tuple:
    return (token.token_type, token.text.lower())


def _print(statements: list[exp.Expression]) -> str:
    return ";\n".join(s.sql(dialect=_DIALECT) for s in statements)


def _edit(original: str, o_tokens: list, r0: str, r0_tokens: list, r1: str) -> tuple[int, int, str] | None:
    """The span of `original` to replace, and with what, so that it reads as r1 does where r0
    reads as original; None when the changed tokens are not spelled in original as r0 spells them."""
    r1_tokens = _tokens(r1)
    changes = [op for op in difflib.SequenceMatcher(None, [_key(t) for t in r0_tokens], [_key(t) for t in r1_tokens],
                                                   autojunk=False).get_opcodes() if op[0] != "equal"]
    if not changes:
        return None
    i1, i2, j1, j2 = changes[0][1], changes[-1][2], changes[0][3], changes[-1][4]
    if j1 == j2:  # a removal: slide it left while that removes the same tokens, so it starts
        # where the removed term does (`a.x = b.x and` rather than `x = b.x and a.`)
        while i1 > 0 and _key(r0_tokens[i1 - 1]) == _key(r0_tokens[i2 - 1]):
            i1, i2 = i1 - 1, i2 - 1
    to_original = {}
    for tag, a1, a2, b1, _ in difflib.SequenceMatcher(None, [_key(t) for t in r0_tokens],
                                                      [_key(t) for t in o_tokens], autojunk=False).get_opcodes():
        if tag == "equal":
            to_original.update({a1 + k: b1 + k for k in range(a2 - a1)})
    new = r1[r1_tokens[j1].start:r1_tokens[j2 - 1].end + 1] if j2 > j1 else ""
    if i2 > i1:  # tokens replaced or removed
        if i1 not in to_original or (i2 - 1) not in to_original or to_original[i2 - 1] - to_original[i1] != i2 - 1 - i1:
            return None
        return o_tokens[to_original[i1]].start, o_tokens[to_original[i2 - 1]].end + 1, new
    if i1 - 1 not in to_original:  # tokens inserted after r0's token i1 - 1
        return None
    at = o_tokens[to_original[i1 - 1]].end + 1
    return at, at, " " + new


def _oneline(text: str, limit: int = 70) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def mutants(name: str, text: str, operators: tuple[str, ...] | None = None) -> list[Mutant]:
    """Every mutant of the SQL file `name` (its path under sql/) whose text is `text`, in the
    order of the file, each with a stable id; `operators` narrows them (default: all)."""
    masked, found = _masked(text)
    statements = [s for s in sqlglot.parse(masked, read=_DIALECT) if s is not None]
    r0 = _print(statements)
    r0_tokens, o_tokens = _tokens(r0), _tokens(masked)
    wanted_placeholders = set(_PLACEHOLDER.findall(text))
    out: list[Mutant] = []
    seen: dict[tuple, int] = {}
    for op_name, operator in OPERATORS.items():
        if operators is not None and op_name not in operators:
            continue
        for s, statement in enumerate(statements):
            for n, node in enumerate(statement.walk()):
                for replacement in operator(node):
                    changed = [st.copy() for st in statements]
                    target = list(changed[s].walk())[n]
                    if target is changed[s]:
                        changed[s] = replacement
                    elif replacement is None:
                        target.pop()
                    else:
                        target.replace(replacement)
                    try:
                        r1 = _print(changed)
                    except Exception:  # sqlglot cannot print it back: not a mutant we can write
                        continue
                    if r1 == r0:
                        continue
                    edit = _edit(masked, o_tokens, r0, r0_tokens, r1)
                    if edit is None:
                        continue
                    start, end, new = edit
                    if not new:  # a removal leaves one space between its neighbours, not two
                        if masked[end:end + 1] == " " and (start == 0 or masked[start - 1] in " (\n"):
                            end += 1
                        elif start > 0 and masked[start - 1] == " " and masked[end:end + 1] in ("\n", ")", ""):
                            start -= 1
                    mutated_masked = masked[:start] + new + masked[end:]
                    try:
                        reparsed = _print([s2 for s2 in sqlglot.parse(mutated_masked, read=_DIALECT) if s2 is not None])
                    except Exception:
                        continue
                    if reparsed != r1:  # the edit does not say what the changed tree says
                        continue
                    mutated = _unmasked(mutated_masked, found)
                    if mutated == text or set(_PLACEHOLDER.findall(mutated)) != wanted_placeholders:
                        continue
                    was, now = _unmasked(masked[start:end], found), _unmasked(new, found)
                    key = (op_name, " ".join(was.split()), " ".join(now.split()))
                    seen[key] = seen.get(key, 0) + 1
                    digest = hashlib.sha1("\x00".join([*key, str(seen[key])]).encode()).hexdigest()[:8]
                    line = text.count("\n", 0, len(_unmasked(masked[:start], found))) + 1
                    description = (f"`{_oneline(was)}` -> `{_oneline(now)}`" if was.strip() and now.strip()
                                   else f"`{_oneline(was)}` removed" if was.strip() else f"`{_oneline(now)}` added")
                    out.append(Mutant(f"{name}:{op_name}:{digest}", name, line, op_name, description, mutated))
    out.sort(key=lambda m: (m.line, m.id))
    return out
