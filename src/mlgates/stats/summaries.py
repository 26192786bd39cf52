"""Column and data-set summaries, and their JSON form.

Non-finite floats are written as the strings ``"nan"``, ``"inf"`` and ``"-inf"``
(:func:`mlgates.jsonable.json_number`); a document carries ``"format": 2``
(format 1, without the frequencies of rare labels, is refused: profile again).
"""

from __future__ import annotations

import itertools
import json
import math
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, TypeAlias

from mlgates.files import write_text_atomically
from mlgates.jsonable import from_json_number, json_number

__all__ = [
    "FORMAT",
    "CategoricalProfile",
    "ColumnProfile",
    "DatasetProfile",
    "Kind",
    "NumericProfile",
    "column_from_dict",
]

FORMAT = 2
"""Version of the JSON document written by :meth:`DatasetProfile.to_dict`."""

Kind: TypeAlias = Literal["numeric", "categorical"]


# -- reading JSON ---------------------------------------------------------------------


def _number(value: Any, what: str) -> float:
    """A float written by ``json_number``; null reads as nan."""
    number = from_json_number(value, what)
    return math.nan if number is None else number


def _integer(value: Any, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"{what}: expected a non-negative integer, got {value!r}")
    return value


def _sequence(data: Mapping[str, Any], key: str, what: str) -> list[Any]:
    value = data.get(key, [])
    if not isinstance(value, list):
        raise ValueError(f"{what}: {key!r} must be a list, got {type(value).__name__}")
    return value


def _counts(data: Mapping[str, Any], what: str) -> tuple[int, ...]:
    return tuple(_integer(count, f"{what}: counts") for count in _sequence(data, "counts", what))


def _required(data: Mapping[str, Any], key: str, what: str) -> Any:
    if key not in data:
        raise ValueError(f"{what}: missing key {key!r}")
    return data[key]


def _totals(data: Mapping[str, Any], what: str) -> tuple[int, int]:
    """``count`` and ``null_count``, both required."""
    count = _integer(_required(data, "count", what), f"{what}: count")
    return count, _integer(_required(data, "null_count", what), f"{what}: null_count")


# -- column summaries -----------------------------------------------------------------


@dataclass(frozen=True)
class NumericProfile:
    """Summary of a numeric column on fixed bins.

    ``mean``, ``std`` (ddof 0), ``min`` and ``max`` describe the non-null values
    and are nan when there are none. ``counts`` has ``len(edges) + 1`` entries:
    bin 0 holds values ``<= edges[0]``, bin ``i`` holds ``(edges[i-1], edges[i]]``
    and the last bin values ``> edges[-1]``. ``null_quantiles`` is filled on
    reference profiles only: ``(level, value)`` pairs of the standardised
    no-drift Wasserstein functional at :data:`~mlgates.stats.noise.NULL_LEVELS`,
    then one ``(1.0, s)`` pair, ``s`` the mean excess of the simulated draws
    above the last stored quantile (the slope of the exponential tail beyond
    it). ``tail_means`` are the means of the values in the first and last bins
    (nan for an empty bin); they fix the extent of the two open-ended bins.

    On a current profile, ``beyond`` counts the values below the reference's
    ``min`` and above its ``max`` (infinities included), and ``beyond_examples``
    holds up to five of them, the most extreme first. ``dtype`` is the column's
    pandas dtype name and ``family`` its type family
    (:func:`mlgates.stats.columns.type_family`); date-times are profiled as
    nanoseconds since 1970. ``of`` says what the numbers are: the column's
    ``value``, the ``length`` of free text (characters after trimming, blank
    text counted as missing; see :func:`mlgates.stats.profile.text_lengths`), or
    the ``time`` of dates stored as text (:func:`mlgates.stats.profile.time_values`).
    """

    count: int
    null_count: int
    mean: float
    std: float
    min: float
    max: float
    edges: tuple[float, ...]
    counts: tuple[int, ...]
    null_quantiles: tuple[tuple[float, float], ...] = ()
    tail_means: tuple[float, float] = (math.nan, math.nan)
    beyond: tuple[int, int] = (0, 0)
    beyond_examples: tuple[float, ...] = ()
    dtype: str = ""
    family: str = ""
    of: Literal["value", "length", "time"] = "value"
    kind: Literal["numeric"] = "numeric"

    @property
    def temporal(self) -> bool:
        """Whether the column holds date-times (values are nanoseconds since 1970)."""
        return self.of == "time" or (self.of == "value" and self.family == "date-time")

    @property
    def scale(self) -> float:
        """The unit of standardised distances: ``std``, or 1 when it is zero or nan."""
        return self.std if math.isfinite(self.std) and self.std > 0 else 1.0

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form; the inverse of :meth:`from_dict`."""
        return {
            "kind": self.kind,
            "count": self.count,
            "null_count": self.null_count,
            "mean": json_number(self.mean),
            "std": json_number(self.std),
            "min": json_number(self.min),
            "max": json_number(self.max),
            "edges": [json_number(edge) for edge in self.edges],
            "counts": list(self.counts),
            "null_quantiles": [[level, json_number(value)] for level, value in self.null_quantiles],
            "tail_means": [json_number(value) for value in self.tail_means],
            "beyond": list(self.beyond),
            "beyond_examples": [json_number(value) for value in self.beyond_examples],
            "dtype": self.dtype,
            "family": self.family,
            "of": self.of,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> NumericProfile:
        """Rebuild a profile written by :meth:`to_dict`.

        Raises ``ValueError`` when a key is missing or the bins are inconsistent.
        """
        what = "numeric profile"
        edges = tuple(_number(edge, f"{what}: edges") for edge in _sequence(data, "edges", what))
        counts = _counts(data, what)
        tail_means = [
            _number(value, f"{what}: tail_means")
            for value in _sequence(data, "tail_means", what) or [None, None]
        ]
        if len(tail_means) != 2:
            raise ValueError(f"{what}: tail_means must hold two numbers")
        pairs: list[tuple[float, float]] = []
        for pair in _sequence(data, "null_quantiles", what):
            if not isinstance(pair, list) or len(pair) != 2:
                raise ValueError(f"{what}: null_quantiles must hold [level, value] pairs")
            pairs.append((_number(pair[0], f"{what}: null_quantiles"), _number(pair[1], what)))
        count, null_count = _totals(data, what)
        beyond = [_integer(v, f"{what}: beyond") for v in _sequence(data, "beyond", what) or [0, 0]]
        if len(beyond) != 2:
            raise ValueError(f"{what}: beyond must hold two counts")
        dtype = data.get("dtype", "")
        if not isinstance(dtype, str):
            raise ValueError(f"{what}: dtype must be a string")
        of = data.get("of", "value")
        if of not in ("value", "length", "time"):
            raise ValueError(f"{what}: of must be 'value', 'length' or 'time', got {of!r}")
        profile = cls(
            count=count,
            null_count=null_count,
            mean=_number(_required(data, "mean", what), f"{what}: mean"),
            std=_number(_required(data, "std", what), f"{what}: std"),
            min=_number(_required(data, "min", what), f"{what}: min"),
            max=_number(_required(data, "max", what), f"{what}: max"),
            edges=edges,
            counts=counts,
            null_quantiles=tuple(pairs),
            tail_means=(tail_means[0], tail_means[1]),
            beyond=(beyond[0], beyond[1]),
            beyond_examples=tuple(
                _number(v, f"{what}: beyond_examples")
                for v in _sequence(data, "beyond_examples", what)
            ),
            dtype=dtype,
            family=str(data.get("family", "")),
            of=of,
        )
        if len(counts) != len(edges) + 1:
            raise ValueError(
                f"{what}: {len(counts)} counts for {len(edges)} edges (expected edges + 1)"
            )
        if any(not math.isfinite(e) for e in edges) or any(
            a >= b for a, b in itertools.pairwise(edges)
        ):
            raise ValueError(f"{what}: edges must be finite and strictly increasing")
        if sum(counts) != count:
            raise ValueError(f"{what}: counts sum to {sum(counts)}, not count {count}")
        if profile.std < 0:
            raise ValueError(f"{what}: std must not be negative, got {profile.std}")
        return profile


@dataclass(frozen=True)
class CategoricalProfile:
    """Summary of a categorical column: counts per category label (as strings).

    ``categories`` are sorted by descending count, then label, on a reference
    profile; a current profile keeps the reference's categories and order.
    ``other_count`` counts non-null values whose label is not in ``categories``.

    A reference profile keeps every label seen at least ``kept_from`` times
    (1: every label seen); ``rare_frequencies[s - 1]`` is the number of labels
    seen exactly ``s`` times among those it does not keep (``s < kept_from``).
    Together with the kept counts they give the frequencies of frequencies
    that Good-Turing estimates of unseen mass need.

    A current profile describes the labels outside the reference's categories:
    ``other_frequencies`` holds ``(s, labels seen s times)`` pairs and
    ``other_top`` up to five ``(label, count)`` pairs, most frequent first.
    ``dtype`` is the column's pandas dtype name and ``family`` its type family.
    """

    count: int
    null_count: int
    categories: tuple[str, ...]
    counts: tuple[int, ...]
    other_count: int = 0
    kept_from: int = 1
    rare_frequencies: tuple[int, ...] = ()
    other_frequencies: tuple[tuple[int, int], ...] = ()
    other_top: tuple[tuple[str, int], ...] = ()
    dtype: str = ""
    family: str = ""
    kind: Literal["categorical"] = "categorical"

    def frequency(self, times: int) -> int:
        """How many reference labels were seen exactly ``times`` times."""
        if times < 1:
            raise ValueError(f"times must be at least 1, got {times}")
        if times < self.kept_from:
            return self.rare_frequencies[times - 1] if times <= len(self.rare_frequencies) else 0
        return sum(1 for count in self.counts if count == times)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form; the inverse of :meth:`from_dict`."""
        return {
            "kind": self.kind,
            "count": self.count,
            "null_count": self.null_count,
            "categories": list(self.categories),
            "counts": list(self.counts),
            "other_count": self.other_count,
            "kept_from": self.kept_from,
            "rare_frequencies": list(self.rare_frequencies),
            "other_frequencies": [list(pair) for pair in self.other_frequencies],
            "other_top": [list(pair) for pair in self.other_top],
            "dtype": self.dtype,
            "family": self.family,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> CategoricalProfile:
        """Rebuild a profile written by :meth:`to_dict`.

        Raises ``ValueError`` when a key is missing or the counts are inconsistent.
        """
        what = "categorical profile"
        categories = _sequence(data, "categories", what)
        if not all(isinstance(label, str) for label in categories):
            raise ValueError(f"{what}: categories must be strings")
        counts = _counts(data, what)
        count, null_count = _totals(data, what)
        other_count = _integer(data.get("other_count", 0), f"{what}: other_count")
        kept_from = _integer(data.get("kept_from", 1), f"{what}: kept_from")
        rare = tuple(
            _integer(value, f"{what}: rare_frequencies")
            for value in _sequence(data, "rare_frequencies", what)
        )
        pairs = []
        for pair in _sequence(data, "other_frequencies", what):
            if not isinstance(pair, list) or len(pair) != 2:
                raise ValueError(f"{what}: other_frequencies must hold [times, labels] pairs")
            pairs.append((_integer(pair[0], what), _integer(pair[1], what)))
        top = []
        for pair in _sequence(data, "other_top", what):
            if not isinstance(pair, list) or len(pair) != 2 or not isinstance(pair[0], str):
                raise ValueError(f"{what}: other_top must hold [label, count] pairs")
            top.append((pair[0], _integer(pair[1], what)))
        if len(counts) != len(categories):
            raise ValueError(f"{what}: {len(counts)} counts for {len(categories)} categories")
        if len(set(categories)) != len(categories):
            raise ValueError(f"{what}: duplicate category labels")
        if sum(counts) + other_count != count:
            raise ValueError(
                f"{what}: counts and other_count sum to {sum(counts) + other_count}, "
                f"not count {count}"
            )
        if kept_from < 1 or len(rare) >= kept_from:
            raise ValueError(f"{what}: rare_frequencies must hold kept_from - 1 numbers at most")
        return cls(
            count=count,
            null_count=null_count,
            categories=tuple(categories),
            counts=counts,
            other_count=other_count,
            kept_from=kept_from,
            rare_frequencies=rare,
            other_frequencies=tuple(pairs),
            other_top=tuple(top),
            dtype=str(data.get("dtype", "")),
            family=str(data.get("family", "")),
        )


ColumnProfile: TypeAlias = NumericProfile | CategoricalProfile


def column_from_dict(data: Mapping[str, Any]) -> ColumnProfile:
    """A column profile from its :meth:`~NumericProfile.to_dict` form.

    Raises
    ------
    ValueError
        For an unknown ``kind`` or a malformed profile.
    """
    if not isinstance(data, Mapping):
        raise ValueError(f"a column profile must be an object, got {type(data).__name__}")
    kind = data.get("kind")
    if kind == "numeric":
        return NumericProfile.from_dict(data)
    if kind == "categorical":
        return CategoricalProfile.from_dict(data)
    raise ValueError(f"unknown column kind {kind!r} (expected 'numeric' or 'categorical')")


# -- data-set summary -----------------------------------------------------------------


@dataclass(frozen=True)
class DatasetProfile:
    """Row count, one profile per column, and the columns that could not be summarised.

    ``unprofiled`` maps a column name to a one-line reason (nested values, text
    where the reference has numbers); such a column is not in ``columns``.
    Treat both mappings as read-only.
    """

    row_count: int
    columns: Mapping[str, ColumnProfile] = field(default_factory=dict)
    unprofiled: Mapping[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form with a ``"format"`` number; the inverse of :meth:`from_dict`.

        ``"unprofiled"`` is written only when some column could not be summarised.
        """
        document: dict[str, Any] = {
            "format": FORMAT,
            "row_count": self.row_count,
            "columns": {name: column.to_dict() for name, column in self.columns.items()},
        }
        if self.unprofiled:
            document["unprofiled"] = dict(self.unprofiled)
        return document

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> DatasetProfile:
        """Rebuild a profile written by :meth:`to_dict`.

        Raises
        ------
        ValueError
            When ``data`` is not a format-2 mlgates profile or a column is malformed.
        """
        if not isinstance(data, Mapping):
            raise ValueError(
                f"not an mlgates profile: expected an object, got {type(data).__name__}"
            )
        if data.get("format") == 1:
            raise ValueError(
                "a profile written by an older mlgates (format 1): profile the data again "
                "with 'mlgates profile'"
            )
        if data.get("format") != FORMAT:
            raise ValueError(
                f'not an mlgates profile: expected "format": {FORMAT}, got {data.get("format")!r}'
            )
        row_count = _integer(_required(data, "row_count", "profile"), "profile: row_count")
        columns = _required(data, "columns", "profile")
        if not isinstance(columns, Mapping):
            raise ValueError("profile: 'columns' must be an object of column profiles")
        parsed: dict[str, ColumnProfile] = {}
        for name, column in columns.items():
            try:
                parsed[str(name)] = column_from_dict(column)
            except ValueError as exc:
                raise ValueError(f"column {name!r}: {exc}") from None
            rows = parsed[str(name)].count + parsed[str(name)].null_count
            if rows != row_count:
                raise ValueError(
                    f"column {name!r}: {rows} values and missing values, but row_count {row_count}"
                )
        unprofiled = data.get("unprofiled", {})
        if not isinstance(unprofiled, Mapping) or not all(
            isinstance(reason, str) for reason in unprofiled.values()
        ):
            raise ValueError("profile: 'unprofiled' must be an object of column name -> reason")
        reasons = {str(name): reason for name, reason in unprofiled.items()}
        return cls(row_count=row_count, columns=parsed, unprofiled=reasons)

    def save(self, path: str | os.PathLike[str]) -> None:
        """Write the profile as JSON (atomically: a reader never sees half a file)."""
        text = json.dumps(self.to_dict(), allow_nan=False, separators=(",", ":"))
        write_text_atomically(Path(path), text)

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> DatasetProfile:
        """Read a profile written by :meth:`save`.

        Raises
        ------
        ValueError
            When the file is not JSON or not an mlgates profile.
        """
        try:
            document = json.loads(Path(path).read_text(encoding="utf-8"))
        except json.JSONDecodeError as exc:
            raise ValueError(f"{path}: not JSON: {exc}") from None
        return cls.from_dict(document)
