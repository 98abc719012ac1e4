"""The fuzzy scorer on labelled pairs (tests/scoring_pairs.py): same person written
differently, and different people who look alike. The aggregate test guards the one property
that matters most: a pair of two different people is never decided "duplicate"."""

from __future__ import annotations

import pytest
from scoring_pairs import DIFFERENT, DIST, DUP, POSS, SAME, p

from sync.normalize import normalized_record
from sync.scoring import DISTINCT, DUPLICATE, MatchScore, score_pair, score_records

TABLE = [(*row, True) for row in SAME] + [(*row, False) for row in DIFFERENT]


def test_table_is_large_enough():
    assert len(TABLE) >= 50
    assert len(DIFFERENT) >= 20
    assert len({row[0] for row in TABLE}) == len(TABLE)  # unique labels


@pytest.mark.parametrize(("label", "a", "b", "expected", "same"), TABLE, ids=[row[0] for row in TABLE])
def test_labelled_pair(label, a, b, expected, same):
    result = score_pair(a, b)
    assert result.decision == expected, (label, result)
    # The scorer is symmetric in its decision.
    assert score_pair(b, a).decision == expected


def test_no_different_person_pair_is_a_duplicate():
    wrong = [row[0] for row in TABLE if not row[4] and score_pair(row[1], row[2]).decision == DUPLICATE]
    assert wrong == []


def test_every_same_person_pair_is_at_least_possible():
    missed = [row[0] for row in TABLE if row[4] and score_pair(row[1], row[2]).decision == DISTINCT]
    assert missed == []


def test_score_orders_decisions_and_reasons_are_not_personal():
    for _label, a, b, _expected, _same in TABLE:
        result = score_pair(a, b)
        assert isinstance(result, MatchScore)
        assert 0.0 <= result.score <= 1.0
        assert result.reasons
        text = " ".join(result.reasons).lower()
        for value in (*a.values(), *b.values()):
            for token in value.lower().split():
                if len(token) > 3:
                    assert token not in text.split("_"), token
    exact = score_pair(SAME[0][1], SAME[0][2])
    assert exact.score == 1.0 and exact.decision == DUPLICATE


def test_score_bands_follow_decisions():
    bands = {DIST: [], POSS: [], DUP: []}
    for _label, a, b, _expected, _same in TABLE:
        result = score_pair(a, b)
        bands[result.decision].append(result.score)
    assert all(bands.values())
    assert max(bands[DIST]) < min(bands[POSS])
    assert max(bands[POSS]) < min(bands[DUP])


@pytest.mark.parametrize(("a", "b"), [
    ("Mario", "Maria"), ("Manuel", "Manuela"), ("Rafael", "Rafaela"), ("Paul", "Paula"),
    ("Louis", "Louise"), ("Antonio", "Antonia"), ("Ernesto", "Ernestina"),
])
def test_masculine_and_feminine_forms_are_never_duplicates(a, b):
    street = "1200 S Hoover St"
    assert score_pair(p(a, "Reyes", street), p(b, "Reyes", street)).decision == DIST


def test_score_records_accepts_normalized_records():
    a, b = SAME[4][1], SAME[4][2]
    assert score_records(normalized_record(a), normalized_record(b)) == score_pair(a, b)
