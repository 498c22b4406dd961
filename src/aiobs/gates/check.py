"""`check`: the library call behind `aiobs check`. SLOs on the current run, gates against a baseline."""

from __future__ import annotations

from collections.abc import Sequence

from aiobs.gates.baseline import Baseline, compare, default_gates
from aiobs.gates.expressions import Gate, Slo
from aiobs.gates.results import CheckReport
from aiobs.gates.slo import evaluate_slos
from aiobs.profiles import profile_requests
from aiobs.summary import Summary


def baseline_from_summary(summary: Summary, label: str) -> Baseline:
    """A baseline read from logs: the same profiles a saved summary holds."""
    return Baseline(label, profile_requests(summary.requests), summary.n_requests)


def check(
    summary: Summary,
    *,
    slos: Sequence[Slo] = (),
    baseline: Baseline | None = None,
    gates: Sequence[Gate] = (),
    confidence: float = 0.95,
    seed: int = 0,
    allow_unmatched: bool = False,
) -> CheckReport:
    """Evaluate every SLO; with a baseline, every gate (the defaults when none is given)."""
    report = CheckReport(
        inputs=list(summary.inputs),
        requests=summary.n_requests,
        confidence=confidence,
        input_problems=summary.issues.failing,
    )
    report.slos = evaluate_slos(summary.requests, slos, allow_unmatched=allow_unmatched)
    if baseline is not None:
        current = profile_requests(summary.requests)
        comparisons, tested, level = compare(
            current, baseline.profiles, list(gates) or default_gates(), confidence=confidence, seed=seed
        )
        report.comparisons, report.tested, report.interval_level = comparisons, tested, level
        report.baseline, report.baseline_requests = baseline.label, baseline.requests
    return report
