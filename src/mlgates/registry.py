"""Which stages exist and where they live; each is imported only when a config needs it.

Built-in stages are listed here by module path. Other packages add stages through
the ``mlgates.stages`` entry-point group, the way pytest finds plugins::

    [project.entry-points."mlgates.stages"]
    latency = "my_package.latency:LatencyStage"

The entry point names the stage (its config table) and points at a class with
no required constructor arguments, or at a ready stage object, implementing
:class:`mlgates.authoring.Stage`.
"""

from __future__ import annotations

import functools
import importlib
from importlib import metadata
from typing import TYPE_CHECKING

from mlgates.core import ConfigError
from mlgates.text import did_you_mean

if TYPE_CHECKING:
    from collections.abc import Mapping
    from typing import Any

    from mlgates.authoring import Stage
    from mlgates.tables import MetricInfo

ENTRY_POINT_GROUP = "mlgates.stages"
BUILTIN_STAGES = {
    "data": "mlgates.stages.data:DataStage",
    "performance": "mlgates.stages.performance:PerformanceStage",
    "operational": "mlgates.stages.operational:OperationalStage",
    "fairness": "mlgates.stages.fairness:FairnessStage",
}
"""Built-in stages in run order: name -> ``module:attribute``."""


@functools.cache
def _locations() -> dict[str, tuple[str, str]]:
    """Stage name -> (``module:attribute``, who provides it), built-ins first."""
    found = {name: (target, "mlgates") for name, target in BUILTIN_STAGES.items()}
    plugins = sorted(metadata.entry_points(group=ENTRY_POINT_GROUP), key=lambda ep: ep.name)
    for entry in plugins:
        if entry.name not in found:
            provider = entry.dist.name if entry.dist is not None else "an installed package"
            found[entry.name] = (entry.value, provider)
    return found


def stage_names() -> list[str]:
    """Every known stage name, in run order (built-ins, then plugins by name)."""
    return list(_locations())


@functools.cache
def get_stage(name: str) -> Stage:
    """The stage called ``name``, imported on first use.

    Raises :class:`ConfigError` for an unknown name or a plugin that fails to load.
    """
    locations = _locations()
    if name not in locations:
        known = ", ".join(locations)
        raise ConfigError(f"unknown stage {name!r}{did_you_mean(name, locations)}; stages: {known}")
    target, provider = locations[name]
    module_name, _, attribute = target.partition(":")
    try:
        found: object = importlib.import_module(module_name)
        for part in attribute.split(".") if attribute else ():
            found = getattr(found, part)
        stage = found() if isinstance(found, type) else found
    except Exception as exc:
        raise ConfigError(
            f"stage {name!r} from {provider} ({target}) failed to load: {type(exc).__name__}: {exc}"
        ) from None
    for needed in ("name", "metrics", "parse_config", "override", "plan", "measure"):
        if not hasattr(stage, needed):
            raise ConfigError(
                f"stage {name!r} from {provider} ({target}) is not a stage: it has no {needed!r}"
            )
    return stage  # type: ignore[return-value]


def configured_metrics(stage: Stage, config: Any) -> Mapping[str, MetricInfo]:
    """The metrics a configured stage knows: its built-in ones plus any its config
    defines (the performance stage's user metrics), through an optional
    ``metrics_for(config)`` method."""
    extend = getattr(stage, "metrics_for", None)
    return stage.metrics if extend is None else extend(config)
