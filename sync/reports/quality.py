"""Quality flags per circulator: things a team lead may want to look at with the circulator.

These are an ordinary list of observations, never accusations: a high duplicate rate often
means a busy spot where people sign twice, a burst is often a rally table, and an address
outside the jurisdiction is often a signer's mistake. Each flag says what was seen, in plain
numbers, and nothing about any signer.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass

# Thresholds (documented in the flag text; tests pin them).
MIN_ENTRIES_FOR_RATE = 20  # below this a rate says too little
DUPLICATE_RATE_FACTOR = 2.0  # flagged when above twice the drive's rate ...
DUPLICATE_RATE_MARGIN = 0.05  # ... and at least 5 percentage points above it
BURST_WINDOW_MINUTES = 10
BURST_ENTRIES = 15  # 15 or more entries within 10 minutes: about 40 seconds each
OUTSIDE_MIN_COUNT = 3
OUTSIDE_MIN_RATE = 0.05
# Door-step checks (issue 15): a circulator checks about one person per line, plus people who
# then do not sign and a re-check after a correction. Far more checks than entries may be
# someone looking signers up.
DOORSTEP_MIN_CHECKS = 30
DOORSTEP_CHECKS_PER_ENTRY = 5.0


@dataclass(frozen=True)
class CirculatorActivity:
    circulator: str
    team: str
    entries: int
    duplicates: int
    outside_jurisdiction: int  # entries rejected for a ZIP outside the jurisdiction
    max_in_window: int  # most entries captured within any BURST_WINDOW_MINUTES window
    doorstep_checks: int = 0  # door-step checks the circulator's devices asked (a count)


@dataclass(frozen=True)
class QualityFlag:
    circulator: str
    team: str
    kind: str  # "duplicate_rate" | "burst" | "outside_jurisdiction" | "doorstep_checks"
    value: float
    reference: float
    text: str

    def as_dict(self) -> dict:
        return asdict(self)


def drive_duplicate_rate(activity: Iterable[CirculatorActivity]) -> float:
    activity = list(activity)
    total = sum(a.entries for a in activity)
    return sum(a.duplicates for a in activity) / total if total else 0.0


def quality_flags(activity: Iterable[CirculatorActivity],
                  drive_rate: float | None = None) -> list[QualityFlag]:
    """Flags in a stable order: by team, circulator, then kind."""
    activity = list(activity)
    if drive_rate is None:
        drive_rate = drive_duplicate_rate(activity)
    threshold = max(drive_rate * DUPLICATE_RATE_FACTOR, drive_rate + DUPLICATE_RATE_MARGIN)
    flags: list[QualityFlag] = []
    for a in sorted(activity, key=lambda a: (a.team.casefold(), a.circulator.casefold())):
        if a.entries >= MIN_ENTRIES_FOR_RATE:
            dup_rate = a.duplicates / a.entries
            if dup_rate > threshold:
                flags.append(QualityFlag(
                    a.circulator, a.team, "duplicate_rate", round(dup_rate, 4),
                    round(drive_rate, 4),
                    f"Duplicate rate {dup_rate:.0%} ({a.duplicates} of {a.entries}) against "
                    f"{drive_rate:.0%} for the drive. Worth a chat about checking for "
                    f"earlier signatures."))
        if a.max_in_window >= BURST_ENTRIES:
            flags.append(QualityFlag(
                a.circulator, a.team, "burst", float(a.max_in_window), float(BURST_ENTRIES),
                f"{a.max_in_window} entries within {BURST_WINDOW_MINUTES} minutes. Often a busy "
                f"table; worth a look at the sections from that time."))
        if a.outside_jurisdiction >= OUTSIDE_MIN_COUNT and a.entries and \
                a.outside_jurisdiction / a.entries >= OUTSIDE_MIN_RATE:
            share = a.outside_jurisdiction / a.entries
            flags.append(QualityFlag(
                a.circulator, a.team, "outside_jurisdiction", round(share, 4),
                OUTSIDE_MIN_RATE,
                f"{a.outside_jurisdiction} of {a.entries} entries ({share:.0%}) have a ZIP "
                f"outside the jurisdiction. The location may be near the county line."))
        if a.doorstep_checks >= DOORSTEP_MIN_CHECKS and \
                a.doorstep_checks > DOORSTEP_CHECKS_PER_ENTRY * max(a.entries, 1):
            flags.append(QualityFlag(
                a.circulator, a.team, "doorstep_checks", float(a.doorstep_checks),
                float(a.entries),
                f"{a.doorstep_checks} door-step checks for {a.entries} entries. A circulator "
                f"checks about one person per signature; this many more checks is worth a "
                f"look (a device used to look signers up?)."))
    return flags
