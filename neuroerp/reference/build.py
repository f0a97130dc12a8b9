"""Build the packaged reference data from the public sources in `neuroerp/reference/sources/`.

The sources are copies of the public snapshots (`shared/reference/`, with their licences), shipped
so that every clone can check the packaged data against them. After a new snapshot arrives, copy
it into `sources/` and run `python -m neuroerp.reference.build [SOURCE_DIR]`; the output in
`neuroerp/reference/data/` is committed, so the product needs no download at run time. A test
rebuilds it and compares, so the packaged files never drift from their sources.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import sys
from pathlib import Path
from zoneinfo import ZoneInfo

DATA_DIR = Path(__file__).parent / "data"
DEFAULT_SOURCE_DIR = Path(__file__).parent / "sources"
SHARED_SOURCE_DIR = Path(__file__).resolve().parents[3] / "shared" / "reference"
BERLIN = ZoneInfo("Europe/Berlin")

# German product names for fertilisers of the Dutch list (FarmHackNL), with their EU 2019/1148
# classification. Nutrients are taken from the list. n_from_an is the nitrogen that comes from
# ammonium nitrate: "all" for calcium ammonium nitrate (all its N is AN nitrogen); for ammonium
# sulphate nitrate twice its 7 % nitrate N (the nitrate is bound as AN); 0 where there is no AN.
FERTILISERS: dict[str, tuple[str, str | float, str | None, str | None]] = {
    # reference name: (German name, n_from_an, annex, substance)
    "KAS 27 (Kalkammonsalpeter)": ("Kalkammonsalpeter 27 % N", "all", "I", "Ammonium nitrate"),
    "KAS 27% + 4% MgO": ("Kalkammonsalpeter 27 % N + 4 % MgO", "all", "I", "Ammonium nitrate"),
    "KAS 24 Zwavel 15 SO3": ("Kalkammonsalpeter mit Schwefel 24 % N + 6 % S", "all", "I", "Ammonium nitrate"),
    "Ammonsulfaatsalpeter (ASS)": ("Ammonsulfatsalpeter (ASS) 26 % N + 13 % S", 14.0, None, None),
    "Ureum gegranuleerd": ("Harnstoff 46 % N, granuliert", 0.0, None, None),
    "Zwavelzure ammoniak": ("Schwefelsaures Ammoniak (SSA) 21 % N + 24 % S", 0.0, None, None),
    "Tropicote (Kalksalpeter)": ("Kalksalpeter 15,5 % N + 26 % CaO", 0.0, "II", "Calcium nitrate"),
    "Kalisalpeter": ("Kalisalpeter 13 % N + 45 % K2O", 0.0, "II", "Potassium nitrate"),
    "Chilisalpeter": ("Chilesalpeter 16 % N", 0.0, "II", "Sodium nitrate"),
    "Kalkstikstof": ("Kalkstickstoff 21 % N (Perlka-Typ)", 0.0, None, None),
    "NP 18+46 (DAP)": ("Diammonphosphat (DAP) 18-46", 0.0, None, None),
    "NP 20+34": ("NP-Dünger 20-34", 0.0, None, None),
    "NPK 15+15+15": ("NPK-Dünger 15-15-15", 0.0, None, None),
    "NPK 12+12+17": ("Blaukorn NPK 12-12-17 + 2 MgO", 0.0, None, None),
    "NPK 20+10+10": ("NPK-Dünger 20-10-10", 0.0, None, None),
    "NPK 7+14+28": ("NPK-Dünger 7-14-28 (Herbstdünger)", 0.0, None, None),
    "Patentkali": ("Patentkali 30 % K2O + 10 % MgO + 42 % SO3", 0.0, None, None),
    "Tripelsuperfosfaat": ("Triplesuperphosphat 45 % P2O5", 0.0, None, None),
    "Superfosfaat": ("Superphosphat 19 % P2O5", 0.0, None, None),
    "Ammoniumthiosulfaat (ATS)": ("Ammoniumthiosulfat-Lösung (ATS)", 0.0, None, None),
    "Koolzure landbouwkalk": ("Kohlensaurer Kalk 90", 0.0, None, None),
    "Magnesiakalk": ("Magnesiummergel / Magnesiakalk", 0.0, None, None),
    "Branntkalk": ("Branntkalk 90 % CaO", 0.0, None, None),
}

# Fertiliser-grade ammonium nitrate is not in the Dutch list; its composition follows from the
# chemistry (NH4NO3 is 35 % N; fertiliser grade 34.4 %, half ammonium, half nitrate).
EXTRA_FERTILISERS = [
    {
        "reference_name": "",
        "name": "Ammonsalpeter 34,4 % N (Ammoniumnitrat)",
        "n_total_pct": "34.4",
        "nh4_pct": "17.2",
        "no3_pct": "17.2",
        "p2o5_pct": "",
        "k2o_pct": "",
        "mgo_pct": "",
        "so3_pct": "",
        "n_from_an_pct": "34.4",
        "precursor_annex": "I",
        "precursor_substance": "Ammonium nitrate",
    }
]

# Manure and digestate types of the Dutch list with their nutrients (kg per tonne fresh mass).
MANURES: dict[str, str] = {
    "Rundveegier": "Rindergülle",
    "Rundveemest vast": "Rinderfestmist",
    "Varkensgier": "Schweinegülle (dünn)",
    "Vl.varkensdrijfmest": "Mastschweinegülle",
    "Fokzeugen/biggendrijfmest": "Sauen-/Ferkelgülle",
    "Vleeskuikenmest vast": "Hähnchenmist",
    "Legkippenmest": "Legehennenkot",
    "Paardenmest vast": "Pferdemist",
    "Digestaat Betafert (dunne fractie)": "Gärrest flüssig",
    "Digestaat Betafert (dikke fractie)": "Gärrest fest",
}

_STATE_NAMES = {
    "Baden-Württemberg": "BW", "Bayern": "BY", "Bavaria": "BY", "Berlin": "BE", "Land Berlin": "BE",
    "Brandenburg": "BB", "Bremen": "HB", "Hamburg": "HH", "Hessen": "HE",
    "Mecklenburg-Vorpommern": "MV", "Mecklenburg-Western Pomerania": "MV",
    "Niedersachsen": "NI", "Lower Saxony": "NI", "Nordrhein-Westfalen": "NW",
    "Rheinland-Pfalz": "RP", "Saarland": "SL", "Sachsen": "SN", "Saxony": "SN",
    "Sachsen-Anhalt": "ST", "Saxony-Anhalt": "ST", "Schleswig-Holstein": "SH",
    "Thüringen": "TH", "Thuringia": "TH",
}  # fmt: skip
_FIRM = re.compile(r"GmbH|mbH|\bAG\b|\bKG\b|\bSE\b|e\.\s?V\.|Bank|Versicherung|Sparkasse|Postfach|Universit", re.I)


def bvl_local_date(value: str) -> str:
    """BVL dates are UTC instants of German local midnight: 2027-12-30T23:00:00Z is 31.12.2027."""
    if not value:
        return ""
    instant = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    return instant.astimezone(BERLIN).date().isoformat()


def build_bvl_products(source: Path) -> list[dict[str, str]]:
    rows = []
    with open(source / "bvl_mittel_stand_2025-11-11.csv", newline="", encoding="utf-8") as f:
        for r in csv.DictReader(f):
            rows.append(
                {
                    "kennr": r["kennr"],
                    "name": r["mittelname"].strip(),
                    "formulation": r["formulierung_art"],
                    "first_authorised_on": bvl_local_date(r["zul_erstmalig_am"]),
                    "authorised_until": bvl_local_date(r["zul_ende"]),
                    "low_risk": "true" if r["mittel_mit_geringem_risiko"] == "J" else "false",
                }
            )
    return sorted(rows, key=lambda r: r["kennr"])


def build_postal_codes(source: Path) -> list[dict[str, str]]:
    """German postal codes of places (not firms), one row per code and place, with the Land code."""
    seen: set[tuple[str, str]] = set()
    rows = []
    with open(source / "zipcodes.de.csv", newline="", encoding="utf-8") as f:
        for r in csv.DictReader(f):
            state = _STATE_NAMES.get(r["state"])
            # Rows with GeoNames' numeric state codes are large-customer codes of firms and offices.
            if state is None or not r["state_code"].isalpha() or _FIRM.search(r["place"]):
                continue
            key = (r["zipcode"], r["place"])
            if key in seen or len(r["zipcode"]) != 5:
                continue
            seen.add(key)
            rows.append(
                {
                    "postal_code": r["zipcode"],
                    "place": r["place"],
                    "state_code": state,
                    "district": r["community"],
                    "latitude": r["latitude"],
                    "longitude": r["longitude"],
                }
            )
    return sorted(rows, key=lambda r: (r["postal_code"], r["place"]))


def _num(value: str) -> float:
    return float(value) if value else 0.0


def build_fertilisers(source: Path) -> list[dict[str, str]]:
    by_name = {}
    with open(source / "fertilisers_nl.csv", newline="", encoding="utf-8") as f:
        for r in csv.DictReader(f):
            by_name.setdefault(r["Name"], r)
    rows = []
    for ref_name, (name, an_rule, annex, substance) in FERTILISERS.items():
        r = by_name[ref_name]
        n_total = _num(r["N"])
        n_from_an = n_total if an_rule == "all" else float(an_rule)
        rows.append(
            {
                "reference_name": ref_name,
                "name": name,
                "n_total_pct": r["N"],
                "nh4_pct": r["NH4"],
                "no3_pct": r["NO3"],
                "p2o5_pct": r["P2O5"],
                "k2o_pct": r["K2O"],
                "mgo_pct": r["MgO"],
                "so3_pct": r["SO3"],
                "n_from_an_pct": f"{n_from_an:g}" if n_total else "",
                "precursor_annex": annex or "",
                "precursor_substance": substance or "",
            }
        )
    return rows + EXTRA_FERTILISERS


def build_manures(source: Path) -> list[dict[str, str]]:
    by_name = {}
    with open(source / "fertilisers_nl.csv", newline="", encoding="utf-8") as f:
        for r in csv.DictReader(f):
            by_name.setdefault(r["Name"], r)
    return [
        {
            "reference_name": ref,
            "name": name,
            "n_kg_per_t": by_name[ref]["N"],
            "p2o5_kg_per_t": by_name[ref]["P2O5"],
        }
        for ref, name in MANURES.items()
    ]


def build_precursors(source: Path) -> list[dict[str, str]]:
    with open(source / "eu_2019_1148_precursors.csv", newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


OUTPUTS = {
    "bvl_products.csv": build_bvl_products,
    "postal_codes.csv": build_postal_codes,
    "fertilisers.csv": build_fertilisers,
    "manures.csv": build_manures,
    "precursors.csv": build_precursors,
}


def render(rows: list[dict[str, str]]) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(rows[0]), lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue()


def build_all(source: Path = DEFAULT_SOURCE_DIR) -> dict[str, str]:
    return {name: render(builder(source)) for name, builder in OUTPUTS.items()}


def main(argv: list[str]) -> None:
    source = Path(argv[0]) if argv else DEFAULT_SOURCE_DIR
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    for name, text in build_all(source).items():
        (DATA_DIR / name).write_text(text, encoding="utf-8")
        print(f"wrote {DATA_DIR / name} ({text.count(chr(10)) - 1} rows)")


if __name__ == "__main__":
    main(sys.argv[1:])
