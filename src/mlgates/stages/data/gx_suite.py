"""Run a Great Expectations 1.x expectation suite, stored as JSON, on a pandas frame.

Great Expectations is an optional extra that takes seconds to import, so it is
imported lazily, inside the functions that need it. Loading a suite file and
planning check names (:func:`suite_check_names`) never run it; :func:`load_suite`
imports it only to check expectation types against its registry.

Validation happens in an ephemeral, in-memory Data Context with analytics and
progress bars switched off: nothing is written to disk and nothing is sent over
the network.
"""

from __future__ import annotations

import copy
import json
import math
import os
import threading
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mlgates.core import InputError
from mlgates.files import read_user_text
from mlgates.jsonable import to_jsonable
from mlgates.text import did_you_mean, shorten

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "ExpectationOutcome",
    "MissingExtraError",
    "SuiteError",
    "load_suite",
    "run_suite",
    "suite_check_names",
    "suite_document",
]

_MISSING_EXTRA_MESSAGE = "Great Expectations suites need the gx extra: pip install 'mlgates[gx]'"
# Read by GX 1.x releases that still ship analytics when the package is first
# imported; the Data Context config below disables them again for each context.
_ANALYTICS_ENV_VAR = "GX_ANALYTICS_ENABLED"
_RESULT_FORMAT: dict[str, object] = {"result_format": "BASIC", "partial_unexpected_count": 3}
_EXAMPLES = 3
_MAX_TEXT = 120
_UUID_NAMESPACE = uuid.UUID("6f1d8a52-3c1e-4d8e-9a57-0c2f4b7e9d31")
_RUN_LOCK = threading.Lock()


class MissingExtraError(ImportError):
    """Great Expectations is not installed."""

    def __init__(self, message: str = _MISSING_EXTRA_MESSAGE) -> None:
        super().__init__(message)


class SuiteError(InputError):
    """An expectation suite document is unreadable or malformed."""


@dataclass(frozen=True)
class ExpectationOutcome:
    """Result of one expectation of a suite.

    Attributes
    ----------
    expectation_type : str
        Snake-case expectation name, e.g. ``expect_column_values_to_be_between``.
    column : str or None
        The expectation's ``column`` kwarg, when it has one.
    success : bool
        Whether the expectation held; ``False`` when it raised.
    observed : str
        Short human-readable description of what was observed.
    kwargs : dict
        The expectation's kwargs, JSON-friendly.
    exception : str or None
        Error message when Great Expectations raised for this expectation.
    """

    expectation_type: str
    column: str | None
    success: bool
    observed: str
    kwargs: dict[str, object]
    exception: str | None


# --------------------------------------------------------------------------- import


def _import_gx() -> Any:
    """Import ``great_expectations`` with analytics off; raise :class:`MissingExtraError`."""
    os.environ[_ANALYTICS_ENV_VAR] = "false"
    try:
        import great_expectations as gx
    except ModuleNotFoundError as exc:
        if (exc.name or "").split(".")[0] == "great_expectations":
            raise MissingExtraError() from exc
        raise
    return gx


def _registered_types() -> list[str]:
    """Expectation types known to the installed Great Expectations."""
    _import_gx()
    from great_expectations.expectations.registry import (
        list_registered_expectation_implementations,
    )

    return sorted(list_registered_expectation_implementations())


# --------------------------------------------------------------------------- documents


def load_suite(path: Path, *, check_types: bool = True) -> dict[str, Any]:
    """Read and validate an expectation suite JSON file.

    Parameters
    ----------
    path : Path
        File in the format Great Expectations 1.x saves an ``ExpectationSuite`` in.
    check_types : bool, default True
        Check every expectation type against the installed Great Expectations
        registry (imports Great Expectations).

    Returns
    -------
    dict
        The parsed document.

    Raises
    ------
    SuiteError
        The file is unreadable, not JSON, or not a valid suite.
    MissingExtraError
        ``check_types`` is set and Great Expectations is not installed.
    """
    path = Path(path)
    text = read_user_text(path, "expectation suite", SuiteError)
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        raise SuiteError(
            f"{path}: not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})"
        ) from exc
    problems = _structure_problems(document)
    if not problems and check_types:
        problems = _type_problems(document["expectations"], _registered_types())
    if problems:
        raise SuiteError(f"{path}: " + "; ".join(problems))
    result: dict[str, Any] = document
    return result


def _structure_problems(document: object) -> list[str]:
    if not isinstance(document, dict):
        return [f"top level must be a JSON object, got {_json_kind(document)}"]
    problems: list[str] = []
    name = document.get("name")
    if name is not None and not isinstance(name, str):
        problems.append('"name" must be a string')
    if "expectations" not in document:
        hint = (
            " (this looks like a GX 0.x suite; re-save it with GX 1.x)"
            if "expectation_suite_name" in document
            else ""
        )
        return [*problems, f'missing "expectations" list{hint}']
    expectations = document["expectations"]
    if not isinstance(expectations, list):
        return [*problems, f'"expectations" must be a list, got {_json_kind(expectations)}']
    for index, entry in enumerate(expectations):
        where = f"expectations[{index}]"
        if not isinstance(entry, dict):
            problems.append(f"{where} must be an object, got {_json_kind(entry)}")
            continue
        kind = entry.get("type")
        if kind is None:
            legacy = " (GX 0.x key 'expectation_type'; GX 1.x calls it 'type')"
            problems.append(
                f'{where} has no "type"' + (legacy if "expectation_type" in entry else "")
            )
        elif not isinstance(kind, str) or not kind:
            problems.append(f'{where}: "type" must be a non-empty string')
        kwargs = entry.get("kwargs", {})
        if not isinstance(kwargs, dict):
            problems.append(f'{where}: "kwargs" must be an object, got {_json_kind(kwargs)}')
    return problems


def _type_problems(expectations: list[dict[str, Any]], known: Sequence[str]) -> list[str]:
    known_set = set(known)
    problems = []
    for index, entry in enumerate(expectations):
        kind = entry["type"]
        if kind in known_set:
            continue
        hint = did_you_mean(kind, known)
        problems.append(f"expectations[{index}]: unknown expectation type {kind!r}{hint}")
    return problems


def _json_kind(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__


def _entries(suite: Mapping[str, Any]) -> list[dict[str, Any]]:
    problems = _structure_problems(suite)
    if problems:
        raise SuiteError("<suite>: " + "; ".join(problems))
    entries: list[dict[str, Any]] = suite["expectations"]
    return entries


def suite_document(name: str, expectations: list[tuple[str, dict[str, object]]]) -> dict[str, Any]:
    """Build a suite document as Great Expectations 1.x saves one.

    Parameters
    ----------
    name : str
        Suite name.
    expectations : list of (str, dict)
        ``(expectation_type, kwargs)`` pairs, in order.

    Returns
    -------
    dict
        A JSON-serialisable document accepted by :func:`load_suite` and
        :func:`run_suite`. Ids are derived from the name and position, so the
        same input always gives the same document.
    """
    if not isinstance(name, str) or not name:
        raise ValueError("suite name must be a non-empty string")
    entries: list[dict[str, Any]] = []
    for index, (kind, kwargs) in enumerate(expectations):
        if not isinstance(kind, str) or not kind:
            raise ValueError(f"expectation {index}: type must be a non-empty string")
        if not isinstance(kwargs, Mapping):
            raise ValueError(f"expectation {index}: kwargs must be a mapping")
        entries.append(
            {
                "type": kind,
                "kwargs": _jsonable(dict(kwargs)),
                "meta": {},
                "id": str(uuid.uuid5(_UUID_NAMESPACE, f"{name}\x00{index}\x00{kind}")),
                "severity": "critical",
            }
        )
    return {
        "name": name,
        "id": str(uuid.uuid5(_UUID_NAMESPACE, name)),
        "expectations": entries,
        "meta": {"great_expectations_version": _installed_gx_version()},
        "notes": None,
    }


def _installed_gx_version() -> str | None:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("great_expectations")
    except PackageNotFoundError:
        return None


# --------------------------------------------------------------------------- names


def suite_check_names(suite: Mapping[str, Any]) -> list[str]:
    """One stable, unique, readable name per expectation, without running GX.

    Names look like ``expect_column_values_to_not_be_null[age]``: the type, then
    the column (or columns) in brackets when the expectation has one. A repeated
    type and column gets a ``#2``, ``#3``... suffix on the type, in document
    order, so the bracketed column stays last:
    ``expect_column_values_to_not_be_null#2[age]``.

    Parameters
    ----------
    suite : dict
        A suite document, as returned by :func:`load_suite`.

    Returns
    -------
    list of str
        Names in the order of ``suite["expectations"]``.
    """
    names: list[str] = []
    taken: set[str] = set()
    for entry in _entries(suite):
        kind = str(entry["type"])
        target = _target(entry.get("kwargs") or {})
        selector = "" if target is None else f"[{target}]"
        name, counter = f"{kind}{selector}", 1
        while name in taken:
            counter += 1
            name = f"{kind}#{counter}{selector}"
        taken.add(name)
        names.append(name)
    return names


def _target(kwargs: Mapping[str, Any]) -> str | None:
    if "column" in kwargs:
        return str(kwargs["column"])
    if "column_A" in kwargs and "column_B" in kwargs:
        return f"{kwargs['column_A']},{kwargs['column_B']}"
    columns = kwargs.get("column_list")
    if isinstance(columns, list) and columns:
        return ",".join(str(column) for column in columns)
    return None


# --------------------------------------------------------------------------- running


def run_suite(
    frame: pd.DataFrame, suite: Mapping[str, Any], *, suite_name: str = "mlgates"
) -> list[ExpectationOutcome]:
    """Validate ``frame`` against every expectation of ``suite``.

    All expectations run in a single Great Expectations validation, so shared
    metrics are computed once. If that validation raises as a whole (for
    instance a missing ``$PARAMETER`` value), each expectation is re-run on
    its own so the error is attributed to the expectations that cause it.

    Parameters
    ----------
    frame : pandas.DataFrame
        Data to validate.
    suite : dict
        A suite document, as returned by :func:`load_suite`. Its optional
        ``suite_parameters`` supply ``$PARAMETER`` values.
    suite_name : str, default "mlgates"
        Name of the in-memory suite and data source.

    Returns
    -------
    list of ExpectationOutcome
        One per expectation, in the order of :func:`suite_check_names`.

    Raises
    ------
    SuiteError
        ``suite`` is not a suite document.
    MissingExtraError
        Great Expectations is not installed.
    """
    entries = _entries(suite)
    gx = _import_gx()
    from great_expectations.expectations.expectation_configuration import (
        ExpectationConfiguration,
    )

    parameters = suite.get("suite_parameters") or None
    outcomes: list[ExpectationOutcome | None] = [None] * len(entries)
    configurations: dict[str, tuple[int, Any]] = {}
    for index, entry in enumerate(entries):
        kind = str(entry["type"])
        kwargs = copy.deepcopy(entry.get("kwargs") or {})
        key = str(uuid.uuid4())
        try:
            configuration = ExpectationConfiguration(type=kind, kwargs=kwargs, id=key)
            configuration.to_domain_obj()
        except Exception as exc:
            outcomes[index] = _error_outcome(entry, _exception_text(exc))
        else:
            configurations[key] = (index, configuration)

    if configurations:
        with _RUN_LOCK:
            results = _validate(gx, frame, suite_name, configurations, parameters)
        for key, (index, _) in configurations.items():
            outcome = results.get(key)
            outcomes[index] = (
                _outcome(entries[index], outcome)
                if outcome is not None
                else _error_outcome(entries[index], "Great Expectations returned no result")
            )
    return [outcome for outcome in outcomes if outcome is not None]


def _validate(
    gx: Any,
    frame: pd.DataFrame,
    suite_name: str,
    configurations: Mapping[str, tuple[int, Any]],
    parameters: dict[str, Any] | None,
) -> dict[str, Any]:
    """Validate in a fresh ephemeral context; map expectation id to result or error text."""
    from great_expectations.data_context.data_context.context_factory import project_manager

    try:
        previous = project_manager.get_current_project()
    except Exception:
        previous = None
    try:
        batch = _batch(gx, frame, suite_name)
        suite = gx.ExpectationSuite(
            name=suite_name, expectations=[config for _, config in configurations.values()]
        )
        try:
            report = batch.validate(
                suite, result_format=_RESULT_FORMAT, expectation_parameters=parameters
            )
        except Exception:
            return _validate_one_by_one(batch, configurations, parameters)
        results: dict[str, Any] = {}
        for result in report.results:
            config = result.expectation_config
            if config is not None and config.id in configurations:
                results[config.id] = result
        return results
    finally:
        if previous is not None:
            project_manager.set_project(previous)


def _validate_one_by_one(
    batch: Any, configurations: Mapping[str, tuple[int, Any]], parameters: dict[str, Any] | None
) -> dict[str, Any]:
    results: dict[str, Any] = {}
    for key, (_, config) in configurations.items():
        try:
            results[key] = batch.validate(
                config.to_domain_obj(),
                result_format=_RESULT_FORMAT,
                expectation_parameters=parameters,
            )
        except Exception as exc:
            results[key] = _exception_text(exc)
    return results


def _batch(gx: Any, frame: pd.DataFrame, suite_name: str) -> Any:
    from great_expectations.data_context.types.base import (
        DataContextConfig,
        InMemoryStoreBackendDefaults,
        ProgressBarsConfig,
    )

    config = DataContextConfig(
        store_backend_defaults=InMemoryStoreBackendDefaults(init_temp_docs_sites=False),
        analytics_enabled=False,
        progress_bars=ProgressBarsConfig(globally=False, metric_calculations=False),
    )
    context = gx.get_context(mode="ephemeral", project_config=config)
    asset = context.data_sources.add_pandas(name=suite_name).add_dataframe_asset(name="frame")
    definition = asset.add_batch_definition_whole_dataframe(name="whole frame")
    return definition.get_batch(batch_parameters={"dataframe": frame})


# --------------------------------------------------------------------------- outcomes


def _outcome(entry: Mapping[str, Any], result: Any) -> ExpectationOutcome:
    if isinstance(result, str):
        return _error_outcome(entry, result)
    error = _result_error(result.exception_info)
    if error is not None:
        return _error_outcome(entry, error)
    return ExpectationOutcome(
        expectation_type=str(entry["type"]),
        column=_column(entry),
        success=bool(result.success),
        observed=_describe(result.result or {}),
        kwargs=_kwargs(entry),
        exception=None,
    )


def _error_outcome(entry: Mapping[str, Any], message: str) -> ExpectationOutcome:
    first_line = message.strip().splitlines()[0] if message.strip() else "error"
    return ExpectationOutcome(
        expectation_type=str(entry["type"]),
        column=_column(entry),
        success=False,
        observed=_shorten(f"error: {first_line}"),
        kwargs=_kwargs(entry),
        exception=message,
    )


def _column(entry: Mapping[str, Any]) -> str | None:
    kwargs = entry.get("kwargs") or {}
    column = kwargs.get("column")
    return None if column is None else str(column)


def _kwargs(entry: Mapping[str, Any]) -> dict[str, object]:
    converted = _jsonable(dict(entry.get("kwargs") or {}))
    assert isinstance(converted, dict)
    return converted


def _result_error(info: object) -> str | None:
    """Error message from a result's ``exception_info``, or ``None``.

    The info is either one ``{"raised_exception": ..., "exception_message": ...}``
    mapping or, for metric failures, such mappings keyed by metric id.
    """
    if not isinstance(info, Mapping):
        return None
    if "raised_exception" in info:
        infos: list[Mapping[str, Any]] = [info]
    else:
        infos = [value for value in info.values() if isinstance(value, Mapping)]
    messages: list[str] = []
    for item in infos:
        if item.get("raised_exception"):
            message = str(item.get("exception_message") or "exception raised").strip()
            message = message.removeprefix("Error: ")
            if message not in messages:
                messages.append(message)
    return "; ".join(messages) if messages else None


def _exception_text(exc: BaseException) -> str:
    errors = getattr(exc, "errors", None)
    if callable(errors):  # pydantic validation of the expectation's kwargs
        try:
            details = [
                f"{'.'.join(str(part) for part in error['loc'] if part != '__root__')}: "
                f"{error['msg']}".removeprefix(": ")
                for error in errors()
            ]
        except Exception:
            details = []
        if details:
            return "invalid kwargs: " + "; ".join(details)
    text = " ".join(str(exc).split())
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def _describe(result: Mapping[str, Any]) -> str:
    """Short text for a validation result's ``result`` mapping."""
    if "observed_value" in result:
        return _shorten(_format_value(result["observed_value"]))
    if "unexpected_count" in result:
        count = int(result["unexpected_count"] or 0)
        text = f"{count} unexpected value{'' if count == 1 else 's'}"
        percent = result.get("unexpected_percent")
        if isinstance(percent, (int, float)) and not math.isnan(percent):
            text += f" ({_format_percent(float(percent))})"
        examples = [
            value for value in result.get("partial_unexpected_list") or [] if not _is_missing(value)
        ][:_EXAMPLES]
        if count and examples:
            text += ", e.g. [" + ", ".join(_format_value(value) for value in examples) + "]"
        return _shorten(text)
    if "element_count" in result:
        return f"{result['element_count']} values checked"
    return ""


def _format_percent(percent: float) -> str:
    if 0 < percent < 0.01:
        return "<0.01%"
    return f"{percent:.2f}%"


def _format_value(value: object) -> str:
    value = _jsonable(value)
    if isinstance(value, float):
        if value.is_integer() and abs(value) < 1e15:
            return str(int(value))
        return f"{value:.6g}"
    if isinstance(value, str):
        return repr(value)
    if isinstance(value, (list, dict)):
        return json.dumps(value, default=str)
    return str(value)


def _is_missing(value: object) -> bool:
    if value is None or type(value).__name__ in {"NAType", "NaTType"}:
        return True
    value = _jsonable(value)
    return isinstance(value, float) and math.isnan(value)


def _shorten(text: str) -> str:
    return shorten(text, _MAX_TEXT)


def _jsonable(value: object) -> object:
    """``value`` as plain JSON types, NaN kept as a float (it is shown, not stored)."""
    return to_jsonable(value, finite=False)
