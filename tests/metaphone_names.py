"""Every name the synthetic drive can produce and every name of the nickname tables: the list
sync.metaphone is held to jellyfish's codes on (tests/test_metaphone.py) and the phone's build
is checked with (tests/test_mobile_package.py)."""

from __future__ import annotations

import importlib

from sync import nicknames, synthetic

FAKER_LOCALES = ("es_MX", "en_US", "en_IN", "zh_CN")  # the synthetic generator's (sync.synthetic)
NAME_LISTS = ("first_names", "first_names_male", "first_names_female", "last_names",
              "first_romanized_names", "last_romanized_names")


def _faker_names() -> set[str]:
    """Every name of the Faker pools the generator draws from, not only the ones one seed draws."""
    names: set[str] = set()
    for locale in FAKER_LOCALES:
        provider = importlib.import_module(f"faker.providers.person.{locale}").Provider
        for attribute in NAME_LISTS:
            pool = getattr(provider, attribute, ())
            names.update(pool.keys() if isinstance(pool, dict) else pool)
    return names


def _table_names() -> set[str]:
    names = set(synthetic.KOREAN_FIRST + synthetic.KOREAN_LAST + synthetic.VIET_FIRST
                + synthetic.VIET_LAST + synthetic.FILIPINO_LAST + synthetic.ARMENIAN_FIRST
                + synthetic.ARMENIAN_LAST + synthetic.LA_STREETS)
    for formal, written in synthetic.NICKNAMES.items():
        names.add(formal)
        names.update(written)
    names.update(nicknames.NICKNAMES)
    names.update(nicknames.NICKNAMES.values())
    for nickname, formals in nicknames.AMBIGUOUS_NICKNAMES.items():
        names.add(nickname)
        names.update(formals)
    names.update(nicknames.KNOWN_GIVEN_NAMES)
    return names


ALL_NAMES = sorted(_faker_names() | _table_names())
