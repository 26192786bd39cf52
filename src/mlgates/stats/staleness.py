"""Whether a batch of dates is older than the reference: last period's data sent again.

New data is newer than the data a model was trained on, or, for a random sample
of the same period, as new: when reference and current values are exchangeable,
the chance that the ``r`` newest values of both samples together all belong to
the reference is ``prod_{i<r} (n - i) / (n + m - i)`` (``n`` reference and ``m``
current values). A batch whose newest value is older than a larger share of the
reference than that chance explains comes from an earlier period.

The count ``r`` of reference values newer than the batch's newest is read from
the reference profile's quantile bins (linear within the bin that holds it), so
no reference row is needed.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from mlgates.stats.summaries import NumericProfile

__all__ = ["DEFAULT_THRESHOLD", "StalenessAssessment", "assess_staleness", "newer_than"]

DEFAULT_THRESHOLD = 0.01
"""Share of the reference newer than the batch's newest value that blocks, if beyond chance."""


@dataclass(frozen=True)
class StalenessAssessment:
    """The batch's newest value against the reference.

    ``newer`` reference values (a share ``share`` of ``n_reference``) are newer
    than the batch's newest value ``current_newest``; ``p_value`` is the chance of
    that many or more for exchangeable samples. ``flagged`` when ``p_value`` is
    below the level asked for and ``share`` above ``threshold``.
    """

    newer: int
    n_reference: int
    n_current: int
    share: float
    p_value: float
    threshold: float
    flagged: bool
    current_newest: float
    reference_newest: float


def newer_than(profile: NumericProfile, value: float) -> float:
    """How many of the profiled values exceed ``value``, read from the quantile bins."""
    if profile.count == 0 or not math.isfinite(value) or value >= profile.max:
        return 0.0
    if value < profile.min:
        return float(profile.count)
    lows = (profile.min, *profile.edges)
    highs = (*profile.edges, profile.max)
    above = 0.0
    for low, high, count in zip(lows, highs, profile.counts, strict=True):
        if count == 0 or high <= value:
            continue
        if low >= value:
            above += count
        else:  # the bin holding ``value``: assume its values spread evenly
            above += count * (high - value) / (high - low)
    return above


def assess_staleness(
    reference: NumericProfile,
    current: NumericProfile,
    *,
    alpha: float,
    threshold: float = DEFAULT_THRESHOLD,
) -> StalenessAssessment:
    """Judge whether ``current``'s newest value is older than chance explains.

    Parameters
    ----------
    reference, current
        Profiles of one date-time column (values in nanoseconds since 1970).
    alpha
        The level: flagged only when the chance of as many newer reference
        values is below it.
    threshold
        The smallest share of the reference newer than the batch that is flagged.
    """
    n, m = reference.count, current.count
    newer = 0 if m == 0 else math.floor(newer_than(reference, current.max))
    p_value = 1.0
    if newer > 0:
        log_p = (
            math.lgamma(n + 1)
            - math.lgamma(n - newer + 1)
            - math.lgamma(n + m + 1)
            + math.lgamma(n + m - newer + 1)
        )
        p_value = math.exp(log_p)
    share = newer / n if n else 0.0
    flagged = p_value < alpha and share > threshold
    return StalenessAssessment(
        newer=newer,
        n_reference=n,
        n_current=m,
        share=share,
        p_value=p_value,
        threshold=threshold,
        flagged=flagged,
        current_newest=current.max,
        reference_newest=reference.max,
    )
