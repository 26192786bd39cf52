"""One run of the fairness gate: the group checks, then importance and proxies."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import TYPE_CHECKING

from mlgates.authoring import Measurement, PlannedCheck, reading
from mlgates.core import Status
from mlgates.stages.fairness.explaining import (
    permutation_importances,
    rank_correlation,
    sensitive_in_top_k,
)
from mlgates.stages.fairness.measuring import FairnessRun
from mlgates.stages.fairness.proxies import PROXY_MIN_GROUP, proxy_strength, sample_rows
from mlgates.stages.fairness.settings import (
    MEASURED_ONCE,
    PROXY_AUC,
    SENSITIVE_IN_TOP_K,
    FairnessConfig,
)
from mlgates.text import format_number

if TYPE_CHECKING:
    from mlgates.context import Context


def measure_fairness(
    config: FairnessConfig, plan: Sequence[PlannedCheck], context: Context
) -> dict[str, Measurement]:
    """Every planned fairness check, measured."""
    with reading(config.data_key):
        run = FairnessRun(config, context)
    groups = [c for c in plan if c.metric not in MEASURED_ONCE and c.metric != PROXY_AUC]
    measured = run.measure(groups)
    explaining = [c for c in plan if c.metric in MEASURED_ONCE]
    if explaining:
        measured.update(_explain(run, explaining))
    proxies = [c for c in plan if c.metric == PROXY_AUC]
    if proxies:
        measured.update(_proxies(run, proxies))
    return measured


def _explain(run: FairnessRun, checks: Sequence[PlannedCheck]) -> dict[str, Measurement]:
    evaluation, config = run.evaluation, run.config
    candidate = run.context.memo(
        ("fairness-importance", "candidate", id(evaluation), config.importance, config.seed),
        lambda: permutation_importances(
            evaluation.models[0], evaluation.candidate, evaluation, config
        ),
    )
    measured = {}
    for check in checks:
        if check.metric == SENSITIVE_IN_TOP_K:
            measured[check.id] = sensitive_in_top_k(candidate, config)
            continue
        baseline = run.context.memo(
            ("fairness-importance", "baseline", id(evaluation), config.importance, config.seed),
            lambda: permutation_importances(
                evaluation.models[1], evaluation.baseline, evaluation, config
            ),
        )
        measured[check.id] = rank_correlation(candidate, baseline, config)
    return measured


def _proxies(run: FairnessRun, checks: Sequence[PlannedCheck]) -> dict[str, Measurement]:
    evaluation, config = run.evaluation, run.config
    features = [f for f in evaluation.candidate.features if f not in config.sensitive]
    single = [g for g in run.groupings if g.name in config.sensitive]
    sample, fold = sample_rows(evaluation.rows, config.proxy_rows, config.seed)
    found = {}
    for feature in features:
        found[feature] = proxy_strength(
            evaluation.frame[feature],
            single,
            sample,
            fold,
            max(config.min_group_size, PROXY_MIN_GROUP),
            feature,
        )
    measured = {}
    for check in checks:
        explicit = {c.selector for c in checks if not c.family and c.variant == check.variant}
        if check.family:
            members = [f for f in features if f not in explicit]
        else:
            members = [check.selector] if check.selector else []
        for feature in members:
            member = check.member(feature) if check.family else check
            proxy = found.get(feature)
            if proxy is None:
                shown = ", ".join(features[:20])
                measurement = Measurement(
                    status=Status.INCONCLUSIVE,
                    message=f"{feature!r} is not a feature of the candidate; its features: {shown}",
                )
            elif proxy.group is None:
                measurement = Measurement(
                    status=Status.INCONCLUSIVE,
                    message=f"{feature}: no group has "
                    f"{max(config.min_group_size, PROXY_MIN_GROUP)} rows in it and out of it in "
                    "the sample: nothing to test",
                )
            else:
                measurement = Measurement(
                    value=proxy.auc,
                    message=(
                        f"{feature} alone predicts {proxy.group} with ROC AUC "
                        f"{format_number(proxy.auc, 3)} (out of fold, {proxy.rows:,} rows)"
                    ),
                    details={"group": proxy.group, "rows": proxy.rows},
                )
            if check.family:
                measurement = replace(measurement, check=member)
            measured[member.id] = measurement
    return measured


__all__ = ["measure_fairness"]
