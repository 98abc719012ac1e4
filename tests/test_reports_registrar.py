"""The registrar check simulator: the section 20531 formula on the section 20540 worked
example, sample sizes of Elections Code 11225, the 90/110 thresholds, and the seeded simulation."""

from __future__ import annotations

import random
import statistics
from decimal import Decimal

import pytest

from sync.reports.registrar import (
    CERTIFIED,
    FAILED,
    FULL_COUNT,
    binomial,
    classify,
    draw_sample,
    duplicate_weight,
    hypergeometric,
    projected_duplicates,
    projected_valid_from_sample,
    sample_size,
    simulate,
)


def test_worked_example_of_section_20540():
    # Raw count 24,034; sample 722; 516 valid; 2 duplicates -> 15,028 projected valid.
    assert duplicate_weight(24_034, 722) == Decimal("1074.8095")
    assert projected_duplicates(24_034, 722, 2) == 2_150
    assert projected_valid_from_sample(24_034, 722, 516, 2) == 15_028


def test_no_duplicates_and_full_examination():
    assert projected_valid_from_sample(24_034, 722, 516, 0) == 17_178
    # Examining every signature: A = 1, weight 0; duplicates are already "not valid".
    assert duplicate_weight(400, 400) == Decimal("0")
    assert projected_valid_from_sample(400, 400, 300, 5) == 300


@pytest.mark.parametrize(("raw", "expected"), [
    (0, 0), (300, 300), (500, 500), (9_999, 500), (10_000, 500), (10_001, 501),
    (24_034, 1_202), (1_000_000, 50_000),
])
def test_sample_is_five_percent_or_500(raw, expected):
    assert sample_size(raw) == expected


@pytest.mark.parametrize(("projected", "result"), [
    (1_101, CERTIFIED), (1_100, FULL_COUNT), (1_000, FULL_COUNT), (900, FULL_COUNT),
    (899, FAILED),
])
def test_thresholds_of_elections_code_11225(projected, result):
    assert classify(projected, 1_000) == result


def test_draws_have_the_right_moments():
    rng = random.Random(7)
    xs = [hypergeometric(rng, 300, 1_000, 100) for _ in range(20_000)]
    assert abs(statistics.mean(xs) - 30) < 0.15
    assert abs(statistics.pvariance(xs) - 100 * 0.3 * 0.7 * 900 / 999) < 1.0
    ys = [binomial(rng, 1_000, 0.726) for _ in range(20_000)]
    assert abs(statistics.mean(ys) - 726) < 0.5
    assert abs(statistics.pvariance(ys) - 1_000 * 0.726 * 0.274) < 8
    assert all(0 <= hypergeometric(rng, 5, 10, 8) - 3 <= 2 for _ in range(200))


def test_every_signer_valid_and_no_duplicates_projects_the_raw_count():
    draw = draw_sample(random.Random(1), raw=20_000, unique=20_000, rejected=0,
                       validity_rate=1.0, required=10_000)
    assert (draw.sample, draw.valid, draw.duplicates_found) == (1_000, 1_000, 0)
    assert draw.projected_valid == 20_000 and draw.result == CERTIFIED


def test_simulated_draw_is_scored_by_the_formula():
    rng = random.Random(3)
    for _ in range(50):
        d = draw_sample(rng, raw=24_034, unique=22_000, rejected=500, validity_rate=0.75,
                        required=15_000)
        assert d.sample == 1_202
        assert d.projected_valid == projected_valid_from_sample(24_034, 1_202, d.valid,
                                                                d.duplicates_found)
        assert d.result == classify(d.projected_valid, 15_000)


def test_duplicate_projection_matches_its_expectation():
    # 2,000 duplicate copies among 40,000, sample 2,000 (A = 20): a pair is found with chance
    # n(n-1)/(N(N-1)), so the weight A(A-1) = 380 projects on average 2,000 x 4.9976/2,000 x 380
    # = 1,899.1 -- the part beyond the A per pair already counted "not valid" (A x found).
    rng = random.Random(11)
    est = [projected_duplicates(40_000, 2_000, draw_sample(
        rng, raw=40_000, unique=38_000, rejected=0, validity_rate=1.0,
        required=1).duplicates_found) for _ in range(3_000)]
    expected = 2_000 * (2_000 * 1_999) / (40_000 * 39_999) * 380
    assert round(expected, 1) == 1_899.1
    assert abs(statistics.mean(est) - expected) < 60


def test_simulation_is_seeded_and_finds_more_signatures_needed():
    kw = dict(raw=30_000, unique=27_000, rejected=600, validity_rate=0.726, required=18_000,
              trials=400)
    a, b = simulate(**kw), simulate(**kw)
    assert a == b
    assert sum(a.counts.values()) == 400
    assert a.sample == 1_500
    assert 0 < a.chances[CERTIFIED] < 0.95
    assert a.more_raw_for_95 is not None and a.more_raw_for_95 > 0
    more = simulate(**{**kw, "raw": 30_000 + a.more_raw_for_95,
                       "unique": round(27_000 * (30_000 + a.more_raw_for_95) / 30_000),
                       "rejected": round(600 * (30_000 + a.more_raw_for_95) / 30_000)})
    assert more.chances[CERTIFIED] >= 0.95 and more.more_raw_for_95 == 0


def test_a_hopeless_mix_never_certifies():
    s = simulate(raw=10_000, unique=5_000, rejected=5_000, validity_rate=0.5, required=10_000,
                 trials=100, max_more=50_000)
    assert s.chances[FAILED] == 1.0
    assert s.more_raw_for_95 is None


def test_a_comfortable_drive_needs_nothing_more():
    s = simulate(raw=30_000, unique=29_000, rejected=0, validity_rate=0.8, required=15_000,
                 trials=200)
    assert s.chances[CERTIFIED] == 1.0 and s.more_raw_for_95 == 0
