"""Labelled pairs for the fuzzy scorer: same person written differently, and different people
who look alike. The aggregate test guards the one property that matters most: a pair of two
different people is never decided "duplicate"."""

from __future__ import annotations

import pytest

from sync.normalize import normalized_record
from sync.scoring import DISTINCT, DUPLICATE, POSSIBLE_DUPLICATE, MatchScore, score_pair, score_records

DUP, POSS, DIST = DUPLICATE, POSSIBLE_DUPLICATE, DISTINCT


def p(first: str, last: str, street: str, zip_code: str = "90033", *, middle: str = "", suffix: str = "",
      unit: str = "", city: str = "Los Angeles") -> dict[str, str]:
    return {"first_name": first, "middle_name": middle, "last_name": last, "suffix": suffix,
            "street": street, "unit": unit, "city": city, "zip": zip_code}


# (label, a, b, expected decision, same person?)
SAME = [
    ("identical", p("Maria", "Garcia", "2150 E 1st St"), p("Maria", "Garcia", "2150 E 1st St"), DUP),
    ("case_and_accents", p("José", "Muñoz", "410 N Soto St"), p("JOSE", "MUNOZ", "410 n soto st"), DUP),
    ("street_suffix_spelled", p("Robert", "Smith", "742 Evergreen Terr", "91101"),
     p("Robert", "Smith", "742 Evergreen Terrace", "91101"), DUP),
    ("zip_plus_four", p("Linda", "Chen", "88 S Garfield Ave", "91801"),
     p("Linda", "Chen", "88 S Garfield Ave", "91801-2233"), DUP),
    ("nickname_bob", p("Bob", "Johnson", "1600 W Sunset Blvd", "90026"),
     p("Robert", "Johnson", "1600 West Sunset Boulevard", "90026"), DUP),
    ("nickname_pepe", p("Pepe", "Ramirez", "3300 Whittier Blvd", "90023"),
     p("José", "Ramírez", "3300 Whittier Blvd", "90023"), DUP),
    ("nickname_lupe", p("Lupe", "Hernandez", "501 S Indiana St"),
     p("Guadalupe", "Hernández", "501 S Indiana St"), DUP),
    ("nickname_chuy", p("Chuy", "Lopez", "1200 N Eastern Ave"),
     p("Jesus", "Lopez", "1200 N Eastern Ave"), DUP),
    ("nickname_bill_and_street", p("Bill", "Anderson", "15 Elm Ct", "91030"),
     p("William", "Anderson", "15 Elm Court", "91030-1111"), DUP),
    ("first_name_typo", p("Rboert", "Miller", "20 Oak Ave", "90041"),
     p("Robert", "Miller", "20 Oak Ave", "90041"), DUP),
    ("last_name_transposition", p("Susan", "Nguyen", "77 Valley Blvd", "91776"),
     p("Susan", "Ngueyn", "77 Valley Blvd", "91776"), DUP),
    ("last_name_bv", p("Carlos", "Valdez", "912 Brooklyn Ave"),
     p("Carlos", "Baldez", "912 Brooklyn Ave"), DUP),
    ("last_name_sz", p("Ana", "Gonzalez", "45 Cesar Chavez Ave"),
     p("Ana", "Gonzales", "45 Cesar Chavez Ave"), DUP),
    ("missing_middle", p("Michael", "Brown", "9 Pine St", "90004", middle="James"),
     p("Michael", "Brown", "9 Pine St", "90004"), DUP),
    ("middle_initial_vs_name", p("Michael", "Brown", "9 Pine St", "90004", middle="J."),
     p("Michael", "Brown", "9 Pine St", "90004", middle="James"), DUP),
    ("missing_unit", p("Kim", "Park", "3000 Wilshire Blvd", "90010", unit="Apt 12"),
     p("Kim", "Park", "3000 Wilshire Blvd", "90010"), DUP),
    ("unit_on_street_line", p("Kim", "Park", "3000 Wilshire Blvd #12", "90010"),
     p("Kim", "Park", "3000 Wilshire Blvd", "90010", unit="Unit 12"), DUP),
    ("swapped_first_last", p("Garcia", "Maria", "2150 E 1st St"), p("Maria", "Garcia", "2150 E 1st St"), DUP),
    ("directional_missing", p("Luis", "Torres", "200 N Figueroa St", "90012"),
     p("Luis", "Torres", "200 Figueroa St", "90012"), DUP),
    ("ordinal_spelled", p("Grace", "Lee", "123 1/2 E 5th Street", "90013"),
     p("Grace", "Lee", "123½ East Fifth St", "90013"), DUP),
    ("hyphenated_surname", p("José Ángel", "Muñoz-García", "18 Calle Mayor", "90063"),
     p("Jose Angel", "Munoz Garcia", "18 Calle Mayor", "90063"), DUP),
    ("middle_written_in_first", p("Jose Angel", "Reyes", "51 Ramona Blvd", "91731"),
     p("Jose", "Reyes", "51 Ramona Blvd", "91731", middle="A"), DUP),
    ("suffix_same_written_differently", p("John", "Davis", "400 Hope St", "90071", suffix="Jr."),
     p("John", "Davis", "400 Hope St", "90071", suffix="junior"), DUP),
    ("suffix_in_last_name_box", p("John", "Davis", "400 Hope St", "90071", suffix="Jr"),
     p("John", "Davis Jr.", "400 Hope St", "90071"), DUP),
    ("spelling_variant", p("Cristina", "Flores", "60 Atlantic Blvd", "90022"),
     p("Christina", "Flores", "60 Atlantic Blvd", "90022"), DUP),
    ("last_name_dropped_letter", p("Alicia", "Hernandez", "501 S Indiana St"),
     p("Alicia", "Hernadez", "501 S Indiana St"), DUP),
    ("obrien_apostrophe", p("Sean", "O'Brien", "5 Rose Ave", "90291"),
     p("Sean", "OBrien", "5 Rose Ave", "90291"), DUP),
    # Same person, but the evidence is not strong enough for an automatic strike.
    ("house_number_typo", p("Maria", "Garcia", "2150 E 1st St"), p("Maria", "Garcia", "2105 E 1st St"), POSS),
    ("zip_typo", p("Linda", "Chen", "88 S Garfield Ave", "91801"),
     p("Linda", "Chen", "88 S Garfield Ave", "91810"), POSS),
    ("ambiguous_nickname", p("Chris", "Walker", "14 Maple Dr", "91006"),
     p("Christopher", "Walker", "14 Maple Dr", "91006"), POSS),
    ("initial_only", p("J.", "Martinez", "700 S Broadway", "90014"),
     p("Jorge", "Martinez", "700 S Broadway", "90014"), POSS),
    ("double_surname_partial", p("Rosa", "Garcia Lopez", "33 Gage Ave", "90001"),
     p("Rosa", "Garcia", "33 Gage Ave", "90001"), POSS),
    ("compound_first_partial", p("Maria Elena", "Castro", "8 Olive St", "90015"),
     p("Maria", "Castro", "8 Olive St", "90015"), POSS),
    ("typos_in_both_names", p("Stepen", "Wiliams", "101 Main St", "90802"),
     p("Stephen", "Williams", "101 Main St", "90802"), POSS),
    ("suffix_one_side", p("Frank", "Moreno", "55 Vine St", "90028", suffix="Jr"),
     p("Frank", "Moreno", "55 Vine St", "90028"), POSS),
    ("missing_house_number", p("Helen", "Wong", "Garvey Ave", "91754"),
     p("Helen", "Wong", "412 Garvey Ave", "91754"), POSS),
]

DIFFERENT = [
    ("father_son_jr_sr", p("John", "Davis", "400 Hope St", "90071", suffix="Sr"),
     p("John", "Davis", "400 Hope St", "90071", suffix="Jr"), DIST),
    ("father_son_suffix_iii", p("Robert", "King", "10 Palm Dr", "90210", suffix="II"),
     p("Robert", "King", "10 Palm Dr", "90210", suffix="III"), DIST),
    ("father_son_middle_initials", p("Jose", "Perez", "231 Cypress Ave", "90065", middle="A"),
     p("Jose", "Perez", "231 Cypress Ave", "90065", middle="L"), POSS),
    ("father_son_suffix_one_side", p("Jose", "Perez", "231 Cypress Ave", "90065"),
     p("Jose", "Perez", "231 Cypress Ave", "90065", suffix="Jr."), POSS),
    ("twins_mario_maria", p("Mario", "Garcia", "2150 E 1st St"), p("Maria", "Garcia", "2150 E 1st St"), DIST),
    ("twins_michael_michelle", p("Michael", "Brown", "9 Pine St", "90004"),
     p("Michelle", "Brown", "9 Pine St", "90004"), DIST),
    ("twins_daniel_daniela", p("Daniel", "Ruiz", "12 Soto St"), p("Daniela", "Ruiz", "12 Soto St"), DIST),
    ("twins_gabriel_gabriela", p("Gabriel", "Ortiz", "300 Mission Rd"),
     p("Gabriela", "Ortiz", "300 Mission Rd"), DIST),
    ("siblings_julio_julia", p("Julio", "Vargas", "42 Marengo St"),
     p("Julia", "Vargas", "42 Marengo St"), DIST),
    ("siblings_francisco_francisca", p("Francisco", "Diaz", "9 Alma Ave"),
     p("Francisca", "Diaz", "9 Alma Ave"), DIST),
    ("siblings_francis_frances", p("Francis", "Kelly", "8 Ocean Ave", "90401"),
     p("Frances", "Kelly", "8 Ocean Ave", "90401"), POSS),
    ("spouses", p("John", "Smith", "123 Main St", "90012"), p("Mary", "Smith", "123 Main St", "90012"), DIST),
    ("spouses_spanish", p("Juan", "Hernandez", "77 Lorena St"), p("Rosa", "Hernandez", "77 Lorena St"), DIST),
    ("spouses_pat", p("Pat", "Murphy", "6 Bay St", "90405"),
     p("Patrick", "Murphy", "6 Bay St", "90405"), POSS),
    ("neighbors_same_name", p("Maria", "Garcia", "2150 E 1st St"),
     p("Maria", "Garcia", "2210 E 1st St"), DIST),
    ("next_door_same_name", p("Maria", "Garcia", "2150 E 1st St"),
     p("Maria", "Garcia", "2152 E 1st St"), POSS),
    ("common_name_other_zip", p("Maria", "Garcia", "2150 E 1st St", "90033"),
     p("Maria", "Garcia", "1450 W 7th St", "90017"), DIST),
    ("common_name_same_house_other_street", p("Maria", "Garcia", "2150 E 1st St", "90033"),
     p("Maria", "Garcia", "2150 Lanfranco St", "90033"), POSS),
    ("same_building_other_unit", p("Kim", "Park", "3000 Wilshire Blvd", "90010", unit="Apt 12"),
     p("Kim", "Park", "3000 Wilshire Blvd", "90010", unit="Apt 40"), POSS),
    ("roommates", p("David", "Lee", "5 Echo Park Ave", "90026"),
     p("Kevin", "Tran", "5 Echo Park Ave", "90026"), DIST),
    ("same_first_other_last", p("Jennifer", "Lopez", "11 Figueroa St", "90012"),
     p("Jennifer", "Lozano", "11 Figueroa St", "90012"), DIST),
    ("mother_daughter_compound", p("Maria Luisa", "Santos", "70 Hill St", "90012"),
     p("Maria Elena", "Santos", "70 Hill St", "90012"), DIST),
    ("cousins_same_first_other_address", p("Luis", "Torres", "200 N Figueroa St", "90012"),
     p("Luis", "Torres", "4100 Beverly Blvd", "90004"), DIST),
    ("siblings_jesse_jessica", p("Jesse", "Cruz", "19 Sunset Dr", "91016"),
     p("Jessica", "Cruz", "19 Sunset Dr", "91016"),
     DIST),
    ("siblings_julie_julien", p("Julie", "Martin", "14 Arroyo Dr", "91105"),
     p("Julien", "Martin", "14 Arroyo Dr", "91105"), POSS),
    ("in_laws_mena_meza", p("Rosa", "Mena", "620 Breed St"), p("Rosa", "Meza", "620 Breed St"), POSS),
    ("roommates_richard_richards", p("Paul", "Richard", "3 Lake St", "90057"),
     p("Paul", "Richards", "3 Lake St", "90057"), POSS),
    ("siblings_ernesto_ernestina", p("Ernesto", "Salas", "81 Evergreen Ave"),
     p("Ernestina", "Salas", "81 Evergreen Ave"), DIST),
    ("siblings_ana_anita_different_last", p("Ana", "Morales", "3 Elm St", "90063"),
     p("Ana", "Mendoza", "3 Elm St", "90063"), DIST),
]

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
