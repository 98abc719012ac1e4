"""A change to what sync.normalize / sync.nicknames / sync.usps produce must come with a bump of
``sync.normalize.NORMALIZER_VERSION``: the server's stored match records name the version that
made them (sync/server/match_blob.py), and one made by other rules must never be read as if
the current code had made it.

tests/golden/normalizer.json holds the version and the outputs for a fixed sample: signers'
fields (synthetic) and every entry of the nickname and USPS tables. Outputs that differ while
the version is the same fail here. To update the file after a bump:

    CANVASS_UPDATE_GOLDEN=1 python -m pytest tests/test_normalizer_version.py

(it refuses while the version is the one the file holds and the outputs changed).
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, astuple, fields
from pathlib import Path

from sync import normalize
from sync.nicknames import NICKNAMES
from sync.normalize import (
    NORMALIZER_VERSION,
    NormalizedRecord,
    canonical_first_name,
    normalize_street,
    normalize_suffix,
    normalize_unit,
    normalized_record,
    phonetic,
    split_unit_from_street,
)
from sync.usps import DIRECTIONALS, ORDINALS, STREET_SUFFIXES, UNIT_DESIGNATORS

GOLDEN = Path(__file__).resolve().parent / "golden" / "normalizer.json"
UPDATE = "CANVASS_UPDATE_GOLDEN=1 python -m pytest tests/test_normalizer_version.py"


# A record's line in the golden file: NormalizedRecord's fields, then the phonetic codes.
RECORD = (*(f.name for f in fields(NormalizedRecord)), "phonetic_first", "phonetic_last")


def _record(signer: dict[str, str]) -> list[str]:
    return [*astuple(normalized_record(signer)), phonetic(signer.get("first_name", "")),
            phonetic(signer.get("last_name", ""))]


def table_outputs() -> dict[str, list]:
    """Each table entry through the function that reads it (a new, changed or dropped entry
    changes this mapping)."""
    out: dict[str, list] = {}
    for name in sorted({*NICKNAMES, *NICKNAMES.values()}):
        out[f"first {name}"] = [canonical_first_name(name)]
    for word in sorted(STREET_SUFFIXES):
        out[f"suffix {word}"] = [*asdict(normalize_street(f"12 Oak {word}")).values(),
                                 *split_unit_from_street(f"12 Oak {word} 4")]
    for word in sorted(DIRECTIONALS):
        out[f"directional {word}"] = list(asdict(normalize_street(f"12 {word} Oak St")).values())
    for word in sorted(ORDINALS):
        out[f"ordinal {word}"] = list(asdict(normalize_street(f"12 {word} St")).values())
    for word in sorted(UNIT_DESIGNATORS):
        out[f"unit {word}"] = [normalize_unit(f"{word} 4b"), *split_unit_from_street(f"12 Oak St {word} 4b")]
    for word in sorted({*normalize._SUFFIXES, *normalize._NON_GENERATIONAL}):
        out[f"name suffix {word}"] = [normalize_suffix(word)]
    for word in sorted(normalize._TITLES):
        out[f"title {word}"] = [normalized_record({"first_name": f"{word} Ana"}).first]
    return out


def _current(samples: list[dict[str, str]]) -> dict:
    return {"normalizer_version": NORMALIZER_VERSION, "record": list(RECORD), "samples": samples,
            "records": [_record(fields) for fields in samples], "tables": table_outputs()}


def write_golden(data: dict) -> None:
    """One sample, record or table entry a line: a change shows as the lines it changed."""
    def line(value) -> str:
        return json.dumps(value, ensure_ascii=False, sort_keys=True)

    parts = [f'{{"normalizer_version": {data["normalizer_version"]},', f'"record": {line(list(RECORD))},']
    for name in ("samples", "records"):
        parts.append(f'"{name}": [\n' + ",\n".join(line(v) for v in data[name]) + "\n],")
    parts.append('"tables": {\n' + ",\n".join(f"{line(k)}: {line(v)}" for k, v in data["tables"].items())
                 + "\n}}")
    GOLDEN.write_text("\n".join(parts) + "\n", encoding="utf-8")


def _differences(golden: dict, now: dict) -> list[str]:
    diffs = [f"sample {i}" for i, (a, b) in enumerate(zip(golden["records"], now["records"], strict=True))
             if a != b]
    tables_then, tables_now = golden["tables"], now["tables"]
    diffs += [label for label in sorted(tables_then.keys() | tables_now.keys())
              if tables_then.get(label) != tables_now.get(label)]
    return diffs


def test_outputs_match_the_golden_file_of_this_normalizer_version():
    golden = json.loads(GOLDEN.read_text(encoding="utf-8"))
    now = _current(golden["samples"])
    diffs = _differences(golden, now)
    version = golden["normalizer_version"]
    if diffs and NORMALIZER_VERSION == version:
        raise AssertionError(
            f"the output of sync.normalize/nicknames/usps changed ({len(diffs)}: {', '.join(diffs[:8])}) "
            f"but NORMALIZER_VERSION is still {version}: bump NORMALIZER_VERSION in "
            f"sync/normalize.py and update the golden file ({UPDATE}); stored match records are "
            "then re-sealed with `canvass-server reseal`")
    if os.environ.get("CANVASS_UPDATE_GOLDEN") == "1":
        write_golden(now)
        return
    assert NORMALIZER_VERSION == version, (
        f"NORMALIZER_VERSION is {NORMALIZER_VERSION} and the golden file's {version}: update "
        f"the golden file ({UPDATE})")
    assert not diffs


def test_the_golden_file_covers_names_streets_and_units():
    golden = json.loads(GOLDEN.read_text(encoding="utf-8"))
    records = [dict(zip(golden["record"], r, strict=True)) for r in golden["records"]]
    assert len(records) >= 300
    for name in ("middle_initial", "suffix", "unit", "city"):
        assert sum(bool(r[name]) for r in records) >= 3, name
    assert sum(r["first"] != r["first_canonical"] for r in records) >= 10  # nicknames mapped
