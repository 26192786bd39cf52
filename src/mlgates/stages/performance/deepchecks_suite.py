"""The deepchecks adapter: a deepchecks suite or named checks, each condition one mlgates check.

``[performance.deepchecks]`` runs a tabular suite (``suite = "model_evaluation"``)
and/or named checks (``checks = ["SimpleModelComparison"]``, with the
conditions the default suites give them) on the evaluation rows and the
candidate model, with ``train`` as deepchecks' train dataset when given.
Every condition becomes a member of the ``performance::deepchecks[*]`` family:

============================  ==========================
deepchecks                    mlgates
============================  ==========================
condition PASS                pass
condition FAIL                fail
condition WARN                warn (never blocks)
condition ERROR               error
check not relevant here       skipped, with deepchecks' reason
check could not run           inconclusive, with deepchecks' reason
============================  ==========================

deepchecks 0.19 needs numpy < 2, scikit-learn < 1.6 and pandas < 2.3: it lives
in its own environment (``pip install 'mlgates[deepchecks]'``).
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from mlgates.authoring import Measurement, PlannedCheck
from mlgates.core import ConfigError, Status

if TYPE_CHECKING:
    from pathlib import Path

    import pandas as pd

SUITES = ("model_evaluation", "train_test_validation", "data_integrity", "full_suite")
_NOT_RELEVANT = ("DeepchecksNotSupportedError", "ModelValidationError")
_NOT_DECIDED = ("NotEnoughSamplesError", "DeepchecksTimeoutError", "DeepchecksProcessError")


@dataclass(frozen=True)
class DeepchecksSettings:
    """``[performance.deepchecks]``."""

    suite: str | None = None
    checks: tuple[str, ...] = ()
    train: Path | None = None
    cat_features: tuple[str, ...] | None = None

    @property
    def enabled(self) -> bool:
        """Whether anything is to run."""
        return self.suite is not None or bool(self.checks)


def _condition_status(category: str) -> Status:
    return {
        "PASS": Status.PASS,
        "FAIL": Status.FAIL,
        "WARN": Status.WARN,
        "ERROR": Status.ERROR,
    }.get(category, Status.ERROR)


def _selector(header: str, condition: str) -> str:
    """A member name: ``Simple Model Comparison: <condition>`` without brackets."""
    return re.sub(r"[\[\]]", "", f"{header}: {condition}").strip()


def _named_checks(names: Sequence[str], key: str) -> list[Any]:
    """Each named check as the full suite configures it, else with its conditions that
    need no arguments."""
    from deepchecks.tabular import checks, suites

    configured = {type(c).__name__: c for c in suites.full_suite().checks.values()}
    found = []
    for name in names:
        if name in configured:
            found.append(configured[name])
            continue
        kind = getattr(checks, name, None)
        if kind is None:
            known = sorted(n for n in dir(checks) if n[:1].isupper())
            raise ConfigError(
                f"{name!r} is not a deepchecks tabular check; known: {', '.join(known)}", key=key
            )
        check = kind()
        for method in dir(check):
            if method.startswith("add_condition_"):
                try:
                    getattr(check, method)()
                except TypeError:
                    continue
        found.append(check)
    return found


def run_deepchecks(
    settings: DeepchecksSettings,
    family: PlannedCheck,
    *,
    evaluation: pd.DataFrame,
    train: pd.DataFrame | None,
    target: str,
    features: Sequence[str],
    model: Any,
    predicted: Any = None,
    proba: Any = None,
) -> dict[str, Measurement]:
    """Run the suite and checks; one measurement per condition, keyed by member id.

    ``predicted`` and ``proba`` are the candidate's predictions on ``evaluation``,
    computed once per run, handed to deepchecks instead of predicting again.
    """
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            import deepchecks
            from deepchecks.tabular import Dataset, Suite, suites
    except ImportError as exc:
        raise ConfigError(
            f"performance.deepchecks needs deepchecks ({exc}): pip install 'mlgates[deepchecks]' "
            "in an environment of its own (it needs numpy < 2, scikit-learn < 1.6, pandas < 2.3)",
            key="performance.deepchecks",
        ) from None
    import logging

    import pandas as pd

    deepchecks.set_verbosity(logging.WARNING)  # no progress bars in a gate's output
    columns = [*features, target]
    categorical = list(
        settings.cat_features
        if settings.cat_features is not None
        else [c for c in features if not pd.api.types.is_numeric_dtype(evaluation[c])]
    )

    def dataset(frame: pd.DataFrame) -> Any:
        return Dataset(frame[columns], label=target, cat_features=categorical)

    checks: list[Any] = []
    if settings.suite is not None:
        checks.extend(getattr(suites, settings.suite)().checks.values())
    in_suite = {type(check).__name__ for check in checks}
    named = [name for name in settings.checks if name not in in_suite]
    checks.extend(_named_checks(named, "performance.deepchecks.checks"))
    suite = Suite("mlgates", *checks)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        arguments: dict[str, Any] = {"model": model, "with_display": False}
        if train is not None:
            arguments.update(
                train_dataset=dataset(train),
                test_dataset=dataset(evaluation),
                y_pred_test=predicted,
                y_proba_test=proba,
            )
        else:
            arguments.update(
                train_dataset=dataset(evaluation),
                y_pred_train=predicted,
                y_proba_train=proba,
                run_single_dataset="Train",
            )
        result = suite.run(**arguments)
    return _measurements(result.results, family)


def _measurements(results: Sequence[Any], family: PlannedCheck) -> dict[str, Measurement]:
    measured: dict[str, Measurement] = {}

    def add(selector: str, measurement: Measurement) -> None:
        member = family.member(selector)
        measured[member.id] = Measurement(
            status=measurement.status,
            message=measurement.message,
            method="deepchecks",
            check=member,
        )

    for result in results:
        conditions = getattr(result, "conditions_results", None)
        if conditions is None:  # a CheckFailure
            header = result.get_header() if hasattr(result, "get_header") else str(result)
            error = getattr(result, "exception", None)
            kind = type(error).__name__
            text = str(error) or kind
            if kind in _NOT_RELEVANT or "irrelevant" in text or "relevant for" in text:
                add(
                    _selector(header, "not relevant"),
                    Measurement(status=Status.SKIPPED, message=text),
                )
            elif kind in _NOT_DECIDED:
                add(
                    _selector(header, "could not run"),
                    Measurement(status=Status.INCONCLUSIVE, message=text),
                )
            else:
                add(
                    _selector(header, "could not run"),
                    Measurement(status=Status.INCONCLUSIVE, message=f"{kind}: {text}"),
                )
            continue
        header = result.get_header()
        for condition in conditions:
            status = _condition_status(condition.category.name)
            details = str(condition.details or "").strip()
            message = f"{condition.name}: {details}" if details else condition.name
            add(_selector(header, condition.name), Measurement(status=status, message=message))
    return measured


__all__ = ["SUITES", "DeepchecksSettings", "run_deepchecks"]
