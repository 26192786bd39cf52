"""One measurement pass of the data gate: profiles, schema, drift, missing values, GX suites.

The reference is profiled once (or read from the cache), the current data is
summarised on the reference's bins, and every check reads those summaries. A
column that cannot be summarised (its type changed, it holds lists) fails or
skips its own checks with the reason; the other columns are judged as usual.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from mlgates.authoring import IntervalOf, Measurement, PlannedCheck, interval_needed, reading
from mlgates.core import ConfigError, InputError, MlgatesError, Status, check_id
from mlgates.stages.data.planning import COLUMNS_CHECK, SCHEMA_CHECK, TYPES_CHECK, load_schema
from mlgates.stages.data.reference import reference_profile
from mlgates.stages.data.settings import STAGE, DataConfig
from mlgates.thresholds import Anchor

if TYPE_CHECKING:
    import pandas as pd

    from mlgates.context import Context
    from mlgates.stages.data.pii import ColumnScan
    from mlgates.stages.data.streamed import StreamedCurrent
    from mlgates.stats.drift import DriftAssessment
    from mlgates.stats.novelty import NoveltyAssessment
    from mlgates.stats.profile import ColumnProfile, DatasetProfile, NumericProfile, ProfileKind
    from mlgates.stats.staleness import StalenessAssessment


class DataRun:
    """The state of one measurement pass: profiles, drift results, GX outcomes."""

    def __init__(
        self, config: DataConfig, context: Context, current: pd.DataFrame | None = None
    ) -> None:
        self.config = config
        self.context = context
        self._current = current
        self._streamed: StreamedCurrent | None = None
        self._stream_decided = False
        self._reference: DatasetProfile | None = None
        self._current_profile: DatasetProfile | None = None
        self._drift: dict[str, DriftAssessment | Measurement] | None = None
        self._distributions: dict[str, dict[str, Any]] = {}
        self._expectations: dict[str, Measurement] | None = None
        self._type_changes: dict[str, str] | None = None

    @property
    def reference(self) -> DatasetProfile:
        """The reference profile (stored, cached or computed)."""
        if self._reference is None:
            with reading("data.reference"):
                self._reference = reference_profile(self.config, self.context)
        return self._reference

    @property
    def current(self) -> pd.DataFrame:
        """The current data, loaded when a check first needs it."""
        if self._current is None:
            with reading("data.current"):
                self._current = self.context.frame(self.config.current)
        return self._current

    def load_current(self) -> None:
        """Read the current data whole, or summarise it batch by batch when it is large."""
        if self.streamed is None:
            self.current  # noqa: B018 - loads the frame

    @property
    def streamed(self) -> StreamedCurrent | None:
        """Large current data summarised batch by batch (see :mod:`.streamed`), or None."""
        from mlgates.stages.data.streamed import stream_current, streams_current

        if not self._stream_decided:
            self._stream_decided = True
            with reading("data.current"):
                if self._current is None and streams_current(self.config):
                    budget = self.config.pii.budget
                    self._streamed = stream_current(
                        self.config, self.context, self.reference, sample_rows=budget
                    )
        return self._streamed

    @property
    def _typed(self) -> pd.DataFrame:
        """A frame with the current data's columns and types: the first batch when streamed."""
        streamed = self.streamed
        return streamed.head if streamed is not None and streamed.head is not None else self.current

    @property
    def current_profile(self) -> DatasetProfile:
        """The current data summarised on the reference's bins (or on its own)."""
        if self._current_profile is None:
            from mlgates.stats.profile import profile_dataset, profile_dataset_against

            streamed = self.streamed
            if streamed is not None and streamed.profile is not None:
                self._current_profile = streamed.profile
            elif self.config.reference is not None:
                self._current_profile = profile_dataset_against(self.reference, self.current)
            else:
                self._current_profile = profile_dataset(
                    self.current, bins=self.config.bins, kinds=self._kinds(self.current)
                )
        return self._current_profile

    def _kinds(self, frame: pd.DataFrame) -> dict[str, ProfileKind]:
        from mlgates.stages.data.roles import profile_kinds

        present = {str(c) for c in frame.columns}
        return {n: k for n, k in profile_kinds(self.config.roles).items() if n in present}

    def measure_all(self, plan: Sequence[PlannedCheck]) -> dict[str, Measurement]:
        """One measurement per planned check, keyed by id, plus the members of families."""
        measured = {check.id: self.measure(check, plan) for check in plan}
        for check in plan:
            if check.metric == "pii" and check.family:
                measured.update(self._pii_members(check))
        return measured

    def measure(self, check: PlannedCheck, plan: Sequence[PlannedCheck]) -> Measurement:
        """The measurement of one check; a problem with it fails that check alone."""
        try:
            if check.metric == COLUMNS_CHECK:
                return self._columns()
            if check.metric == SCHEMA_CHECK:
                return self._schema(plan)
            if check.metric == TYPES_CHECK:
                return self._types()
            if check.metric == "stale":
                return self._stale(check, plan)
            if check.metric == "out_of_range":
                return self._out_of_range(check, plan)
            if check.metric == "pii" and check.family:
                return self._pii_family()
            if check.metric == "drift":
                return self._drift_measurement(check, plan)
            if check.metric == "drift_share":
                return self._drift_share(plan)
            if check.metric == "missing_share":
                return self._missing_share(check)
            if check.metric == "row_count":
                return self._row_count()
            if check.metric == "freshness":
                return self._freshness(check)
            return self._expectation(check)
        except (InputError, ConfigError):
            raise  # an unreadable file or a config that does not fit the data: exit 2
        except MlgatesError as exc:
            return Measurement(status=Status.ERROR, message=str(exc))

    # -- columns and schema ----------------------------------------------------------

    def _columns(self) -> Measurement:
        reference_columns = list(self.reference.columns) + list(self.reference.unprofiled)
        present = {str(c) for c in self._typed.columns}
        missing = [c for c in reference_columns if c not in present]
        if missing:
            shown = ", ".join(missing[:10]) + (" ..." if len(missing) > 10 else "")
            return Measurement(
                value=float(len(missing)),
                status=Status.FAIL,
                message=f"{len(missing)} reference column(s) missing from current data: {shown}",
                details={"missing": missing},
            )
        return Measurement(
            value=0.0,
            status=Status.PASS,
            message=f"all {len(reference_columns)} reference columns present",
        )

    def _schema(self, plan: Sequence[PlannedCheck]) -> Measurement:
        from mlgates.stages.data.schema import validate_frame

        assert self.config.schema is not None
        report = validate_frame(self.current, load_schema(self.config.schema, self.context))  # type: ignore[arg-type]
        moved: list[str] = []
        if any(check.metric == TYPES_CHECK for check in plan):
            changed = self.type_changes
            moved = sorted({f.column for f in report.failures if f.column in changed})
            kept = tuple(f for f in report.failures if f.column not in changed)
            report = replace(report, failures=kept)
        moved_note = f"; type changes reported by {TYPES_CHECK}: {', '.join(moved[:10])}"
        moved_note = moved_note if moved else ""
        details: dict[str, Any] = {
            "failures": [
                {
                    "column": f.column,
                    "check": f.check,
                    "count": f.failure_count,
                    "examples": list(f.examples),
                }
                for f in report.failures
            ],
            "extra_columns": list(report.extra_columns),
        }
        if report.ok:
            note = ""
            if report.extra_columns:
                note = f"; not in the schema: {', '.join(report.extra_columns[:10])}"
            return Measurement(
                value=0.0,
                status=Status.PASS,
                method="pandera",
                message=f"{report.rows} rows match the schema{note}{moved_note}",
                details=details,
            )
        return Measurement(
            value=float(len(report.failures)),
            status=Status.FAIL,
            method="pandera",
            message=report.summary() + moved_note,
            details=details,
        )

    # -- types -----------------------------------------------------------------------

    @property
    def type_changes(self) -> dict[str, str]:
        """Columns whose type family changed since the reference, with a description."""
        if self._type_changes is None:
            self._type_changes = self._find_type_changes()
        return self._type_changes

    def _find_type_changes(self) -> dict[str, str]:
        from mlgates.stats.columns import compatible_families, type_family
        from mlgates.text import shorten

        changes = {}
        frame = self._typed
        present = {str(c): c for c in frame.columns}
        for name, profile in self.reference.columns.items():
            if name not in present or not profile.family:
                continue
            values = frame[present[name]]
            if values.ndim != 1:
                continue
            family = type_family(values)
            if compatible_families(profile.family, family, values):
                continue
            examples = ", ".join(
                repr(shorten(str(v), 30)) for v in values.dropna().unique()[:3].tolist()
            )
            changes[name] = (
                f"was {profile.family} ({profile.dtype}), now {family or 'empty'} "
                f"({values.dtype})" + (f", e.g. {examples}" if examples else "")
            )
        return changes

    def _types(self) -> Measurement:
        changes = self.type_changes
        if not changes:
            return Measurement(
                value=0.0,
                status=Status.PASS,
                message=f"all {len(self.reference.columns)} profiled columns keep their type",
            )
        shown = "; ".join(f"{name}: {why}" for name, why in list(changes.items())[:5])
        more = f"; +{len(changes) - 5} more" if len(changes) > 5 else ""
        return Measurement(
            value=float(len(changes)),
            status=Status.FAIL,
            message=f"{len(changes)} column(s) changed type: {shown}{more}",
            details={"changed": dict(changes)},
        )

    def _summaries(self, column: str) -> tuple[ColumnProfile, ColumnProfile] | Measurement:
        """The reference and current summaries of ``column``, or why there are none."""
        reference, current = self.reference, self.current_profile
        if column in reference.unprofiled:
            return Measurement(
                status=Status.SKIPPED, message=f"{column}: {reference.unprofiled[column]}"
            )
        if column in self.type_changes:
            return Measurement(
                status=Status.SKIPPED,
                message=f"{column}: type changed ({self.type_changes[column]}); see {TYPES_CHECK}",
            )
        if column in current.unprofiled:
            return Measurement(
                value=1.0,
                status=Status.FAIL,
                message=f"{column}: the current data {current.unprofiled[column]}",
            )
        ref, cur = reference.columns.get(column), current.columns.get(column)
        if ref is None or cur is None:
            where = "reference" if ref is None else "current data"
            return Measurement(
                status=Status.ERROR, message=f"column {column!r} is not in the {where}"
            )
        self._check_role_fits(column, ref)
        return ref, cur

    def _check_role_fits(self, column: str, profile: ColumnProfile) -> None:
        """A stored reference profile must summarise a column as its role asks."""
        from mlgates.stages.data.roles import profile_kinds
        from mlgates.stats.summaries import NumericProfile

        wanted = profile_kinds(self.config.roles).get(column)
        if wanted is None:
            return
        if isinstance(profile, NumericProfile):
            found = {"length": "text", "time": "datetime"}.get(profile.of, "numeric")
        else:
            found = "categorical"
        if found != wanted:
            role = self.config.roles[column]
            raise ConfigError(
                f"the reference profile summarises {column!r} as {found}, but its role "
                f"{role!r} needs it {wanted}: write the profile again with "
                f"'mlgates profile --config <this config>', or change the role",
                key=f"data.roles.{column}",
            )

    # -- values the reference never saw ----------------------------------------------

    def _out_of_range(self, check: PlannedCheck, plan: Sequence[PlannedCheck]) -> Measurement:
        from mlgates.stats.novelty import DEFAULT_THRESHOLD, assess_labels, assess_range
        from mlgates.stats.summaries import NumericProfile

        column = check.selector
        assert column is not None
        pair = self._summaries(column)
        if isinstance(pair, Measurement):
            return pair
        ref, cur = pair
        alpha = self._level(plan, "out_of_range")
        threshold = check.threshold.value if check.threshold is not None else DEFAULT_THRESHOLD
        if isinstance(ref, NumericProfile):
            assert isinstance(cur, NumericProfile)
            result = assess_range(ref, cur, alpha=alpha, threshold=threshold)
            where = f"beyond the reference's range [{_range_text(ref)}]"
            if ref.of == "length":
                where = f"of a text length beyond the reference's [{_range_text(ref)}] characters"
            method = "beta-binomial"
        else:
            assert not isinstance(cur, NumericProfile)
            result = assess_labels(ref, cur, alpha=alpha, threshold=threshold)
            seen = "labels" if ref.kept_from == 1 else f"{len(ref.categories)} most frequent labels"
            where = f"outside the reference's {seen}"
            method = "good-turing"
        return novelty_measurement(column, result, where, method)

    def _stale(self, check: PlannedCheck, plan: Sequence[PlannedCheck]) -> Measurement:
        from mlgates.stats.staleness import DEFAULT_THRESHOLD, assess_staleness
        from mlgates.stats.summaries import NumericProfile

        column = check.selector
        assert column is not None
        pair = self._summaries(column)
        if isinstance(pair, Measurement):
            return pair
        ref, cur = pair
        if not (isinstance(ref, NumericProfile) and isinstance(cur, NumericProfile)) or not (
            ref.temporal
        ):
            raise ConfigError(
                f"a stale check needs dates, but {column!r} is summarised as "
                f"{'numbers' if isinstance(ref, NumericProfile) else 'labels'} "
                f"({ref.dtype}): give it the role 'datetime' if it holds dates, or drop the check",
                key=f"data.columns.{column}.stale",
            )
        if ref.of == "time" and ref.count == 0 and ref.null_count:
            raise ConfigError(
                f"{column!r} has the role 'datetime' but none of its reference values reads as "
                "a date (ISO 8601 such as 2024-03-01 or 2024-03-01T12:00Z): change its role",
                key=f"data.roles.{column}",
            )
        if cur.count == 0:
            return Measurement(
                status=Status.INCONCLUSIVE, message=f"{column}: no date in the current data"
            )
        threshold = check.threshold.value if check.threshold is not None else DEFAULT_THRESHOLD
        result = assess_staleness(ref, cur, alpha=self._level(plan, "stale"), threshold=threshold)
        return stale_measurement(column, result, temporal=ref.temporal)

    def _level(self, plan: Sequence[PlannedCheck], metric: str) -> float:
        """The level of one of the plan's ``metric`` checks: the family-wise error split evenly."""
        family = sum(1 for check in plan if check.metric == metric)
        return (1.0 - self.config.drift_confidence) / max(family, 1)

    # -- personal data ---------------------------------------------------------------

    def _text_columns(self) -> list[str]:
        from mlgates.stats.columns import type_family

        found = []
        frame = self._typed
        for label in frame.columns:
            values = frame[label]
            if self.config.roles.get(str(label)) == "datetime":
                continue  # dates stored as text hold no personal data to find
            if values.ndim == 1 and type_family(values) == "text":
                found.append(str(label))
        return found

    def _pii_family(self) -> Measurement:
        columns = self._text_columns()
        if not columns:
            return Measurement(status=Status.PASS, message="no text column to scan")
        return Measurement(
            status=Status.PASS, message=f"{len(columns)} text column(s) scanned", value=0.0
        )

    def _pii_members(self, family: PlannedCheck) -> dict[str, Measurement]:
        from mlgates.stages.data.pii import scan_column

        settings = self.config.pii
        kinds, budget = settings.kinds, settings.budget
        streamed = self.streamed
        members = {}
        for column in self._text_columns():
            member = self._pii_member(family, column)
            if streamed is not None:  # a uniform sample of rows of the whole column
                values, total = streamed.sample(column), streamed.present.get(column, 0)
            else:
                values, total = self.current[{str(c): c for c in self.current}[column]], None
            scan = scan_column(values, kinds=kinds, budget=budget, total=total)
            members[member.id] = pii_measurement(
                member, column, scan, allowed=settings.allow.get(column, ())
            )
        return members

    def _pii_member(self, family: PlannedCheck, column: str) -> PlannedCheck:
        specs = [
            spec
            for spec in (*self.config.checks, *self.config.column(column).checks)
            if spec.metric == "pii" and spec.threshold.selector == column
        ]
        if specs:
            return PlannedCheck.from_spec(STAGE, specs[-1])
        return family.member(column)

    # -- drift -----------------------------------------------------------------------

    def _drift_all(self, plan: Sequence[PlannedCheck]) -> dict[str, DriftAssessment | Measurement]:
        """Drift of every planned column, with the family-wise error split between them."""
        if self._drift is not None:
            return self._drift
        checks = [c for c in plan if c.metric == "drift" and c.selector is not None]
        alpha = (1.0 - self.config.drift_confidence) / max(len(checks), 1)
        self._drift = {
            check.selector: self._drift_column(check, alpha)  # type: ignore[misc]
            for check in checks
        }
        return self._drift

    def _drift_column(self, check: PlannedCheck, alpha: float) -> DriftAssessment | Measurement:
        from mlgates.stats.distribution import distribution_view
        from mlgates.stats.drift import (
            DEFAULT_THRESHOLDS,
            assess_drift,
            default_method,
            methods_for,
        )

        column = check.selector
        assert column is not None
        pair = self._summaries(column)
        if isinstance(pair, Measurement):
            return pair
        ref, cur = pair
        view = distribution_view(ref, cur)
        if view is not None:
            self._distributions[column] = view
        method = self.config.column(column).method
        fitting = methods_for(ref)
        if method is not None and method not in fitting:
            raise ConfigError(
                f"{method!r} does not apply to the {ref.kind} column {column!r}; "
                f"use one of {', '.join(fitting)}",
                key=f"data.columns.{column}.method",
            )
        if method is None and self.config.drift_method in fitting:  # forced where it applies
            method = self.config.drift_method
        method = method or default_method(ref)
        threshold = (
            check.threshold.value if check.threshold is not None else DEFAULT_THRESHOLDS[method]
        )
        smallest = min(ref.count, cur.count)
        if smallest < self.config.min_rows:
            side = "reference" if ref.count < cur.count else "current data"
            return Measurement(
                status=Status.INCONCLUSIVE,
                method=method,
                bound=threshold,
                message=(
                    f"only {smallest} non-missing values in the {side} of {column!r}; "
                    f"drift needs at least min_rows = {self.config.min_rows}"
                ),
                details={} if view is None else {"distribution": view},
            )
        try:
            return assess_drift(ref, cur, method=method, threshold=threshold, alpha=alpha)
        except ValueError as exc:
            return Measurement(status=Status.ERROR, message=f"{column}: {exc}")

    def _drift_measurement(self, check: PlannedCheck, plan: Sequence[PlannedCheck]) -> Measurement:
        assert check.selector is not None
        result = self._drift_all(plan)[check.selector]
        if isinstance(result, Measurement):
            return result
        label = check.selector
        if self.config.roles.get(label) == "text":
            label = f"{label} (text length)"
        return drift_measurement(
            label, result, distribution=self._distributions.get(check.selector)
        )

    def _drift_share(self, plan: Sequence[PlannedCheck]) -> Measurement:
        results = self._drift_all(plan)
        decided = {c: r for c, r in results.items() if not isinstance(r, Measurement)}
        changed = sorted(
            c for c, r in results.items() if isinstance(r, Measurement) and r.status is Status.FAIL
        )
        if not results:
            return Measurement(status=Status.INCONCLUSIVE, message="no column is checked for drift")
        if not decided and not changed:
            return Measurement(
                status=Status.INCONCLUSIVE, message="no column had enough rows to decide drift"
            )
        drifted = sorted([c for c, r in decided.items() if r.drifted] + changed)
        total = len(decided) + len(changed)
        share = len(drifted) / total
        names = f": {', '.join(drifted[:10])}" if drifted else ""
        undecided = len(results) - total
        note = f" ({undecided} undecided)" if undecided else ""
        return Measurement(
            value=share,
            message=f"{len(drifted)} of {total} columns drifted{names}{note}",
            details={"drifted": drifted},
        )

    # -- missing values and rows -----------------------------------------------------

    def _null_counts(
        self, profile: DatasetProfile, frame: pd.DataFrame | None, column: str
    ) -> tuple[int, int] | None:
        """(missing, total) of a column, from its summary or, if it has none, the frame."""
        summary = profile.columns.get(column)
        if summary is not None:
            return summary.null_count, summary.count + summary.null_count
        if frame is not None and column in frame.columns:
            values = frame[column]
            return int(values.isna().sum()), len(values)
        return None

    def _missing_share(self, check: PlannedCheck) -> Measurement:
        column = check.selector
        assert column is not None
        streamed = self.streamed
        frame = self.current if streamed is None else None
        counts = self._null_counts(self.current_profile, frame, column)
        if counts is None and streamed is not None and column in streamed.nulls:
            counts = streamed.nulls[column], self.current_profile.row_count  # no summary
        if counts is None:
            return Measurement(
                status=Status.ERROR, message=f"column {column!r} not in current data"
            )
        missing, total = counts
        if total == 0:
            return Measurement(status=Status.INCONCLUSIVE, message="the current data has no rows")
        threshold = check.threshold
        anchor_counts = None
        if threshold is not None and threshold.anchor is Anchor.REFERENCE:
            if column in self.reference.unprofiled:
                reason = self.reference.unprofiled[column]
                message = f"{column}: the reference has no summary to compare with ({reason})"
                return Measurement(status=Status.SKIPPED, message=message)
            anchor_counts = self._null_counts(self.reference, None, column)
            if anchor_counts is None or anchor_counts[1] == 0:
                return Measurement(
                    status=Status.ERROR, message=f"column {column!r} has no reference values"
                )
        share = missing / total
        anchor = None if anchor_counts is None else anchor_counts[0] / anchor_counts[1]
        interval, interval_of, level = None, None, None
        if threshold is not None and threshold.confidence is not None:
            from mlgates.stats.proportions import newcombe_bounds, wilson_bounds

            level = threshold.confidence
            interval_of = interval_needed(threshold)
            if interval_of is IntervalOf.DIFFERENCE and anchor_counts is not None:
                interval = newcombe_bounds(missing, total, *anchor_counts, level)
            elif interval_of is IntervalOf.VALUE:
                interval = wilson_bounds(missing, total, level)
        return Measurement(
            value=share,
            anchor_value=anchor,
            interval=interval,
            interval_of=interval_of,
            level=level,
            method="wilson"
            if interval_of is IntervalOf.VALUE
            else "newcombe"
            if interval
            else None,
            message=f"{missing} of {total} missing in {column!r}",
        )

    def _row_count(self) -> Measurement:
        anchor = float(self.reference.row_count) if self.config.reference is not None else None
        streamed = self.streamed
        rows = self.current_profile.row_count if streamed is not None else len(self.current)
        return Measurement(value=float(rows), anchor_value=anchor, message=f"{rows} rows")

    def _freshness(self, check: PlannedCheck) -> Measurement:
        from mlgates.stages.data.freshness import measure_freshness

        by_label = {str(c): c for c in self.current.columns}
        values = self.current[by_label[check.selector or ""]]
        return measure_freshness(values, check, now=self.context.now)

    # -- Great Expectations ----------------------------------------------------------

    def _expectation(self, check: PlannedCheck) -> Measurement:
        if self._expectations is None:
            self._expectations = self._run_expectations()
        found = self._expectations.get(check.id)
        if found is None:
            return Measurement(status=Status.ERROR, message=f"no expectation result for {check.id}")
        return found

    def _run_expectations(self) -> dict[str, Measurement]:
        from mlgates.stages.data.gx_suite import load_suite, run_suite, suite_check_names

        assert self.config.expectations is not None
        path = self.config.expectations
        self.context.file_hash(path)
        suite = load_suite(path)
        outcomes = run_suite(self.current, suite, suite_name=path.stem)
        measured = {}
        for name, outcome in zip(suite_check_names(suite), outcomes, strict=True):
            metric, _, rest = name.partition("[")
            status = Status.PASS if outcome.success else Status.FAIL
            if outcome.exception:
                status = Status.ERROR
            measured[check_id(STAGE, metric, rest[:-1] if rest else None)] = Measurement(
                status=status,
                message=outcome.exception or outcome.observed,
                method="great_expectations",
                details={"kwargs": dict(outcome.kwargs)},
            )
        return measured


def drift_measurement(
    column: str, result: DriftAssessment, *, distribution: Mapping[str, Any] | None = None
) -> Measurement:
    """A drift assessment as a measurement, with a message that explains the decision.

    ``distribution`` (:func:`mlgates.stats.distribution.distribution_view`), when
    given, goes to the details for a report's chart.
    """
    sizes = f"n {result.n_reference} vs {result.n_current}"
    if result.distance_drifted:
        verdict = (
            f"{result.method} distance {result.distance:.3g} > {result.threshold:g} and "
            f"beyond sampling noise {result.noise_floor:.3g} ({sizes})"
        )
    elif result.distance > result.threshold:
        verdict = (
            f"{result.method} distance {result.distance:.3g} > {result.threshold:g} but "
            f"within sampling noise {result.noise_floor:.3g} ({sizes})"
        ) + ("" if result.share_changes else ": no evidence of drift")
    else:
        verdict = (
            f"{result.method} distance {result.distance:.3g} <= {result.threshold:g} ({sizes})"
        )
    changes = "; ".join(
        f"{label} {ref:.1%} -> {cur:.1%}" for label, ref, cur in result.top_changes[:2]
    )
    message = f"{column}: {verdict}" + (
        f"; largest change {changes}" if result.drifted and changes else ""
    )
    if result.share_changes:  # one category's share changed beyond chance and materially
        shares = ", ".join(change.describe() for change in result.share_changes[:3])
        more = len(result.share_changes) - 3
        shares += f" and {more} more" if more > 0 else ""
        message = f"{column}: category share changed {shares}; {verdict}"
    details: dict[str, Any] = {
        "noise_floor": result.noise_floor,
        "n_reference": result.n_reference,
        "n_current": result.n_current,
        "top_changes": [list(change) for change in result.top_changes],
        "share_changes": [
            [c.label, c.reference_share, c.current_share, c.p_value, c.level]
            for c in result.share_changes
        ],
    }
    if distribution is not None:
        details["distribution"] = dict(distribution)
    return Measurement(
        value=result.distance,
        bound=result.threshold,
        status=Status.FAIL if result.drifted else Status.PASS,
        method=result.method,
        message=message,
        details=details,
    )


def novelty_measurement(
    column: str, result: NoveltyAssessment, where: str, method: str
) -> Measurement:
    """A novelty assessment as a measurement whose message names the count, range and examples."""
    share = f"{result.count} of {result.n_current} values ({result.share:.2%}) {where}"
    chance = f"chance explains {result.expected:.3g} (n {result.n_reference})"
    examples = f"; e.g. {', '.join(result.examples[:3])}" if result.examples else ""
    if result.top is not None and result.flagged:
        label, times = result.top
        examples = f"; most frequent new value {label!r} x{times}" + (
            f", also {', '.join(repr(e) for e in result.examples[1:3])}"
            if len(result.examples) > 1
            else ""
        )
    if result.flagged:
        verdict = f"{share}; {chance}, p {result.p_value:.2g}{examples}"
    elif result.count:
        verdict = f"{share}; {chance}: no evidence of new values{examples}"
    else:
        verdict = f"no value {where}"
    return Measurement(
        value=result.share,
        bound=result.threshold,
        status=Status.FAIL if result.flagged else Status.PASS,
        method=method,
        message=f"{column}: {verdict}",
        details={
            "count": result.count,
            "expected": result.expected,
            "p_value": result.p_value,
            "n_reference": result.n_reference,
            "n_current": result.n_current,
        },
    )


def stale_measurement(column: str, result: StalenessAssessment, *, temporal: bool) -> Measurement:
    """A staleness assessment as a measurement naming both newest dates."""
    from mlgates.stats.novelty import format_value

    newest = format_value(result.current_newest, temporal)
    reference = format_value(result.reference_newest, temporal)
    if result.newer == 0:
        message = f"{column}: newest value {newest}, not older than the reference's ({reference})"
    else:
        share = (
            f"newest value {newest} is older than {result.newer} of {result.n_reference} "
            f"reference values ({result.share:.1%}; the reference's newest {reference})"
        )
        chance = f"chance p {result.p_value:.2g} for {result.n_current} current values"
        verdict = "data from an earlier period?" if result.flagged else "within chance"
        message = f"{column}: {share}; {chance}: {verdict}"
    return Measurement(
        value=result.share,
        bound=result.threshold,
        status=Status.FAIL if result.flagged else Status.PASS,
        method="order statistics",
        message=message,
        details={
            "newer": result.newer,
            "p_value": result.p_value,
            "n_reference": result.n_reference,
            "n_current": result.n_current,
        },
    )


def _range_text(profile: NumericProfile) -> str:
    from mlgates.stats.novelty import format_value

    low, high = (format_value(v, profile.temporal) for v in (profile.min, profile.max))
    return f"{low}, {high}"


def pii_measurement(
    check: PlannedCheck, column: str, scan: ColumnScan, *, allowed: Sequence[str]
) -> Measurement:
    """A column's scan as a measurement: fails on a kind the column may not hold."""
    bound = check.threshold.value if check.threshold is not None else 0.0
    flagged = [f for f in scan.findings if f.kind not in allowed]
    rows = max((f.rows for f in flagged), default=0)
    share = rows / scan.rows_total if scan.rows_total else 0.0
    failed = bool(flagged) and share > bound
    found = "; ".join(f.describe() for f in flagged)
    tolerated = [f"{f.kind} ({f.rows:,} rows, allowed)" for f in scan.findings if f.kind in allowed]
    scope = scan.describe().split(". ", 1)[0]
    if flagged:
        message = f"{column}: personal data: {found}"
    else:
        message = f"{column}: no personal data of a kind it may not hold"
    if tolerated:
        message += f"; {', '.join(tolerated)}"
    return Measurement(
        value=share,
        bound=bound,
        status=Status.FAIL if failed else Status.PASS,
        method="pii scan",
        message=f"{message} ({scope})",
        details={
            "rows_scanned": scan.rows_scanned,
            "rows_total": scan.rows_total,
            "findings": [
                {
                    "kind": f.kind,
                    "rows": f.rows,
                    "examples": list(f.examples),
                    "allowed": f.kind in allowed,
                }
                for f in scan.findings
            ],
        },
        check=check,
    )
