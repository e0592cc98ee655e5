"""In-memory filters applied page by page: a callable on records, a polars expression, or a small text language.

``where=`` (on frames, scans and exports) accepts:

* ``None``: keep everything;
* a callable ``f(record) -> bool`` on the API's own JSON record (camelCase keys, e.g.
  ``lambda u: u["state"] == "active" and "email" in u``), run before the record is converted;
* a polars expression on the frame's columns (snake_case for users, see :mod:`genesys_nb._tables.schema`), e.g.
  ``pl.col("state").eq("active") & pl.col("email").is_not_null()``, or the ready-made :data:`active_with_email`;
* a text expression, the command line's ``--where``, compiled into a polars expression (never ``eval``'d)::

      state == "active" and email != null
      department contains "Sales" or title startswith "Team"
      state in ["active", "inactive"] and not (division_name == "Home")
      date_last_login < "2025-06-01" or date_last_login is null
      version >= 3 and acd_auto_answer

  Operators: ``== != < <= > >=``, ``contains``, ``icontains`` (ignoring case), ``startswith``, ``endswith``,
  ``in [...]``, ``not in [...]``, ``is null``, ``is not null`` (``== null`` / ``!= null`` too), ``and``, ``or``,
  ``not`` (also ``&``/``&&``, ``|``/``||``, ``!``) and parentheses. Values are "double" or 'single' quoted
  text, numbers, ``true``, ``false`` and ``null``.
  A text value compared with a datetime column is read as an ISO date or time (UTC unless it says otherwise).
  ``contains`` on a list column (``profile_skills contains "SQL"``) tests membership. As in SQL, a comparison
  with a missing value is false, so rows where the column is null are dropped unless you ask for ``is null``.
"""

from __future__ import annotations

import datetime as dt
import difflib
import hashlib
import re
from collections.abc import Callable, Mapping
from typing import Any, cast

import polars as pl
import pyarrow as pa

from ..errors import ConfigError

__all__ = ["Where", "compile_where", "parse_where", "active_with_email"]

#: Active users that have an email address: ``where=gnb.active_with_email`` (or ``lf.filter(...)``).
active_with_email: pl.Expr = pl.col("state").eq("active") & pl.col("email").is_not_null() & pl.col("email").ne("")


class Where:
    """A compiled ``where=``: a record predicate and/or a polars expression, applied to one page at a time."""

    def __init__(self, *, record: Callable[[dict], Any] | None = None, expr: pl.Expr | None = None,
                 text: str = "", key: str = "") -> None:
        self.record = record
        self.expr = expr
        self.text = text
        self.key = key  # identifies the filter for checkpoints: "none", "expr:...", "text:...", "" for a callable

    def __bool__(self) -> bool:
        return self.record is not None or self.expr is not None

    def __repr__(self) -> str:
        return f"Where({self.text})" if self else "Where(None)"

    @property
    def columns(self) -> tuple[str, ...]:
        """The columns the expression reads (none known for a callable on records)."""
        if self.expr is None:
            return ()
        try:
            return tuple(dict.fromkeys(self.expr.meta.root_names()))
        except Exception:  # an expression polars cannot name the columns of
            return ()

    def __call__(self, data: Any) -> Any:
        """Filter a list of records, a polars DataFrame or an Arrow table."""
        if isinstance(data, pl.DataFrame):
            return self.filter_polars(data)
        if isinstance(data, pa.Table):
            return self.filter_arrow(data)
        return self.filter_records(list(data))

    def filter_records(self, records: list[dict]) -> list[dict]:
        """Apply the record predicate (the expression, if any, needs frames: see :meth:`filter_arrow`)."""
        if self.record is None:
            return records
        pred = self.record
        return [r for r in records if pred(r)]

    def filter_polars(self, df: pl.DataFrame) -> pl.DataFrame:
        if self.expr is None:
            return df
        return df.filter(self.expr)

    def filter_arrow(self, table: pa.Table) -> pa.Table:
        """Keep the rows of an Arrow table where the expression is true (types stay exactly as they are)."""
        if self.expr is None or table.num_rows == 0:
            return table
        return table.filter(self.mask(table))

    def mask(self, table: pa.Table) -> pa.Array:
        expr = self.expr
        assert expr is not None, "mask() is only asked of an expression filter"
        names = [n for n in dict.fromkeys(expr.meta.root_names()) if n in table.column_names]
        names = names or table.column_names[:1]
        df = cast(pl.DataFrame, pl.from_arrow(table.select(names)))  # a table gives a frame
        result = df.select(expr.alias("__where__")).to_series()
        if result.dtype != pl.Boolean:
            raise ConfigError(f"where= must be a true/false expression, but {self.text} gives {result.dtype}.")
        if len(result) == 1 and table.num_rows != 1:
            result = result.extend_constant(result[0], table.num_rows - 1)
        return result.to_arrow()


def compile_where(where: Any, *, columns: Mapping[str, Any] | None = None) -> Where:
    """Compile ``where=`` (None, a callable on records, a polars expression or a text expression) into a
    :class:`Where`. ``columns`` (a schema: name -> polars dtype) lets unknown column names fail early, before any
    request, and lets text expressions compare datetime columns with ISO text."""
    if isinstance(where, Where):
        return where
    if where is None:
        return Where(key="none")
    if isinstance(where, pl.Expr):
        _check_columns(where, columns)
        text = _expr_text(where)
        return Where(expr=where, text=text, key="expr:" + _digest(where.meta.serialize(format="json")))
    if isinstance(where, str):
        expr = parse_where(where, columns=columns)
        return Where(expr=expr, text=where.strip(), key="text:" + where.strip())
    if callable(where):
        name = getattr(where, "__qualname__", None) or type(where).__name__
        return Where(record=where, text=f"{name}(record)")
    raise ConfigError(f"where= must be None, a function of a record returning True/False, a polars expression "
                      f"such as pl.col('state') == 'active', or a text expression such as 'state == \"active\"'; "
                      f"not {type(where).__name__}.")


def _digest(data: str | bytes) -> str:
    raw = data.encode() if isinstance(data, str) else data
    return hashlib.sha256(raw).hexdigest()[:16]


def _expr_text(expr: pl.Expr) -> str:
    text = str(expr)
    return text if len(text) <= 200 else text[:197] + "..."


def _check_columns(expr: pl.Expr, columns: Mapping[str, Any] | None) -> None:
    if columns is None:
        return
    for name in expr.meta.root_names():
        if name not in columns:
            raise ConfigError(_unknown_column(name, columns))


def _unknown_column(name: str, columns: Mapping[str, Any]) -> str:
    close = difflib.get_close_matches(name, list(columns), n=1, cutoff=0.6)
    hint = f" Did you mean {close[0]!r}?" if close else ""
    return f"where= refers to the column {name!r}, which is not in the frame.{hint} Columns: {', '.join(columns)}."


# -- the text language --------------------------------------------------------------------------------------------
_TOKEN = re.compile(r"""
    (?P<ws>\s+)
  | (?P<str>"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')
  | (?P<num>-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?(?![\w.]))
  | (?P<op>==|!=|<>|<=|>=|&&|\|\||&|\||=|<|>|!|\(|\)|\[|\]|,)
  | (?P<name>[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*)
""", re.VERBOSE)

_WORD_OPS = {"contains", "icontains", "startswith", "endswith"}
_KEYWORDS = {"and", "or", "not", "in", "is", "null", "true", "false", "none"} | _WORD_OPS
_COMPARE = {"==": "eq", "=": "eq", "!=": "ne", "<>": "ne", "<": "lt", "<=": "le", ">": "gt", ">=": "ge"}


class _Tok:
    __slots__ = ("kind", "value", "pos")

    def __init__(self, kind: str, value: Any, pos: int) -> None:
        self.kind, self.value, self.pos = kind, value, pos

    def is_(self, kind: str, value: Any = None) -> bool:
        return self.kind == kind and (value is None or self.value == value)


def _tokens(text: str) -> list[_Tok]:
    out, pos = [], 0
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if m is None:
            raise _syntax(text, pos, f"unexpected character {text[pos]!r}")
        kind = m.lastgroup
        raw = m.group()
        if kind == "str":
            body = raw[1:-1]
            value = re.sub(r"\\(.)", r"\1", body)
            out.append(_Tok("lit", value, pos))
        elif kind == "num":
            out.append(_Tok("lit", float(raw) if any(c in raw for c in ".eE") else int(raw), pos))
        elif kind == "op":
            out.append(_Tok("op", {"&&": "and", "&": "and", "||": "or", "|": "or", "!": "not"}.get(raw, raw), pos))
        elif kind == "name":
            low = raw.lower()
            if low in ("true", "false"):
                out.append(_Tok("lit", low == "true", pos))
            elif low in ("null", "none"):
                out.append(_Tok("null", None, pos))
            elif low in _KEYWORDS:
                out.append(_Tok("kw", low, pos))
            else:
                out.append(_Tok("name", raw, pos))
        pos = m.end()
    for i, tok in enumerate(out):  # "and"/"or"/"not" written as symbols become keywords too
        if tok.kind == "op" and tok.value in ("and", "or", "not"):
            out[i] = _Tok("kw", tok.value, tok.pos)
    out.append(_Tok("end", None, len(text)))
    return out


def _syntax(text: str, pos: int, what: str) -> ConfigError:
    return ConfigError(f"Cannot read the where expression: {what} at position {pos + 1}:\n  {text}\n  {' ' * pos}^\n"
                       f"Example: state == \"active\" and email != null")


def parse_where(text: str, *, columns: Mapping[str, Any] | None = None) -> pl.Expr:
    """Compile a text expression (see the module docs) into a polars expression, or raise ConfigError."""
    if not isinstance(text, str) or not text.strip():
        raise ConfigError("The where expression is empty. Example: state == \"active\" and email != null")
    return _Parser(text, columns).parse()


#: Parentheses and ``not``s nested deeper than this are refused (a clear error, not a RecursionError).
MAX_NESTING = 50


def _kind(dtype: Any) -> str | None:
    """What a column holds, for checking a literal against it: text, number, bool, time, nested; None if unknown."""
    if dtype is None:
        return None
    if dtype == pl.String:
        return "text"
    if dtype == pl.Boolean:
        return "true/false"
    if dtype.is_numeric():
        return "number"
    if dtype == pl.Date or isinstance(dtype, pl.Datetime):
        return "time"
    if isinstance(dtype, (pl.List, pl.Struct)):
        return "nested"
    return None


def _literal_kind(value: Any) -> str:
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, (int, float)):
        return "number"
    return "text"


_SAMPLES = {"text": '"some text"', "number": "3", "true/false": "true", "time": '"2025-06-01"'}


class _Parser:
    def __init__(self, text: str, columns: Mapping[str, Any] | None) -> None:
        self.text = text
        self.columns = columns
        self.toks = _tokens(text)
        self.i = 0
        self.depth = 0

    def deeper(self, tok: _Tok) -> None:
        self.depth += 1
        if self.depth > MAX_NESTING:
            raise _syntax(self.text, tok.pos, f"parentheses and 'not's are nested more than {MAX_NESTING} deep; "
                                              f"write the expression flatter")

    # helpers
    @property
    def tok(self) -> _Tok:
        return self.toks[self.i]

    def take(self) -> _Tok:
        tok = self.toks[self.i]
        self.i += 1
        return tok

    def accept(self, kind: str, value: Any = None) -> bool:
        if self.tok.is_(kind, value):
            self.i += 1
            return True
        return False

    def expect(self, kind: str, value: Any, what: str) -> None:
        if not self.accept(kind, value):
            raise self.error(f"expected {what}")

    def error(self, what: str, tok: _Tok | None = None) -> ConfigError:
        tok = tok or self.tok
        found = "the end" if tok.kind == "end" else repr(self.text[tok.pos:].split()[0])
        return _syntax(self.text, tok.pos, f"{what}, found {found}")

    # grammar
    def parse(self) -> pl.Expr:
        expr = self.or_()
        if not self.tok.is_("end"):
            raise self.error("expected and, or, or the end")
        return expr

    def or_(self) -> pl.Expr:
        expr = self.and_()
        while self.accept("kw", "or"):
            expr = expr | self.and_()
        return expr

    def and_(self) -> pl.Expr:
        expr = self.not_()
        while self.accept("kw", "and"):
            expr = expr & self.not_()
        return expr

    def not_(self) -> pl.Expr:
        tok = self.tok
        if self.accept("kw", "not"):
            self.deeper(tok)
            expr = ~self.not_()
            self.depth -= 1
            return expr
        return self.primary()

    def primary(self) -> pl.Expr:
        tok = self.tok
        if self.accept("op", "("):
            self.deeper(tok)
            expr = self.or_()
            self.expect("op", ")", "')'")
            self.depth -= 1
            return expr
        start = self.tok
        if start.kind != "name":
            raise self.error("expected a column name")
        self.take()
        col, dtype = self.column(start)
        tok = self.tok
        if tok.is_("kw", "is"):
            self.take()
            negate = self.accept("kw", "not")
            self.expect("null", None, "null after 'is'")
            return col.is_not_null() if negate else col.is_null()
        if tok.is_("kw", "not") and self.toks[self.i + 1].is_("kw", "in"):
            self.i += 2
            return ~col.is_in(self.values(dtype, start.value))
        if tok.is_("kw", "in"):
            self.take()
            return col.is_in(self.values(dtype, start.value))
        if tok.kind == "op" and tok.value in _COMPARE:
            self.take()
            op = _COMPARE[tok.value]
            if self.tok.is_("null"):
                self.take()
                if op == "eq":
                    return col.is_null()
                if op == "ne":
                    return col.is_not_null()
                raise self.error("null can only be compared with == or !=", tok)
            value = self.literal(dtype, start.value)
            return getattr(col, op)(value)
        if tok.is_("kw") and tok.value in _WORD_OPS:
            self.take()
            value = self.literal(None)
            if not isinstance(value, str):
                raise self.error(f"{tok.value} needs a quoted text value", self.toks[self.i - 1])
            inner = dtype.inner if isinstance(dtype, pl.List) else dtype
            if _kind(inner) not in (None, "text"):
                raise _syntax(self.text, tok.pos, f"{tok.value} works on text, but {start.value!r} is {dtype}; "
                                                  f"compare it with == or <")
            return self.text_op(tok.value, col, dtype, value)
        if dtype is None or dtype == pl.Boolean:
            return col  # a boolean column on its own: "acd_auto_answer"
        raise self.error(f"expected an operator after {start.value!r} (==, !=, <, contains, in, is null...)")

    def column(self, tok: _Tok) -> tuple[pl.Expr, Any]:
        name, *path = tok.value.split(".")
        if self.columns is not None and name not in self.columns:
            raise ConfigError(_unknown_column(name, self.columns))
        dtype = self.columns.get(name) if self.columns is not None else None
        col = pl.col(name)
        for field in path:
            if dtype is not None and not isinstance(dtype, pl.Struct):
                raise ConfigError(f"{name!r} has no fields (it is {dtype}); '{tok.value}' cannot be read.")
            if isinstance(dtype, pl.Struct):
                fields = {f.name: f.dtype for f in dtype.fields}
                if field not in fields:
                    raise ConfigError(f"{name!r} has no field {field!r}; its fields are {', '.join(fields)}.")
                dtype = fields[field]
            col = col.struct.field(field)
            name = field
        return col, dtype

    def values(self, dtype: Any, name: str) -> list:
        if not (self.accept("op", "[") or self.accept("op", "(")):
            raise self.error("expected a list such as [\"active\", \"inactive\"] after 'in'")
        opener = self.toks[self.i - 1]
        closer = "]" if opener.value == "[" else ")"
        out = []
        if not self.accept("op", closer):
            while True:
                out.append(self.literal(dtype, name))
                if self.accept("op", closer):
                    break
                self.expect("op", ",", f"',' or '{closer}'")
        kinds = {_literal_kind(v) for v in out}
        if len(kinds) > 1:
            raise _syntax(self.text, opener.pos, f"the list mixes {' and '.join(sorted(kinds))} values; give "
                                                 f"values of one kind, such as [\"active\", \"inactive\"] or [1, 2]")
        return out

    def literal(self, dtype: Any, name: str | None = None) -> Any:
        tok = self.tok
        if tok.kind != "lit":
            raise self.error("expected a value (\"text\", a number, true or false)")
        self.take()
        value = tok.value
        self.check_type(value, dtype, name, tok)
        if isinstance(value, str) and dtype is not None and (dtype == pl.Date or isinstance(dtype, pl.Datetime)):
            return self.temporal(value, dtype, tok)
        return value

    def check_type(self, value: Any, dtype: Any, name: str | None, tok: _Tok) -> None:
        """A literal of another kind than its column (``version == "abc"``, ``name > 5``) is refused here, before
        any request, rather than by polars on the first page."""
        column, given = _kind(dtype), _literal_kind(value)
        if name is None or column is None or given == column or (column == "time" and given == "text"):
            return
        if column == "nested":
            raise _syntax(self.text, tok.pos, f"{name!r} is {dtype}, which cannot be compared with a value; use "
                                              f"contains, or a field such as {name}.id")
        raise _syntax(self.text, tok.pos, f"{name!r} holds {column} values ({dtype}) but is compared with the "
                                          f"{given} {self.text[tok.pos:].split()[0].rstrip(',])')!s}; write "
                                          f"{name} == {_SAMPLES[column]} or similar")

    def temporal(self, value: str, dtype: Any, tok: _Tok) -> Any:
        try:
            if dtype == pl.Date:
                return dt.date.fromisoformat(value[:10])
            parsed = dt.datetime.fromisoformat(value)
        except ValueError:
            raise self.error("expected an ISO date or time such as \"2025-06-01\" or \"2025-06-01T12:00:00Z\"",
                             tok) from None
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=dt.timezone.utc)
        return parsed

    @staticmethod
    def text_op(op: str, col: pl.Expr, dtype: Any, value: str) -> pl.Expr:
        if isinstance(dtype, pl.List):  # a list of text: does any element match?
            if op == "contains":
                return col.list.contains(value)
            return col.list.eval(_Parser.text_op(op, pl.element(), None, value)).list.any()
        if op == "contains":
            return col.str.contains(value, literal=True)
        if op == "icontains":
            return col.str.to_lowercase().str.contains(value.lower(), literal=True)
        if op == "startswith":
            return col.str.starts_with(value)
        return col.str.ends_with(value)
