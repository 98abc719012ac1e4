"""Drive progress: raw entries, unique signers, projected valid signatures, pace, and the
cumulative series behind the progress chart. Pure functions over plain numbers.

Projected valid signatures = unique signers x the campaign's expected validity rate, refined
by registration matches once a voter file is loaded: a unique signer whose registration was
checked counts 1 if registered in the jurisdiction and 0 otherwise; only the signers not yet
checked are counted at the expected rate.

Withdrawn lines (Elections Code 11303) stay raw entries (they are lines on the paper) but are
no signer any more: the unique count no longer holds them, and they are neither duplicates
nor rejected.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta

PACE_WINDOW_DAYS = 7


@dataclass(frozen=True)
class DayCount:
    """Entries received on one day (campaign-local date) and how many of them were unique
    signers; ``checked`` / ``registered`` count the day's unique signers whose registration is
    known and who are registered in the jurisdiction."""

    day: date
    raw: int
    unique: int
    checked: int = 0
    registered: int = 0


@dataclass(frozen=True)
class Progress:
    raw_entries: int
    unique_signers: int
    rejected: int
    duplicates: int
    checked: int
    registered: int
    validity_rate: float  # the rate applied to unchecked signers (the campaign's)
    effective_validity_rate: float  # projected_valid / unique_signers
    projected_valid: int
    goal: int
    deadline: date
    today: date
    days_left: int  # days from today to the deadline, both included; 0 when past
    remaining: int  # projected valid still needed (0 when reached)
    pace_needed_per_day: int  # projected valid per day to reach the goal by the deadline
    pace_actual_7d: float  # projected valid per day over the last 7 days (today included)
    on_pace: bool
    series: list[tuple[date, int]] = field(default_factory=list)  # cumulative projected valid
    withdrawn: int = 0  # lines whose signers withdrew (in raw_entries, not in unique_signers)


def projected_valid(unique: int, checked: int, registered: int, rate: float) -> float:
    """Unchecked unique signers at ``rate``, checked ones as found (registered = valid)."""
    unchecked = max(0, unique - checked)
    return registered + unchecked * rate


def days_left(today: date, deadline: date) -> int:
    return max(0, (deadline - today).days + 1)


def cumulative_series(days: Iterable[DayCount], rate: float) -> list[tuple[date, int]]:
    """(day, cumulative projected valid, rounded down) for each day with entries, in order."""
    total = 0.0
    out = []
    for d in sorted(days, key=lambda d: d.day):
        total += projected_valid(d.unique, d.checked, d.registered, rate)
        out.append((d.day, math.floor(total + 1e-9)))
    return out


def compute_progress(*, raw_entries: int, unique_signers: int, rejected: int = 0,
                     checked: int = 0, registered: int = 0, validity_rate: float, goal: int,
                     deadline: date, today: date, days: Iterable[DayCount] = (),
                     withdrawn: int = 0) -> Progress:
    days = list(days)
    expected = projected_valid(unique_signers, checked, registered, validity_rate)
    valid = math.floor(expected + 1e-9)
    left = days_left(today, deadline)
    remaining = max(0, goal - valid)
    needed = math.ceil(remaining / left) if left else remaining
    window_start = today - timedelta(days=PACE_WINDOW_DAYS - 1)
    recent = sum(projected_valid(d.unique, d.checked, d.registered, validity_rate)
                 for d in days if window_start <= d.day <= today)
    actual = round(recent / PACE_WINDOW_DAYS, 1)
    return Progress(
        raw_entries=raw_entries, unique_signers=unique_signers, rejected=rejected,
        duplicates=max(0, raw_entries - unique_signers - rejected - withdrawn), checked=checked,
        registered=registered, validity_rate=validity_rate,
        # Of the unrounded figure (one signer at 50% is 0.5 valid: a rate of 50%, not 0%), and
        # with no signer yet the rate that will apply.
        effective_validity_rate=round(expected / unique_signers, 4) if unique_signers
        else validity_rate,
        projected_valid=valid, goal=goal, deadline=deadline, today=today, days_left=left,
        remaining=remaining, pace_needed_per_day=needed, pace_actual_7d=actual,
        on_pace=remaining == 0 or (left > 0 and actual >= needed),
        series=cumulative_series(days, validity_rate), withdrawn=withdrawn,
    )
