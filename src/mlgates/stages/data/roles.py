"""Column roles: what a column is, and which of the data gate's checks follow from it.

``mlgates init`` classifies each column (:func:`mlgates.stats.columns.classify_column`)
and writes its choice to ``[data.roles]``; a user changes a column's checks by
changing its role there. A column without a role is profiled by its dtype
(numbers as numbers, everything else as labels) and gets every check.

==============  ==================================================================
role            checks
==============  ==================================================================
``identifier``  no drift, no ``out_of_range``: new rows bring new values
``datetime``    no drift, no ``out_of_range``: time moves on; ``stale`` (the batch
                is not older than the reference); ISO text parsed as dates;
                ``freshness`` fits
``text``        drift and ``out_of_range`` of the text's length; blank text
                counts as missing
``code``        label shares and new labels, like a category
``category``    label shares (frequent labels and the rest) and new labels
``flag``        label shares and new labels
``number``      distribution drift and values beyond the reference's range
==============  ==================================================================
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, get_args

from mlgates.stats.columns import Role

if TYPE_CHECKING:
    from mlgates.stats.profile import ProfileKind

__all__ = ["ROLES", "VALUES_EXPECTED_NEW", "profile_kinds"]

ROLES: tuple[str, ...] = tuple(role for role in get_args(Role) if role != "nested")
"""Roles a config may give a column (nested columns are listed in ``exclude``)."""

VALUES_EXPECTED_NEW = frozenset({"identifier", "datetime"})
"""Roles whose values are new in every batch: drift and ``out_of_range`` do not apply."""

_PROFILE_KIND: Mapping[str, ProfileKind] = {
    "text": "text",
    "datetime": "datetime",
    "code": "categorical",
    "category": "categorical",
    "flag": "categorical",
    "number": "numeric",
}


def profile_kinds(roles: Mapping[str, str]) -> dict[str, ProfileKind]:
    """How each column with a role is profiled; the others follow their dtype."""
    return {column: _PROFILE_KIND[role] for column, role in roles.items() if role in _PROFILE_KIND}
