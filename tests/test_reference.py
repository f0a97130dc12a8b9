"""The packaged reference data: built from the public snapshots, and sane."""

from pathlib import Path

import pytest

from neuroerp import reference
from neuroerp.contract import GERMAN_LANDS
from neuroerp.reference.build import DATA_DIR, DEFAULT_SOURCE_DIR, SHARED_SOURCE_DIR, build_all, bvl_local_date


def test_packaged_files_equal_a_rebuild_from_the_sources():
    for name, text in build_all().items():
        assert (DATA_DIR / name).read_text(encoding="utf-8") == text, (
            f"{name} drifted: run python -m neuroerp.reference.build"
        )


@pytest.mark.skipif(not SHARED_SOURCE_DIR.exists(), reason="shared/reference/ is not beside the checkout")
def test_shipped_sources_are_the_shared_snapshots():
    shipped = {p.name: p.read_bytes() for p in Path(DEFAULT_SOURCE_DIR).iterdir()}
    shared = {p.name: p.read_bytes() for p in SHARED_SOURCE_DIR.iterdir()}
    assert shipped == shared, "copy shared/reference/ into neuroerp/reference/sources/ and rebuild"


def test_bvl_dates_are_german_local_dates():
    assert bvl_local_date("2027-12-30T23:00:00Z") == "2027-12-31"
    assert bvl_local_date("2026-06-29T22:00:00Z") == "2026-06-30"  # summer time


def test_bvl_register_numbers_have_nine_characters():
    products = reference.bvl_products()
    assert products.height == 2110
    assert products["kennr"].str.len_chars().unique().to_list() == [9]
    assert products["kennr"].is_unique().all()


def test_postal_codes_are_places_with_a_land():
    codes = reference.postal_codes()
    assert codes.height > 15_000
    assert set(codes["state_code"].unique()) == set(GERMAN_LANDS)
    assert codes["postal_code"].str.contains(r"^\d{5}$").all()
    assert not codes["place"].str.contains("GmbH").any()


def test_fertilisers_classify_ammonium_nitrate_as_annex_i():
    fert = reference.fertilisers()
    kas = fert.filter(fert["name"].str.starts_with("Kalkammonsalpeter 27"))
    assert set(kas["precursor_annex"]) == {"I"} and (kas["n_from_an_pct"] >= 16).all()
    assert fert.filter(fert["n_from_an_pct"] >= 28).height >= 1  # needs a detonation test
