"""The article catalogue of a Landhandel, built on the BVL register and the fertiliser list.

Every non-PSM article is a variant (brand x product x pack) of a product template; templates marked
`essential` are always stocked so that every compliance area has articles to look at, even at the
smallest scale.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, replace

import numpy as np

from neuroerp import reference


@dataclass(frozen=True)
class Pack:
    label: str
    unit: str  # kg|t|l|piece|bag
    size: float


@dataclass(frozen=True)
class Template:
    category: str
    product: str
    description: str
    trade: str  # which kind of supplier sells it
    price: tuple[float, float]  # list price per unit (EUR), range
    packs: tuple[Pack, ...]
    brands: tuple[str, ...] = ("",)
    private_ok: bool = False  # sold to the general public too
    essential: bool = False
    vat_pct: float = 19.0
    lead_time: tuple[int, int] = (3, 14)
    is_organic: bool = False
    import_control: str | None = None
    eudr_commodity: str | None = None
    n_total_pct: float | None = None
    n_from_an_pct: float | None = None
    precursor_annex: str | None = None
    precursor_substance: str | None = None
    precursor_concentration_pct: float | None = None  # Annex I substances other than ammonium nitrate
    # PSM only
    psm_reg_no: str | None = None
    psm_authorized_until: dt.date | None = None
    psm_professional_only: bool = False


T, KG, L, PIECE, BAG = "t", "kg", "l", "piece", "bag"
BULK = (Pack("lose", T, 1.0), Pack("BigBag 600 kg", T, 0.6), Pack("BigBag 500 kg", T, 0.5))
FERTILISER_BRANDS = ("YaraBela", "EuroChem", "Borealis", "SKW", "Hausmarke", "Agrolinz")

# fmt: off
SEED_CROPS = [
    # crop, varieties, packs, price per unit
    ("Winterweizen", ["Asory", "RGT Reform", "KWS Donovan", "Informer", "Chevignon", "LG Character", "SU Jonas",
                      "Campesino", "Patras", "Apostel"],
     (Pack("Z-Saatgut, 50 kg Sack", BAG, 1), Pack("Z-Saatgut, BigBag 1000 kg", T, 1.0)), (42, 65)),
    ("Wintergerste", ["KWS Higgins", "SU Midnight", "Julia", "Esprit", "KWS Wallace"],
     (Pack("Z-Saatgut, 50 kg Sack", BAG, 1), Pack("Z-Saatgut, BigBag 1000 kg", T, 1.0)), (40, 60)),
    ("Winterroggen", ["KWS Serafino", "SU Performer", "KWS Tayo"],
     (Pack("Hybridsaatgut, Einheit 1 Mio. Körner", PIECE, 1),), (95, 130)),
    ("Triticale", ["Lombardo", "Ramdam", "Cedrico"], (Pack("Z-Saatgut, 50 kg Sack", BAG, 1),), (38, 52)),
    ("Winterraps", ["Ambassador", "Architect", "DK Exlibris", "LG Aviron"],
     (Pack("Hybridsaatgut, Einheit 1,5 Mio. Körner", PIECE, 1),), (150, 220)),
    ("Sommergerste", ["RGT Planet", "Avalon", "Amidala"], (Pack("Z-Saatgut, 50 kg Sack", BAG, 1),), (40, 58)),
    ("Silomais", ["KWS Figaro", "P8329", "LG 31.211", "DKC 3218", "Ambrosini"],
     (Pack("Einheit 50.000 Körner", PIECE, 1),), (95, 140)),
    ("Zuckerrübe", ["BTS 4940", "Strauss KWS", "Vasco"], (Pack("Einheit 100.000 Pillen", PIECE, 1),), (190, 260)),
    ("Grünland-Nachsaat", ["GII", "GV Weide", "Nachsaat Trocken"], (Pack("25 kg Sack", BAG, 1),), (95, 160)),
    ("Zwischenfrucht", ["Gelbsenf", "Phacelia", "Ölrettich", "Greening-Mischung"], (Pack("25 kg Sack", BAG, 1),),
     (45, 110)),
    ("Rasensaat", ["Sport und Spiel", "Schattenrasen"], (Pack("1 kg Karton", PIECE, 1), Pack("10 kg Sack", BAG, 1)),
     (9, 75)),
]

FEEDS = [
    # product, trade, packs, price, flags
    ("Milchleistungsfutter MLF 18/4", "feed", (Pack("lose", T, 1.0), Pack("25 kg Sack", BAG, 1)), (330, 420), {}),
    ("Milchleistungsfutter MLF 20/4", "feed", (Pack("lose", T, 1.0),), (350, 440), {}),
    ("Kälberaufzuchtfutter", "feed", (Pack("25 kg Sack", BAG, 1),), (16, 24), {}),
    ("Rindermastfutter", "feed", (Pack("lose", T, 1.0),), (320, 400), {}),
    ("Schweinemastfutter Endmast", "feed", (Pack("lose", T, 1.0),), (300, 380), {}),
    ("Ferkelaufzuchtfutter", "feed", (Pack("lose", T, 1.0), Pack("25 kg Sack", BAG, 1)), (420, 560), {}),
    ("Legehennenalleinfutter", "feed", (Pack("lose", T, 1.0), Pack("25 kg Sack", BAG, 1)), (380, 470),
     {"private_ok": True}),
    ("Mineralfutter Rind", "feed", (Pack("25 kg Sack", BAG, 1),), (22, 38), {}),
    ("Pferdemüsli", "feed", (Pack("20 kg Sack", BAG, 1),), (18, 29), {"private_ok": True}),
    ("Sojaextraktionsschrot 44 % (GVO)", "import_soya", (Pack("lose", T, 1.0),), (420, 520),
     {"eudr_commodity": "soya", "essential": True}),
    ("Palmkernexpeller", "import_palm", (Pack("lose", T, 1.0),), (210, 280),
     {"eudr_commodity": "palm", "essential": True}),
    ("Fischmehl 65 % Protein", "import_fishmeal", (Pack("BigBag 1000 kg", T, 1.0),), (1500, 1900),
     {"import_control": "CHED-P", "essential": True}),
    ("Erdnussexpeller", "import_groundnut", (Pack("lose", T, 1.0),), (380, 460),
     {"import_control": "CHED-D", "essential": True}),
    ("Bio-Sojakuchen", "import_organic", (Pack("BigBag 1000 kg", T, 1.0),), (780, 950),
     {"is_organic": True, "essential": True}),
    ("Bio-Legehennenfutter", "feed", (Pack("25 kg Sack", BAG, 1),), (24, 34), {"is_organic": True}),
    ("Trockenschnitzel pelletiert", "feed", (Pack("lose", T, 1.0),), (220, 290), {}),
]

GRAINS = [
    ("Weizen A-Qualität", (200, 240), {}),
    ("Weizen B-Qualität", (190, 225), {}),
    ("Futterweizen", (175, 210), {}),
    ("Braugerste", (210, 260), {}),
    ("Futtergerste", (160, 195), {}),
    ("Roggen", (150, 185), {}),
    ("Raps 00", (420, 490), {}),
    ("Körnermais", (180, 215), {}),
    ("Hafer", (170, 230), {}),
    ("Bio-Weizen (Import)", (380, 460), {"is_organic": True, "trade": "import_organic", "essential": True}),
    ("Sojabohnen GVO-frei", (430, 520), {"eudr_commodity": "soya", "trade": "import_soya"}),
]

BIOSTIMULANTS = ["Algenextrakt Ascophyllum nodosum", "Aminosäure-Blattdünger", "Huminsäure-Granulat",
                 "Bacillus-Bodenhilfsstoff", "Mykorrhiza-Präparat", "Spurennährstoff-Mix Bor/Mangan"]

OTHERS = [
    # product, packs, price, private_ok, flags
    ("Weidezaunlitze 6 mm", (Pack("Rolle 400 m", PIECE, 1),), (35, 60), True, {}),
    ("Weidezaungerät 12 V", (Pack("Stück", PIECE, 1),), (190, 420), True, {}),
    ("Silofolie 12 x 50 m", (Pack("Rolle", PIECE, 1),), (180, 260), False, {}),
    ("Netzwickel 1,23 m x 3600 m", (Pack("Rolle", PIECE, 1),), (160, 210), False, {}),
    ("Bindegarn 130 m/kg", (Pack("Paket 2 Spulen", PIECE, 1),), (28, 40), False, {}),
    ("Arbeitshandschuhe Nitril", (Pack("Paar", PIECE, 1),), (3, 8), True, {}),
    ("Hornspäne", (Pack("5 kg Eimer", PIECE, 1),), (14, 22), True, {}),
    ("Rasendünger mit Langzeitwirkung", (Pack("10 kg Sack", BAG, 1),), (18, 32), True, {}),
    ("Gartenerde torffrei", (Pack("40 l Sack", BAG, 1),), (5, 9), True, {}),
    ("Holzpellets ENplus A1", (Pack("15 kg Sack", BAG, 1), Pack("lose", T, 1.0)), (5, 8), True,
     {"eudr_commodity": "wood", "trade": "wood", "essential": True}),
    ("Weidepfähle Kiefer kesseldruckimprägniert", (Pack("Stück", PIECE, 1),), (4, 9), True,
     {"eudr_commodity": "wood", "trade": "wood"}),
    ("Pflanzkartoffeln Belana", (Pack("25 kg Sack", BAG, 1),), (28, 40), True,
     {"import_control": "CHED-PP", "trade": "import_seed_potato", "essential": True, "vat_pct": 7.0}),
    ("Tierstreu Strohpellets", (Pack("20 kg Sack", BAG, 1),), (6, 10), True, {}),
    # stable and milking hygiene: hydrogen peroxide above the Annex I limit (12 %) for professionals only,
    # a ready-to-use cleaner below it for everyone
    ("Wasserstoffperoxid 35 % Stalldesinfektion", (Pack("20 kg Kanister", KG, 20),), (45, 70), False,
     {"precursor_annex": "I", "precursor_substance": "Hydrogen peroxide", "precursor_concentration_pct": 35.0,
      "essential": True}),
    ("Wasserstoffperoxid 11,9 % Melkzeugreiniger", (Pack("5 kg Kanister", KG, 5),), (12, 20), True,
     {"precursor_substance": "Hydrogen peroxide", "precursor_concentration_pct": 11.9, "essential": True}),
]
# fmt: on


class AsOfBeyondRegister(ValueError):
    """The demo data's as-of day lies past every authorisation of the packaged BVL register."""


# the PSM rules' breaks need products still authorised well after the as-of day (PSM-007: 200 days)
LONG_LIVED = dt.timedelta(days=365)
SELL_OUT = dt.timedelta(days=180)  # about the six months' sell-out period after an authorisation ends
MIN_LONG_LIVED_PSM = 3
LIQUID_FORMULATIONS = {"EC", "SC", "SL", "EW", "OD", "SE", "ME", "CS", "DC", "ZC", "SU", "AL", "EO", "FS"}


def fertiliser_templates() -> list[Template]:
    out = []
    for f in reference.fertilisers().iter_rows(named=True):
        annex = f["precursor_annex"]
        n_from_an = f["n_from_an_pct"]
        private_ok = annex is None and (f["n_total_pct"] or 0) < 20
        packs = BULK if not private_ok else (*BULK[:2], Pack("25 kg Sack", KG, 25))
        nutrients = ", ".join(
            f"{label} {f[col]:g} %"
            for col, label in [("n_total_pct", "N"), ("p2o5_pct", "P2O5"), ("k2o_pct", "K2O"), ("mgo_pct", "MgO")]
            if f[col]
        )
        out.append(
            Template(
                category="fertilizer",
                product=f["name"],
                description=f"Mineraldünger. Gehalte: {nutrients or 'siehe Etikett'}.",
                trade="fertilizer",
                price=(260, 620),
                packs=packs,
                brands=FERTILISER_BRANDS,
                private_ok=private_ok,
                essential=annex is not None,
                lead_time=(5, 21),
                n_total_pct=f["n_total_pct"],
                n_from_an_pct=n_from_an,
                precursor_annex=annex,
                precursor_substance=f["precursor_substance"],
            )
        )
    return out


def seed_templates() -> list[Template]:
    out = []
    for crop, varieties, packs, price in SEED_CROPS:
        for variety in varieties:
            out.append(
                Template(
                    category="seed",
                    product=f"{crop} {variety}",
                    description=f"Zertifiziertes Saatgut {crop}, Sorte {variety}, gebeizt.",
                    trade="seed",
                    price=price if packs[0].unit != T else price,
                    packs=packs,
                    private_ok=crop == "Rasensaat",
                    vat_pct=7.0,
                    lead_time=(7, 30),
                )
            )
    return out


def feed_templates() -> list[Template]:
    out = []
    for product, trade, packs, price, flags in FEEDS:
        imported = trade.startswith("import_")
        out.append(
            Template(
                category="feed",
                product=product,
                description=f"Futtermittel: {product}." + (" Importware." if imported else ""),
                trade=trade,
                price=price,
                packs=packs,
                brands=("",) if imported else ("NordFutter", "Landgold", "Hausmarke"),
                vat_pct=7.0,
                lead_time=(30, 60) if imported else (2, 7),
                **flags,
            )
        )
    return out


def grain_templates() -> list[Template]:
    out = []
    for product, price, flags in GRAINS:
        flags = dict(flags)
        trade = flags.pop("trade", "grain")
        out.append(
            Template(
                category="grain",
                product=product,
                description=f"Getreide/Ölsaat: {product}, Handelsware.",
                trade=trade,
                price=price,
                packs=(Pack("lose", T, 1.0),),
                brands=("Ernte 2025", "Ernte 2026"),
                vat_pct=7.0,
                lead_time=(30, 60) if trade != "grain" else (1, 3),
                **flags,
            )
        )
    return out


def biostimulant_templates() -> list[Template]:
    return [
        Template(
            category="biostimulant",
            product=p,
            description=f"Biostimulans (EU 2019/1009, PFC 6): {p}.",
            trade="psm",
            price=(12, 45),
            packs=(Pack("1 l Flasche", L, 1), Pack("5 l Kanister", L, 5), Pack("20 l Kanister", L, 20)),
            brands=("Agro", "Bio", "Vital"),
            private_ok=True,
        )
        for p in BIOSTIMULANTS
    ]


def other_templates() -> list[Template]:
    out = []
    for product, packs, price, private_ok, flags in OTHERS:
        flags = dict(flags)
        trade = flags.pop("trade", "other")
        out.append(
            Template(
                category="other",
                product=product,
                description=f"Betriebsbedarf: {product}.",
                trade=trade,
                price=price,
                packs=packs,
                private_ok=private_ok,
                lead_time=(3, 10) if not trade.startswith("import_") else (20, 45),
                **flags,
            )
        )
    return out


def psm_templates(rng: np.random.Generator, n_products: int, as_of: dt.date) -> list[Template]:
    """PSM articles: real products and numbers of the BVL register, in one or two packs.

    A random sample of the register mostly holds authorisations that end within two years; for a
    later as-of day it may hold none still sellable, and the PSM rules' breaks need some. The sample
    then swaps its earliest-ending products for the register's latest-ending ones, without drawing
    again, so the data of an as-of day the sample already suits stays as it was."""
    register = reference.bvl_products()
    last_sale = register["authorised_until"].max() + SELL_OUT
    if as_of > last_sale:
        raise AsOfBeyondRegister(
            f"as-of day {as_of} is too late for the packaged BVL register: its last authorisation may be sold "
            f"until {last_sale}, so no plant protection product could still be sold; choose an earlier as-of day"
        )
    chosen = rng.choice(register.height, size=min(n_products, register.height), replace=False)
    chosen = _with_long_lived(register["authorised_until"].to_list(), chosen.tolist(), as_of)
    out = []
    for row in register[np.sort(chosen).tolist()].iter_rows(named=True):
        liquid = row["formulation"] in LIQUID_FORMULATIONS
        professional = rng.random() < 0.85
        if professional:
            packs = (
                (Pack("5 l Kanister", L, 5), Pack("10 l Kanister", L, 10))
                if liquid
                else (Pack("1 kg Beutel", KG, 1), Pack("5 kg Eimer", KG, 5))
            )
        else:
            packs = (
                (Pack("250 ml Flasche", L, 0.25), Pack("1 l Flasche", L, 1))
                if liquid
                else (Pack("500 g Packung", KG, 0.5),)
            )
        until = row["authorised_until"]
        audience = "Nur für berufliche Anwender." if professional else "Für Haus- und Kleingarten zugelassen."
        out.append(
            Template(
                category="psm",
                product=row["name"],
                description=(
                    f"Pflanzenschutzmittel ({row['formulation']}), BVL-Nr. {row['kennr']}, "
                    f"zugelassen bis {until:%d.%m.%Y}. {audience}"
                ),
                trade="psm",
                price=(14, 140) if professional else (8, 30),
                packs=packs,
                private_ok=not professional,
                lead_time=(2, 10),
                psm_reg_no=row["kennr"],
                psm_authorized_until=until,
                psm_professional_only=professional,
            )
        )
    return out


@dataclass(frozen=True)
class Variant:
    template: Template
    brand: str
    pack: Pack

    @property
    def name(self) -> str:
        brand = f"{self.brand} " if self.brand and not self.brand.startswith("Ernte") else ""
        suffix = f" ({self.brand})" if self.brand.startswith("Ernte") else ""
        return f"{brand}{self.template.product}{suffix}, {self.pack.label}"


CATEGORY_SHARES = {
    "psm": 0.25, "fertilizer": 0.20, "seed": 0.22, "feed": 0.15, "grain": 0.05, "biostimulant": 0.04, "other": 0.09,
}  # fmt: skip


def _with_long_lived(until: list[dt.date], chosen: list[int], as_of: dt.date) -> list[int]:
    """`chosen` with at least MIN_LONG_LIVED_PSM products authorised past as_of + LONG_LIVED."""
    lives = [i for i in chosen if until[i] > as_of + LONG_LIVED]
    missing = min(MIN_LONG_LIVED_PSM, len(chosen)) - len(lives)
    if missing <= 0:
        return chosen
    taken = set(chosen)
    latest = sorted((i for i in range(len(until)) if i not in taken), key=lambda i: (until[i], i), reverse=True)
    earliest = sorted((i for i in chosen if i not in lives), key=lambda i: (until[i], i))
    swap_out = set(earliest[:missing])
    return [i for i in chosen if i not in swap_out] + latest[:missing]


def build_catalogue(rng: np.random.Generator, n_articles: int, as_of: dt.date) -> list[Variant]:
    """n_articles variants over all categories, every essential template included."""
    counts = {c: max(2, round(n_articles * s)) for c, s in CATEGORY_SHARES.items()}
    pools = {
        "psm": psm_templates(rng, math.ceil(counts["psm"] / 2), as_of),
        "fertilizer": fertiliser_templates(),
        "seed": seed_templates(),
        "feed": feed_templates(),
        "grain": grain_templates(),
        "biostimulant": biostimulant_templates(),
        "other": other_templates(),
    }
    chosen: list[Variant] = []
    for category, templates in pools.items():
        variants = [Variant(t, b, p) for t in templates for b in t.brands for p in t.packs]
        essentials = {}
        for i, v in enumerate(variants):
            if v.template.essential:
                essentials.setdefault(v.template.product, i)
        picked = list(essentials.values())
        rest = [i for i in range(len(variants)) if i not in set(picked)]
        need = max(0, counts[category] - len(picked))
        order = rng.permutation(len(rest))
        picked += [rest[j] for j in order[:need]]
        for i in sorted(picked):
            chosen.append(variants[i])
        # a larger catalogue than the templates allow repeats variants as regional private labels
        for k in range(max(0, need - len(rest))):
            v = variants[rest[order[k % len(rest)]]] if rest else variants[picked[k % len(picked)]]
            chosen.append(replace(v, brand=f"Regional {k // max(1, len(variants)) + 1} {v.brand}".strip()))
    return chosen
