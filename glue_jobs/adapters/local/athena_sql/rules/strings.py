"""Trino's rules for strings, regular expressions and conditionals (functions/string,
functions/regexp, functions/conditional), rewritten where DuckDB answers otherwise.

Trino counts in Unicode code points (as DuckDB's substring, length and strpos do), trims
Java's whitespace (DuckDB's trim() only spaces), returns NULL where DuckDB returns ''
(regexp_extract without a match, split_part past the end), writes back-references as $1
(DuckDB \\1) and formats with java.util.Formatter (format())."""
from __future__ import annotations

import re

from sqlglot import exp

from glue_jobs.adapters.local.athena_sql import types
from glue_jobs.adapters.local.athena_sql.errors import RUNTIME_ERROR_MARK, AthenaRejects, NotEmulated
from glue_jobs.adapters.local.athena_sql.rules import duckdb_tree, fail, is_trusted, rule, typed
from glue_jobs.adapters.local.athena_sql.surface import APPROXIMATE, EXACT, declare

declare("functions/string", EXACT, "length", "lower", "upper", "trim", "ltrim", "rtrim", "substr", "substring",
        "replace", "concat", "concat_ws", "split_part", "strpos", "position", "starts_with", "lpad", "rpad",
        "reverse", "chr", "codepoint", "format")
declare("functions/regexp", EXACT, "regexp_like", "regexp_replace", "regexp_count", "regexp_split")
declare("functions/regexp", APPROXIMATE, "regexp_extract", "regexp_extract_all",
        note="a capturing group that takes no part in the match gives '' instead of NULL")
declare("functions/conditional", EXACT, "coalesce", "nullif", "if", "try")
declare("functions/conversion", EXACT, "cast", "try_cast")


def duck(template: str, **parts: exp.Expression) -> exp.Expression:
    """A DuckDB expression from a template whose bare names `_x` stand for the given nodes."""
    tree = duckdb_tree(template)

    def fill(node: exp.Expression) -> exp.Expression:
        if isinstance(node, exp.Column) and not node.table and node.name in parts:
            return parts[node.name].copy()
        return node

    return tree.transform(fill, copy=False)



def _string_like(node: exp.Expression) -> bool:
    dt = types.of(node)
    return types.is_string(dt) or dt.this in (types.T.NULL, types.T.UNKNOWN)


# --- functions/string -------------------------------------------------------------------

# java.lang.Character.isWhitespace, which Trino's trim, ltrim and rtrim remove (airlift's
# SliceUtf8.trim): the ASCII controls below, and Unicode space, line and paragraph separators
# except the no-break spaces U+00A0, U+2007 and U+202F.
JAVA_WHITESPACE = ("\t\n\u000b\f\r\u001c\u001d\u001e\u001f \u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006"
                   "\u2008\u2009\u200a\u2028\u2029\u205f\u3000")


@rule(exp.Trim)
def trim(node: exp.Trim) -> exp.Expression:
    position = (node.args.get("position") or "BOTH").upper()
    function = {"LEADING": "ltrim", "TRAILING": "rtrim"}.get(position, "trim")
    chars = node.args.get("expression") or exp.Literal.string(JAVA_WHITESPACE)
    return typed(exp.Anonymous(this=function, expressions=[node.this, chars]), "varchar")


@rule(exp.Substring)
def substring(node: exp.Substring) -> exp.Expression:
    """Trino (StringFunctions.substring): start 0, a length <= 0, or a negative start before
    the beginning give ''; DuckDB clamps instead."""
    s, start, length = node.this, node.args.get("start"), node.args.get("length")
    if length is None:
        new = duck("CASE WHEN _s IS NULL OR _st IS NULL THEN NULL WHEN _st = 0 OR _st < -length(_s) THEN '' "
                   "ELSE substring(_s, _st) END", _s=s, _st=start)
    else:
        new = duck("CASE WHEN _s IS NULL OR _st IS NULL OR _n IS NULL THEN NULL "
                   "WHEN _st = 0 OR _n <= 0 OR _st < -length(_s) THEN '' ELSE substring(_s, _st, _n) END",
                   _s=s, _st=start, _n=length)
    return typed(new, "varchar")


@rule(exp.StrPosition)
def strpos(node: exp.StrPosition) -> exp.Expression:
    if node.args.get("occurrence") is not None:
        raise NotEmulated("strpos with an instance argument")
    return typed(exp.Anonymous(this="strpos", expressions=[node.this, node.args["substr"]]), "bigint")


@rule(exp.SplitPart)
def split_part(node: exp.SplitPart) -> exp.Expression:
    """Trino: NULL past the last field (DuckDB ''), "Index must be greater than zero" below 1."""
    new = duck(f"CASE WHEN _i <= 0 THEN {fail('Index must be greater than zero')} "
               "ELSE list_extract(string_split(_s, _d), _i) END",
               _s=node.this, _d=node.args["delimiter"], _i=node.args["part_index"])
    return typed(new, "varchar")


@rule(exp.Pad)
def pad(node: exp.Pad) -> exp.Expression:
    """Trino pads to the size or truncates to it; fails on a size out of [0..2^31-1] or an
    empty padding string (StringFunctions.pad)."""
    function = "lpad" if node.args.get("is_left") else "rpad"
    fill = node.args.get("fill_pattern") or exp.Literal.string(" ")
    new = duck(f"CASE WHEN _n < 0 OR _n > 2147483647 THEN {fail('Target length must be in the range [0..2147483647]')} "
               f"WHEN _p = '' THEN {fail('Padding string must not be empty')} ELSE {function}(_s, _n, _p) END",
               _s=node.this, _n=node.expression, _p=fill)
    return typed(new, "varchar")


@rule(exp.Replace)
def replace(node: exp.Replace) -> exp.Expression:
    """Trino: an empty search string inserts the replacement before every code point and at
    the end (StringFunctions.replace); DuckDB leaves the string as it is."""
    with_ = node.args.get("replacement") or exp.Literal.string("")
    new = duck("CASE WHEN _f = '' THEN regexp_replace(_s, '', replace(_r, '\\', '\\\\'), 'g') "
               "ELSE replace(_s, _f, _r) END", _s=node.this, _f=node.expression, _r=with_)
    return typed(new, "varchar")


def _concat_args(args: list[exp.Expression], name: str = "concat") -> bool:
    """Whether a concat is of strings (True), of arrays (False: not this module's), or of
    something Trino has no concat for (refused with Athena's words)."""
    kinds = [types.of(a) for a in args]
    if any(k.this == types.T.ARRAY for k in kinds):
        return False
    if all(_string_like(a) for a in args):
        return True
    shown = ", ".join(_shown(a) for a in args)
    raise AthenaRejects(f"Unexpected parameters ({shown}) for function {name}")


def _shown(node: exp.Expression) -> str:
    if isinstance(node, exp.Literal) and node.is_string:
        return f"varchar({len(node.this)})"
    return types.athena_name(types.of(node))


@rule(exp.Concat)
def concat(node: exp.Concat) -> exp.Expression | None:
    """Trino's concat of strings is NULL when any argument is NULL (DuckDB's concat() skips
    NULLs; its || does not)."""
    args = list(node.expressions)
    if not _concat_args(args):
        return None
    new = args[0]
    for arg in args[1:]:
        new = exp.DPipe(this=new, expression=arg)
    if len(args) == 1:
        new = exp.DPipe(this=new, expression=exp.Literal.string(""))
    return typed(new, "varchar")


@rule(exp.DPipe)
def pipes(node: exp.DPipe) -> exp.Expression | None:
    if not _concat_args([node.this, node.expression]):
        return None
    new = exp.DPipe(this=node.this, expression=node.expression)
    return typed(new, "varchar")


@rule(exp.ConcatWs)
def concat_ws(node: exp.ConcatWs) -> exp.Expression:
    args = list(node.expressions)
    if len(args) < 2:
        raise AthenaRejects("There must be two or more arguments")
    if len(args) == 2 and types.of(args[1]).this == types.T.ARRAY:
        new = duck("CASE WHEN _sep IS NULL THEN NULL ELSE array_to_string(list_filter(_a, lambda x: x IS NOT NULL), _sep) END",
                   _sep=args[0], _a=args[1])
        return typed(new, "varchar")
    if not all(_string_like(a) for a in args):
        raise AthenaRejects(f"Unexpected parameters ({', '.join(_shown(a) for a in args)}) for function concat_ws")
    return typed(exp.Anonymous(this="concat_ws", expressions=args), "varchar")


@rule(exp.Length)
def length(node: exp.Length) -> exp.Expression | None:
    if not _string_like(node.this):
        return None
    return typed(exp.Anonymous(this="length", expressions=[node.this]), "bigint")


@rule(exp.Lower, exp.Upper)
def case_mapping(node: exp.Expression) -> exp.Expression:
    """Trino maps case code point by code point (Character.toUpperCase): 'ß' stays 'ß' in
    upper() (DuckDB writes 'ẞ'); it is kept apart through a private-use character."""
    if isinstance(node, exp.Lower):
        return typed(exp.Anonymous(this="lower", expressions=[node.this]), "varchar")
    new = duck("replace(upper(replace(_s, 'ß', '\ue000')), '\ue000', 'ß')", _s=node.this)
    return typed(new, "varchar")


@rule(exp.Reverse)
def reverse(node: exp.Reverse) -> exp.Expression | None:
    if not _string_like(node.this):
        return None
    return typed(exp.Anonymous(this="reverse", expressions=[node.this]), "varchar")


@rule(exp.Chr)
def chr_(node: exp.Chr) -> exp.Expression:
    code = node.expressions[0]
    new = duck(f"CASE WHEN _c < 0 OR _c > 1114111 OR (_c >= 55296 AND _c <= 57343) "
               f"THEN error('{RUNTIME_ERROR_MARK}Not a valid Unicode code point: ' || CAST(_c AS VARCHAR)) "
               "ELSE chr(CAST(_c AS INTEGER)) END", _c=code)
    return typed(new, "varchar(1)")


@rule("codepoint")
def codepoint(node: exp.Anonymous) -> exp.Expression:
    new = duck(f"CASE WHEN length(_s) <> 1 THEN {fail('Input string must be a single character string')} "
               "ELSE unicode(_s) END", _s=node.expressions[0])
    return typed(new, "integer")


@rule(exp.StartsWith)
def starts_with(node: exp.StartsWith) -> exp.Expression:
    return typed(exp.Anonymous(this="starts_with", expressions=[node.this, node.expression]), "boolean")


# --- format(): java.util.Formatter ----------------------------------------------------

_SPEC = re.compile(r"%(?:(\d+)\$)?([-#+ 0,(<]*)(\d+)?(?:\.(\d+))?([a-zA-Z%])")


@rule(exp.Format)
def format_(node: exp.Format) -> exp.Expression:
    """Trino's format(f, args...) is Java's String.format (FormatFunction): supported here are
    %s, %d and %f with the flags '-', '0', ',' and '+', a width and a precision, and %% and
    %n, when the format is a literal. A NULL argument prints "null"; %f rounds half up
    (BigDecimal for decimals; for doubles, the shortest decimal that reads back as the
    double, as Java's FormattedFloatingDecimal does)."""
    pattern = node.this
    if not (isinstance(pattern, exp.Literal) and pattern.is_string):
        raise NotEmulated("format with a format string that is not a literal")
    text = pattern.this
    args = list(node.expressions)
    pieces: list[exp.Expression] = []
    at, ordinal = 0, 0
    for match in _SPEC.finditer(text):
        if match.start() > at:
            pieces.append(exp.Literal.string(text[at:match.start()]))
        at = match.end()
        index, flags, width, precision, conversion = match.groups()
        if conversion == "%":
            pieces.append(exp.Literal.string("%"))
            continue
        if conversion == "n":
            pieces.append(exp.Literal.string("\n"))
            continue
        if index is not None:
            position = int(index) - 1
        else:
            position, ordinal = ordinal, ordinal + 1
        if "<" in flags or "#" in flags or "(" in flags or " " in flags:
            raise NotEmulated(f"format with the conversion {match.group(0)!r}")
        if position >= len(args):
            raise AthenaRejects(f"Invalid format string: {text} (MissingFormatArgument: Format specifier "
                                f"'{match.group(0)}')")
        pieces.append(_formatted(args[position], conversion, flags, width, precision, match.group(0)))
    if at < len(text):
        pieces.append(exp.Literal.string(text[at:]))
    if not pieces:
        return typed(exp.Literal.string(""), "varchar")
    new = pieces[0]
    for piece in pieces[1:]:
        new = exp.DPipe(this=new, expression=piece)
    return typed(new, "varchar")


def _formatted(arg: exp.Expression, conversion: str, flags: str, width: str | None, precision: str | None,
               spec: str) -> exp.Expression:
    dt = types.of(arg)
    null = dt.this in (types.T.NULL, types.T.UNKNOWN) and isinstance(arg, exp.Null)
    if conversion == "s":
        if set(flags) - {"-"} or precision is not None:
            raise NotEmulated(f"format with the conversion {spec!r}")
        if not (null or types.is_string(dt) or types.is_integer(dt) or dt.this == types.T.BOOLEAN):
            raise NotEmulated(f"format('%s') of a {types.athena_name(dt)}")
        body = "lower(CAST(_v AS VARCHAR))" if dt.this == types.T.BOOLEAN else "CAST(_v AS VARCHAR)"
    elif conversion == "d":
        if precision is not None:
            raise AthenaRejects(f"Invalid format string (IllegalFormatPrecision: {precision})")
        if not (null or types.is_integer(dt)):
            raise AthenaRejects(f"Invalid format string ({_illegal(conversion, dt)})")
        body = _grouped("abs(CAST(_v AS HUGEINT))", "," in flags)
        body = _signed(body, flags, "_v < 0")
    elif conversion == "f":
        scale = int(precision) if precision is not None else 6
        if types.is_decimal(dt):
            decimal = "_v"
        elif types.is_floating(dt):
            # Java formats the shortest decimal that reads back as the double, rounded half up
            decimal = (f"CASE WHEN abs(_v) >= 1e17 OR isnan(_v) OR isinf(_v) THEN "
                       f"{fail('valid Athena SQL that the local engine does not support yet: format %f of a double beyond 1e17')} "
                       "ELSE CAST(CAST(_v AS VARCHAR) AS DECIMAL(38,18)) END")
        elif null:
            decimal = "CAST(NULL AS DECIMAL(38,0))"
        else:
            raise AthenaRejects(f"Invalid format string ({_illegal(conversion, dt)})")
        rounded = f"round({decimal}, {scale})"
        whole = _grouped(f"CAST(trunc(abs({rounded})) AS HUGEINT)", "," in flags)
        if scale:
            fraction = (f"lpad(CAST(CAST((abs({rounded}) - trunc(abs({rounded}))) * {10 ** scale} AS HUGEINT) "
                        f"AS VARCHAR), {scale}, '0')")
            body = f"{whole} || '.' || {fraction}"
        else:
            body = whole
        body = _signed(body, flags, f"({decimal}) < 0")
    else:
        raise NotEmulated(f"format with the conversion {spec!r}")
    if width is not None:
        w = int(width)
        if "0" in flags and conversion in "df":
            body = (f"CASE WHEN length({body}) >= {w} THEN {body} "
                    f"WHEN starts_with({body}, '-') OR starts_with({body}, '+') THEN left({body}, 1) || lpad(substring({body}, 2), {w - 1}, '0') "
                    f"ELSE lpad({body}, {w}, '0') END")
        elif "-" in flags:
            body = f"printf('%-{w}s', {body})"
        else:
            body = f"printf('%{w}s', {body})"
    new = duck(f"CASE WHEN _v IS NULL THEN 'null' ELSE {body} END", _v=arg)
    return new


def _grouped(integer_sql: str, grouping: bool) -> str:
    return f"format('{{:,}}', {integer_sql})" if grouping else f"CAST({integer_sql} AS VARCHAR)"


def _signed(body: str, flags: str, negative: str) -> str:
    plus = "'+'" if "+" in flags else "''"
    return f"(CASE WHEN {negative} THEN '-' ELSE {plus} END) || {body}"


def _illegal(conversion: str, dt: exp.DataType) -> str:
    java = "java.lang.Long" if types.is_integer(dt) else "java.lang.Double" if types.is_floating(dt) else \
        "java.math.BigDecimal" if types.is_decimal(dt) else "java.lang.String"
    return f"IllegalFormatConversion: {conversion} != {java}"


# --- functions/regexp ---------------------------------------------------------------------

# Trino's regular expressions are Joni's (Java syntax); DuckDB's are RE2's. What RE2 lacks is
# refused rather than answered otherwise.
_UNSUPPORTED_REGEX = [
    (re.compile(r"\(\?<?[=!]"), "a lookaround"),
    (re.compile(r"\(\?>"), "an atomic group"),
    (re.compile(r"(?<!\\)\\[1-9]"), "a back-reference"),
    (re.compile(r"(?<!\\)\\k<"), "a named back-reference"),
    (re.compile(r"[*+?}]\+"), "a possessive quantifier"),
    (re.compile(r"(?<!\\)\\[GZhHRX]"), "an escape RE2 does not know"),
]


def _pattern(node: exp.Expression, function: str) -> exp.Expression:
    if isinstance(node, exp.Literal) and node.is_string:
        for check, what in _UNSUPPORTED_REGEX:
            if check.search(node.this):
                raise NotEmulated(f"{function} with {what} in the pattern")
    return node


@rule(exp.RegexpLike)
def regexp_like(node: exp.RegexpLike) -> exp.Expression:
    """Trino's regexp_like is a partial match (like DuckDB's regexp_matches)."""
    pattern = _pattern(node.expression, "regexp_like")
    return typed(exp.Anonymous(this="regexp_matches", expressions=[node.this, pattern]), "boolean")


@rule(exp.RegexpExtract)
def regexp_extract(node: exp.RegexpExtract) -> exp.Expression:
    """Trino: NULL when the pattern does not match (DuckDB: '')."""
    pattern = _pattern(node.expression, "regexp_extract")
    group = node.args.get("group") or exp.Literal.number(0)
    new = duck("CASE WHEN regexp_matches(_s, _p) THEN regexp_extract(_s, _p, _g) END",
               _s=node.this, _p=pattern, _g=group)
    return typed(new, "varchar")


@rule(exp.RegexpExtractAll)
def regexp_extract_all(node: exp.RegexpExtractAll) -> exp.Expression:
    pattern = _pattern(node.expression, "regexp_extract_all")
    group = node.args.get("group") or exp.Literal.number(0)
    return typed(exp.Anonymous(this="regexp_extract_all", expressions=[node.this, pattern, group]), "array(varchar)")


@rule(exp.RegexpCount)
def regexp_count(node: exp.RegexpCount) -> exp.Expression:
    """The number of matches, empty ones included (Joni, like RE2, finds one at each position)."""
    pattern = _pattern(node.expression, "regexp_count")
    return typed(duck("len(regexp_extract_all(_s, _p))", _s=node.this, _p=pattern), "bigint")


@rule(exp.RegexpSplit)
def regexp_split(node: exp.RegexpSplit) -> exp.Expression:
    pattern = _pattern(node.expression, "regexp_split")
    new = exp.Anonymous(this="string_split_regex", expressions=[node.this, pattern])
    return typed(new, "array(varchar)")


def java_replacement(text: str) -> str:
    """A Trino (Joni) replacement string as RE2 writes it: $n is \\n, \\x is a literal x."""
    out, i = [], 0
    while i < len(text):
        c = text[i]
        if c == "\\":
            if i + 1 >= len(text):
                raise AthenaRejects("Illegal replacement sequence: character to be escaped is missing")
            literal = text[i + 1]
            out.append("\\\\" if literal == "\\" else literal)
            i += 2
        elif c == "$":
            digits = re.match(r"\d+", text[i + 1:])
            if not digits:
                raise NotEmulated("regexp_replace with a named group reference in the replacement")
            if len(digits.group(0)) > 1:
                raise NotEmulated("regexp_replace with a group reference followed by a digit")
            out.append("\\" + digits.group(0))
            i += 1 + len(digits.group(0))
        else:
            out.append(c)
            i += 1
    return "".join(out)


@rule(exp.RegexpReplace)
def regexp_replace(node: exp.RegexpReplace) -> exp.Expression:
    """Every match replaced; $1 in the replacement is the first group (DuckDB writes \\1)."""
    pattern = _pattern(node.expression, "regexp_replace")
    with_ = node.args.get("replacement")
    if with_ is None:
        replacement = exp.Literal.string("")
    elif isinstance(with_, exp.Literal) and with_.is_string:
        replacement = exp.Literal.string(java_replacement(with_.this))
    else:
        raise NotEmulated("regexp_replace with a replacement that is not a literal")
    new = exp.Anonymous(this="regexp_replace", expressions=[node.this, pattern, replacement, exp.Literal.string("g")])
    return typed(new, "varchar")


# --- functions/conditional ------------------------------------------------------------------


@rule(exp.Try)
def try_(node: exp.Try) -> exp.Expression:
    """Trino's try(x) is NULL where x fails. DuckDB's TRY allows neither aggregates inside
    (they are computed outside, in a struct a lambda reads) nor error() (a failure raised
    inside becomes a failing cast of NULL type, which TRY catches)."""
    body = node.this.copy()
    for call in list(body.find_all(exp.Anonymous)):
        if call.name.lower() == "error":
            failing = exp.Cast(this=call.expressions[0], to=exp.DataType.build("INTEGER"))
            call.replace(duck("CASE WHEN _f = 0 THEN NULL END", _f=failing))
    aggregates = [n for n in body.find_all(exp.AggFunc, exp.Window) if not _inside_agg(n, body)]
    if not aggregates:
        new = exp.Anonymous(this="try", expressions=[body])
    else:
        fields = []
        for n, aggregate in enumerate(aggregates):
            name = f"a{n}"
            fields.append(exp.PropertyEQ(this=exp.to_identifier(name), expression=aggregate.copy()))
            aggregate.replace(exp.Dot(this=exp.column("_r"), expression=exp.to_identifier(name)))
        lam = exp.Lambda(this=exp.Anonymous(this="try", expressions=[body]), expressions=[exp.to_identifier("_r")])
        new = exp.Anonymous(this="list_extract", expressions=[
            exp.Anonymous(this="list_transform", expressions=[exp.Array(expressions=[exp.Struct(expressions=fields)]), lam]),
            exp.Literal.number(1)])
    if is_trusted(node.this):
        return typed(new, types.of(node.this))
    new.type = types.of(node.this)
    return new


def _inside_agg(node: exp.Expression, top: exp.Expression) -> bool:
    parent = node.parent
    while parent is not None and parent is not top:
        if isinstance(parent, (exp.AggFunc, exp.Window)):
            return True
        parent = parent.parent
    return False
