"""Which features drive the models: permutation importance of candidate and baseline.

Both models are scored on the same sample of evaluation rows, each feature
shuffled ``repeats`` times (scikit-learn's ``permutation_importance``). A
feature's importance is how much the *model's output* changes when it is
shuffled: the predicted probability of the positive class (binary), the share
of labels that change (other classifiers), the prediction (regression). The
change, not a drop of accuracy, because fairness asks what the model leans on:
a model that declines women more often than their repayments justify leans on
``sex`` although shuffling it may not cost any accuracy at all.

* ``sensitive_in_top_k`` counts the sensitive columns among the candidate's
  ``top_k`` features, counting only a feature whose drop is clearly above
  zero (its mean more than twice its standard error): a feature the model
  ignores is not "used", wherever the shuffle noise ranks it.
* ``importance_rank_correlation`` is Spearman's correlation of both models'
  importances over the union of their ``top_k`` features.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from mlgates.authoring import Measurement
from mlgates.core import InputError, Status
from mlgates.stages.fairness.settings import FairnessConfig
from mlgates.stages.performance.evaluation import Evaluation, Scored
from mlgates.stats.scoring import Classified
from mlgates.text import format_number

if TYPE_CHECKING:
    import pandas as pd


@dataclass(frozen=True)
class Importances:
    """One model's permutation importances: feature -> (mean drop, its standard error)."""

    model: str
    score: str
    rows: int
    drops: dict[str, tuple[float, float]]

    def ranked(self) -> list[str]:
        """Features by mean drop, largest first (ties by name)."""
        return sorted(self.drops, key=lambda f: (-self.drops[f][0], f))

    def used(self, feature: str) -> bool:
        """Whether shuffling the feature clearly hurts the model."""
        mean, error = self.drops.get(feature, (0.0, 0.0))
        return mean > 0 and mean > 2 * error

    def shown(self, features: Sequence[str]) -> str:
        """``income 0.081, sex 0.043``."""
        return ", ".join(f"{f} {format_number(self.drops[f][0], 3)}" for f in features)


def _output(model: Any, features: Any, scored: Scored, task: str) -> tuple[str, Any]:
    """What the model says about ``features``, and in what unit its change is shown: the
    positive class's probability (binary), the label (other classifiers), the prediction
    (regression)."""
    data = scored.data
    if task == "regression":
        return "prediction", np.asarray(model.predict(features), dtype=np.float64)
    if isinstance(data, Classified) and data.classes == 2 and scored.proba is not None:
        proba = np.asarray(model.predict_proba(features), dtype=np.float64)
        return "probability", proba[:, -1] if proba.ndim == 2 else proba
    return "label", np.asarray(model.predict(features), dtype=object)


def _change(kind: str, scored: Scored, task: str) -> Callable[[Any, Any, Any], float]:
    """A scorer whose drop under a shuffle is the mean change of the model's output:
    ``-mean |output(X) - original|`` (for labels: minus the share that changed)."""

    def score(model: Any, features: Any, original: Any) -> float:
        _, now = _output(model, features, scored, task)
        if kind == "label":
            return -float(np.mean(now != original))
        return -float(np.mean(np.abs(now - original)))

    return score


def permutation_importances(
    model: Any,
    scored: Scored,
    evaluation: Evaluation,
    config: FairnessConfig,
) -> Importances:
    """``scored``'s model's importances on a sample of the evaluation rows."""
    from sklearn.inspection import permutation_importance

    frame: pd.DataFrame = evaluation.frame
    rng = np.random.default_rng(config.seed)
    rows = min(config.importance.rows, len(frame))
    sample = np.sort(rng.choice(len(frame), size=rows, replace=False))
    features = frame.iloc[sample][list(scored.features)]
    kind, original = _output(model, features, scored, evaluation.task)
    try:
        result = permutation_importance(
            model,
            features,
            original,
            scoring=_change(kind, scored, evaluation.task),
            n_repeats=config.importance.repeats,
            random_state=config.seed,
            n_jobs=None,
        )
    except Exception as exc:
        raise InputError(
            f"{scored.name}: permutation importance failed: {type(exc).__name__}: {exc}"
        ) from None
    repeats = config.importance.repeats
    drops = {
        str(feature): (
            float(result.importances_mean[index]),
            float(result.importances_std[index]) / math.sqrt(repeats),
        )
        for index, feature in enumerate(features.columns)
    }
    unit = {
        "probability": "mean change of the predicted probability",
        "label": "share of labels changed",
        "prediction": "mean change of the prediction",
    }
    return Importances(scored.name, unit[kind], rows, drops)


def sensitive_in_top_k(importances: Importances, config: FairnessConfig) -> Measurement:
    """How many sensitive columns the candidate clearly uses among its top ``k``."""
    top = importances.ranked()[: config.top_k]
    found = [f for f in top if f in config.sensitive and importances.used(f)]
    places = ", ".join(f"{f} ({top.index(f) + 1}.)" for f in found)
    message = (
        f"top {len(top)} of {importances.model} by permutation importance "
        f"({importances.score} when shuffled, {importances.rows:,} rows): {importances.shown(top)}"
    )
    if found:
        message += f"; sensitive: {places}"
    fed = [f for f in config.sensitive if f in importances.drops]
    if not fed:
        message += "; no sensitive column is a feature of the model"
    return Measurement(
        value=float(len(found)),
        message=message,
        details={"top": top, "sensitive_found": found},
    )


def rank_correlation(
    candidate: Importances, baseline: Importances, config: FairnessConfig
) -> Measurement:
    """Spearman correlation of both models' importances over their top ``k`` features."""
    from scipy.stats import spearmanr

    union = sorted(set(candidate.ranked()[: config.top_k]) | set(baseline.ranked()[: config.top_k]))
    if len(union) < 3:
        return Measurement(
            status=Status.INCONCLUSIVE,
            message=f"{len(union)} feature(s) in both models' top {config.top_k}: too few to rank",
        )
    first = [candidate.drops.get(f, (0.0, 0.0))[0] for f in union]
    second = [baseline.drops.get(f, (0.0, 0.0))[0] for f in union]
    if len(set(first)) < 2 or len(set(second)) < 2:
        return Measurement(
            status=Status.INCONCLUSIVE,
            message="a model's importances are all equal over the top features: no ranking",
        )
    value = float(spearmanr(first, second).statistic)
    top = config.top_k
    message = (
        f"over {len(union)} features; candidate top {top}: "
        f"{candidate.shown(candidate.ranked()[:top])}; baseline top {top}: "
        f"{baseline.shown(baseline.ranked()[:top])}"
    )
    return Measurement(value=value, message=message, details={"features": union})


__all__ = ["Importances", "permutation_importances", "rank_correlation", "sensitive_in_top_k"]
