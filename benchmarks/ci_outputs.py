"""Benchmark of what a run hands to CI, run by hand: ``python benchmarks/ci_outputs.py``.

A synthetic record of N checks over four stages (``--sizes``, 5,000 and 50,000 by
default; a fifth of them failing, long messages with user strings to escape) is
rendered as the Markdown job summary (1 MiB budget), the pull-request comment
(65,000 bytes), JUnit XML and JSON, and its annotations are built. For each: the
median time of ``--repeats`` renderings and the size. The reference in the same
run is ``json.dumps`` of the record, the least any output costs.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from collections.abc import Callable

from mlgates.core import CheckResult, GateResult, Origin, RunRecord, Severity, Status
from mlgates.github.publish import RunOutcome, check_annotations
from mlgates.report import COMMENT_LIMIT, SUMMARY_LIMIT, render_junit, render_markdown

STAGES = ("data", "performance", "operational", "fairness")


def record(size: int) -> RunRecord:
    """``size`` checks, every fifth failing, with messages full of characters to escape."""
    gates = []
    for number, stage in enumerate(STAGES):
        checks = []
        for index in range(size // len(STAGES)):
            failing = index % 5 == 0
            checks.append(
                CheckResult(
                    stage=stage,
                    metric="drift",
                    selector=f"col_{number}_{index}|<b>@team</b>",
                    status=Status.FAIL if failing else Status.PASS,
                    blocking=failing,
                    severity=Severity.BLOCK,
                    value=0.1 + index * 1e-4,
                    bound=0.2,
                    interval=(0.05, 0.3),
                    level=0.95,
                    method="psi",
                    threshold="drift <= 0.2",
                    origin=Origin(file="mlgates.toml", line=12, key=f"{stage}.checks[0]"),
                    message=f"col_{index}: psi distance 0.{index} > 0.2; category 'a_b*c' "
                    "20.7% -> 39.5% [x](y) " + "detail " * 20,
                )
            )
        gates.append(GateResult(stage=stage, checks=tuple(checks), duration_s=1.0))
    return RunRecord(
        run_id="bench",
        started_at="2026-01-01T00:00:00Z",
        finished_at="2026-01-01T00:00:10Z",
        gates=tuple(gates),
        mlgates_version="bench",
        config_path="mlgates.toml",
    )


def timed(job: Callable[[], str], repeats: int) -> tuple[float, int]:
    """Median seconds of ``repeats`` calls, and the UTF-8 size of the output."""
    times, size = [], 0
    for _ in range(repeats):
        start = time.perf_counter()
        output = job()
        times.append(time.perf_counter() - start)
        size = len(output.encode())
    return statistics.median(times), size


def jobs_for(run: RunRecord) -> dict[str, Callable[[], str]]:
    """Each output of ``run``, as a function returning its text."""
    outcome = RunOutcome(exit_code=1, record=run)

    def annotations() -> str:
        shown, _ = check_annotations(outcome, config_file=None, workspace=None)
        return "\n".join(annotation.command() for annotation in shown)

    return {
        "json.dumps (reference)": lambda: json.dumps(run.to_dict()),
        "summary (1 MiB)": lambda: render_markdown(run, limit=SUMMARY_LIMIT),
        "comment (65,000 bytes)": lambda: render_markdown(run, limit=COMMENT_LIMIT),
        "junit xml": lambda: render_junit(run),
        "annotations": annotations,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[5_000, 50_000])
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    print(f"{'checks':>7}  {'output':<26} {'median s':>9} {'x json':>7} {'bytes':>10}")
    for size in args.sizes:
        reference = None
        for name, job in jobs_for(record(size)).items():
            seconds, size_bytes = timed(job, args.repeats)
            reference = reference or seconds
            print(
                f"{size:>7}  {name:<26} {seconds:>9.3f} {seconds / reference:>7.1f} "
                f"{size_bytes:>10,}"
            )


if __name__ == "__main__":
    main()
