"""`referral bench search`: the partner search index against a plain rapidfuzz scan, in one run.

Generates a deterministic set of French organisation-like partner names (50,000 over 100
territories at scale 1.0) from word lists written here, derives queries from some of them with the
changes people make when they type (case, accents, one typo, word order, unfinished words, a word
left out, all at once), so the right answer of every query is known, and measures on the same
machine, in the same run:

- the index build time for all names (median of several builds);
- query latency (p50, p95, wall clock and CPU time) in one territory and nationally;
- throughput (queries/s), recall@10, recall@1 and MRR@10 of the index against the plain scan,
  ``rapidfuzz.process.extract(query, all_names, scorer=fuzz.WRatio, limit=10)``, and against the same
  scan over folded names (a stronger baseline for recall, as slow) — both library calls, made here;
- recall and ranking of the index with other stop-word lists (none; grammatical words and
  « association », « SARL »… as well), which is how the default list was chosen.

Ratios matter more than absolute figures on a shared, noisy machine. No database: the index takes
plain `SearchRecord`s.
"""

from __future__ import annotations

import gc
import json
import platform
import random
import re
import statistics
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import numpy as np
import rapidfuzz
from rapidfuzz import fuzz, process

from referral.search import (
    DUPLICATE_STOP_WORDS,
    SearchIndex,
    SearchRecord,
    fold,
    significant_words,
)

FULL_SCALE_NAMES = 50_000
FULL_SCALE_TERRITORIES = 100
FULL_SCALE_QUERIES = 400
TOP = 10
BUILD_RUNS = 5

TARGETS = {
    "build_seconds_max": 1.0,
    "territory_p95_ms_max": 10.0,
    "national_p95_ms_max": 50.0,
    "throughput_ratio_min": 20.0,
}

# --------------------------------------------------------------------------------------------------
# Word lists (written for this bench; the departments and towns are real, the organisations not)
# --------------------------------------------------------------------------------------------------

# One territory per department: « article + name | towns ».
_DEPARTMENTS = """
de l’Ain|Bourg-en-Bresse, Oyonnax, Ambérieu-en-Bugey
de l’Aisne|Laon, Saint-Quentin, Soissons
de l’Allier|Moulins, Montluçon, Vichy
des Alpes-de-Haute-Provence|Digne-les-Bains, Manosque
des Hautes-Alpes|Gap, Briançon
des Alpes-Maritimes|Nice, Cannes, Antibes, Grasse
de l’Ardèche|Privas, Annonay, Aubenas
des Ardennes|Charleville-Mézières, Sedan
de l’Ariège|Foix, Pamiers
de l’Aube|Troyes, Romilly-sur-Seine
de l’Aude|Carcassonne, Narbonne
de l’Aveyron|Rodez, Millau
des Bouches-du-Rhône|Marseille, Aix-en-Provence, Arles, Martigues
du Calvados|Caen, Lisieux, Bayeux
du Cantal|Aurillac, Saint-Flour
de la Charente|Angoulême, Cognac
de la Charente-Maritime|La Rochelle, Saintes, Rochefort
du Cher|Bourges, Vierzon
de la Corrèze|Tulle, Brive-la-Gaillarde
de la Côte-d’Or|Dijon, Beaune
des Côtes-d’Armor|Saint-Brieuc, Lannion, Dinan
de la Creuse|Guéret, Aubusson
de la Dordogne|Périgueux, Bergerac
du Doubs|Besançon, Montbéliard, Pontarlier
de la Drôme|Valence, Montélimar, Romans-sur-Isère
de l’Eure|Évreux, Vernon, Louviers
d’Eure-et-Loir|Chartres, Dreux
du Finistère|Quimper, Brest, Morlaix
du Gard|Nîmes, Alès
de la Haute-Garonne|Toulouse, Colomiers, Muret
du Gers|Auch, Condom
de la Gironde|Bordeaux, Mérignac, Pessac, Libourne
de l’Hérault|Montpellier, Béziers, Sète
d’Ille-et-Vilaine|Rennes, Saint-Malo, Fougères
de l’Indre|Châteauroux, Issoudun
d’Indre-et-Loire|Tours, Joué-lès-Tours, Amboise
de l’Isère|Grenoble, Échirolles, Vienne, Voiron
du Jura|Lons-le-Saunier, Dole
des Landes|Mont-de-Marsan, Dax
de Loir-et-Cher|Blois, Vendôme
de la Loire|Saint-Étienne, Roanne, Firminy
de la Haute-Loire|Le Puy-en-Velay, Yssingeaux
de la Loire-Atlantique|Nantes, Saint-Nazaire, Rezé
du Loiret|Orléans, Montargis
du Lot|Cahors, Figeac
de Lot-et-Garonne|Agen, Villeneuve-sur-Lot, Marmande
de la Lozère|Mende, Marvejols
de Maine-et-Loire|Angers, Cholet, Saumur
de la Manche|Saint-Lô, Cherbourg-en-Cotentin
de la Marne|Reims, Châlons-en-Champagne, Épernay
de la Haute-Marne|Chaumont, Saint-Dizier
de la Mayenne|Laval, Château-Gontier
de Meurthe-et-Moselle|Nancy, Lunéville, Vandœuvre-lès-Nancy
de la Meuse|Bar-le-Duc, Verdun
du Morbihan|Vannes, Lorient, Pontivy
de la Moselle|Metz, Thionville, Forbach
de la Nièvre|Nevers, Cosne-Cours-sur-Loire
du Nord|Lille, Roubaix, Tourcoing, Dunkerque, Valenciennes
de l’Oise|Beauvais, Compiègne, Creil
de l’Orne|Alençon, Flers
du Pas-de-Calais|Arras, Calais, Boulogne-sur-Mer, Lens
du Puy-de-Dôme|Clermont-Ferrand, Riom, Thiers
des Pyrénées-Atlantiques|Pau, Bayonne, Biarritz
des Hautes-Pyrénées|Tarbes, Lourdes
des Pyrénées-Orientales|Perpignan, Céret
du Bas-Rhin|Strasbourg, Haguenau, Schiltigheim
du Haut-Rhin|Colmar, Mulhouse
du Rhône|Lyon, Villeurbanne, Vénissieux, Vaulx-en-Velin
de la Haute-Saône|Vesoul, Lure
de Saône-et-Loire|Mâcon, Chalon-sur-Saône, Le Creusot
de la Sarthe|Le Mans, La Flèche
de la Savoie|Chambéry, Aix-les-Bains, Albertville
de la Haute-Savoie|Annecy, Annemasse, Thonon-les-Bains
de Paris|Paris
de la Seine-Maritime|Rouen, Le Havre, Dieppe, Elbeuf
de Seine-et-Marne|Melun, Meaux, Chelles
des Yvelines|Versailles, Mantes-la-Jolie, Trappes
des Deux-Sèvres|Niort, Bressuire
de la Somme|Amiens, Abbeville
du Tarn|Albi, Castres
de Tarn-et-Garonne|Montauban, Castelsarrasin
du Var|Toulon, Fréjus, Draguignan, Hyères
de Vaucluse|Avignon, Carpentras, Orange
de la Vendée|La Roche-sur-Yon, Les Sables-d’Olonne
de la Vienne|Poitiers, Châtellerault
de la Haute-Vienne|Limoges, Saint-Junien
des Vosges|Épinal, Saint-Dié-des-Vosges
de l’Yonne|Auxerre, Sens
du Territoire de Belfort|Belfort, Delle
de l’Essonne|Évry-Courcouronnes, Corbeil-Essonnes, Grigny, Massy
des Hauts-de-Seine|Nanterre, Gennevilliers, Colombes, Boulogne-Billancourt
de la Seine-Saint-Denis|Bobigny, Saint-Denis, Montreuil, Aubervilliers, Clichy-sous-Bois
du Val-de-Marne|Créteil, Vitry-sur-Seine, Champigny-sur-Marne, Ivry-sur-Seine
du Val-d’Oise|Cergy, Argenteuil, Sarcelles, Garges-lès-Gonesse
de Corse-du-Sud|Ajaccio, Porto-Vecchio
de la Haute-Corse|Bastia, Corte
de la Guadeloupe|Pointe-à-Pitre, Les Abymes, Basse-Terre
de la Martinique|Fort-de-France, Le Lamentin
de La Réunion|Saint-Denis, Saint-Pierre, Le Port
de Mayotte|Mamoudzou, Koungou
"""

_NOUNS = """
Tremplin, Passerelle, L’Escale, Horizon, Le Relais, La Boussole, L’Étape, Rebond, Envol, Ancrage,
Trait d’Union, Archipel, Sillage, Le Phare, Carrefour, Entraide, Solidarité, Partage, Avenir, Espoir,
Renouveau, Éclaircie, Oasis, Arc-en-Ciel, La Cordée, Racines, Les Semeurs, Fil d’Ariane,
Vivre Ensemble, Main Tendue, Alternative, Itinéraire, Élan, Cité Solidaire, Clé de Voûte, Le Pont,
Regain, Interlude, Les Glaneurs, Trajectoire, Étincelle, Odyssée, Sésame, Agora, Boréal, Alizé,
Mosaïque, Le Sentier, La Ruche, Les Compagnons, Ricochet, Harmonie, Le Fil Rouge, Pas à Pas,
La Traversée, Le Gué, L’Amarre, La Source, Le Lien, Accueil et Partage, La Halte, Le Foyer Fraternel,
Cap Avenir, Nouvel Élan, Les Bâtisseurs, La Fabrique, L’Atelier du Lien, Les Jardins Partagés,
L’Abri, Le Chaînon, Les Liens Tissés, La Pépinière, Le Marchepied, Équinoxe, Synergie, Kairos
"""

_ADJECTIVES = """
Solidaire, Citoyen, Populaire, Fraternel, Humaniste, Durable, Familial, Ouvrier, Mutualiste,
Coopératif, Jeunesse, Insertion, Emploi, Logement, Santé, Mobilité, Culture, Égalité
"""

_SURNAMES = """
Martin, Bernard, Dubois, Thomas, Robert, Richard, Petit, Durand, Leroy, Moreau, Simon, Laurent,
Lefèvre, Michel, Garcia, David, Bertrand, Roux, Vincent, Fournier, Morel, Girard, André, Lefebvre,
Mercier, Dupont, Lambert, Bonnet, François, Martinez, Legrand, Garnier, Faure, Rousseau, Blanc,
Guérin, Muller, Henry, Roussel, Nicolas, Perrin, Morin, Mathieu, Clément, Gauthier, Dumont, Lopez,
Fontaine, Chevalier, Robin, Masson, Sanchez, Gérard, Nguyen, Boyer, Denis, Lemaire, Duval, Joly,
Gautier, Roger, Roche, Roy, Noël, Meyer, Lucas, Meunier, Pérez, Marchand, Dufour, Blanchard,
Barbier, Brun, Dumas, Brunet, Schmitt, Leroux, Colin, Fernandez, Renard, Arnaud, Rolland, Caron,
Aubert, Giraud, Leclerc, Vidal, Bourgeois, Renaud, Lemoine, Picard, Gaillard, Philippe, Lacroix,
Fabre, Dupuis, Olivier, Rodriguez, Da Silva, Hubert, Guillot, Rivière, Le Gall, Guillaume, Adam,
Rey, Moulin, Gonzalez, Berger, Lecomte, Ménard, Fleury, Deschamps, Carpentier, Benoît, Maillard,
Marchal, Aubry, Vasseur, Le Roux, Renault, Jacquet, Collet, Prévost, Poirier, Charpentier, Royer,
Huet, Baron, Dupuy, Pons, Carré, Breton, Rémy, Schneider, Perrot, Guyot, Barre, Marty, Cousin,
Benali, Haddad, Diallo, Traoré, Mendy, Koné, Benhamou, Ouedraogo, Le Bihan, Kerbrat, Etcheverry
"""

_SAINTS = """
Saint-Jean, Saint-Vincent-de-Paul, Sainte-Marie, Saint-Joseph, Saint-Martin, Saint-Michel,
Sainte-Geneviève, Saint-Exupéry, Sainte-Anne, Saint-Louis, Saint-François, Saint-Pierre,
Saint-Paul, Sainte-Claire, Saint-Benoît, Saint-Roch, Sainte-Thérèse, Saint-Antoine, Saint-Luc
"""

_QUARTERS = """
Les Minguettes, La Duchère, Bellevue, Les Tilleuls, La Guillotière, Les Pentes, Le Mas du Taureau,
Les Marronniers, Centre-Ville, Quartier de la Gare, Les Lilas, Beauregard, Le Mirail, La Paillade,
Le Neuhof, Hautepierre, Belsunce, La Villeneuve, Les Aubiers, Le Grand Parc, Bois-Blanc, Moulins,
Malakoff, Le Breil, Maurepas, Les Coteaux, Le Val Fourré, Les Bosquets, La Grande Borne,
Les Izards, Empalot, Bagatelle, La Castellane, Félix-Pyat, Kervénanec, Les Hauts-de-Garonne,
Le Chemin Vert, La Croix-Rouge, Les Provinces, Montplaisir, Les Glycines, Le Plateau, Les Peupliers,
La Roseraie, Le Vieux Port
"""

_TRADES = """
Boulangerie, Boucherie, Transports, Menuiserie, Plomberie, Électricité, Nettoyage, Propreté,
Espaces verts, Restauration, Traiteur, Bâtiment, Maçonnerie, Peinture, Logistique, Déménagements,
Garage, Carrosserie, Imprimerie, Blanchisserie, Hôtel, Supermarché, Pharmacie, Jardinerie,
Sécurité, Aide à domicile, Couverture, Charpente, Paysages, Services
"""

_CHAINS = [
    ("Secours populaire français — comité de {town}", "association", ("aide alimentaire",)),
    ("Restos du Cœur — {town}", "association", ("aide alimentaire",)),
    ("Croix-Rouge française — unité locale de {town}", "association", ("aide alimentaire", "santé")),
    ("Secours catholique — équipe de {town}", "association", ("accès aux droits",)),
    ("Emmaüs {town}", "insertion", ("recyclerie",)),
    ("Banque alimentaire {dept}", "association", ("aide alimentaire",)),
    ("Mission locale de {town}", "mission locale", ("jeunes", "emploi")),
    ("CCAS de {town}", "ccas", ("accès aux droits",)),
    ("Centre communal d’action sociale de {town}", "ccas", ("accès aux droits",)),
    ("CPAM {dept}", "cpam", ("santé", "droits")),
    ("Caisse d’allocations familiales {dept}", "caf", ("droits",)),
    ("AFPA {town}", "formation", ("formation qualifiante",)),
    ("GRETA {dept}", "formation", ("formation",)),
    ("École de la deuxième chance de {town}", "formation", ("jeunes",)),
    ("Office public de l’habitat {dept}", "bailleur social", ("logement",)),
    ("{town} Habitat", "bailleur social", ("logement",)),
    ("Plateforme mobilité {town}", "mobilité", ("permis", "transport")),
    ("Équipe mobile psychiatrie précarité de {town}", "soutien psychologique", ("santé mentale",)),
    ("Centre médico-psychologique de {town}", "maison de santé", ("santé mentale",)),
    ("Point d’accès au droit de {town}", "accès aux droits", ("juridique",)),
    ("Jardins de Cocagne {town}", "insertion", ("maraîchage",)),
]

_LOCAL = [
    ("Association {noun}", "association", ()),
    ("{noun}", "association", ()),
    ("{noun} {town}", "association", ()),
    ("Association {noun} {town}", "association", ()),
    ("{noun} {quarter}", "association", ("quartier",)),
    ("Les Amis de {saint}", "association", ()),
    ("Collectif {noun} {adjective}", "association", ()),
    ("{noun} {adjective}", "association", ()),
    ("{noun} et {noun2}", "association", ()),
    ("Chantier d’insertion {noun}", "insertion", ("chantier",)),
    ("Régie de quartier {quarter}", "insertion", ("quartier",)),
    ("Entreprise d’insertion {noun} {town}", "insertion", ()),
    ("Atelier {noun}", "insertion", ()),
    ("Ressourcerie {noun}", "insertion", ("recyclerie",)),
    ("ACI {noun} {town}", "insertion", ("chantier",)),
    ("Habitat {adjective} {town}", "bailleur social", ("logement",)),
    ("{surname} Habitat", "bailleur social", ("logement",)),
    ("SA d’HLM {noun}", "bailleur social", ("logement",)),
    ("Maison de santé pluriprofessionnelle {quarter}", "maison de santé", ("santé",)),
    ("Centre de santé {surname}", "maison de santé", ("santé",)),
    ("Centre de santé {quarter}", "maison de santé", ("santé",)),
    ("Pôle santé {quarter} {town}", "maison de santé", ("santé",)),
    ("Cabinet médical du Dr {surname}", "maison de santé", ("santé",)),
    ("Pharmacie {surname}", "entreprise", ("santé",)),
    ("{trade} {surname}", "entreprise", ()),
    ("{surname} {trade}", "entreprise", ()),
    ("SARL {surname} {trade}", "entreprise", ()),
    ("{trade} {surname} et Fils", "entreprise", ()),
    ("{trade} {town}", "entreprise", ()),
    ("CHRS {noun}", "hébergement", ("hébergement",)),
    ("Foyer {saint}", "hébergement", ("hébergement",)),
    ("Résidence sociale {noun}", "hébergement", ("logement accompagné",)),
    ("Pension de famille {noun}", "hébergement", ("logement accompagné",)),
    ("Centre d’hébergement d’urgence {quarter}", "hébergement", ("urgence",)),
    ("Maison relais {noun}", "hébergement", ("logement accompagné",)),
    ("Foyer de jeunes travailleurs {noun}", "hébergement", ("jeunes",)),
    ("Centre de formation {noun}", "formation", ("formation",)),
    ("{noun} Formation", "formation", ("formation",)),
    ("Institut de formation {surname}", "formation", ("formation",)),
    ("Point écoute {noun}", "soutien psychologique", ("écoute",)),
    ("Centre d’accueil thérapeutique {noun}", "soutien psychologique", ("santé mentale",)),
    ("Groupe d’entraide mutuelle {noun}", "soutien psychologique", ("santé mentale",)),
    ("Auto-école sociale {noun}", "mobilité", ("permis",)),
    ("Garage solidaire {noun}", "mobilité", ("transport",)),
    ("Épicerie solidaire {noun}", "association", ("aide alimentaire",)),
    ("Maison France services {quarter}", "accès aux droits", ("numérique",)),
]


def _split(text: str) -> list[str]:
    return [item.strip() for item in text.replace("\n", " ").split(",") if item.strip()]


@dataclass(frozen=True)
class _Territory:
    id: int
    department: str  # with its article: « du Rhône »
    towns: tuple[str, ...]


def _territories(count: int) -> list[_Territory]:
    rows = [line.split("|") for line in _DEPARTMENTS.strip().splitlines()]
    return [
        _Territory(number, department, tuple(_split(towns)))
        for number, (department, towns) in enumerate(rows[:count], start=1)
    ]


# --------------------------------------------------------------------------------------------------
# Generated partners
# --------------------------------------------------------------------------------------------------


_ONSETS = _split("b, br, c, ch, d, f, g, gr, j, l, m, n, p, pr, r, s, t, tr, v")
_NUCLEI = _split("a, e, i, o, u, ou, au, ai, é, è, an, on, in")
_SURNAME_ENDINGS = _split(
    "et, ot, ard, ier, in, eau, ais, and, ault, eux, on, el, aud, oux, y, as, ac, ec, ic, ou"
)
_BRAND_ENDINGS = _split("a, ia, éa, ane, is, um, o, ys, ine")


_ELISION = re.compile(r"\bde (?:(Le )|(Les )|(?=[AEIOUYÂÉÈÊÎÔÛaeiouyâéèêîôû]))")


def _elide(name: str) -> str:
    """French elision and contraction after « de »: « d’Aurillac », « du Havre », « des Abymes »."""
    return _ELISION.sub(lambda m: "du " if m.group(1) else "des " if m.group(2) else "d’", name)


def _invented_words(count: int, endings: Sequence[str], rng: random.Random) -> list[str]:
    """`count` distinct French-sounding proper nouns (« Brichaud », « Pronéa »).

    Real partner lists name people and brands far beyond any word list: 50,000 partners carry
    some 20,000 distinct words, and the cost of matching a query word grows with them.
    """
    words: dict[str, None] = {}
    while len(words) < count:
        syllables = rng.randint(1, 2)
        stem = "".join(rng.choice(_ONSETS) + rng.choice(_NUCLEI) for _ in range(syllables))
        words[(stem + rng.choice(_ONSETS) + rng.choice(endings)).capitalize()] = None
    return list(words)


def generate_partners(count: int, territory_count: int, rng: random.Random) -> list[SearchRecord]:
    """`count` partners with distinct folded names, spread over `territory_count` territories.

    About 1 in 100 is a national network's branch serving several territories. Names reuse the
    same words a great deal (« Tremplin », « Habitat », towns), as real partner lists do, so the
    search has close neighbours to tell apart; half the surnames and a third of the associations'
    names are invented, so the vocabulary is as large as a real list's.
    """
    territories = _territories(territory_count)
    words = {
        "noun": _split(_NOUNS),
        "adjective": _split(_ADJECTIVES),
        "surname": _split(_SURNAMES),
        "saint": _split(_SAINTS),
        "quarter": _split(_QUARTERS),
        "trade": _split(_TRADES),
    }
    invented_surnames = _invented_words(max(10, count // 3), _SURNAME_ENDINGS, rng)
    invented_brands = _invented_words(max(10, count // 10), _BRAND_ENDINGS, rng)
    seen: set[str] = set()
    records: list[SearchRecord] = []
    attempts = 0
    while len(records) < count:
        attempts += 1
        if attempts > 50 * count + 1000:
            raise RuntimeError(f"only {len(records)} distinct names out of {count} wanted")
        territory = rng.choice(territories)
        town = rng.choice(territory.towns)
        template, kind, tags = rng.choice(_CHAINS) if rng.random() < 0.2 else rng.choice(_LOCAL)
        noun, noun2 = rng.sample(words["noun"], 2)
        if rng.random() < 0.33:
            noun = rng.choice(invented_brands)
        surname = rng.choice(words["surname"] if rng.random() < 0.5 else invented_surnames)
        name = template.format(
            town=town,
            dept=territory.department,
            noun=noun,
            noun2=noun2,
            adjective=rng.choice(words["adjective"]),
            surname=surname,
            saint=rng.choice(words["saint"]),
            quarter=rng.choice(words["quarter"]),
            trade=rng.choice(words["trade"]),
        )
        name = _elide(name)
        folded = fold(name)
        if folded in seen:
            continue
        seen.add(folded)
        served: frozenset[int] = frozenset({territory.id})
        if rng.random() < 0.01 and len(territories) > 2:
            network = rng.sample(territories, rng.randint(2, min(20, len(territories))))
            served = frozenset(t.id for t in network)
        records.append(SearchRecord(len(records) + 1, name, town, tags, served, kind))
    return records


# --------------------------------------------------------------------------------------------------
# Perturbed queries
# --------------------------------------------------------------------------------------------------

# Neighbouring keys on a French AZERTY keyboard, for realistic substitutions.
_AZERTY_ROWS = ("azertyuiop", "qsdfghjklm", "wxcvbn")
_ACCENTED = {"e": "é", "a": "à", "u": "ù", "i": "î", "o": "ô", "c": "ç"}
_WORD = re.compile(r"\w+")


def _neighbours(letter: str) -> str:
    for row_index, row in enumerate(_AZERTY_ROWS):
        position = row.find(letter)
        if position < 0:
            continue
        around = row[max(0, position - 1) : position] + row[position + 1 : position + 2]
        for other in (row_index - 1, row_index + 1):
            if 0 <= other < len(_AZERTY_ROWS):
                around += _AZERTY_ROWS[other][position : position + 1]
        return around
    return "e"


def _strip_accents(text: str) -> str:
    import unicodedata

    return "".join(ch for ch in unicodedata.normalize("NFKD", text) if not unicodedata.combining(ch))


def _typo(text: str, rng: random.Random) -> str:
    """One keyboard slip in one word of at least 4 letters: substitution, omission, doubling, swap."""
    spans = [m.span() for m in _WORD.finditer(text) if m.end() - m.start() >= 4] or [
        m.span() for m in _WORD.finditer(text)
    ]
    if not spans:
        return text
    start, end = rng.choice(spans)
    word = text[start:end]
    position = rng.randrange(1, len(word)) if len(word) > 1 else 0
    operation = rng.choice(("substitute", "omit", "double", "swap"))
    if operation == "substitute":
        letter = word[position].lower()
        word = word[:position] + rng.choice(_neighbours(letter)) + word[position + 1 :]
    elif operation == "omit" and len(word) > 1:
        word = word[:position] + word[position + 1 :]
    elif operation == "double":
        word = word[:position] + word[position] + word[position:]
    elif position < len(word) - 1:
        word = word[:position] + word[position + 1] + word[position] + word[position + 2 :]
    else:
        word = word[: position - 1] + word[position] + word[position - 1]
    return text[:start] + word + text[end:]


def _shuffle(words: list[str], rng: random.Random) -> list[str]:
    if len(words) < 2:
        return words
    shuffled = words[:]
    while shuffled == words:
        rng.shuffle(shuffled)
    return shuffled


PERTURBATIONS = ("casse", "accents", "faute", "ordre", "frappe", "incomplet", "mixte")


@dataclass(frozen=True)
class Query:
    text: str
    target: int
    territory: int
    perturbation: str


def generate_queries(records: Sequence[SearchRecord], count: int, rng: random.Random) -> list[Query]:
    """`count` queries, each derived from one record's name with one kind of change.

    « frappe » is typing in progress: the two or three rarest words of the name (those a person
    who knows the partner would type), each cut after 3 to 5 letters, like « bail soc lyo ».
    """
    frequency = Counter(word for record in records for word in set(significant_words(record.name)))
    queries = []
    for number in range(count):
        record = rng.choice(records)
        perturbation = PERTURBATIONS[number % len(PERTURBATIONS)]
        name = record.name
        words = name.replace("’", " ").replace("—", " ").split()
        if perturbation == "casse":
            text = name.lower() if rng.random() < 0.7 else name.upper()
        elif perturbation == "accents":
            text = _strip_accents(name).lower()
        elif perturbation == "faute":
            text = _typo(name, rng)
        elif perturbation == "ordre":
            text = " ".join(_shuffle(words, rng))
        elif perturbation == "frappe":
            significant = significant_words(name)
            ranked = sorted(range(len(significant)), key=lambda i: (frequency[significant[i]], i))
            kept = sorted(ranked[: rng.randint(2, 3)])
            text = " ".join(significant[i][: rng.randint(3, 5)] for i in kept)
        elif perturbation == "incomplet":
            significant = significant_words(name)
            if len(significant) >= 3:
                ranked = sorted(range(len(significant)), key=lambda i: (-frequency[significant[i]], i))
                dropped = ranked[0]
                significant = [w for i, w in enumerate(significant) if i != dropped]
            text = " ".join(significant)
        else:
            text = " ".join(_shuffle(_typo(_strip_accents(name).lower(), rng).split(), rng))
        # generate_partners gives int territory ids; SearchRecord types them as any hashable.
        territory_ids = cast(frozenset[int] | None, record.territory_ids)
        territory = min(territory_ids) if territory_ids else 1
        queries.append(Query(text, record.id, territory, perturbation))
    return queries


# --------------------------------------------------------------------------------------------------
# Measuring
# --------------------------------------------------------------------------------------------------


def _latency_summary(seconds: list[float], cpu_seconds: list[float]) -> dict[str, float]:
    """Wall-clock figures (what a user waits) and CPU-time ones (what the code costs).

    On a shared machine the wall clock includes the time other processes held the CPU; the CPU
    time of this process does not, so both are written and the ratios are given for both.
    """
    array = np.array(seconds) * 1000.0
    cpu = np.array(cpu_seconds) * 1000.0
    total = float(np.sum(seconds))
    cpu_total = float(np.sum(cpu_seconds))
    return {
        "p50_ms": round(float(np.percentile(array, 50)), 3),
        "p95_ms": round(float(np.percentile(array, 95)), 3),
        "max_ms": round(float(np.max(array)), 3),
        "queries_per_second": round(len(seconds) / total, 1) if total > 0 else 0.0,
        "cpu_p50_ms": round(float(np.percentile(cpu, 50)), 3),
        "cpu_p95_ms": round(float(np.percentile(cpu, 95)), 3),
        "cpu_queries_per_second": round(len(seconds) / cpu_total, 1) if cpu_total > 0 else 0.0,
    }


def _measure(
    queries: Sequence[Query], search: Callable[[Query], list[int]]
) -> tuple[dict[str, float], dict[str, list[bool]]]:
    """Latencies and per-perturbation hits (target in the top 10) of one search function."""
    seconds: list[float] = []
    cpu_seconds: list[float] = []
    hits: dict[str, list[bool]] = {kind: [] for kind in PERTURBATIONS}
    reciprocal_ranks: list[float] = []
    for query in queries:
        started, cpu_started = time.perf_counter(), time.process_time()
        found = search(query)[:TOP]
        seconds.append(time.perf_counter() - started)
        cpu_seconds.append(time.process_time() - cpu_started)
        hits[query.perturbation].append(query.target in found)
        reciprocal_ranks.append(1.0 / (found.index(query.target) + 1) if query.target in found else 0.0)
    summary = _latency_summary(seconds, cpu_seconds)
    all_hits = [hit for kind in PERTURBATIONS for hit in hits[kind]]
    summary["recall_at_10"] = round(sum(all_hits) / len(all_hits), 4) if all_hits else 0.0
    # Recall says whether the partner is on the first screen; these say how high (ranking quality).
    summary["recall_at_1"] = round(reciprocal_ranks.count(1.0) / len(queries), 4) if queries else 0.0
    summary["mrr_at_10"] = round(sum(reciprocal_ranks) / len(queries), 4) if queries else 0.0
    return summary, hits


def _ratio(ours: float, theirs: float) -> float:
    return round(ours / theirs, 1) if theirs else 0.0


def _searcher(index: SearchIndex) -> Callable[[Query], list[int]]:
    return lambda query: [hit.id for hit in index.search(query.text, limit=TOP)]


def _recall(hits: list[bool]) -> float | None:
    return round(sum(hits) / len(hits), 4) if hits else None


def run(
    output: Path,
    *,
    scale: float = 1.0,
    seed: int = 20261123,
    echo: Callable[[str], Any] = print,
) -> dict:
    """Generate the data, measure the index and the baselines, write the JSON, print a table."""
    rng = random.Random(seed)
    name_count = max(50, round(FULL_SCALE_NAMES * scale))
    territory_count = max(2, min(FULL_SCALE_TERRITORIES, round(FULL_SCALE_TERRITORIES * scale)))
    query_count = max(14, min(FULL_SCALE_QUERIES, round(FULL_SCALE_QUERIES * scale * 10)))

    echo(f"Génération de {name_count} partenaires sur {territory_count} territoires…")
    records = generate_partners(name_count, territory_count, rng)
    queries = generate_queries(records, query_count, rng)
    ids = [record.id for record in records]
    names = [record.name for record in records]
    folded_names = [fold(name) for name in names]

    echo("Construction de l’index…")
    builds = []
    cpu_builds = []
    index = SearchIndex()
    for _ in range(BUILD_RUNS):
        # Free the previous index and collect outside the timed region: its teardown is not the
        # next build's cost.
        del index
        gc.collect()
        started, cpu_started = time.perf_counter(), time.process_time()
        index = SearchIndex(records)
        builds.append(time.perf_counter() - started)
        cpu_builds.append(time.process_time() - cpu_started)

    echo(f"Recherche de {len(queries)} requêtes (index, national puis territoire)…")
    ours, ours_hits = _measure(queries, lambda q: [hit.id for hit in index.search(q.text, limit=TOP)])
    territory, territory_hits = _measure(
        queries, lambda q: [hit.id for hit in index.search(q.text, territory=q.territory, limit=TOP)]
    )

    echo("Variantes de mots vides (aucun ; grammaticaux et « association », « SARL »…)…")
    no_stop, no_stop_hits = _measure(queries, _searcher(SearchIndex(records, stop_words=frozenset())))
    more_stop, more_stop_hits = _measure(
        queries, _searcher(SearchIndex(records, stop_words=DUPLICATE_STOP_WORDS))
    )

    echo("Référence : rapidfuzz process.extract(WRatio) sur tous les noms…")
    baseline, baseline_hits = _measure(
        queries,
        lambda q: [ids[i] for _, _, i in process.extract(q.text, names, scorer=fuzz.WRatio, limit=TOP)],
    )
    echo("Référence renforcée : la même chose sur les noms pliés…")
    folded, folded_hits = _measure(
        queries,
        lambda q: [
            ids[i] for _, _, i in process.extract(fold(q.text), folded_names, scorer=fuzz.WRatio, limit=TOP)
        ],
    )

    build_median_seconds = round(statistics.median(builds), 4)
    build = {
        "min_seconds": round(min(builds), 4),
        "median_seconds": build_median_seconds,
        "runs_seconds": [round(b, 4) for b in builds],
        "cpu_median_seconds": round(statistics.median(cpu_builds), 4),
    }
    ratios = {
        "throughput_vs_baseline": _ratio(ours["queries_per_second"], baseline["queries_per_second"]),
        "throughput_vs_folded_baseline": _ratio(ours["queries_per_second"], folded["queries_per_second"]),
        "cpu_throughput_vs_baseline": _ratio(
            ours["cpu_queries_per_second"], baseline["cpu_queries_per_second"]
        ),
        "territory_throughput_vs_baseline": _ratio(
            territory["queries_per_second"], baseline["queries_per_second"]
        ),
        "recall_minus_baseline": round(ours["recall_at_10"] - baseline["recall_at_10"], 4),
        "recall_minus_folded_baseline": round(ours["recall_at_10"] - folded["recall_at_10"], 4),
        "recall_stop_words_minus_without": round(ours["recall_at_10"] - no_stop["recall_at_10"], 4),
        "mrr_stop_words_minus_without": round(ours["mrr_at_10"] - no_stop["mrr_at_10"], 4),
        "recall_stop_words_minus_more": round(ours["recall_at_10"] - more_stop["recall_at_10"], 4),
        "mrr_stop_words_minus_more": round(ours["mrr_at_10"] - more_stop["mrr_at_10"], 4),
    }
    targets_met = {
        "build": build_median_seconds <= TARGETS["build_seconds_max"],
        "territory_p95": territory["p95_ms"] <= TARGETS["territory_p95_ms_max"],
        "national_p95": ours["p95_ms"] <= TARGETS["national_p95_ms_max"],
        "throughput": ratios["throughput_vs_baseline"] >= TARGETS["throughput_ratio_min"],
        "recall": ours["recall_at_10"] >= baseline["recall_at_10"],
    }
    by_perturbation = {
        kind: {
            "queries": len(ours_hits[kind]),
            "ours": _recall(ours_hits[kind]),
            "ours_territory": _recall(territory_hits[kind]),
            "ours_no_stop_words": _recall(no_stop_hits[kind]),
            "ours_more_stop_words": _recall(more_stop_hits[kind]),
            "baseline": _recall(baseline_hits[kind]),
            "baseline_folded": _recall(folded_hits[kind]),
        }
        for kind in PERTURBATIONS
    }
    results: dict[str, Any] = {
        "benchmark": "search",
        "scale": scale,
        "seed": seed,
        "names": len(records),
        "territories": territory_count,
        "queries": len(queries),
        "build": build,
        "ours_national": ours,
        "ours_territory": territory,
        "ours_no_stop_words": no_stop,
        "ours_more_stop_words": more_stop,
        "baseline_wratio": baseline,
        "baseline_wratio_folded": folded,
        "ratios": ratios,
        "recall_by_perturbation": by_perturbation,
        "targets": TARGETS,
        "targets_met": targets_met,
        "examples": [
            {"query": q.text, "target": names[q.target - 1], "perturbation": q.perturbation}
            for q in queries[: len(PERTURBATIONS)]
        ],
        "environment": {
            "python": platform.python_version(),
            "rapidfuzz": rapidfuzz.__version__,
            "numpy": np.__version__,
            "machine": platform.machine(),
        },
    }
    output.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    _print_table(results, echo)
    return results


def _print_table(results: dict[str, Any], echo: Callable[[str], Any]) -> None:
    def row(label: str, figures: dict[str, float]) -> str:
        return (
            f"{label:<34} {figures['p50_ms']:>9.2f} {figures['p95_ms']:>9.2f} "
            f"{figures['queries_per_second']:>10.1f} {figures['recall_at_10']:>10.3f} "
            f"{figures['recall_at_1']:>9.3f} {figures['mrr_at_10']:>9.3f}"
        )

    build = results["build"]
    echo("")
    echo(
        f"{results['names']} noms, {results['territories']} territoires, {results['queries']} requêtes ; "
        f"construction de l’index : {build['median_seconds']:.3f} s "
        f"(médiane de {len(build['runs_seconds'])}, min {build['min_seconds']:.3f} s ; "
        f"temps CPU {build['cpu_median_seconds']:.3f} s)"
    )
    echo(
        f"{'':<34} {'p50 ms':>9} {'p95 ms':>9} {'requêtes/s':>10} "
        f"{'rappel@10':>10} {'rappel@1':>9} {'MRR@10':>9}"
    )
    echo(row("index, national", results["ours_national"]))
    echo(row("index, un territoire", results["ours_territory"]))
    echo(row("index sans mots vides, national", results["ours_no_stop_words"]))
    echo(row("index + « association »…, national", results["ours_more_stop_words"]))
    echo(row("WRatio sur tous les noms", results["baseline_wratio"]))
    echo(row("WRatio sur les noms pliés", results["baseline_wratio_folded"]))
    echo("")
    echo(f"{'rappel@10 par modification':<26}" + "".join(f"{k:>11}" for k in PERTURBATIONS))
    for column, label in (
        ("ours", "index"),
        ("ours_territory", "index, territoire"),
        ("ours_no_stop_words", "sans mots vides"),
        ("ours_more_stop_words", "+ « association »…"),
        ("baseline", "WRatio"),
        ("baseline_folded", "WRatio plié"),
    ):
        cells = "".join(
            f"{results['recall_by_perturbation'][k][column]:>11.2f}"
            if results["recall_by_perturbation"][k][column] is not None
            else f"{'—':>11}"
            for k in PERTURBATIONS
        )
        echo(f"{label:<26}{cells}")
    echo("")
    ratios = results["ratios"]
    echo(
        f"débit : ×{ratios['throughput_vs_baseline']} la référence WRatio "
        f"(×{ratios['cpu_throughput_vs_baseline']} en temps CPU) "
        f"(×{ratios['throughput_vs_folded_baseline']} WRatio plié) ; "
        f"rappel@10 : {ratios['recall_minus_baseline']:+.3f} contre WRatio, "
        f"{ratios['recall_minus_folded_baseline']:+.3f} contre WRatio plié ; "
        f"mots vides grammaticaux contre aucun : rappel@10 {ratios['recall_stop_words_minus_without']:+.3f}, "
        f"MRR@10 {ratios['mrr_stop_words_minus_without']:+.3f} ; contre la liste avec « association » : "
        f"rappel@10 {ratios['recall_stop_words_minus_more']:+.3f}, "
        f"MRR@10 {ratios['mrr_stop_words_minus_more']:+.3f}"
    )
    met = results["targets_met"]
    echo("objectifs : " + ", ".join(f"{name} {'atteint' if ok else 'MANQUÉ'}" for name, ok in met.items()))
