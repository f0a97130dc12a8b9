"""Name material for German agricultural trade: people, farms, firms, streets."""

SURNAMES = """Müller Schmidt Schneider Fischer Meyer Weber Schulz Wagner Becker Hoffmann Schäfer Koch Bauer
Richter Klein Wolf Schröder Neumann Schwarz Zimmermann Braun Hofmann Hartmann Lange Schmitt Werner
Krause Meier Lehmann Schmid Schulze Maier Köhler Herrmann König Walter Mayer Huber Kaiser Fuchs
Peters Lang Scholz Möller Weiß Jung Hahn Schubert Vogel Friedrich Keller Günther Frank Berger Winkler
Roth Beck Lorenz Baumann Franke Albrecht Schuster Simon Ludwig Böhm Winter Kraus Martin Schumacher
Krüger Kramer Vogt Stein Jäger Otto Sommer Groß Seidel Heinrich Brandt Haas Schreiber Graf Dietrich
Ziegler Kuhn Kühn Pohl Engel Horn Busch Bergmann Thomas Voigt Sauer Arnold Wolff Pfeiffer Janssen
Hinrichs Ahlers Wübbena Eilers Gerdes Harms Onken Thiele Brinkmann Kampmann Overbeck Hüsing Niehaus
Wiegmann Plagge Rolfes Meyerhoff Bruns Lüken Tönjes Wessels Aumann Steinkamp Hackmann Reinke Stolle
Oltmanns Lohmann Freese Kruse Rathjen Tiedemann Hagedorn Stallmann Hölscher Diekmann Grotehusmann""".split()

FIRST_NAMES = """Andreas Bernd Christian Dirk Frank Georg Hans Heiko Heinrich Hendrik Jan Jens Johannes Jörg
Jürgen Karl Klaus Lars Lukas Markus Martin Matthias Michael Niklas Olaf Peter Ralf Stefan Sven Thomas
Tobias Uwe Wilhelm Anna Birgit Claudia Elke Hanna Heike Ines Julia Katrin Lena Maria Monika Nicole
Petra Sabine Sandra Silke Stefanie Susanne Ute""".split()

STREETS = [
    "Hauptstraße", "Dorfstraße", "Schulstraße", "Gartenstraße", "Bahnhofstraße", "Kirchweg",
    "Feldweg", "Lindenstraße", "Mühlenweg", "Am Sportplatz", "Birkenweg", "Eichenweg",
    "Wiesenweg", "Raiffeisenstraße", "Industriestraße", "Zum Bruch", "Moorweg", "Heideweg",
    "Auf dem Esch", "Hofstraße", "Kampstraße", "Brinkstraße", "Im Winkel", "Ackerweg",
    "Alte Dorfstraße", "Molkereistraße", "Tannenweg", "Am Mühlenbach", "Siedlungsstraße", "Landstraße",
]  # fmt: skip

FOREIGN_PLACES = {
    # country: [(postal code, city)]
    "NL": [("7711 AA", "Nieuwleusen"), ("7941 AB", "Meppel"), ("9401 EA", "Assen"), ("7131 AA", "Lichtenvoorde")],
    "DK": [("6200", "Aabenraa"), ("6360", "Tinglev"), ("6270", "Tønder")],
    "AT": [("4910", "Ried im Innkreis"), ("5280", "Braunau am Inn"), ("4780", "Schärding")],
    "PL": [("66-400", "Gorzów Wielkopolski"), ("74-100", "Gryfino")],
}

STAFF_ROLES = ["Außendienst", "Verkauf Lager", "Innendienst", "Marktleitung", "Fachberatung"]

EMAIL_DOMAINS = ["t-online.de", "gmx.de", "web.de", "gmail.com", "ewetel.net", "freenet.de", "outlook.de"]

# Supplier name patterns per trade and country ({s}: surname, {p}: place word)
SUPPLIER_NAMES = {
    ("psm", "DE"): ["Agrarchemie {p} GmbH", "{s} Pflanzenschutz-Großhandel GmbH", "PSM-Vertrieb {p} KG"],
    ("fertilizer", "DE"): ["Düngerwerk {p} GmbH", "{s} Düngemittel GmbH & Co. KG", "Stickstoffwerk {p} AG"],
    ("fertilizer", "NL"): ["{p} Kunstmest B.V.", "Meststoffen {p} B.V."],
    ("fertilizer", "PL"): ["Zakłady Azotowe {p} S.A.", "Nawozy {p} Sp. z o.o."],
    ("fertilizer", "BE"): ["{p} Fertilizers N.V."],
    ("seed", "DE"): ["Saatzucht {s} GmbH", "{s} Saaten KG", "Pflanzenzucht {p} GmbH"],
    ("seed", "FR"): ["Semences {p} S.A.S."],
    ("seed", "DK"): ["{p} Frø A/S"],
    ("feed", "DE"): ["Mischfutterwerk {p} GmbH", "{s} Kraftfutter GmbH & Co. KG", "Futtermittel {p} eG"],
    ("feed", "NL"): ["{p} Veevoeders B.V."],
    ("grain", "DE"): ["Erzeugergemeinschaft {p} w.V.", "Agrarbetrieb {s} GbR", "Gut {p} KG"],
    ("import_soya", "BR"): ["{p} Grãos Exportação Ltda."],
    ("import_soya", "AR"): ["Aceitera {p} S.A."],
    ("import_soya", "US"): ["{p} Grain Export LLC"],
    ("import_palm", "MY"): ["{p} Palm Products Sdn. Bhd."],
    ("import_palm", "ID"): ["PT {p} Sawit Lestari"],
    ("import_organic", "UA"): ["{p} Organic Agro LLC"],
    ("import_organic", "TR"): ["{p} Organik Tarım A.Ş."],
    ("import_fishmeal", "PE"): ["Pesquera {p} S.A.C."],
    ("import_groundnut", "AR"): ["Maní {p} S.A."],
    ("import_seed_potato", "GB"): ["{p} Seed Potatoes Ltd."],
    ("other", "DE"): ["Landtechnik {s} GmbH", "{s} Agrarbedarf e.K.", "Weidezaun {p} GmbH"],
    ("wood", "PL"): ["Tartak {p} Sp. z o.o."],
    ("wood", "DE"): ["Holzhandel {s} GmbH"],
    ("services", "DE"): ["Spedition {s} GmbH", "Stadtwerke {p}", "{s} Landtechnik-Service GmbH"],
}

PLACE_WORDS = """Nord Süd Weser Ems Elbe Heide Börde Altmark Marsch Geest Donau Lech Hohenlohe Rhön Eifel
Vogelsberg Münsterland Oldenburg Hunte Hase Aller Leine Oder Warta Santos Rosario Paraná Kedah Riau
Kherson Poltava Izmir Konya Callao Chimbote Córdoba Lincoln Fife Iowa Nebraska Lyon Beauce Fyn Jylland
Limburg Drenthe Gent Puławy Police Kędzierzyn""".split()
