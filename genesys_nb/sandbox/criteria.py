"""Evaluation of user-search criteria, column-wise over a universe of users with numpy.

Fields drawn from word lists (name, department, title, state, division) test each word once and
index the result; dates and numbers compare as arrays; exact email/username/id lookups decode the
index from the value; only other free-text matching loops in Python.

Choices where the real API is unconfirmed: text matching is case-insensitive; criteria with
operator OR must match at least one of them when any is given (AND = must, NOT = must not).
"""

from __future__ import annotations

import functools
import re
from datetime import datetime, timezone
from typing import Any, Callable

import numpy as np

from . import vocab
from .errors import ApiError, invalid_value
from .org import Org
from .traits import STATE_NAMES, iso_ms

COMPARE_TYPES = ("RANGE", "LESS_THAN", "LESS_THAN_EQUAL_TO", "GREATER_THAN", "GREATER_THAN_EQUAL_TO")
_QUERY_STRING_FIELDS = ("name", "email", "username", "department", "title")
_EXACT_TYPES = ("EXACT", "TERM", "TERMS")
_ADDRESS = re.compile(r"^[a-z]+\.[a-z]+(\d{1,8})@")
_DUP_REACH = 51  # a duplicated address is reused by users at most this far after its owner


def evaluate(criteria: list, org: Org, universe: np.ndarray) -> tuple[np.ndarray, Columns]:
    """Mask over `universe` of users matching the criteria list, and the columns it used."""
    cols = Columns(org, universe)
    return _combine(criteria, cols), cols


def _combine(criteria: list, cols: Columns) -> np.ndarray:
    must = np.ones(cols.n, dtype=bool)
    should = None
    for crit in criteria:
        if crit.get("group") is not None and crit.get("type") is None:
            m = _combine(crit["group"], cols)
        else:
            m = _match(crit, cols)
            if crit.get("group"):
                m &= _combine(crit["group"], cols)
        op = str(crit.get("operator") or "AND").upper()
        if op == "OR":
            should = m if should is None else should | m
        elif op == "NOT":
            must &= ~m
        else:
            must &= m
    if should is not None:
        must &= should
    return must


def _match(crit: dict, cols: Columns) -> np.ndarray:
    ctype = crit["type"]
    if ctype == "MATCH_ALL":
        return np.ones(cols.n, dtype=bool)
    fields = crit.get("fields") or []
    if ctype == "QUERY_STRING":
        terms = str(crit.get("value") or " ".join(map(str, crit.get("values") or []))).lower().split()
        out = np.ones(cols.n, dtype=bool)
        for term in terms:
            hit = np.zeros(cols.n, dtype=bool)
            for name in fields or _QUERY_STRING_FIELDS:
                hit |= cols.text(name, _contains(term))
            out &= hit
        return out
    out = np.zeros(cols.n, dtype=bool)
    for name in fields:
        if ctype == "REQUIRED_FIELDS":
            out |= cols.present(name)
        elif ctype in COMPARE_TYPES:
            out |= cols.compare(name, ctype, crit)
        elif ctype in _EXACT_TYPES and name == "id":
            out |= cols.ids_in([str(v) for v in _values(crit)])
        elif ctype in _EXACT_TYPES and name in ("email", "username"):
            out |= cols.addresses_in(name, [str(v) for v in _values(crit)])
        else:
            out |= cols.text(name, _text_predicate(ctype, _values(crit)))
    return out


def _contains(term: str) -> Callable[[str], bool]:
    return lambda s: term in s


def _values(crit: dict) -> list:
    values = list(crit.get("values") or [])
    if crit.get("value") is not None:
        values.append(crit["value"])
    return values


def _text_predicate(ctype: str, values: list) -> Callable[[str], bool]:
    vals = [str(v).lower() for v in values]
    if ctype in ("EXACT", "TERM", "TERMS"):
        wanted = set(vals)
        return lambda s: s in wanted
    if ctype == "STARTS_WITH":
        prefixes = tuple(vals)
        return lambda s: s.startswith(prefixes)
    if ctype == "CONTAINS":
        return lambda s: any(v in s for v in vals)
    patterns = [re.compile(v) for v in vals]  # REGEX
    return lambda s: any(p.fullmatch(s) for p in patterns)


def _parse_bound(value: Any, field: str) -> float:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    text = str(value).strip()
    if field != "dateLastLogin":
        try:
            return float(text)
        except ValueError:
            raise invalid_value(value, field, "a number") from None
    try:
        if len(text) == 10:
            text += "T00:00:00"
        dt = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise ApiError(400, "invalid.date", f"Unable to parse date [{value}] for field [{field}].") from None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=timezone.utc)
    return dt.timestamp() * 1000.0


class Columns:
    """Lazily computed per-field columns over one universe of user indices."""

    def __init__(self, org: Org, universe: np.ndarray) -> None:
        self.org = org
        self.traits = org.traits
        self.idx = universe
        self.n = len(universe)
        self.states = org.states_of(universe)
        self._memo: dict[str, Any] = {}

    def _get(self, name: str, make: Callable[[], Any]) -> Any:
        if name not in self._memo:
            self._memo[name] = make()
        return self._memo[name]

    def _coded(self, name: str) -> tuple[np.ndarray, list[str]] | None:
        """(codes, words) for word-list fields; codes -1 = missing."""
        t, org = self.traits, self.org
        if name == "department":
            return self._get(name, lambda: t.department_codes(self.idx)), list(vocab.DEPARTMENTS)
        if name == "title":
            return self._get(name, lambda: t.title_codes(self.idx)), list(vocab.TITLES)
        if name == "state":
            return self.states.astype(np.int64), list(STATE_NAMES)
        if name in ("division.id", "division.name"):
            codes = self._get("division", lambda: org.divisions_of(self.idx).astype(np.int64))
            return codes, list(org.division_ids if name == "division.id" else org.division_names)
        if name == "name":
            first, last = self._get("name", lambda: t.name_codes(self.idx))
            return first * len(vocab.LAST_NAMES) + last, _full_names()
        return None

    def _numeric(self, name: str) -> np.ndarray | None:
        """Float column for dates (epoch ms) and numbers; NaN = missing."""
        if name == "dateLastLogin":
            return self._get(name, lambda: np.where(
                (v := self.traits.last_login_ms(self.idx, self.states)) >= 0, v, np.nan).astype(float))
        if name == "version":
            return self._get(name, lambda: self.traits.versions(self.idx).astype(float))
        return None

    def strings(self, name: str) -> list[str | None]:
        """The field as Python strings (free-text fields and fallbacks)."""
        t, idx = self.traits, self.idx
        if name == "id":
            return self._get("s:id", lambda: self.org.codec.encode_many(idx))
        if name == "email":
            return self._get("s:email", lambda: t.emails(idx))
        if name == "username":
            return self._get("s:username", lambda: t.canonical_emails(idx))
        coded = self._coded(name)
        if coded is not None:
            codes, words = coded
            return [words[c] if c >= 0 else None for c in codes.tolist()]
        col = self._numeric(name)
        if col is None:  # search.FIELDS is checked first, and each of its fields has a column above
            raise KeyError(f"the sandbox has no column for search field {name!r}")
        if name == "dateLastLogin":
            return [None if np.isnan(v) else iso_ms(int(v)) for v in col.tolist()]
        return [None if np.isnan(v) else str(int(v)) for v in col.tolist()]

    def text(self, name: str, pred: Callable[[str], bool]) -> np.ndarray:
        """Mask of users whose field (lower-cased) satisfies pred."""
        coded = self._coded(name)
        if coded is not None:
            codes, words = coded
            table = np.array([pred(w.lower()) for w in words] + [False], dtype=bool)
            return table[np.where(codes >= 0, codes, len(words))]
        return np.fromiter((s is not None and pred(s.lower()) for s in self.strings(name)), dtype=bool,
                           count=self.n)

    def present(self, name: str) -> np.ndarray:
        """Mask of users who have the field at all."""
        coded = self._coded(name)
        if coded is not None:
            return coded[0] >= 0
        col = self._numeric(name)
        if col is not None:
            return ~np.isnan(col)
        return np.fromiter((s is not None for s in self.strings(name)), dtype=bool, count=self.n)

    def compare(self, name: str, ctype: str, crit: dict) -> np.ndarray:
        """RANGE and LESS/GREATER comparisons; numeric for dates and numbers, else lexicographic."""
        col = self._numeric(name)
        if col is None:
            col_s = self.strings(name)
            lo_s, hi_s, v_s = (str(crit.get(k)).lower() if crit.get(k) is not None else None
                               for k in ("startValue", "endValue", "value"))
            return np.fromiter((s is not None and _cmp(s.lower(), ctype, lo_s, hi_s, v_s) for s in col_s),
                               dtype=bool, count=self.n)
        lo, hi, v = (_parse_bound(crit[k], name) if crit.get(k) is not None else None
                     for k in ("startValue", "endValue", "value"))
        with np.errstate(invalid="ignore"):
            return _cmp(col, ctype, lo, hi, v) & ~np.isnan(col)

    def ids_in(self, values: list[str]) -> np.ndarray:
        """Mask of users whose id is one of values (decoded, no string column needed)."""
        wanted = [i for i in (self.org.codec.decode(v.strip()) for v in values) if i is not None]
        return np.isin(self.idx, np.array(wanted, dtype=np.int64))

    def addresses_in(self, name: str, values: list[str]) -> np.ndarray:
        """Exact email/username lookup without a string column: the address carries its owner's
        index, and duplicates of it live within a few indices after the owner."""
        wanted = {v.strip().lower() for v in values}
        owners = {int(m.group(1)) for m in map(_ADDRESS.match, wanted) if m}
        near = sorted({i for n in owners for i in range(max(0, n - 1), n + _DUP_REACH)} if name == "email" else owners)
        cand = np.array([i for i in near if i < self.org.index_limit], dtype=np.int64)
        if len(cand) == 0:
            return np.zeros(self.n, dtype=bool)
        got = self.traits.emails(cand) if name == "email" else self.traits.canonical_emails(cand)
        hits = [i for i, addr in zip(cand.tolist(), got) if addr is not None and addr.lower() in wanted]
        return np.isin(self.idx, np.array(hits, dtype=np.int64))

    def sort_rank(self, name: str, hits: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(rank, missing) per hit for sorting by a field; missing values sort last."""
        coded = self._coded(name)
        if coded is not None:
            codes, words = coded
            order = sorted(range(len(words)), key=lambda k: words[k].lower())
            rank_of = np.empty(len(words) + 1, dtype=np.int64)
            rank_of[order] = np.arange(len(words))
            rank_of[-1] = 0
            c = codes[hits]
            return rank_of[np.where(c >= 0, c, len(words))], (c < 0).astype(np.int8)
        col = self._numeric(name)
        if col is not None:
            v = col[hits]
            return np.nan_to_num(v, nan=0.0), np.isnan(v).astype(np.int8)
        values = self.strings(name)
        keys = [values[h] for h in hits.tolist()]
        order = sorted(range(len(keys)), key=lambda k: (keys[k] is None, (keys[k] or "").lower()))
        rank = np.empty(len(keys), dtype=np.int64)
        rank[order] = np.arange(len(keys))
        return rank, np.array([k is None for k in keys], dtype=np.int8)


@functools.lru_cache(maxsize=1)
def _full_names() -> list[str]:
    """Every "First Last" the org can produce, indexed by first * len(LAST_NAMES) + last."""
    return [f"{f} {g}" for f in vocab.FIRST_NAMES for g in vocab.LAST_NAMES]


def _cmp(x: Any, ctype: str, lo: Any, hi: Any, v: Any) -> Any:
    if ctype == "RANGE":
        ok_lo = True if lo is None else x >= lo
        ok_hi = True if hi is None else x <= hi
        return ok_lo & ok_hi
    if ctype == "LESS_THAN":
        return x < v
    if ctype == "LESS_THAN_EQUAL_TO":
        return x <= v
    if ctype == "GREATER_THAN":
        return x > v
    return x >= v
