"""Trino's rules for arrays and maps (docs: functions/array, functions/map, functions/lambda),
rewritten where DuckDB answers otherwise: 1-based subscripts that fail past the end,
element_at that does not, NULL-aware contains / array_min / array_max, array_distinct in
first-seen order keeping one NULL, slice(start, length), reduce with its output function,
and lambda parameters typed so that the rules of their bodies apply (7 / 2 in a lambda is 3).

Sources: trinodb/trino core/trino-main/src/main/java/io/trino/operator/scalar/
(ArraySubscriptOperator, ArrayElementAtFunction, ArrayContains, ArrayMinFunction,
ArrayDistinctFunction, ArrayPositionFunction, ArraySliceFunction, MapSubscriptOperator)."""
from __future__ import annotations

from glue_jobs.adapters.local.athena_sql.surface import EXACT, declare

declare("functions/array", EXACT, "cardinality", "element_at", "contains", "array_join", "array_min", "array_max", "array_sort", "array_distinct", "array_position", "slice", "transform", "filter", "reduce", "flatten", "split")
declare("functions/map", EXACT, "map", "map_keys", "map_values")
declare("select", EXACT, "unnest")


from sqlglot import exp  # noqa: E402

from glue_jobs.adapters.local.athena_sql import types  # noqa: E402
from glue_jobs.adapters.local.athena_sql.errors import RUNTIME_ERROR_MARK, NotEmulated  # noqa: E402
from glue_jobs.adapters.local.athena_sql.rules import duckdb_tree, fail, rule, typed  # noqa: E402

T = exp.DataType.Type


def _duck(template: str, **parts: exp.Expression) -> exp.Expression:
    """A DuckDB expression from a template with :name placeholders (each part copied)."""
    tree = duckdb_tree(template)
    for bracket in tree.find_all(exp.Bracket):
        if isinstance(bracket.expressions[0], exp.Placeholder):
            bracket.set("offset", 1)  # the index put in is 1-based already: printed as it is
    return exp.replace_placeholders(tree, **{k: v.copy() for k, v in parts.items()})



def _element(dt: exp.DataType) -> exp.DataType | None:
    return dt.expressions[0] if dt.this == T.ARRAY and dt.expressions else None


def _map_parts(dt: exp.DataType) -> tuple[exp.DataType, exp.DataType] | None:
    return (dt.expressions[0], dt.expressions[1]) if dt.this == T.MAP and len(dt.expressions) == 2 else None


def _array_of(dt: exp.DataType) -> exp.DataType:
    return exp.DataType(this=T.ARRAY, expressions=[dt.copy()], nested=True)


def _has_null(array: str) -> str:
    return f"list_bool_or(list_transform({array}, LAMBDA athena_e: athena_e IS NULL))"


# -- lambdas: their parameters typed before the rules run ---------------------------------------

def type_lambda_parameters(tree: exp.Expression) -> bool:
    """Give the parameters of every lambda passed to transform / filter / reduce the Trino type
    they have (the array's element type; reduce's state: the initial value's type), as a
    CAST of the parameter (a no-op in DuckDB), so that annotating the tree again types the
    lambda's body and the rules see e.g. an integer division. Returns whether anything
    changed (the caller then annotates again; nested lambdas need one round per level)."""
    changed = False
    for node in list(tree.find_all(exp.Transform, exp.ArrayFilter, exp.Reduce)):
        element = _element(types.of(node.this))
        if element is None or not types.is_known(element):
            continue
        if isinstance(node, exp.Reduce):
            state = types.of(node.args["initial"])
            if not types.is_known(state):
                continue
            changed |= _type_params(node.args.get("merge"), [state, element])
            changed |= _type_params(node.args.get("finish"), [state])
        else:
            changed |= _type_params(node.expression, [element])
    return changed


def _type_params(lam: exp.Expression | None, kinds: list[exp.DataType]) -> bool:
    if not isinstance(lam, exp.Lambda) or lam.meta.get("athena_params_typed"):
        return False
    params = {p.name: kinds[i] for i, p in enumerate(lam.expressions) if i < len(kinds)}
    for ident in list(lam.this.find_all(exp.Identifier)):
        if ident.name not in params or isinstance(ident.parent, (exp.Column, exp.Cast, exp.Lambda)) and \
                not (isinstance(ident.parent, exp.Column) and not ident.parent.table):
            continue
        target = ident.parent if isinstance(ident.parent, exp.Column) else ident
        cast = exp.Cast(this=exp.to_identifier(ident.name), to=params[ident.name].copy())
        if target is lam.this:
            lam.set("this", cast)
        else:
            target.replace(cast)
    lam.meta["athena_params_typed"] = True
    return True


# -- subscripts and element_at ---------------------------------------------------------------

def _trino_index(node: exp.Bracket) -> exp.Expression:
    """The 1-based index the user wrote: sqlglot keeps a literal subscript 0-based unless the
    node says it is 1-based (element_at)."""
    index = node.expressions[0]
    if node.args.get("offset") == 1:
        return index
    if isinstance(index, exp.Literal) and index.is_int:
        return exp.Literal.number(int(index.this) + 1)
    if isinstance(index, exp.Neg) and isinstance(index.this, exp.Literal) and index.this.is_int:
        return exp.Literal.number(1 - int(index.this.this))
    return index


@rule(exp.Bracket)
def subscript(node: exp.Bracket) -> exp.Expression | None:
    """Trino: `a[i]` fails past the array's end ("Array subscript must be less than or equal
    to array length: 5 > 3"), on a negative index ("Array subscript is negative: -1") and on
    0 ("SQL array indices start at 1"); element_at(a, i) is NULL past either end and counts
    from the end when i < 0 (0 still fails). `m[k]` fails on a missing key ("Key not present
    in map: k"); element_at(m, k) is NULL."""
    if len(node.expressions) != 1:
        return None
    container = types.of(node.this)
    safe = bool(node.args.get("safe"))
    index = _trino_index(node)
    element = _element(container)
    if element is not None:
        if safe:
            new = _duck(f"CASE WHEN :i = 0 THEN {fail('SQL array indices start at 1')} ELSE :a[:i] END",
                        a=node.this, i=index)
        else:
            new = _duck(
                f"CASE WHEN :i = 0 THEN {fail('SQL array indices start at 1')} "
                f"WHEN :i < 0 THEN error('{RUNTIME_ERROR_MARK}Array subscript is negative: ' || CAST(:i AS VARCHAR)) "
                f"WHEN :i > len(:a) THEN error('{RUNTIME_ERROR_MARK}Array subscript must be less than or equal "
                f"to array length: ' || CAST(:i AS VARCHAR) || ' > ' || CAST(len(:a) AS VARCHAR)) "
                f"ELSE :a[:i] END", a=node.this, i=index)
        return typed(new, element.copy())
    parts = _map_parts(container)
    if parts is None:
        return None
    key, value = parts
    if safe:
        new = _duck(":m[:k]", m=node.this, k=index)
    else:
        if not (types.is_string(key) or types.is_integer(key)):
            raise NotEmulated("map subscript", f"on a map with {types.athena_name(key)} keys")
        new = _duck(f"CASE WHEN :k IS NOT NULL AND NOT list_contains(map_keys(:m), :k) THEN "
                    f"error('{RUNTIME_ERROR_MARK}Key not present in map: ' || CAST(:k AS VARCHAR)) ELSE :m[:k] END",
                    m=node.this, k=index)
    return typed(new, value.copy())


# -- array functions --------------------------------------------------------------------------

@rule(exp.ArraySize)
def cardinality(node: exp.ArraySize) -> exp.Expression:
    return typed(_duck("len(:a)", a=node.this), "bigint")


@rule(exp.ArrayContains)
def contains(node: exp.ArrayContains) -> exp.Expression:
    """Trino: true when an element equals; else NULL when the array holds a NULL; else false
    (ArrayContains.java). NULL array or element: NULL."""
    new = _duck(f"CASE WHEN :a IS NULL OR :e IS NULL THEN NULL WHEN list_contains(:a, :e) THEN TRUE "
                f"WHEN {_has_null(':a')} THEN NULL ELSE FALSE END", a=node.this, e=node.expression)
    return typed(new, "boolean")


@rule(exp.ArrayMin, exp.ArrayMax)
def array_min_max(node: exp.Expression) -> exp.Expression | None:
    """Trino: NULL as soon as any element is NULL (ArrayMinFunction.java), NULL for []."""
    element = _element(types.of(node.this))
    fn = "list_min" if isinstance(node, exp.ArrayMin) else "list_max"
    new = _duck(f"CASE WHEN {_has_null(':a')} THEN NULL ELSE {fn}(:a) END", a=node.this)
    return typed(new, element.copy()) if element is not None else new


_JOINABLE = (T.VARCHAR, T.TEXT, T.CHAR, T.TINYINT, T.SMALLINT, T.INT, T.BIGINT, T.DATE, T.BOOLEAN, T.DECIMAL)


@rule(exp.ArrayToString)
def array_join(node: exp.ArrayToString) -> exp.Expression:
    """Trino: NULL elements are left out, or replaced by the third argument; elements are
    cast to varchar (integers, dates, decimals, booleans print the same in DuckDB)."""
    element = _element(types.of(node.this))
    if element is not None and element.this not in _JOINABLE:
        raise NotEmulated("array_join", f"of {types.athena_name(element)} elements")
    replacement = node.args.get("null")
    if replacement is None:
        new = _duck("array_to_string(list_transform(:a, LAMBDA athena_e: CAST(athena_e AS VARCHAR)), :d)",
                    a=node.this, d=node.expression)
    else:
        new = _duck("array_to_string(list_transform(:a, LAMBDA athena_e: coalesce(CAST(athena_e AS VARCHAR), :r)), :d)",
                    a=node.this, d=node.expression, r=replacement)
    return typed(new, "varchar")


@rule(exp.ArraySort)
def array_sort(node: exp.ArraySort) -> exp.Expression:
    """Trino: ascending, NULLs at the end; a comparator function is not emulated."""
    if node.expression is not None:
        raise NotEmulated("array_sort(array, function)", "array_sort with a comparator function")
    new = _duck("list_sort(:a, 'ASC', 'NULLS LAST')", a=node.this)
    return typed(new, types.of(node.this).copy()) if _element(types.of(node.this)) is not None else new


@rule(exp.ArrayDistinct)
def array_distinct(node: exp.ArrayDistinct) -> exp.Expression:
    """Trino: first occurrences in order, one NULL kept (ArrayDistinctFunction.java)."""
    new = _duck("list_filter(:a, LAMBDA athena_e, athena_i: list_position(:a, athena_e) = athena_i)", a=node.this)
    return typed(new, types.of(node.this).copy()) if _element(types.of(node.this)) is not None else new


@rule(exp.ArrayPosition)
def array_position(node: exp.ArrayPosition) -> exp.Expression:
    """Trino: 1-based position of the first equal element, 0 when none; NULL elements never
    match; a NULL array or element gives NULL."""
    new = _duck("CASE WHEN :a IS NULL OR :e IS NULL THEN NULL ELSE coalesce(list_position(:a, :e), 0) END",
                a=node.this, e=node.expression)
    return typed(new, "bigint")


@rule(exp.ArraySlice)
def slice_(node: exp.ArraySlice) -> exp.Expression:
    """Trino slice(x, start, length) (ArraySliceFunction.java): start < 0 counts from the end,
    0 fails, length < 0 fails, a start before the first element gives []."""
    start, length = node.args.get("start"), node.args.get("end")
    first = "(CASE WHEN :s < 0 THEN len(:a) + :s + 1 ELSE :s END)"
    new = _duck(f"CASE WHEN :l < 0 THEN {fail('length must be greater than or equal to 0')} "
                f"WHEN :s = 0 THEN {fail('SQL array indices start at 1')} "
                f"WHEN {first} < 1 THEN list_slice(:a, 1, 0) "
                f"ELSE list_slice(:a, {first}, {first} + :l - 1) END", a=node.this, s=start, l=length)
    return typed(new, types.of(node.this).copy()) if _element(types.of(node.this)) is not None else new


@rule(exp.Transform)
def transform(node: exp.Transform) -> exp.Expression | None:
    body = node.expression.this if isinstance(node.expression, exp.Lambda) else None
    if body is None or not types.is_known(types.of(body)):
        return None
    new = node.copy()
    return typed(new, _array_of(types.of(body)))


@rule(exp.ArrayFilter)
def filter_(node: exp.ArrayFilter) -> exp.Expression | None:
    if _element(types.of(node.this)) is None:
        return None
    return typed(node.copy(), types.of(node.this).copy())


@rule(exp.Reduce)
def reduce_(node: exp.Reduce) -> exp.Expression:
    """Trino applies the output function to the final state; sqlglot drops it when writing
    DuckDB: the output function's body is applied here, its parameter replaced by the
    reduction. The state's type is the initial value's (CAST it to widen)."""
    finish = node.args.get("finish")
    merge = node.args.get("merge")
    state = types.of(node.args["initial"])
    if isinstance(merge, exp.Lambda) and types.is_known(types.of(merge.this)) and types.is_known(state) \
            and _kind(types.of(merge.this)) != _kind(state):
        raise NotEmulated("reduce", f"with a {types.athena_name(types.of(merge.this))} step from a "
                                    f"{types.athena_name(state)} initial state; CAST the initial state")
    inner = exp.Reduce(this=node.this.copy(), initial=node.args["initial"].copy(), merge=merge.copy())
    inner.type = state
    if not isinstance(finish, exp.Lambda):
        return typed(inner, state.copy()) if types.is_known(state) else inner
    param = finish.expressions[0].name if finish.expressions else None
    body = finish.this.copy()
    for ident in list(body.find_all(exp.Identifier)):
        if ident.name != param:
            continue
        target = ident.parent if isinstance(ident.parent, (exp.Column, exp.Cast)) and \
            (not isinstance(ident.parent, exp.Column) or not ident.parent.table) else ident
        if target is body:
            body = exp.Paren(this=inner.copy())
            break
        target.replace(exp.Paren(this=inner.copy()))
    result = types.of(finish.this)
    return typed(body, result.copy()) if types.is_known(result) else body


def _kind(dt: exp.DataType) -> str:
    if types.is_integer(dt):
        return "integer"
    return "decimal" if types.is_decimal(dt) else types.athena_name(dt)


@rule(exp.Unnest)
def unnest(node: exp.Unnest) -> None:
    for arg in node.expressions:
        if _map_parts(types.of(arg)) is not None:
            raise NotEmulated("UNNEST of a map")
    return None


@rule(exp.Flatten)
def flatten(node: exp.Flatten) -> exp.Expression:
    inner = _element(types.of(node.this))
    new = _duck("flatten(:a)", a=node.this)
    return typed(new, inner.copy()) if inner is not None and _element(inner) is not None else new


@rule(exp.Split)
def split(node: exp.Split) -> exp.Expression:
    """Trino split(string, delimiter): every field, empty ones too ('' is ['']); the
    three-argument form (a limit) is not emulated."""
    if node.args.get("limit") is not None:
        raise NotEmulated("split(string, delimiter, limit)")
    return typed(_duck("string_split(:s, :d)", s=node.this, d=node.expression), "array(varchar)")


# -- maps -------------------------------------------------------------------------------------

@rule(exp.Map)
def map_(node: exp.Map) -> exp.Expression | None:
    """Trino map(keys, values): the arrays must be as long as each other, keys neither NULL
    nor repeated (MapConstructor.java), with Trino's messages."""
    keys, values = node.args.get("keys"), node.args.get("values")
    if keys is None or values is None:
        return None
    k, v = _element(types.of(keys)), _element(types.of(values))
    new = _duck(
        f"CASE WHEN len(:k) <> len(:v) THEN {fail('Key and value arrays must be the same length')} "
        f"WHEN {_has_null(':k')} THEN {fail('map key cannot be null')} "
        f"WHEN len(list_distinct(:k)) <> len(:k) THEN error('{RUNTIME_ERROR_MARK}Duplicate map keys (' || "
        f"CAST(list_extract(list_filter(:k, LAMBDA athena_e, athena_i: list_position(:k, athena_e) < athena_i), 1) AS VARCHAR) "
        f"|| ') are not allowed') ELSE map(:k, :v) END", k=keys, v=values)
    if k is None or v is None:
        return new
    return typed(new, exp.DataType(this=T.MAP, expressions=[k.copy(), v.copy()], nested=True))


@rule(exp.MapKeys)
def map_keys(node: exp.MapKeys) -> exp.Expression:
    parts = _map_parts(types.of(node.this))
    new = _duck("map_keys(:m)", m=node.this)
    return typed(new, _array_of(parts[0])) if parts else new


@rule("map_values")
def map_values(node: exp.Expression) -> exp.Expression:
    m = node.expressions[0] if node.expressions else node.this
    parts = _map_parts(types.of(m))
    new = _duck("map_values(:m)", m=m)
    return typed(new, _array_of(parts[1])) if parts else new


# -- ARRAY[...] -------------------------------------------------------------------------------

def _literal_type(node: exp.Expression) -> exp.DataType:
    """Trino types a literal with a decimal point as decimal(digits, digits after the point)
    (1.5 is decimal(2,1)); other nodes keep their type."""
    if isinstance(node, exp.Literal) and not node.is_string and "." in node.this and "e" not in node.this.lower():
        whole, _, frac = node.this.lstrip("-").partition(".")
        digits = len(whole.lstrip("0")) + len(frac)
        return types.decimal(max(digits, 1), len(frac))
    return types.of(node)


@rule(exp.Array)
def array_literal(node: exp.Array) -> exp.Expression | None:
    """ARRAY[...] typed as Trino types it: the elements' common super type (integer and
    decimal(p,s) -> decimal wide enough for both: ARRAY[1, 1.2] is array(decimal(11,1));
    any double -> double)."""
    kinds = [_literal_type(e) for e in node.expressions if not isinstance(e, exp.Null)]
    if not kinds or not all(types.is_known(k) for k in kinds):
        return None
    if all(types.is_numeric(k) for k in kinds):
        if any(types.is_floating(k) for k in kinds):
            common = exp.DataType.build("double") if any(k.this == T.DOUBLE or types.is_exact(k) for k in kinds) \
                else exp.DataType.build("float")
        elif all(types.is_integer(k) for k in kinds):
            common = max(kinds, key=lambda k: types.decimal_parts(k)[0])
        else:
            parts = [types.decimal_parts(k) for k in kinds]
            scale = max(s for _, s in parts)
            digits = max(p - s for p, s in parts)
            common = types.decimal(digits + scale, scale)
        new = node.copy()
        return typed(new, _array_of(common))
    if len({types.athena_name(k) for k in kinds}) == 1:
        return typed(node.copy(), _array_of(kinds[0]))
    return None
