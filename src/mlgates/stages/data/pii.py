"""Personal data in text columns: emails, phone and card numbers, IBANs, US SSNs, IP addresses.

How a column is scanned
-----------------------
1. Missing values are skipped; other values are read as text (``str()`` of
   non-strings). When more than ``budget`` values remain, a uniform random
   sample (seeded) of ``budget`` values is scanned, and the result says which
   share of rows a kind needs to be found with the stated confidence.
2. RE2 regexes (``pyarrow.compute``) run over the whole scanned column and pick
   the candidate rows of each kind. For emails, SSNs and IPv4 addresses a strict
   regex settles most rows there and then.
3. The other candidate rows are checked in Python: card numbers by the Luhn
   checksum and an issuer prefix (``stdnum.luhn``), IBANs by their country format
   and check digits (``stdnum.iban``), SSNs by ``stdnum.us.ssn``, phone numbers by
   ``phonenumbers`` and IP addresses by ``ipaddress``. When more than ``cap`` rows
   need a check, a uniform sample of ``cap`` of them is checked and the count is
   scaled up (the finding says it is an estimate).

No value leaves this module unmasked: results hold counts and masked examples
(:func:`mask`) of the identifiers alone, never the text around them.
"""

from __future__ import annotations

import functools
import ipaddress
import math
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from mlgates.text import did_you_mean

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt
    import pandas as pd
    from phonenumbers import PhoneNumber

PII_KINDS: tuple[str, ...] = ("email", "phone", "card", "iban", "ssn", "ip")
"""The kinds of personal data :func:`scan_column` looks for."""

PHONE_REGIONS: tuple[str, ...] = ("US", "GB", "DE", "FR", "IN", "BR", "ES", "IT", "NL", "AU", "JP")
"""Regions a phone number written without a country code is read in (``US`` covers +1)."""

_EXAMPLES = 3

# --- Email -----------------------------------------------------------------------------------

_EMAIL_CORE = (
    r"[A-Za-z0-9_][\w.%+-]*@(?:[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?\.)+[A-Za-z]{2,24}\b"
)
_EMAIL = re.compile(r"(?<![\w.%+-])" + _EMAIL_CORE, re.ASCII)
_EMAIL_RE2 = r"(?:^|[^\w.%+-])" + _EMAIL_CORE
# File names such as ``icon@2x.png`` look like addresses; rows holding one are checked in Python.
_FILE_SUFFIXES = frozenset(
    ("png", "jpg", "jpeg", "gif", "svg", "webp", "bmp", "ico", "tif", "tiff")
)
_EMAIL_UNSURE_RE2 = r"(?i)@(?:\d+x\.|[^\s@]*\.(?:png|jpe?g|gif|svg|webp|bmp|ico|tiff?)\b)"
_SCALE_SUFFIX = re.compile(r"\d+x", re.ASCII | re.IGNORECASE)

# --- SSN: ddd-dd-dddd, no 000, 666 or 9xx area, no 00 group, no 0000 serial (as stdnum) -------

_SSN = re.compile(r"(?<![\w-])\d{3}-\d{2}-\d{4}(?![\w-])", re.ASCII)
_SSN_RE2 = (
    r"(?:^|[^\w-])(?:00[1-9]|0[1-9]\d|[1-578]\d\d|6[0-57-9]\d|66[0-57-9])"
    r"-(?:0[1-9]|[1-9]\d)-(?:000[1-9]|00[1-9]\d|0[1-9]\d\d|[1-9]\d{3})(?:$|[^\w-])"
)
# Numbers stdnum refuses beyond the rules above (published as examples, never issued).
_SSN_UNSURE_RE2 = r"(?:^|[^\w-])(?:078-05-1120|457-55-5462|219-09-9999)(?:$|[^\w-])"

# --- IP addresses ----------------------------------------------------------------------------

_OCTET = r"(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)"
_IPV4_CORE = rf"(?:{_OCTET}\.){{3}}{_OCTET}"
_IPV4 = re.compile(rf"(?<![\w.]){_IPV4_CORE}(?!\w|\.\w)", re.ASCII)
_IPV4_RE2 = rf"(?:^|[^\w.]){_IPV4_CORE}(?:$|[^\w.]|\.(?:$|\W))"
_VERSION_WORDS = r"(?:\bv|\bversion|\bver\.?|\brelease|\bbuild|\bfirmware)\s*[:=]?\s*"
_VERSION_BEFORE = re.compile(rf"(?i){_VERSION_WORDS}$", re.ASCII)
_VERSION_RE2 = rf"(?i){_VERSION_WORDS}\d{{1,3}}\.\d{{1,3}}\.\d{{1,3}}\.\d{{1,3}}"
_IPV6 = re.compile(
    r"(?<![\w:.])(?:[0-9A-Fa-f]{0,4}:){2,7}(?:[0-9A-Fa-f]{1,4}|(?:\d{1,3}\.){3}\d{1,3})?(?![\w:])",
    re.ASCII,
)
# An IPv6 address holds ``::`` or at least seven colons (six before an IPv4 tail).
_IPV6_RE2 = r"(?:^|[^\w:.])(?:(?:[0-9A-Fa-f]{0,4}:){1,7}:|(?:[0-9A-Fa-f]{1,4}:){6})"

# --- Payment cards ---------------------------------------------------------------------------

_CARD = re.compile(r"(?<![\w-])(?<!\d )\d(?:[ -]?\d){12,18}(?!\w|[ -]\d)", re.ASCII)
_CARD_RE2 = r"(?:^|[^\w-])\d(?:[ -]?\d){12,18}"
_ANY = tuple(range(13, 20))
# Issuer prefixes (IIN ranges, inclusive, compared on the prefix's length) and card lengths.
_CARD_ISSUERS: tuple[tuple[str, str, tuple[int, ...]], ...] = (
    ("4", "4", (13, 16, 19)),  # Visa
    ("51", "55", (16,)),  # Mastercard
    ("2221", "2720", (16,)),  # Mastercard
    ("34", "34", (15,)),  # American Express
    ("37", "37", (15,)),  # American Express
    ("300", "305", _ANY),  # Diners Club
    ("36", "36", _ANY),  # Diners Club
    ("38", "39", _ANY),  # Diners Club
    ("3528", "3589", _ANY),  # JCB
    ("2131", "2131", (15,)),  # JCB (legacy)
    ("1800", "1800", (15,)),  # JCB (legacy)
    ("6011", "6011", _ANY),  # Discover
    ("644", "649", _ANY),  # Discover
    ("65", "65", _ANY),  # Discover, RuPay
    ("62", "62", _ANY),  # UnionPay
    ("81", "82", _ANY),  # UnionPay, RuPay
    ("2200", "2204", _ANY),  # Mir
    ("50", "50", _ANY),  # Maestro, Verve
    ("56", "69", _ANY),  # Maestro and others
)

# --- IBAN ------------------------------------------------------------------------------------

_IBAN = re.compile(r"(?<!\w)[A-Za-z]{2}\d{2}(?: ?[A-Za-z0-9]){11,30}(?!\w)", re.ASCII)
_IBAN_RE2 = r"(?:^|\W)[A-Za-z]{2}\d{2}(?: ?[A-Za-z0-9]){11,30}"

# --- Phone numbers ---------------------------------------------------------------------------

# Digit groups joined by a space, dot or hyphen (up to two), or by parentheses: ``+44 (0)20 7946
# 0958``, ``(425) 882-8080``, not after a word, a sign or the colon of a time. The run is taken
# whole; its surroundings are checked in Python.
_PHONE = re.compile(
    r"(?<![\w.\-/+])(?<!\d:)(?:\+ ?)?\(?\d+\)?(?:(?:[ .\-]{1,2}|(?<=\))|(?=\())\(?\d+\)?)*",
    re.ASCII,
)
_PHONE_RE2 = r"(?:^|[^\w.\-/+])(?:\+ ?\(?\d|\(\d|\d+[ .\-(])[\d()\-. ]{4,}\d"
_EXTENSION = re.compile(r"\s?(?:x|ext\.?|#)\s?\d{1,6}(?!\w)", re.ASCII | re.IGNORECASE)
_CURRENCY_AFTER = re.compile(
    r"\s?(?:[$€£¥₹]|(?:eur|usd|gbp|euros?|dollars?)\b)", re.ASCII | re.IGNORECASE
)
_CURRENCY = frozenset("$€£¥₹")
# Shapes that are not phone numbers however a region reads them: dates (also with a time after
# them), ZIP+4 codes, SSNs, dotted quads, thousands with dots.
_NOT_PHONE = re.compile(
    r"\d{4}[-./]\d{1,2}[-./]\d{1,2}(?!\d)|\d{1,2}[-./]\d{1,2}[-./]\d{4}$|\d{5}-\d{4}$"
    r"|\d{3}-\d{2}-\d{4}$|\d{1,3}(?:\.\d{1,3}){3}$|[1-9]\d{0,2}(?:\.\d{3}){2,}$",
    re.ASCII,
)
_DIGITS = re.compile(r"\d+", re.ASCII)
_NON_DIGITS = re.compile(r"\D", re.ASCII)

# Rows holding a digit, ``@`` or ``:`` are the only ones any kind can hit.
_ANY_KIND_RE2 = r"[0-9@:]"


@dataclass(frozen=True)
class PiiFinding:
    """Rows of a column holding one kind of personal data.

    ``rows`` counts rows with at least one hit; it is an estimate (``estimated``)
    when the column was sampled or when only ``checked`` of the ``candidates``
    rows that needed a check in Python were checked. ``examples`` are masked.
    """

    kind: str
    rows: int
    examples: tuple[str, ...]
    estimated: bool
    candidates: int = 0
    checked: int = 0

    def capped(self) -> bool:
        """Whether the Python check ran on a sample of the candidate rows."""
        return self.checked < self.candidates

    def describe(self) -> str:
        """One line: the kind, the row count, how it was counted, the masked examples."""
        count = f"~{self.rows:,}" if self.estimated else f"{self.rows:,}"
        text = f"{self.kind}: {count} row{'s' if self.rows != 1 else ''}"
        if self.capped():
            text += f" (estimated from {self.checked:,} of {self.candidates:,} rows checked)"
        if self.examples:
            text += ", e.g. " + ", ".join(self.examples)
        return text


@dataclass(frozen=True)
class ColumnScan:
    """The personal data found in one column.

    ``rows_total`` counts the column's non-missing values and ``rows_scanned``
    those scanned. When the column was sampled, a kind present in at least a
    share ``detectable_share`` of rows was found with probability ``confidence``
    (``detectable_share`` is None when every value was scanned). ``capped`` names
    the kinds whose Python check ran on a sample of their candidate rows.
    """

    rows_scanned: int
    rows_total: int
    findings: tuple[PiiFinding, ...]
    detectable_share: float | None
    confidence: float = 0.99
    capped: tuple[str, ...] = ()

    def sampled(self) -> bool:
        """Whether a sample of the column was scanned rather than all of it."""
        return self.rows_scanned < self.rows_total

    def finding(self, kind: str) -> PiiFinding | None:
        """The finding of ``kind``, or None when none was found."""
        return next((found for found in self.findings if found.kind == kind), None)

    def describe(self) -> str:
        """What was scanned and found, with the sampling statement when sampled."""
        if self.detectable_share is not None:
            scope = (
                f"scanned a random sample of {self.rows_scanned:,} of {self.rows_total:,} values:"
                f" a kind in at least {self.detectable_share:.4%} of rows is found with"
                f" probability {self.confidence:.0%}"
            )
        else:
            scope = f"scanned all {self.rows_scanned:,} values"
        if self.capped:
            scope += f"; counts of {', '.join(self.capped)} estimated from a sample of candidates"
        found = "; ".join(finding.describe() for finding in self.findings) or "no personal data"
        return f"{scope}. {found}"


def scan_column(
    values: pd.Series,
    *,
    kinds: Sequence[str] = PII_KINDS,
    budget: int = 200_000,
    confidence: float = 0.99,
    seed: int = 0,
    cap: int = 5_000,
    phone_regions: Sequence[str] = PHONE_REGIONS,
    total: int | None = None,
) -> ColumnScan:
    """Count the rows of ``values`` holding each of ``kinds``, with masked examples.

    Missing values are skipped; other values are scanned as their ``str()``. A
    column with more non-missing values than ``budget`` is scanned on a seeded
    uniform sample of ``budget`` of them; at most ``cap`` candidate rows per kind
    are checked in Python (a uniform sample beyond that, and the count scaled).
    Phone numbers without a country code are read in ``phone_regions``.
    ``total``, when given, says that ``values`` are a uniform sample of rows of
    a column with ``total`` non-missing values: counts are scaled to it.
    """
    import numpy as np

    chosen = _kinds(kinds)
    if budget < 1 or cap < 1:
        raise ValueError(f"budget and cap must be at least 1, not {budget} and {cap}")
    if not 0.0 < confidence < 1.0:
        raise ValueError(f"confidence must be between 0 and 1 (exclusive), not {confidence}")
    present = np.flatnonzero(~values.isna().to_numpy(dtype=bool))
    available = len(present)
    total = available if total is None else max(total, available)
    rng = np.random.default_rng(seed)
    if available > budget:
        present = np.sort(rng.choice(present, size=budget, replace=False))
    scanned = len(present)
    if scanned == 0:
        return ColumnScan(0, 0, (), None, confidence)
    texts = _Texts.of(_texts(values, present))
    texts = texts.take(np.flatnonzero(texts.matches(_ANY_KIND_RE2)))
    regions = (phone_regions,) if isinstance(phone_regions, str) else tuple(phone_regions)
    findings: list[PiiFinding] = []
    capped: list[str] = []
    for kind in chosen:
        finding = _scan_kind(texts, kind, cap, rng, regions)
        if finding.capped():
            capped.append(kind)
        if finding.rows:
            if scanned < total:
                rows_found = max(1, round(finding.rows * total / scanned))
                finding = PiiFinding(
                    kind, rows_found, finding.examples, True, finding.candidates, finding.checked
                )
            findings.append(finding)
    share = -math.log(1.0 - confidence) / scanned if scanned < total else None
    return ColumnScan(scanned, total, tuple(findings), share, confidence, tuple(capped))


def mask(kind: str, value: str) -> str:
    """``value``, an identifier of ``kind``, masked so that it identifies no one.

    Emails keep their first letters and top-level domain (``j***@e*****.com``),
    cards their last 4 digits, phone numbers their country code and last 2
    digits, IBANs their country code and last 4 characters, SSNs their serial
    (``***-**-6789``), IPv4 addresses their first octet (two for private ones).
    """
    _kinds((kind,))
    value = value.strip()
    if kind == "email":
        return _mask_email(value)
    if kind == "card":
        return "**** **** **** " + _NON_DIGITS.sub("", value)[-4:]
    if kind == "iban":
        compact = re.sub(r"[\s.-]", "", value).upper()
        return f"{compact[:2]}** **** **** {compact[-4:]}"
    if kind == "ssn":
        return "***-**-" + _NON_DIGITS.sub("", value)[-4:]
    if kind == "ip":
        return _mask_ip(value)
    number = _phone_number(value, PHONE_REGIONS)
    if number is None:
        return "******" + _NON_DIGITS.sub("", value)[-2:]
    return _mask_phone(number)


# --- Scanning --------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Rule:
    """How one kind is scanned: RE2 candidates, the rows RE2 settles, the Python check."""

    candidates: str  # rows that may hold the kind
    hits: Callable[[str, tuple[str, ...]], Iterator[str]]  # masked hits in one text
    sure: str | None = None  # rows holding the kind for sure, among candidates...
    unsure: str | None = None  # ... unless this matches too


def _kinds(kinds: Sequence[str]) -> tuple[str, ...]:
    chosen = (kinds,) if isinstance(kinds, str) else tuple(dict.fromkeys(kinds))
    for kind in chosen:
        if kind not in PII_KINDS:
            raise ValueError(
                f"unknown PII kind {kind!r}{did_you_mean(kind, PII_KINDS)};"
                f" valid kinds: {', '.join(PII_KINDS)}"
            )
    return chosen


def _texts(values: pd.Series, rows: npt.NDArray[np.intp]) -> Any:
    """The values at positions ``rows`` (none missing) as an arrow string array."""
    import pandas as pd
    import pyarrow as pa

    subset = values.iloc[rows]
    if isinstance(subset.dtype, pd.StringDtype):
        array = pa.array(subset.array)
    else:
        objects = subset.to_numpy(dtype=object)
        if pd.api.types.infer_dtype(objects, skipna=False) == "string":
            array = pa.array(objects, type=pa.string())
        else:
            strings = [item if isinstance(item, str) else str(item) for item in objects]
            array = pa.array(strings, type=pa.string())
    if isinstance(array, pa.ChunkedArray):
        array = array.combine_chunks()
    return array


def _matches(texts: Any, pattern: str) -> npt.NDArray[np.bool_]:
    """Whether each text holds a match of the RE2 ``pattern``."""
    import pyarrow.compute as pc

    result: npt.NDArray[np.bool_] = pc.match_substring_regex(texts, pattern=pattern).to_numpy(
        zero_copy_only=False
    )
    return result


class _Texts:
    """Rows of scanned text; when values repeat, each regex runs once per distinct value.

    A column of a few labels (``gold``, ``silver``) costs a dictionary encoding
    instead of a regex pass per kind over every row; the row-level answers are
    the same either way.
    """

    def __init__(
        self,
        texts: Any,
        codes: npt.NDArray[np.intp] | None = None,
        distinct: Any = None,
        found: dict[str, npt.NDArray[np.bool_]] | None = None,
    ) -> None:
        self._texts = texts  # the rows as arrow strings, or None when ``codes`` stand in
        self._codes = codes  # row -> index into ``distinct``
        self._distinct = distinct
        self._found = {} if found is None else found  # pattern -> matches of ``distinct``

    @classmethod
    def of(cls, texts: Any) -> _Texts:
        """``texts`` (an arrow string array), encoded when at most half its values are distinct."""
        import numpy as np
        import pyarrow.compute as pc

        encoded = pc.dictionary_encode(texts)
        if 2 * len(encoded.dictionary) > len(texts):
            return cls(texts)
        codes = np.asarray(encoded.indices.to_numpy(zero_copy_only=False), dtype=np.intp)
        return cls(None, codes, encoded.dictionary)

    def matches(self, pattern: str) -> npt.NDArray[np.bool_]:
        """Whether each row holds a match of the RE2 ``pattern``."""
        if self._codes is None:
            return _matches(self._texts, pattern)
        if pattern not in self._found:
            self._found[pattern] = _matches(self._distinct, pattern)
        return self._found[pattern][self._codes]

    def take(self, rows: npt.NDArray[np.intp]) -> _Texts:
        """The rows at positions ``rows``."""
        if self._codes is None:
            return _Texts(self._texts.take(rows))
        return _Texts(None, self._codes[rows], self._distinct, self._found)

    def values(self, rows: npt.NDArray[np.intp]) -> list[str]:
        """The texts of the rows at positions ``rows``."""
        if self._codes is None:
            return list(self._texts.take(rows).to_pylist())
        return list(self._distinct.take(self._codes[rows]).to_pylist())


def _scan_kind(
    texts: _Texts, kind: str, cap: int, rng: np.random.Generator, regions: tuple[str, ...]
) -> PiiFinding:
    import numpy as np

    rule = _RULES[kind]
    candidates = np.flatnonzero(texts.matches(rule.candidates))
    sure = candidates[:0]
    if rule.sure is not None and len(candidates):
        subset = texts.take(candidates)
        settled = subset.matches(rule.sure) if rule.sure != rule.candidates else None
        if settled is None:
            settled = np.ones(len(candidates), dtype=bool)
        if rule.unsure is not None:
            settled &= ~subset.matches(rule.unsure)
        sure, candidates = candidates[settled], candidates[~settled]
    checked = candidates
    if len(candidates) > cap:
        checked = np.sort(rng.choice(candidates, size=cap, replace=False))
    examples: list[str] = []
    first_hits: dict[str, str | None] = {}  # a repeated text is checked once

    def first_hit(text: str) -> str | None:
        if text not in first_hits:
            first_hits[text] = next(rule.hits(text, regions), None)
        return first_hits[text]

    # Examples come from the first rows settled by RE2, then from the rows checked in Python.
    for text in texts.values(sure[: 4 * _EXAMPLES]):
        _add_example(examples, first_hit(text))
    hits = 0
    for text in texts.values(checked):
        first = first_hit(text)
        if first is not None:
            hits += 1
            _add_example(examples, first)
    found = hits
    if len(checked) < len(candidates) and hits:
        found = max(1, round(hits * len(candidates) / len(checked)))
    return PiiFinding(
        kind,
        len(sure) + found,
        tuple(examples),
        len(checked) < len(candidates),
        len(candidates),
        len(checked),
    )


def _add_example(examples: list[str], example: str | None) -> None:
    if example is not None and example not in examples and len(examples) < _EXAMPLES:
        examples.append(example)


# --- Python checks, one per kind: each yields the masked valid identifiers in a text -----------


def _email_hits(text: str, regions: tuple[str, ...]) -> Iterator[str]:
    for match in _EMAIL.finditer(text):
        domain = match.group().rpartition("@")[2].split(".")
        if domain[-1].lower() in _FILE_SUFFIXES or _SCALE_SUFFIX.fullmatch(domain[0]):
            continue
        yield _mask_email(match.group())


def _ssn_hits(text: str, regions: tuple[str, ...]) -> Iterator[str]:
    ssn = _stdnum_ssn()
    for match in _SSN.finditer(text):
        if ssn.is_valid(match.group()):
            yield mask("ssn", match.group())


def _ip_hits(text: str, regions: tuple[str, ...]) -> Iterator[str]:
    for match in _IPV4.finditer(text):
        if _VERSION_BEFORE.search(text, 0, match.start()):
            continue
        try:
            ipaddress.IPv4Address(match.group())
        except ValueError:
            continue
        yield _mask_ip(match.group())
    for match in _IPV6.finditer(text):
        candidate = match.group()
        if not any(char not in ":." for char in candidate):
            continue
        try:
            ipaddress.IPv6Address(candidate)
        except ValueError:
            continue
        yield _mask_ip(candidate)


def _card_hits(text: str, regions: tuple[str, ...]) -> Iterator[str]:
    inside_iban = _spans(_ibans(text))
    for start, end, masked in _cards(text):
        if not _overlaps(start, end, inside_iban):
            yield masked


def _cards(text: str) -> Iterator[tuple[int, int, str]]:
    """The valid card numbers in ``text``: their span and mask."""
    luhn = _stdnum_luhn()
    for match in _CARD.finditer(text):
        digits = _NON_DIGITS.sub("", match.group())
        if _card_issuer(digits) and luhn.is_valid(digits):
            yield match.start(), match.end(), "**** **** **** " + digits[-4:]


def _card_issuer(digits: str) -> bool:
    """Whether ``digits`` start with a card issuer's prefix and have one of its lengths."""
    return any(
        len(digits) in lengths and low <= digits[: len(low)] <= high
        for low, high, lengths in _CARD_ISSUERS
    )


def _iban_hits(text: str, regions: tuple[str, ...]) -> Iterator[str]:
    for _, _, masked in _ibans(text):
        yield masked


def _ibans(text: str) -> Iterator[tuple[int, int, str]]:
    """The valid IBANs in ``text``: their span and mask."""
    iban = _stdnum_iban()
    for match in _IBAN.finditer(text):
        groups = match.group().split(" ")
        # The regex may take words after a grouped IBAN: drop groups from the end until valid.
        while groups and len(compact := "".join(groups)) >= 15:
            if iban.is_valid(compact):
                end = match.start() + len(" ".join(groups))
                yield match.start(), end, mask("iban", compact)
                break
            groups.pop()


def _spans(found: Iterator[tuple[int, int, str]]) -> list[tuple[int, int]]:
    return [(start, end) for start, end, _ in found]


def _overlaps(start: int, end: int, spans: list[tuple[int, int]]) -> bool:
    return any(start < other_end and other_start < end for other_start, other_end in spans)


def _phone_hits(text: str, regions: tuple[str, ...]) -> Iterator[str]:
    # Digit groups of an IBAN or a card number are not phone numbers.
    taken: list[tuple[int, int]] | None = None
    for match in _PHONE.finditer(text):
        end = match.end()
        extension = _EXTENSION.match(text, end)
        if extension is not None:
            end = extension.end()
        if not _stands_alone(text, match.start(), end):
            continue
        number = _phone_number(match.group(), regions)
        if number is None:
            continue
        if taken is None:
            taken = _spans(_ibans(text)) + _spans(_cards(text))
        if not _overlaps(match.start(), match.end(), taken):
            yield _mask_phone(number)


def _stands_alone(text: str, start: int, end: int) -> bool:
    """Whether the digits at ``start:end`` are not part of a word, a time, a price or a code."""
    after = text[end : end + 2]
    if after and (
        after[0].isalnum()
        or after[0] in ":/@%_"
        or (after[0] in ",.-" and after[1:].isalnum())
        or _CURRENCY_AFTER.match(text, end)
    ):
        return False
    return not _CURRENCY.intersection(text[max(start - 2, 0) : start])


def _phone_number(raw: str, regions: Sequence[str]) -> PhoneNumber | None:
    """The valid phone number ``raw`` writes, or None.

    After a ``+`` the number need only be valid. Otherwise its digits must be
    written in groups (a plain run of digits is no phone number); after ``00``
    the number must be valid; without a country code it must not look like a
    date, a ZIP+4 code or an SSN, have two groups only after a trunk ``0`` or
    with parentheses, be valid in one of ``regions`` and be grouped as that
    region groups its numbers (libphonenumber's strict grouping). Digits valid
    in several regions are read in the first of them.
    """
    import phonenumbers

    digits = _NON_DIGITS.sub("", raw)
    if not 7 <= len(digits) <= 15 or raw.count("(") != raw.count(")"):
        return None
    groups = _DIGITS.findall(raw)
    if len(groups) < 2 and not raw.startswith("+"):
        return None  # a plain run of digits
    if raw.startswith(("+", "00")):
        international = raw if raw.startswith("+") else "+" + raw[2:].lstrip(" .-")
        try:
            number = phonenumbers.parse(international, None)
        except phonenumbers.NumberParseException:
            return None
        return number if phonenumbers.is_valid_number(number) else None
    if _NOT_PHONE.match(raw):
        return None
    if len(groups) == 2 and "(" not in raw and not raw.startswith("0"):
        return None
    for region in regions:
        try:
            number = phonenumbers.parse(raw, region)
        except phonenumbers.NumberParseException:
            continue
        if phonenumbers.is_valid_number(number) and _grouped(raw, region):
            return number
    return None


def _grouped(raw: str, region: str) -> bool:
    """Whether ``raw`` groups its digits as ``region`` writes its numbers."""
    import phonenumbers

    matcher = phonenumbers.PhoneNumberMatcher(
        raw, region, leniency=phonenumbers.Leniency.STRICT_GROUPING
    )
    return any(match.start == 0 and match.end == len(raw) for match in matcher)


# --- Masks -----------------------------------------------------------------------------------


def _mask_email(value: str) -> str:
    local, _, domain = value.rpartition("@")
    labels = domain.split(".")
    if not local or len(labels) < 2:
        return "***@*****"
    return f"{local[0]}***@{labels[0][:1]}*****.{labels[-1]}"


def _mask_ip(value: str) -> str:
    try:
        address = ipaddress.ip_address(value)
    except ValueError:
        return "*.*.*.*"
    if isinstance(address, ipaddress.IPv4Address):
        octets = str(address).split(".")
        kept = 2 if address.is_private else 1
        return ".".join(octets[:kept] + ["*"] * (4 - kept))
    hextets = [format(int(part, 16), "x") for part in address.exploded.split(":")]
    return ":".join(hextets[:2] + ["*"] * 6)


def _mask_phone(number: PhoneNumber) -> str:
    import phonenumbers

    national = phonenumbers.national_significant_number(number)
    return f"+{number.country_code} ******{national[-2:]}"


# --- Validators, imported when first needed --------------------------------------------------


@functools.cache
def _stdnum_luhn() -> Any:
    from stdnum import luhn

    return luhn


@functools.cache
def _stdnum_iban() -> Any:
    from stdnum import iban

    return iban


@functools.cache
def _stdnum_ssn() -> Any:
    from stdnum.us import ssn

    return ssn


_RULES: dict[str, _Rule] = {
    "email": _Rule(_EMAIL_RE2, _email_hits, sure=_EMAIL_RE2, unsure=_EMAIL_UNSURE_RE2),
    "phone": _Rule(_PHONE_RE2, _phone_hits),
    "card": _Rule(_CARD_RE2, _card_hits),
    "iban": _Rule(_IBAN_RE2, _iban_hits),
    "ssn": _Rule(_SSN_RE2, _ssn_hits, sure=_SSN_RE2, unsure=_SSN_UNSURE_RE2),
    "ip": _Rule(f"{_IPV4_RE2}|{_IPV6_RE2}", _ip_hits, sure=_IPV4_RE2, unsure=_VERSION_RE2),
}
