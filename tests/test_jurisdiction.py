"""Jurisdiction ZIP lists: the shipped Los Angeles County list and campaign-provided lists."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from sync.jurisdiction import (
    ASSETS_DIR,
    available_jurisdictions,
    jurisdiction_from_zips,
    load_jurisdiction,
    parse_zip5,
)

LA = load_jurisdiction()


@pytest.mark.parametrize(("zip_text", "city"), [
    ("90012", "Los Angeles"),
    ("90802", "Long Beach"),
    ("93535", "Lancaster"),
    ("93550", "Palmdale"),
    ("91101", "Pasadena"),
    ("91355", "Valencia"),
    ("90265", "Malibu"),
    ("91711", "Claremont"),
])
def test_la_county_zips_are_in(zip_text, city):
    assert LA.contains(zip_text)
    assert LA.city_for(zip_text) == city


@pytest.mark.parametrize("zip_text", [
    "94103",  # San Francisco
    "92101",  # San Diego
    "92701",  # Santa Ana, Orange County
    "93001",  # Ventura
    "92501",  # Riverside
    "91730",  # Rancho Cucamonga, San Bernardino County
    "10001",  # New York
])
def test_zips_elsewhere_are_out(zip_text):
    assert not LA.contains(zip_text)
    assert LA.city_for(zip_text) is None


def test_zip_plus_four_and_nine_digits_accepted():
    assert LA.contains("90012-3456")
    assert LA.contains("900123456")
    assert LA.city_for("90802-4417") == "Long Beach"
    assert not LA.contains("94103-1234")


@pytest.mark.parametrize("bad", ["", "9001", "900123", "90012-", "90012-34", "9OO12", "90012 3456", "abcde"])
def test_malformed_zips_are_neither_in_nor_parsed(bad):
    assert parse_zip5(bad) is None
    assert not LA.contains(bad)
    assert LA.city_for(bad) is None


def test_parse_zip5():
    assert parse_zip5(" 90012 ") == "90012"
    assert parse_zip5("90012-3456") == "90012"
    assert parse_zip5("900123456") == "90012"
    assert parse_zip5(None) is None  # type: ignore[arg-type]


def test_shipped_list_shape():
    assert LA.name == "los_angeles_county"
    assert LA.display_name == "Los Angeles County"
    assert 300 <= len(LA.zips) <= 700
    assert all(len(z) == 5 and z.isdigit() for z in LA.zips)
    # Every LA County ZIP starts 90-91 or 935 (Antelope Valley).
    assert all(z[:2] in ("90", "91") or z.startswith("935") for z in LA.zips)
    assert "los_angeles_county" in available_jurisdictions()
    header = (ASSETS_DIR / "los_angeles_county.csv").read_text(encoding="utf-8").splitlines()[0]
    assert header.startswith("#")


def test_loads_are_cached_and_read_only():
    assert load_jurisdiction() is LA
    with pytest.raises(TypeError):
        LA.zips["94103"] = "San Francisco"  # type: ignore[index]


def test_campaign_csv(tmp_path: Path):
    path = tmp_path / "glendale.csv"
    path.write_text("# Glendale campaign\nzip,city\n91201,Glendale\n91202-0000,Glendale\n\n91203,\n",
                    encoding="utf-8")
    glendale = load_jurisdiction("glendale", path=path)
    assert glendale.name == "glendale"
    assert set(glendale.zips) == {"91201", "91202", "91203"}
    assert glendale.contains("91202-1111")
    assert glendale.city_for("91201") == "Glendale"
    assert glendale.city_for("91203") is None  # no city given
    assert not glendale.contains("90012")


def test_campaign_csv_replaced_on_disk_is_reread(tmp_path: Path):
    path = tmp_path / "list.csv"
    path.write_text("zip,city\n91201,Glendale\n", encoding="utf-8")
    first = load_jurisdiction("c", path=path)
    path.write_text("zip,city\n91101,Pasadena\n", encoding="utf-8")
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
    second = load_jurisdiction("c", path=path)
    assert first.contains("91201") and not second.contains("91201")
    assert second.contains("91101")


@pytest.mark.parametrize("content", ["city\nGlendale\n", "zip,city\nabcde,Nowhere\n", "zip,city\n"])
def test_bad_campaign_csv_is_refused(tmp_path: Path, content: str):
    path = tmp_path / "bad.csv"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(ValueError) as info:
        load_jurisdiction("bad", path=path)
    assert "Nowhere" not in str(info.value)


def test_unknown_or_unsafe_names():
    with pytest.raises(FileNotFoundError):
        load_jurisdiction("atlantis_county")
    for name in ["../secrets", "Los Angeles", ""]:
        with pytest.raises(ValueError):
            load_jurisdiction(name)


def test_jurisdiction_from_zips():
    campaign = jurisdiction_from_zips("long_beach", ["90802", "90803-1234", "908041234"])
    assert set(campaign.zips) == {"90802", "90803", "90804"}
    assert campaign.contains("90803") and not campaign.contains("90012")
    assert campaign.city_for("90802") is None
    with pytest.raises(ValueError) as info:
        jurisdiction_from_zips("x", ["90802", "9O8O3"])
    assert "9O8O3" not in str(info.value)


def test_jurisdiction_for_campaign_settings():
    from sync.jurisdiction import jurisdiction_for
    from sync.protocol import CampaignSettings

    shipped = CampaignSettings(campaign_id="c", name="Measure A", goal=1000, deadline="2024-06-01",
                               jurisdiction="los_angeles_county")
    assert jurisdiction_for(shipped.jurisdiction, shipped.jurisdiction_zips) is LA
    own = shipped.model_copy(update={"jurisdiction": "pasadena", "jurisdiction_zips": ["91101"]})
    pasadena = jurisdiction_for(own.jurisdiction, own.jurisdiction_zips)
    assert pasadena.contains("91101") and not pasadena.contains("90012")
