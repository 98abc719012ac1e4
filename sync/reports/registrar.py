"""Registrar check simulator: how a California county would verify the drive's petition.

Sources (looked up, not recalled):

* Elections Code 11225 (recall petitions): the elections official may verify a random sample
  of 5 percent of the signatures or 500, whichever is greater. More than 110 percent of the
  required number projected valid: the petition is certified; between 90 and 110 percent
  (inclusive): every signature must be examined (full count); under 90 percent: it fails.
* Cal. Code Regs. tit. 2, section 20530 (signature verification): divide the valid signatures
  in the sample by the sample size, as a percentage to two decimal places; multiply the raw
  count by it and round up.
* Cal. Code Regs. tit. 2, section 20531 (duplicate signatures):
  (a) A = raw count / sample size, to four decimal places (the value of each signature);
  (b) weight of each duplicate found in the sample = A x (A - 1);
  (c) estimated duplicates in the petition = duplicates found x weight, rounded up.
  Note the weight is A x (A - 1), not A squared: the second copy of a duplicate found in the
  sample is already counted "not valid" in section 20530, which projects A of them.
* Cal. Code Regs. tit. 2, section 20540 (worked example): raw count 24,034, sample 722,
  516 valid, 2 duplicates: 24,034 x 0.7147 = 17,177.0990 -> 17,178; A = 33.2881,
  weight = 33.2881 x 32.2881 = 1,074.8095; 2 x 1,074.8095 = 2,149.6190 -> 2,150;
  projected valid = 17,178 - 2,150 = 15,028. ``projected_valid_from_sample`` reproduces it
  (tests/test_reports_registrar.py).

The simulation model: the drive's raw entries are N signatures. ``unique`` of them are
distinct signers who may be valid; ``duplicates = raw - unique - rejected`` are second copies
of a signer already in the drive (each duplicate repeats a different signer); ``rejected``
ones are invalid whatever happens (outside the jurisdiction, unreadable...), and so are
``withdrawn`` ones (the signer withdrew, Elections Code 11303: still a line on the paper the
registrar samples, never a valid signature). Each distinct
signer is valid (registered, signature matches) with probability ``validity_rate``. A sample
of n signatures is drawn without replacement; a signer drawn twice counts once as valid (if
valid) and once as a duplicate found (registrars detect duplicates against the voter file, so
only valid signers' duplicates are found). The counts per category are drawn exactly
(sequential hypergeometric and binomial draws by inversion), so one trial costs the same at
1,000 or 1,000,000 signatures and needs nothing beyond the standard library.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
from decimal import ROUND_CEILING, ROUND_HALF_UP, Decimal

SAMPLE_FRACTION = Decimal("0.05")  # Elections Code 11225
SAMPLE_MINIMUM = 500
CERTIFY_ABOVE = Decimal("1.10")
FAIL_BELOW = Decimal("0.90")

CERTIFIED = "certified"
FULL_COUNT = "full_count"
FAILED = "failed"
RESULTS = (CERTIFIED, FULL_COUNT, FAILED)

_FOUR = Decimal("0.0001")


def sample_size(raw_count: int) -> int:
    """5 percent of the raw count (rounded up) or 500, whichever is greater; never more than
    the raw count itself (a petition of 500 signatures or fewer is examined in full)."""
    if raw_count <= 0:
        return 0
    five_percent = int((Decimal(raw_count) * SAMPLE_FRACTION).to_integral_value(ROUND_CEILING))
    return min(raw_count, max(SAMPLE_MINIMUM, five_percent))


def duplicate_weight(raw_count: int, sample: int) -> Decimal:
    """Section 20531(a)-(b): A = raw / sample to four places; weight = A x (A - 1), given to
    four places as in the section 20540 example."""
    a = (Decimal(raw_count) / Decimal(sample)).quantize(_FOUR, ROUND_HALF_UP)
    return (a * (a - 1)).quantize(_FOUR, ROUND_HALF_UP)


def projected_duplicates(raw_count: int, sample: int, duplicates_found: int) -> int:
    """Section 20531(c): duplicates found x weight, rounded up to a whole number."""
    weight = duplicate_weight(raw_count, sample)
    return int((weight * duplicates_found).to_integral_value(ROUND_CEILING))


def projected_valid_from_sample(raw_count: int, sample: int, valid_in_sample: int,
                                duplicates_found: int) -> int:
    """Sections 20530 and 20531 together: the registrar's projected valid signatures."""
    if sample <= 0:
        return 0
    rate = (Decimal(valid_in_sample) / Decimal(sample)).quantize(_FOUR, ROUND_HALF_UP)
    uncorrected = int((Decimal(raw_count) * rate).to_integral_value(ROUND_CEILING))
    return uncorrected - projected_duplicates(raw_count, sample, duplicates_found)


def classify(projected_valid: int, required: int) -> str:
    """Elections Code 11225: over 110% certifies, under 90% fails, otherwise a full count."""
    if required <= 0:
        return CERTIFIED
    ratio = Decimal(projected_valid) / Decimal(required)
    if ratio > CERTIFY_ABOVE:
        return CERTIFIED
    if ratio < FAIL_BELOW:
        return FAILED
    return FULL_COUNT


# --------------------------------------------------------------------------------------------
# Exact discrete draws by inversion from the mode (cost ~ a few standard deviations).


def _draw_from_mode(rng: random.Random, lo: int, hi: int, mode: int, log_pmf_mode: float,
                    ratio_up, ratio_down) -> int:
    """Draw k in [lo, hi] given the pmf at the mode and the ratios pmf(k+1)/pmf(k) (up) and
    pmf(k-1)/pmf(k) (down); walks outward from the mode alternately (chop-down search)."""
    u = rng.random()
    p_mode = math.exp(log_pmf_mode)
    u -= p_mode
    if u <= 0:
        return mode
    up_k, up_p = mode, p_mode
    dn_k, dn_p = mode, p_mode
    while True:
        moved = False
        if up_k < hi:
            up_p *= ratio_up(up_k)
            up_k += 1
            u -= up_p
            if u <= 0:
                return up_k
            moved = True
        if dn_k > lo:
            dn_p *= ratio_down(dn_k)
            dn_k -= 1
            u -= dn_p
            if u <= 0:
                return dn_k
            moved = True
        if not moved or (up_p < 1e-300 and dn_p < 1e-300):
            return mode  # floating-point leftover at the far tails: the mode is the safe answer


def _log_comb(n: int, k: int) -> float:
    return math.lgamma(n + 1) - math.lgamma(k + 1) - math.lgamma(n - k + 1)


def hypergeometric(rng: random.Random, good: int, total: int, draws: int) -> int:
    """Number of ``good`` items among ``draws`` drawn without replacement from ``total``."""
    bad = total - good
    lo, hi = max(0, draws - bad), min(draws, good)
    if lo >= hi:
        return lo
    mode = min(hi, max(lo, (draws + 1) * (good + 1) // (total + 2)))
    log_p = _log_comb(good, mode) + _log_comb(bad, draws - mode) - _log_comb(total, draws)
    return _draw_from_mode(
        rng, lo, hi, mode, log_p,
        lambda k: (good - k) * (draws - k) / ((k + 1) * (bad - draws + k + 1)),
        lambda k: k * (bad - draws + k) / ((good - k + 1) * (draws - k + 1)),
    )


def binomial(rng: random.Random, trials: int, p: float) -> int:
    if trials <= 0 or p <= 0.0:
        return 0
    if p >= 1.0:
        return trials
    mode = min(trials, int((trials + 1) * p))
    log_p = _log_comb(trials, mode) + mode * math.log(p) + (trials - mode) * math.log1p(-p)
    odds = p / (1.0 - p)
    return _draw_from_mode(
        rng, 0, trials, mode, log_p,
        lambda k: (trials - k) / (k + 1) * odds,
        lambda k: k / (trials - k + 1) / odds,
    )


# --------------------------------------------------------------------------------------------
# The simulation


@dataclass(frozen=True)
class SampleDraw:
    sample: int
    valid: int
    duplicates_found: int
    projected_valid: int
    result: str


def draw_sample(rng: random.Random, *, raw: int, unique: int, rejected: int,
                validity_rate: float, required: int, withdrawn: int = 0) -> SampleDraw:
    """One simulated registrar check of the drive (see the module docstring for the model)."""
    rejected += withdrawn  # a withdrawn line drawn into the sample is not valid
    unique = max(0, min(unique, raw - rejected))
    duplicates = min(unique, raw - rejected - unique)  # second copies; each of another signer
    rejected = raw - unique - duplicates  # any excess copies are simply not valid
    singles = unique - duplicates
    n = sample_size(raw)
    s = hypergeometric(rng, singles, raw, n)
    rest_pop, rest_n = raw - singles, n - s
    firsts = hypergeometric(rng, duplicates, rest_pop, rest_n)
    rest_pop, rest_n = rest_pop - duplicates, rest_n - firsts
    seconds = hypergeometric(rng, duplicates, rest_pop, rest_n)
    both = hypergeometric(rng, firsts, duplicates, seconds) if duplicates else 0
    found = binomial(rng, both, validity_rate)
    valid = found + binomial(rng, s + firsts - both + seconds - both, validity_rate)
    projected = projected_valid_from_sample(raw, n, valid, found)
    return SampleDraw(n, valid, found, projected, classify(projected, required))


@dataclass(frozen=True)
class SimulationResult:
    raw: int
    unique: int
    rejected: int
    validity_rate: float
    required: int
    sample: int
    trials: int
    seed: int
    chances: dict[str, float]  # result -> share of trials, keys RESULTS
    median_projected_valid: int
    more_raw_for_95: int | None  # more raw signatures (same mix) for >= 95% certify; None: never
    target_chance: float = 0.95
    counts: dict[str, int] = field(default_factory=dict)
    withdrawn: int = 0  # of the raw signatures, withdrawn ones (counted as not valid)


def _certify_chance(raw: int, unique: int, rejected: int, rate: float, required: int,
                    trials: int, seed: int) -> tuple[float, dict[str, int], list[int]]:
    rng = random.Random(seed)
    counts = dict.fromkeys(RESULTS, 0)
    projections = []
    for _ in range(trials):
        draw = draw_sample(rng, raw=raw, unique=unique, rejected=rejected,
                           validity_rate=rate, required=required)
        counts[draw.result] += 1
        projections.append(draw.projected_valid)
    return counts[CERTIFIED] / trials, counts, projections


def _scaled(raw: int, unique: int, rejected: int, more: int) -> tuple[int, int, int]:
    """The drive with ``more`` raw signatures of the same mix (unique and rejected shares)."""
    total = raw + more
    if raw == 0:
        return total, total, 0
    return total, round(unique * total / raw), round(rejected * total / raw)


def simulate(*, raw: int, unique: int, rejected: int = 0, validity_rate: float, required: int,
             trials: int = 1000, seed: int = 20531, target: float = 0.95,
             max_more: int | None = None, withdrawn: int = 0) -> SimulationResult:
    """Simulate the registrar's random-sample check ``trials`` times (seeded: the same inputs
    give the same answer), and find the fewest more raw signatures, of the drive's present
    mix, that certify without a full count in at least ``target`` of the trials.

    The search uses the same seed at every size (common random numbers), doubling then
    bisecting to the nearest 1% of the requirement (or 1 signature for small drives)."""
    if trials <= 0:
        raise ValueError("trials must be positive")
    reported_rejected, rejected = rejected, rejected + withdrawn  # both never valid
    chance, counts, projections = _certify_chance(raw, unique, rejected, validity_rate,
                                                  required, trials, seed)
    projections.sort()
    median = projections[len(projections) // 2] if projections else 0

    more: int | None
    if chance >= target:
        more = 0
    else:
        limit = max_more if max_more is not None else max(10 * required, 10 * raw, 1000)

        def ok(extra: int) -> bool:
            return _certify_chance(*_scaled(raw, unique, rejected, extra), validity_rate,
                                   required, trials, seed)[0] >= target

        lo, hi = 0, max(1, required // 10)
        while hi <= limit and not ok(hi):
            lo, hi = hi, hi * 2
        if hi > limit:
            more = None
        else:
            step = max(1, required // 100)
            while hi - lo > step:
                mid = (lo + hi) // 2
                if ok(mid):
                    hi = mid
                else:
                    lo = mid
            more = hi
    return SimulationResult(
        raw=raw, unique=unique, rejected=reported_rejected, validity_rate=validity_rate,
        required=required, sample=sample_size(raw), trials=trials, seed=seed,
        chances={k: counts[k] / trials for k in RESULTS}, median_projected_valid=median,
        more_raw_for_95=more, target_chance=target, counts=counts, withdrawn=withdrawn,
    )
