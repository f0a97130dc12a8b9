"""Retrieval quality: German queries as staff type them, with the hits a person expects, scored by
recall@10 and MRR for vector-only, full-text-only and hybrid search.

Each label says which rows are right answers as a SQL condition over the rows the index is built
from (the documents' source fields: name, category, nutrients, customer type, district, ...),
written from the catalogue of the demo generator and from what the words mean in the trade, not
from what any search returns. Conditions rather than fixed ids keep the set valid for any seed and
scale of the demo data; a query with no right answer in the data at hand is reported as not
applicable and left out of the figures.

Metrics, per query, over the top 10 of a search without kind or tenant filter (staff search
everything): recall@10 = right answers in the top 10 / min(right answers, 10) (capped, so a query
with 30 right answers can reach 1), reciprocal rank = 1 / rank of the first right answer in the
top 10 (0 when none). The set's figures are the means over applicable queries.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import duckdb
import polars as pl

from neuroerp.search.config import TABLE_OF_KIND
from neuroerp.search.documents import Documents
from neuroerp.search.search import Searcher

K = 10


@dataclass(frozen=True)
class LabelledQuery:
    query: str
    kind: str  # article | customer: where the right answers are
    relevant: str  # SQL condition over the documents' source fields
    tags: tuple[str, ...] = ()  # what makes it hard: synonym, misspelling, compound, crop, season, place, number


def _q(query: str, kind: str, relevant: str, *tags: str) -> LabelledQuery:
    return LabelledQuery(query, kind, relevant, tags)


A, C = "article", "customer"


def name(pattern: str) -> str:
    """Names matching a regular expression, case-insensitive."""
    return f"regexp_matches(name, '(?i){pattern}')"


FERTILISER, SEED, FEED, GRAIN = (
    "category = 'fertilizer'",
    "category = 'seed'",
    "category = 'feed'",
    "category = 'grain'",
)

QUERIES: tuple[LabelledQuery, ...] = (
    # fertiliser: crops, seasons, nutrients, abbreviations, misspellings
    _q("Dünger für Raps im Frühjahr", A,
       f"{FERTILISER} and {name('schwefel|ammonsulfat|thiosulfat')}", "crop", "season"),
    _q("KAS 27", A, name("kalkammonsalpeter 27"), "abbreviation"),
    _q("Kalkamonsalpeter", A, name("kalkammonsalpeter"), "misspelling"),
    _q("Harnstoff granuliert", A, name("harnstoff"), "product"),
    _q("Stickstoffdünger", A,
       f"{FERTILISER} and n_total_pct >= 15 and description not like '%P2O5%' and description not like '%K2O%'",
       "compound", "synonym"),
    _q("Phosphatdünger", A, f"{FERTILISER} and description like '%P2O5%'", "compound", "nutrient"),
    _q("Kalidünger", A, f"{FERTILISER} and description like '%K2O%'", "compound", "nutrient"),
    _q("Kalk fürs Grünland", A, name("kohlensaurer kalk|branntkalk|magnesiakalk"), "synonym"),
    _q("Herbstdünger", A, name("herbstdünger"), "season"),
    _q("Blaukorn", A, name("blaukorn"), "product"),
    _q("Volldünger NPK", A, name("npk"), "synonym"),
    _q("Dünger mit Magnesium", A, f"{FERTILISER} and (description like '%MgO%' or {name('magnes')})", "nutrient"),
    _q("Ammoniumnitrat", A, "precursor_substance = 'Ammonium nitrate'", "substance"),
    _q("Rasendünger", A, name("rasendünger"), "compound"),
    _q("organischer Dünger Hornspäne", A, name("hornspäne"), "synonym"),
    # seed: crops and sowing seasons
    _q("Saatweizen", A, f"{SEED} and {name('^winterweizen')}", "compound", "crop"),
    _q("Weizensaat für die Herbstaussaat", A, f"{SEED} and {name('^winterweizen')}", "crop", "season"),
    _q("Wintergerste Sorten", A, f"{SEED} and {name('^wintergerste')}", "crop"),
    _q("Sommergerste säen im Frühjahr", A, f"{SEED} and {name('^sommergerste')}", "crop", "season"),
    _q("Rapssaat Hybrid", A, f"{SEED} and {name('^winterraps')}", "crop", "compound"),
    _q("Maissaatgut", A, f"{SEED} and {name('mais')}", "crop", "compound"),
    _q("Zuckerrübensaat", A, f"{SEED} and {name('zuckerrübe')}", "crop", "compound"),
    _q("Roggen Hybridsaatgut", A, f"{SEED} and {name('roggen')}", "crop"),
    _q("Triticale", A, f"{SEED} and {name('triticale')}", "crop"),
    _q("Zwischenfrucht nach der Ernte", A, name("zwischenfrucht"), "season"),
    _q("Senf zur Gründüngung", A, name("zwischenfrucht"), "synonym"),
    _q("Grassamen zum Nachsäen der Weide", A, name("grünland-nachsaat"), "synonym"),
    _q("Rasensamen", A, name("rasensaat"), "synonym"),
    _q("Saatkartoffeln", A, name("pflanzkartoffeln"), "synonym"),
    # feed: animals and colloquial names
    _q("Milchviehfutter", A, f"{FEED} and {name('milchleistungsfutter|mineralfutter rind')}", "synonym"),
    _q("Kraftfutter für Kühe", A, f"{FEED} and {name('milchleistungsfutter|rindermast')}", "synonym"),
    _q("Kälberfutter", A, name("kälberaufzucht"), "compound"),
    _q("Schweinemast Futter", A, name("schweinemastfutter"), "compound"),
    _q("Ferkelfutter", A, name("ferkelaufzucht"), "compound"),
    _q("Hühnerfutter", A, name("legehennen"), "synonym"),
    _q("Bio Hühnerfutter", A, name("bio-legehennen"), "synonym"),
    _q("Futter für Pferde", A, name("pferdemüsli"), "synonym"),
    _q("Sojaschrot", A, name("sojaextraktionsschrot"), "abbreviation"),
    _q("Eiweißfutter aus Übersee", A, name("soja|fischmehl|erdnuss|palmkern") + f" and {FEED}", "synonym"),
    _q("Mineralfutter Rinder", A, name("mineralfutter rind"), "product"),
    _q("Rübenschnitzel", A, name("trockenschnitzel"), "synonym"),
    # grain trade
    _q("Braugerste Ernte 2025", A, f"{name('braugerste')} and {name('2025')}", "season"),
    _q("Brotweizen A-Qualität", A, name("weizen a-qualität"), "synonym"),
    _q("Futtergetreide", A, f"{GRAIN} and {name('futter')}", "compound"),
    _q("Hafer", A, f"{GRAIN} and {name('hafer')}", "crop"),
    _q("Raps 00 Ankauf", A, f"{GRAIN} and {name('raps')}", "crop"),
    _q("Körnermais", A, f"{GRAIN} and {name('körnermais')}", "crop"),
    _q("Biogetreide", A, f"{GRAIN} and is_organic", "compound"),
    # farm supplies, biostimulants, plant protection
    _q("Weidezaun", A, name("weidezaun|weidepfähle"), "compound"),
    _q("Elektrozaun Gerät", A, name("weidezaungerät"), "synonym"),
    _q("Siloabdeckung Folie", A, name("silofolie"), "synonym"),
    _q("Rundballennetz", A, name("netzwickel"), "synonym"),
    _q("Bindfaden für die Presse", A, name("bindegarn"), "synonym"),
    _q("Handschuhe", A, name("handschuhe"), "compound"),
    _q("Holzpellets zum Heizen", A, name("holzpellets"), "product"),
    _q("Einstreu für Pferde", A, name("strohpellets"), "synonym"),
    _q("Gartenerde ohne Torf", A, name("gartenerde"), "synonym"),
    _q("Blattdünger", A, name("blattdünger|spurennährstoff"), "compound"),
    _q("Bor Mangan Spurenelemente", A, name("spurennährstoff"), "synonym"),
    _q("Algenextrakt", A, name("algenextrakt"), "product"),
    _q("Pflanzenschutz für den Hausgarten", A, "category = 'psm' and not psm_professional_only", "synonym"),
    _q("Spritzmittel für Profis", A, "category = 'psm' and psm_professional_only", "synonym"),
    _q("Beizmittel", A, "category = 'psm' and formulation = 'FS'", "synonym"),
    _q("Schneckenkorn", A, "category = 'psm' and formulation in ('RB', 'GB')", "synonym"),
    _q("D100041", A, "number = 'D100041'", "number"),
    _q("s100072", A, "number = 'S100072'", "number"),
    # customers: types, places, regions, names
    _q("Lohnunternehmer in Bayern", C, "customer_type = 'contractor' and state_code = 'BY'", "place", "synonym"),
    _q("Lohnunternehmen Niedersachsen", C, "customer_type = 'contractor' and state_code = 'NI'", "place"),
    _q("Genossenschaften", C, "customer_type = 'cooperative'", "synonym"),
    _q("Mühle", C, name("mühle"), "product"),
    _q("Biogasanlage", C, name("biogas"), "compound"),
    _q("Brauerei Kunde", C, name("brauerei"), "product"),
    _q("Gartencenter", C, name("gartencenter"), "product"),
    _q("Raiffeisenmarkt", C, name("raiffeisen"), "compound"),
    _q("Milchbauern", C, name("milchvieh"), "synonym"),
    _q("Schweinemäster", C, name("schweinehaltung"), "synonym"),
    _q("Ackerbaubetriebe", C, name("ackerbau"), "compound"),
    _q("Privatkunden in Hamburg", C, "customer_type = 'private' and state_code = 'HH'", "place"),
    _q("Kunden in München", C, "city like 'München%'", "place"),
    _q("Landwirte im Emsland", C, "customer_type = 'farm' and district like '%Emsland%'", "place"),
    _q("Kunden im Wendland", C, "district = 'Lüchow-Dannenberg'", "place", "synonym"),
    _q("Höfe in Friesland", C, "customer_type = 'farm' and district like '%Friesland%'", "place"),
    _q("Kunden im Landkreis Cuxhaven", C, "district like '%Cuxhaven%'", "place"),
    _q("Landwirt aus Schleswig-Holstein", C, "customer_type = 'farm' and state_code = 'SH'", "place"),
    _q("Kunden aus Holland", C, "country_code = 'NL'", "place", "synonym"),
    _q("Kunden in Österreich", C, "country_code = 'AT'", "place"),
    _q("dänische Kunden", C, "country_code = 'DK'", "place"),
    _q("Gutshof", C, name("^gut "), "compound"),
    _q("Kunde Mueller", C, name("müller"), "misspelling"),
    _q("Mischfutterwerk", C, name("mischfutterwerk"), "product"),
    _q("K200042", C, "number = 'K200042'", "number"),
)  # fmt: skip


@dataclass
class QueryOutcome:
    query: LabelledQuery
    relevant: int
    found: list[str]  # ids of the top 10
    recall: float
    reciprocal_rank: float


@dataclass
class ModeScore:
    mode: str
    outcomes: list[QueryOutcome] = field(default_factory=list)

    @property
    def recall(self) -> float:
        return sum(o.recall for o in self.outcomes) / len(self.outcomes) if self.outcomes else 0.0

    @property
    def mrr(self) -> float:
        return sum(o.reciprocal_rank for o in self.outcomes) / len(self.outcomes) if self.outcomes else 0.0


def relevant_ids(labelled: LabelledQuery, documents: dict[str, Documents]) -> set[str]:
    frame: pl.DataFrame = documents[TABLE_OF_KIND[labelled.kind]].frame  # noqa: F841 (read by DuckDB)
    with duckdb.connect() as conn:
        rows = conn.execute(f"select id from frame where {labelled.relevant}").fetchall()
    return {r[0] for r in rows}


def score(labelled: LabelledQuery, relevant: set[str], found: list[str]) -> tuple[float, float]:
    top = found[:K]
    recall = len(relevant & set(top)) / min(len(relevant), K)
    first = next((rank for rank, i in enumerate(top, start=1) if i in relevant), None)
    return recall, (1.0 / first if first else 0.0)


def evaluate(
    searcher: Searcher,
    documents: dict[str, Documents],
    modes: tuple[str, ...] = ("vector", "text", "hybrid"),
    queries: tuple[LabelledQuery, ...] = QUERIES,
) -> tuple[dict[str, ModeScore], list[LabelledQuery]]:
    """Scores per mode over the applicable queries, and the queries without a right answer here."""
    labels = [(q, relevant_ids(q, documents)) for q in queries]
    not_applicable = [q for q, rel in labels if not rel]
    scores = {mode: ModeScore(mode) for mode in modes}
    for labelled, relevant in labels:
        if not relevant:
            continue
        for mode, hits in searcher.compare(labelled.query, limit=K, modes=modes).items():
            found = [h.id for h in hits]
            recall, rr = score(labelled, relevant, found)
            scores[mode].outcomes.append(QueryOutcome(labelled, len(relevant), found, recall, rr))
    return scores, not_applicable
