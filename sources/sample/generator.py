"""Seeded generator of the synthetic part of the sample: Dashboard API records and FIM items.

Real inputs are the Destatis GV100AD 30.11.2025 (Hessen: 26 Kreise, 421 inhabited Gemeinden,
4 uninhabited gemeindefreie Gebiete; all of Germany: see "Nationwide sample" below) and the
hand-curated synthetic service catalogue ``catalogue.csv`` (394 services, every LeiKa key
starts with ``999`` and every OZG-ID lies in 90001–99999, so nothing can be mistaken for a real
key). Everything this module emits is **synthetic**: the figures are not official numbers. The
output is a pure function of the seed (and the Land).

The model below is written for Hessen, the default Land; every other Land gets the same model
with the differences listed under "Nationwide sample".

Roll-out model
--------------
Times are calendar days. ``H`` (model horizon) = ``datenstand`` of the last snapshot.

1. **Snapshots.** ``SAMPLE_SNAPSHOTS`` = 12 monthly snapshots 2025-12-01 … 2026-11-01. Each has a
   PVOG import date ``datenstand(t)`` = t minus 3–6 days (seeded per snapshot); an entry is in
   snapshot t if it exists on ``datenstand(t)``.
2. **Hessen go-live** ``G(l)`` per service l, drawn from three classes (``GO_LIVE_CLASSES``):
   ``old`` (55 %, uniform 2019-01-01…2025-06-30), ``recent`` (30 %, uniform
   2025-07-01…2026-10-15, i.e. mostly inside the window) and ``late`` (15 %, uniform
   2026-11-01…2028-06-30, never visible). The five Hessen 2026 priority services
   (``PRIORITY_BASKET``) are never ``late``.
3. **Competence** (catalogue column ``vollzug``): ``gemeinde`` services are executed by every
   inhabited Gemeinde (kreisfreie Städte included); ``kreis`` services by the 21 Landkreise and
   the 5 kreisfreie Städte and, where ``sonderstatus = 1``, also by the 7 Sonderstatusstädte
   (kreisangehörige Gemeinden with 50,000–99,999 inhabitants: Rüsselsheim am Main, Bad Homburg
   v. d. Höhe, Hanau, Gießen, Wetzlar, Marburg, Fulda) for their own area; ``land`` services by
   the Land (ARS ``060000000000``); ``bund`` services by the Bund (``000000000000``).
4. **Provider mode** per service (seeded, ``PROVIDER_MODE_SHARES``): a ``gemeinde`` service is
   provided by each Gemeinde itself (88 %), by the Kreis for all its Gemeinden (8 %; one entry
   on the Kreis ARS; kreisfreie Städte provide it themselves) or by the Land for all Gemeinden
   (4 %; one entry on the Land ARS). A ``kreis`` service is provided by the competent bodies
   (94 %) or by the Land (6 %); ``kreis`` services of group ``Kfz`` go to a Bund-level
   Onlinedienst (i-Kfz) with probability 30 %. Priority services are always provided by the
   competent bodies. Each non-default mode occurs at least once.
5. **Adoption.** A Land or Bund entry exists from ``G(l)`` on. A Kreis or Gemeinde provider u
   adopts at ``A(l, u) = G(l) + lag``, ``lag = m(l, u) · exp(LAG_SIGMA · Z)`` with ``Z ~ N(0, 1)``
   (log-normal, median ``m``), where

   ``m(l, u) = BASE_MEDIAN_LAG_DAYS[vollzug] · s(l) · P(l) · R(l) · λ(L)``
   ``· f_pop(u) · f_type(u) · k(u) · L(u) · I(u)``

   - ``s(l) = exp(N(0, SERVICE_EFFECT_SIGMA))``: service difficulty;
   - ``P(l) = PLATFORM_FACTOR`` if the service runs on the Land-wide municipal platform
     (civento/ekom21, catalogue ``platform = 1``), else 1;
   - ``R(l) = PRIORITY_FACTOR`` for the priority basket (Bund-funded roll-in teams), else 1;
   - ``λ(L)``: the Land effect, one factor for all Kommunen and services of the Land ``L``:
     1 for Hessen (the reference Land), ``exp(N(0, LAND_EFFECT_SIGMA))`` drawn once for every
     other Land (stream ``land_effect``; see "Nationwide sample");
   - ``f_pop(u) = (pop(u) / POP_REFERENCE) ^ (−POP_ELASTICITY)``, clipped to ``POP_FACTOR_RANGE``
     (a Landkreis uses the sum of its Gemeinden): larger Kommunen are faster;
   - ``f_type(u) = TYPE_FACTOR[Gebietstyp]`` (kreisfreie Stadt, Sonderstatusstadt,
     kreisangehörige Stadt, kreisangehörige Gemeinde, Landkreis);
   - ``k(u) = exp(N(0, KREIS_EFFECT_SIGMA))``: one random effect per Kreis, shared by the Kreis
     and all its Gemeinden;
   - ``L(u) = LAGGARD_FACTOR`` for laggards (``LAGGARD_GEMEINDEN`` kreisangehörige Gemeinden
     that are no Sonderstatusstadt, plus ``LAGGARD_LANDKREISE`` Landkreis), else 1;
   - ``I(u) = IKZ_FACTOR`` for members of an IKZ-Verbund (interkommunale Zusammenarbeit),
     else 1.

   A Kommune served by its Kreis or the Land inherits that provider's date.

   **Kommune attributes** (``SampleUniverse.kommune_merkmale``, exported as the dbt seed
   ``kommune_merkmale.csv`` by ``export_kommune_merkmale``): ``IKZ_GROUPS`` IKZ-Verbünde, each
   in its own Landkreis (drawn without replacement), of ``IKZ_GROUP_SIZE`` neighbouring
   kreisangehörige Städte and Gemeinden (no Sonderstatusstadt) — "neighbouring" approximated
   by consecutive Gemeinde keys within the Kreis (the keys are roughly alphabetical, so the
   members are not guaranteed to share a border); members get ``I(u)``. The flag
   ``digitalisierungsberatung`` (the Kommune used a Digitalisierungsberatung) is drawn
   independently for every Gemeinde and Landkreis with probability
   ``P_DIGITALISIERUNGSBERATUNG`` and has **no** effect: it is the null effect the roll-out
   driver analysis must not find. Both come from their own random streams (``ikz``,
   ``digitalisierungsberatung``), and every other draw is the same as without them: the
   per-entry draws (broken links, flags) of the entries the model has without ``I(u)`` are
   drawn as before, entries that exist only because an IKZ member adopted earlier draw from
   the streams ``ikz_status`` and ``ikz_flags``, and the defects are planned on the entries
   without ``I(u)``. So only the adoption (and single-withdrawal) dates of IKZ members — and
   what follows from them, e.g. a Kreis becoming ``kreisweit flächendeckend`` earlier —
   differ from the model without IKZ.
6. **Withdrawal.** ``WITHDRAWN_SERVICES`` services live before the window (not in the basket,
   ``vollzug`` gemeinde or kreis) lose all entries from a date uniform in ``WITHDRAWAL_WINDOW``;
   in addition each adopted entry is withdrawn with probability ``ENTRY_WITHDRAWAL_RATE`` 20–300
   days after ``max(adoption, first snapshot)`` (e.g. a Kommune drops a portal).
7. **Per-snapshot noise** (independent per entry and snapshot): ``online_status = "nicht ok"``
   with ``P_NOT_OK`` (broken link), empty ``url`` with ``P_URL_MISSING``.
8. **Per-entry flags** (fixed over time): ``aktiv`` is ``"ja"`` / ``"nein"`` / ``None`` with
   ``AKTIV_SHARES``; ``art_flaechendeckung = "nicht in Auswertung berücksichtigt"`` with a short
   reason for a share ``P_NOT_CONSIDERED`` of Kreis and Gemeinde entries.
9. **Flächendeckung** (all other entries). A Gemeinde has a service *online* in snapshot t if its
   citizen view (own, Kreis, Land and Bund entries) holds an entry for it with non-empty ``url``
   and ``online_status = "ok"`` (definition v1 of ``docs/metrics.md`` §6.0; ``aktiv`` and the
   "nicht berücksichtigt" class do not matter). Bund entries are ``bundesweit flächendeckend``,
   Land entries ``landesweit flächendeckend``; a Kreis or Gemeinde entry is ``landesweit`` if
   every inhabited Gemeinde of the Land has the service online, else ``kreisweit`` if every
   inhabited Gemeinde of its Kreis has, else ``in mind. einer Kommune verfügbar``.
10. **URLs.** One synthetic Onlinedienst per provider and OZG-Leistung, so several LeiKa keys
    share a URL: Bund/Land ``https://onlinedienst.example/{bund|<land>}/ozg-<id>`` (``<land>``
    the Land's name as a slug, e.g. ``hessen``); platform
    services ``https://<slug>.beispiel-kommune.de/civento/ozg-<id>``; other Kommune services either
    an EfA service ``https://onlinedienst.example/efa/ozg-<id>?ars=<ars>`` (``EFA_SHARE`` of the
    services) or the Kommune's own portal ``https://<slug>.beispiel-kommune.de/onlinedienste/ozg-<id>``.

Parameter values (module constants below; change them only together with this text):
``BASE_MEDIAN_LAG_DAYS`` gemeinde 420, kreis 260; ``LAG_SIGMA`` 0.9; ``SERVICE_EFFECT_SIGMA``
0.45; ``PLATFORM_FACTOR`` 0.55; ``PRIORITY_FACTOR`` 0.5; ``LAND_EFFECT_SIGMA`` 0.25;
``POP_REFERENCE`` 8,083 (median Hessian Gemeinde, used for every Land); ``POP_ELASTICITY``
0.25; ``POP_FACTOR_RANGE`` 0.35–2.0; ``TYPE_FACTOR`` kreisfreie Stadt 0.75, Sonderstatusstadt
0.85, Stadt 1.0, Gemeinde 1.15, Landkreis 0.9; ``KREIS_EFFECT_SIGMA`` 0.3;
``LAGGARD_GEMEINDEN`` 13, ``LAGGARD_LANDKREISE`` 1, ``LAGGARD_FACTOR`` 3.0; ``IKZ_GROUPS`` 20,
``IKZ_GROUP_SIZE`` 3–5, ``IKZ_FACTOR`` 0.8; ``P_DIGITALISIERUNGSBERATUNG`` 0.3 (no effect);
``WITHDRAWN_SERVICES`` 4, ``WITHDRAWAL_WINDOW`` 2026-02-15…2026-10-15,
``ENTRY_WITHDRAWAL_RATE`` 0.4 %; ``P_NOT_OK`` 1.5 %; ``P_URL_MISSING`` 0.3 %; ``AKTIV_SHARES``
ja 95 %, nein 2.5 %, null 2.5 %; ``P_NOT_CONSIDERED`` 1 %; ``EFA_SHARE`` 50 %;
``DEFECTS_PER_SNAPSHOT`` 3. With the default seed this gives about 39,000 entries (all ARS,
own entries) in Hessen's first snapshot and 51,000 in its last; building Hessen's universe
takes about 0.6 s.

API semantics (``SampleUniverse.dashboard_records``): ``include_above`` adds the entries of the
Kreis (if different), the Land and the Bund; ``include_below`` on a Kreis adds its Gemeinden, on
the Land all Kreise and Gemeinden, on the Bund the whole Land. The gemeindefreie Gebiete
have no own entries; unknown ARS give an empty list. Records are sorted by
``(leika_key, ars, url)`` and carry ``RECORD_KEYS`` in that order.

Ground truth (``SampleUniverse.ground_truth``): one row per inhabited Gemeinde × service with
``vollzug`` gemeinde or kreis, and per Landkreis × ``kreis`` service (kreisfreie Städte appear
once under their shared ARS). ``adoption_date`` is the latent date of the providing body (null
when not adopted by ``H`` or only after a withdrawal); ``first_online_snapshot`` is derived from
the emitted records (step 9 definition, citizen view; a Landkreis's citizen view is its
``include_above`` query), so metrics computed from the API data recover it exactly. It can differ
from ``adoption_date``: broken links delay it, withdrawals end it, and a Sonderstatusstadt's
citizen view also holds its Kreis's entries of ``sonderstatus`` services, so it may see a service
online before its own adoption (the API cannot tell the Kreis entry does not cover the city).

Defects (``SampleUniverse.defects``): ``DEFECTS_PER_SNAPSHOT`` per snapshot, on own entries of
inhabited Gemeinden, cycling through ``DEFECT_KINDS``. Repairable ones alter an emitted record
without changing what it means: ARS without its leading zero (11 digits), extra whitespace in
``leika_name``, ``leika_name`` in Unicode NFD, an exact duplicate record, ``online_status`` in
upper case (``"OK"``). Unrepairable ones are *additional* records outside the model: a
malformed ``leika_key`` (13 digits or a letter), an ARS missing from the Gemeindeverzeichnis
(``069990000000``, copied from an online entry) and ``online_status = "unbekannt"``. None of
them changes the ground truth once repairable defects are repaired and unrepairable records are
quarantined (or, for the v1 definition, ignored).

Nationwide sample
-----------------
``build_universe(seed, land)`` builds the universe of any of the 16 Länder (``LAND_CODES``;
the default, and ``make run``'s, is Hessen) with the model above, from that Land's rows of the
same GV100AD: together 10,953 Gemeinden (10,753 inhabited, each a Kommune of its Land's
universe; the 200 uninhabited gemeindefreie Gebiete have no entries) and 400 Kreise (294
Landkreise, 106 kreisfreie Städte). There is one universe per Land and the Dashboard replay of
a Land partition serves that Land's (its ARS list, its Kommunen, its Land and the Bund), so a
run holds one Land at a time. What differs from the Hessen text above:

- **Seeding.** Each random stream of a Land is keyed ``(seed, stream, land)``; Hessen's own
  streams keep the key ``(seed, stream)`` of the Hessen-only generator, so Hessen's sample is
  byte-identical to it (``tests/unit/test_generator_nationwide.py`` pins digests of its
  records, FIM items, ground truth, Kommune attributes and defects). No Land's draws depend on
  another Land's: ``land_seed`` replaces the seed of one Land's own streams and no other Land
  moves.
- **Shared by all Länder** (drawn with ``seed`` alone): the catalogue, the FIM items, the
  Datenstand (one PVOG import) and the **Bund layer** — which services the Bund provides
  (``vollzug`` bund, and the Kfz Kreis services that go to i-Kfz), their go-live, withdrawals,
  noise and flags are those of Hessen's model, so the Bund ARS answers alike in every Land
  and every Land's citizen view holds the same Bund entries.
- **Per Land**: everything else — the go-live dates (the same three classes; a Land entry
  exists from its own Land's go-live), the other provider modes, service, Kreis and lag draws,
  laggards, IKZ-Verbünde, Digitalisierungsberatung, withdrawals, noise, flags, EfA choice and
  defects; plus the **Land effect** ``λ(L)`` of step 5 (with the default seed between 0.61,
  Nordrhein-Westfalen, and 1.52, Bremen: ``SampleUniverse.land_factor``).
- **Gebietstypen** from the GV100AD Textkennzeichen: Landkreise are the Kreise with 43 (Kreis:
  Schleswig-Holstein, Nordrhein-Westfalen), 44 (Landkreis) or 45 (Regionalverband
  Saarbrücken); kreisfreie Städte the Gemeinden with 61 or 62 (Stadtkreis,
  Baden-Württemberg); Städte 63 and 67 (Große Kreisstadt); every other inhabited Gemeinde (60
  Markt, 64, and the inhabited gemeindefreie Bezirke Lohheide and Osterheide, 65) is a
  kreisangehörige Gemeinde. Region Hannover, Städteregion Aachen and Regionalverband
  Saarbrücken are Landkreise like any other.
- **Sonderstatusstädte**: Hessen only (its seven, by the rule of step 3, § 4a HGO). The
  comparable statuses elsewhere (große selbständige Städte in Niedersachsen, Große
  Kreisstädte in Baden-Württemberg, Bayern and Sachsen, große kreisangehörige Städte in
  Nordrhein-Westfalen, …) transfer other tasks than the Hessian ones the catalogue's
  ``sonderstatus`` column lists, so the other Länder have none: their Kreis services come from
  the Landkreis.
- **Stadtstaaten.** Berlin (11) and Hamburg (02) are one Gemeinde that is its own Kreis
  (kreisfreie Stadt) and has the Land's ARS ``LL0000000000``: the Land's entries (``land``
  services and Land mode, from go-live) and the city's own entries share that ARS, which the
  ARS list names once, with the Land's name; the Kreis mode is the city's own, and there are
  no Landkreise, so no laggard Landkreis and no IKZ-Verbund. Bremen (04) is the Land
  ``040000000000`` with two kreisfreie Städte, Bremen and Bremerhaven.
- **Hessen specifics.** The priority basket (``PRIORITY_BASKET``: ``R(l)``, never ``late``,
  always provided by the competent bodies) and the Land-wide municipal platform civento/ekom21
  (catalogue ``platform``: ``P(l)``, URLs ``…/civento/…``) are Hessen's: the other Länder have
  no basket and no platform (``R = P = 1``, the catalogue flags do not apply); what sets a Land
  apart as a whole is ``λ(L)``.
- **Counts per Land.** Laggards are the same shares as Hessen's 13 of its 409 kreisangehörige
  Städte und Gemeinden (no Sonderstatusstadt) and 1 of its 21 Landkreise, rounded (Bayern 65
  and 3, Saarland 2 and 0); IKZ-Verbünde the same share as Hessen's 20 of its 21 Landkreise,
  of the Landkreise with at least five eligible Gemeinden, rounded. ``WITHDRAWN_SERVICES`` and
  ``DEFECTS_PER_SNAPSHOT`` hold per Land; a Land's whole-service withdrawals never pick an
  i-Kfz service (its entries are the Bund layer's). The defect "ARS lost its leading zero"
  exists only where the ARS has one (Länder 01–09); the Länder 10–16 cycle through the other
  seven kinds. The ARS unknown to the Gemeindeverzeichnis is ``LL9990000000``.
- **Size.** With the default seed the 16 Länder have about 958,000 records in the last snapshot
  (Hessen 51,654; the Bund's 32 counted once per Land) and 3.3 million ground-truth rows.
  ``python -m sources.sample.benchmark`` times each Land, one at a time: on 2 (busy) cores
  building all 16 universes took about 4 s, one snapshot's records 6 s and the ground truth
  5 s (Bayern, the largest: 0.6, 1.5 and 0.8 s), at a peak of 0.6 GiB.

``nationwide_kommune_merkmale`` holds every Land's Kommune attributes (the seed
``kommune_merkmale.csv``; Hessen's rows are those of the Hessen-only generator) and
``iter_laender`` yields the universes one at a time, each built fresh and dropped by the
consumer before the next.
"""

from __future__ import annotations

import csv
import operator
import re
import threading
import unicodedata
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import cache, lru_cache
from pathlib import Path

import numpy as np
import polars as pl

from sources import dashboard
from sources.sample.files import gv100ad_frame

CATALOGUE_CSV = Path(__file__).parent / "catalogue.csv"

BUND_ARS = "000000000000"
# Hessen, the Land of the pilot and of ``make run`` (the default of every function below).
LAND_ARS = "060000000000"
LAND_CODE = "06"
LAND_NAME = "Hessen"
HESSEN = LAND_CODE
LAND_CODES: tuple[str, ...] = tuple(f"{code:02d}" for code in range(1, 17))

SAMPLE_SNAPSHOTS: tuple[date, ...] = tuple(
    date(2025 + (11 + i) // 12, (11 + i) % 12 + 1, 1) for i in range(12)
)
DEFAULT_SEED = 20251201

# The wire format the parser declares (sources/dashboard.py): one definition for both.
RECORD_KEYS: tuple[str, ...] = dashboard.FIELDS

# Hessen 2026 "5 + 5" basket (docs/metrics.md §4), mapped to catalogue names.
PRIORITY_BASKET: dict[str, str] = {
    "Online-Ummeldung": "Wohnsitz Ummeldung",
    "Führerschein (Erstantrag)": "Fahrerlaubnis Ersterteilung",
    "Aufenthaltsgenehmigung": "Aufenthaltserlaubnis Erteilung",
    "Unterhaltsvorschuss": "Unterhaltsvorschuss Bewilligung",
    "Anlagengenehmigung (BImSchG)": "Anlagengenehmigung nach BImSchG Erteilung",
}

# --- model parameters (documented in the module docstring) ------------------------------------
DATENSTAND_OFFSET_DAYS = (3, 6)
GO_LIVE_CLASSES: tuple[tuple[str, float, date, date], ...] = (
    ("old", 0.55, date(2019, 1, 1), date(2025, 6, 30)),
    ("recent", 0.30, date(2025, 7, 1), date(2026, 10, 15)),
    ("late", 0.15, date(2026, 11, 1), date(2028, 6, 30)),
)
BASE_MEDIAN_LAG_DAYS = {"gemeinde": 420.0, "kreis": 260.0}
LAG_SIGMA = 0.9
SERVICE_EFFECT_SIGMA = 0.45
PLATFORM_FACTOR = 0.55
PRIORITY_FACTOR = 0.5
POP_REFERENCE = 8083.0  # median Hessian Gemeinde (GV100AD 30.11.2025)
POP_ELASTICITY = 0.25
POP_FACTOR_RANGE = (0.35, 2.0)
TYPE_FACTOR = {
    "kreisfreie_stadt": 0.75,
    "sonderstatusstadt": 0.85,
    "stadt": 1.0,
    "gemeinde": 1.15,
    "landkreis": 0.9,
}
KREIS_EFFECT_SIGMA = 0.3
LAND_EFFECT_SIGMA = 0.25  # λ(L) of the Länder other than Hessen (Hessen is the reference, 1)
# Hessen's counts; every other Land gets the same shares of its own units, rounded.
LAGGARD_GEMEINDEN = 13  # of Hessen's 409 kreisangehörige Städte und Gemeinden (no Sonderstatus)
LAGGARD_LANDKREISE = 1  # of Hessen's 21 Landkreise
LAGGARD_FACTOR = 3.0
IKZ_GROUPS = 20  # in 20 of Hessen's 21 Landkreise with enough Gemeinden
HESSEN_GEMEINDEN, HESSEN_LANDKREISE = 409, 21  # the bases of the shares above
IKZ_GROUP_SIZE = (3, 5)  # members per IKZ-Verbund, inclusive
IKZ_FACTOR = 0.8
P_DIGITALISIERUNGSBERATUNG = 0.3  # no effect on the roll-out (the planted null effect)
PROVIDER_MODE_SHARES = {
    "gemeinde": {"kreis": 0.08, "land": 0.04},
    "kreis": {"land": 0.06},
    "kreis_kfz": {"bund": 0.30},
}
WITHDRAWN_SERVICES = 4
WITHDRAWAL_WINDOW = (date(2026, 2, 15), date(2026, 10, 15))
ENTRY_WITHDRAWAL_RATE = 0.004
P_NOT_OK = 0.015
P_URL_MISSING = 0.003
AKTIV_SHARES = {"ja": 0.95, "nein": 0.025, None: 0.025}
P_NOT_CONSIDERED = 0.01
NOT_CONSIDERED_REASONS = (
    "Onlinedienst keiner OZG-Leistung zugeordnet",
    "Leistung nicht im OZG-Umsetzungskatalog",
    "Zuständigkeit nicht eindeutig zugeordnet",
)
EFA_SHARE = 0.5
SONDERSTATUS_POPULATION = (50_000, 100_000)  # Hessen only (§ 4a HGO)
# GV100AD Textkennzeichen: Kreise that are Landkreise (43 Kreis, 44 Landkreis, 45
# Regionalverband), kreisfreie Gemeinden (61 kreisfreie Stadt, 62 Stadtkreis) and Städte
# (63 Stadt, 67 Große Kreisstadt); every other inhabited Gemeinde (60 Markt, 64, 65 bewohntes
# gemeindefreies Gebiet) is a kreisangehörige Gemeinde.
LANDKREIS_KENNZEICHEN = ("43", "44", "45")
KREISFREI_KENNZEICHEN = ("61", "62")
STADT_KENNZEICHEN = ("63", "67")
DEFECTS_PER_SNAPSHOT = 3
DEFECT_KINDS: tuple[tuple[str, bool], ...] = (
    ("ars_leading_zero_lost", True),
    ("whitespace", True),
    ("unicode_nfd", True),
    ("duplicate_record", True),
    ("enum_case", True),
    ("leika_key_malformed", False),
    ("ars_unknown", False),
    ("online_status_unknown", False),
)
UNKNOWN_ARS = "069990000000"  # Hessen's; the Land LL: LL9990000000 (_unknown_ars)

ART_BUND = "bundesweit flächendeckend"
ART_LAND = "landesweit flächendeckend"
ART_KREIS = "kreisweit flächendeckend"
ART_SOME = "in mind. einer Kommune verfügbar"
ART_NOT_CONSIDERED = "nicht in Auswertung berücksichtigt"

THEMENFELD_LABELS = {
    "arbeit_ruhestand": "Arbeit & Ruhestand",
    "bauen_wohnen": "Bauen & Wohnen",
    "bildung": "Bildung",
    "ein_auswanderung": "Ein- & Auswanderung",
    "engagement_hobby": "Engagement & Hobby",
    "familie_kind": "Familie & Kind",
    "forschung_foerderung": "Forschung & Förderung",
    "gesundheit": "Gesundheit",
    "mobilitaet_reisen": "Mobilität & Reisen",
    "querschnittsleistungen": "Querschnittsleistungen",
    "recht_ordnung": "Recht & Ordnung",
    "steuern_zoll": "Steuern & Zoll",
    "umwelt": "Umwelt",
    "unternehmensfuehrung_entwicklung": "Unternehmensführung & -entwicklung",
}

Record = dict[str, object]
_NEVER = 10**7  # ordinal sentinel for "no date"


def _rng(seed: int, stream: str, land: str | None = None) -> np.random.Generator:
    # One independent stream per model component, so tuning one does not reshuffle the others,
    # and per Land. Shared streams (land None) and Hessen's keep the key of the Hessen-only
    # generator, so Hessen's sample did not change when the other Länder were added.
    key = [seed, zlib.crc32(stream.encode())]
    return np.random.default_rng(key if land in (None, HESSEN) else [*key, int(land)])


def _slug(name: str) -> str:
    base = name.split(",")[0].lower()
    for src, dst in (("ä", "ae"), ("ö", "oe"), ("ü", "ue"), ("ß", "ss")):
        base = base.replace(src, dst)
    return re.sub(r"[^a-z0-9]+", "-", base).strip("-")


def load_catalogue(path: Path = CATALOGUE_CSV) -> list[dict[str, str]]:
    """The synthetic service catalogue, sorted by ``leika_key`` (all values as strings)."""
    with path.open(encoding="utf-8", newline="") as handle:
        return sorted(csv.DictReader(handle), key=lambda row: row["leika_key"])


@dataclass(frozen=True)
class _Provider:
    ars: str
    name: str
    kind: str  # bund, land, landkreis, kreisfreie_stadt, sonderstatusstadt, stadt, gemeinde
    population: int
    kreis_ars: str  # own ARS for Bund, Land, Landkreise and kreisfreie Städte
    slug: str


@dataclass(frozen=True)
class _Defect:
    snapshot_index: int
    entry: int
    kind: str
    repairable: bool
    field: str
    value: str
    leika_key: str
    description: str


@dataclass
class _Model:
    """Latent state of one Land: providers (0 the Bund, 1 the Land), services, entries
    (provider × service) and their snapshot states."""

    land: str
    land_name: str
    land_factor: float  # λ(L) of step 5
    providers: list[_Provider]
    gemeindefrei: list[_Provider]
    services: list[dict[str, str]]
    mode: list[str]  # per service: own, kreis, land, bund
    go_live: np.ndarray  # per service, ordinal
    adopt: np.ndarray  # (service, provider) ordinal or _NEVER
    withdraw: np.ndarray  # (service, provider) ordinal or _NEVER
    e_service: np.ndarray
    e_provider: np.ndarray
    present: np.ndarray  # (entry, snapshot)
    status_ok: np.ndarray  # (entry, snapshot)
    url_ok: np.ndarray  # (entry, snapshot)
    aktiv: list[str | None]
    reason: list[str | None]
    urls: list[str]
    art: np.ndarray  # (entry, snapshot) index into _ARTS
    citizen_online: np.ndarray  # (provider, service, snapshot)
    datenstand: dict[date, date]
    defects: list[_Defect]
    laggard: np.ndarray  # per provider
    ikz_group: np.ndarray  # per provider: index into the IKZ-Verbünde, -1 for none
    beratung: np.ndarray  # per provider: Digitalisierungsberatung genutzt (no effect)
    kreis_effect: np.ndarray  # per provider: k(u), its Kreis's random effect
    unit_factor: np.ndarray  # per provider: f_pop · f_type · k · L · I
    known: dict[str, _Provider] = field(default_factory=dict)  # every queryable ARS

    def __post_init__(self) -> None:
        # A Stadtstaat's city shares the Land's ARS and comes later: it is the one known.
        self.known = {p.ars: p for p in self.providers + self.gemeindefrei}

    @property
    def land_ars(self) -> str:
        return self.providers[_I_LAND].ars


_ARTS = (ART_BUND, ART_LAND, ART_KREIS, ART_SOME, ART_NOT_CONSIDERED)
_I_BUND, _I_LAND = 0, 1  # provider indices in every Land's model
_GEMEINDE_KINDS = ("kreisfreie_stadt", "sonderstatusstadt", "stadt", "gemeinde")


def land_ars(land: str) -> str:
    """The Land's ARS ``LL0000000000``."""
    return f"{land}{'0' * 10}"


def _check_land(land: str) -> str:
    if land not in LAND_CODES:
        raise ValueError(f"Land must be a two-digit code 01–16, not {land!r}")
    return land


def _share(count: int, n: int, hessen_n: int, land: str) -> int:
    """Hessen's ``count`` of ``hessen_n`` units, for a Land with ``n`` such units."""
    return count if land == HESSEN else round(count * n / hessen_n)


def _unknown_ars(land: str) -> str:
    """An ARS of the Land that no Gemeindeverzeichnis knows (Kreis key 999)."""
    return f"{land}9990000000"


def _load_providers(land: str = HESSEN) -> tuple[list[_Provider], list[_Provider]]:
    """Bund, Land, Landkreise and inhabited Gemeinden sorted by ARS; plus gemeindefreie Gebiete."""
    frame = gv100ad_frame().filter(pl.col("land") == land)
    (land_name,) = frame.filter(pl.col("satzart") == "10")["name"].to_list()
    kreise = frame.filter(pl.col("satzart") == "40").sort("ars").to_dicts()
    gemeinden = frame.filter(pl.col("satzart") == "60").sort("ars").to_dicts()
    kreis_pop: dict[str, int] = {}
    for row in gemeinden:
        kreis = row["ars"][:5] + "0000000"
        kreis_pop[kreis] = kreis_pop.get(kreis, 0) + (row["bevoelkerung"] or 0)
    rows: list[tuple[str, str, str, int, str]] = []
    for row in kreise:
        if row["textkennzeichen"] in LANDKREIS_KENNZEICHEN:
            rows.append((row["ars"], row["name"], "landkreis", kreis_pop[row["ars"]], row["ars"]))
    gemeindefrei: list[_Provider] = []
    low, high = SONDERSTATUS_POPULATION
    for row in gemeinden:
        pop = row["bevoelkerung"] or 0
        kreis = row["ars"][:5] + "0000000"
        if row["textkennzeichen"] in KREISFREI_KENNZEICHEN:
            kind, kreis = "kreisfreie_stadt", row["ars"]
        elif land == HESSEN and low <= pop < high:  # Sonderstatusstädte: Hessen only
            kind = "sonderstatusstadt"
        elif row["textkennzeichen"] in STADT_KENNZEICHEN:
            kind = "stadt"
        else:
            kind = "gemeinde"
        if pop == 0:
            gemeindefrei.append(_Provider(row["ars"], row["name"], "gemeindefrei", 0, kreis, ""))
            continue
        rows.append((row["ars"], row["name"], kind, pop, kreis))
    rows.sort()
    ars = land_ars(land)
    providers = [
        _Provider(BUND_ARS, "Bund", "bund", 0, BUND_ARS, "bund"),
        _Provider(ars, land_name, "land", sum(kreis_pop.values()), ars, _slug(land_name)),
    ]
    seen: set[str] = set()
    for ars, name, kind, pop, kreis in rows:
        slug = _slug(name)
        slug = f"kreis-{slug}" if kind == "landkreis" else slug
        if slug in seen:  # homonymous Gemeinden get their AGS appended
            slug = f"{slug}-{ars[:5]}{ars[-3:]}"
        seen.add(slug)
        providers.append(_Provider(ars, name, kind, pop, kreis, slug))
    return providers, gemeindefrei


def _draw_dates(rng: np.random.Generator, n: int, start: date, end: date) -> np.ndarray:
    span = end.toordinal() - start.toordinal() + 1
    return start.toordinal() + np.floor(rng.random(n) * span).astype(np.int64)


@dataclass(frozen=True)
class _Units:
    """One Land's providers and their unit-level draws (the factors of step 5 that belong to
    a Kommune, and its attributes)."""

    land: str
    providers: list[_Provider]
    gemeindefrei: list[_Provider]
    kinds: np.ndarray
    kreis_idx: np.ndarray  # per provider: index of its Kreis (itself for Kreise)
    laggard: np.ndarray
    ikz_group: np.ndarray
    beratung: np.ndarray
    kreis_effect: np.ndarray  # k(u) of the provider's Kreis
    unit_factor_base: np.ndarray  # f_pop · f_type · k · L (the model without I(u))
    unit_factor: np.ndarray  # f_pop · f_type · k · L · I


def _units(seed: int, land: str = HESSEN) -> _Units:
    """The providers of ``land`` with the draws of the streams ``kreis_effect``, ``laggard``,
    ``ikz`` and ``digitalisierungsberatung`` (``seed``: the Land's own seed)."""
    providers, gemeindefrei = _load_providers(land)
    n_p = len(providers)
    index = {p.ars: i for i, p in enumerate(providers)}
    kinds = np.array([p.kind for p in providers])
    kreis_idx = np.array([index[p.kreis_ars] for p in providers])
    is_gemeinde = np.isin(kinds, _GEMEINDE_KINDS)
    pops = np.array([max(p.population, 1) for p in providers], dtype=float)
    f_pop = np.clip((pops / POP_REFERENCE) ** -POP_ELASTICITY, *POP_FACTOR_RANGE)
    f_type = np.array([TYPE_FACTOR.get(k, 1.0) for k in kinds])
    kreis_effect = np.exp(_rng(seed, "kreis_effect", land).normal(0.0, KREIS_EFFECT_SIGMA, n_p))
    f_kreis = kreis_effect[kreis_idx]  # a Kreis's effect is drawn at its own index
    rng = _rng(seed, "laggard", land)
    laggard = np.zeros(n_p, dtype=bool)
    for kind_mask, count, hessen_n in (
        (np.isin(kinds, ["stadt", "gemeinde"]), LAGGARD_GEMEINDEN, HESSEN_GEMEINDEN),
        (kinds == "landkreis", LAGGARD_LANDKREISE, HESSEN_LANDKREISE),
    ):
        candidates = np.flatnonzero(kind_mask)
        count = _share(count, len(candidates), hessen_n, land)
        if count:
            laggard[rng.choice(candidates, count, replace=False)] = True
    ikz_group = _draw_ikz(_rng(seed, "ikz", land), land, kinds, kreis_idx)
    beratung_draw = _rng(seed, "digitalisierungsberatung", land).random(n_p)
    beratung = (is_gemeinde | (kinds == "landkreis")) & (beratung_draw < P_DIGITALISIERUNGSBERATUNG)
    # Without I(u) (the model before the IKZ attribute) and with it: the draws of the entries
    # of the first stay as they were (see the docstring).
    f_unit_base = f_pop * f_type * f_kreis * np.where(laggard, LAGGARD_FACTOR, 1.0)
    f_unit = f_unit_base * np.where(ikz_group >= 0, IKZ_FACTOR, 1.0)
    return _Units(
        land=land,
        providers=providers,
        gemeindefrei=gemeindefrei,
        kinds=kinds,
        kreis_idx=kreis_idx,
        laggard=laggard,
        ikz_group=ikz_group,
        beratung=beratung,
        kreis_effect=f_kreis,
        unit_factor_base=f_unit_base,
        unit_factor=f_unit,
    )


@dataclass(frozen=True)
class _BundLayer:
    """The Bund's entries, shared by every Land: as Hessen's model draws them."""

    kfz: np.ndarray  # per service: a Kreis service of group Kfz that the Bund provides (i-Kfz)
    adopt: np.ndarray  # per service: the Bund entry's go-live ordinal or _NEVER
    withdraw: np.ndarray  # per service: ordinal or _NEVER
    status_ok: np.ndarray  # (service, snapshot)
    url_ok: np.ndarray  # (service, snapshot)
    aktiv: list[str | None]  # per service


@cache
def _bund_layer(seed: int) -> _BundLayer:
    """The Bund layer of ``seed``: the Bund's entries of Hessen's model (module docstring,
    "Nationwide sample"), so every Land's Bund queries answer alike."""
    m = build_universe(seed, HESSEN)._model
    n_s, n_t = len(m.services), len(SAMPLE_SNAPSHOTS)
    rows = np.flatnonzero(m.e_provider == _I_BUND)
    services = m.e_service[rows]
    status_ok = np.zeros((n_s, n_t), dtype=bool)
    url_ok = np.zeros((n_s, n_t), dtype=bool)
    status_ok[services], url_ok[services] = m.status_ok[rows], m.url_ok[rows]
    aktiv: list[str | None] = [None] * n_s
    for row, service in zip(rows.tolist(), services.tolist(), strict=True):
        aktiv[service] = m.aktiv[row]
    vollzug = np.array([s["vollzug"] for s in m.services])
    return _BundLayer(
        kfz=(np.array(m.mode) == "bund") & (vollzug == "kreis"),
        adopt=m.adopt[:, _I_BUND].copy(),
        withdraw=m.withdraw[:, _I_BUND].copy(),
        status_ok=status_ok,
        url_ok=url_ok,
        aktiv=aktiv,
    )


def _build_model(seed: int, land: str = HESSEN, land_seed: int | None = None) -> _Model:
    """One Land's model. ``seed`` seeds what the Länder share (Datenstand, the Bund layer),
    ``land_seed`` (default ``seed``) the Land's own streams; Hessen's own streams are the
    shared ones, so its ``land_seed`` cannot differ."""
    hessen = land == HESSEN
    own = seed if land_seed is None else land_seed
    if hessen and own != seed:
        raise ValueError("Hessen's streams are the shared ones: its land_seed must be the seed")
    bund = None if hessen else _bund_layer(seed)
    units = _units(own, land)
    providers, gemeindefrei = units.providers, units.gemeindefrei
    services = load_catalogue()
    n_s, n_p, n_t = len(services), len(providers), len(SAMPLE_SNAPSHOTS)
    kinds, kreis_idx = units.kinds, units.kreis_idx
    is_gemeinde = np.isin(kinds, _GEMEINDE_KINDS)
    is_kreis = np.isin(kinds, ["landkreis", "kreisfreie_stadt"])
    is_sonder = kinds == "sonderstatusstadt"
    i_bund, i_land = _I_BUND, _I_LAND

    # Datenstand: the PVOG import a few days before each snapshot (one import for all Länder).
    offsets = _rng(seed, "datenstand").integers(
        DATENSTAND_OFFSET_DAYS[0], DATENSTAND_OFFSET_DAYS[1] + 1, n_t
    )
    datenstand = {
        t: t - timedelta(days=int(o)) for t, o in zip(SAMPLE_SNAPSHOTS, offsets, strict=True)
    }
    ds_ord = np.array([datenstand[t].toordinal() for t in SAMPLE_SNAPSHOTS])
    horizon = int(ds_ord[-1])

    vollzug = np.array([s["vollzug"] for s in services])
    names = [s["leika_name"] for s in services]
    # The priority basket and the civento/ekom21 platform are Hessen's.
    priority = np.isin(names, list(PRIORITY_BASKET.values())) & hessen
    platform = np.array([s["platform"] == "1" for s in services]) & hessen
    sonder = np.array([s["sonderstatus"] == "1" for s in services])
    kfz = np.array([s["service_group"] == "Kfz" for s in services])

    # Go-live class and date per service.
    rng = _rng(own, "go_live", land)
    u = rng.random(n_s)
    cum = np.cumsum([share for _, share, _, _ in GO_LIVE_CLASSES])
    klass = np.searchsorted(cum, u, side="right").clip(0, len(GO_LIVE_CLASSES) - 1)
    klass = np.where(priority & (klass == 2), 1, klass)
    go_live = np.zeros(n_s, dtype=np.int64)
    for k, (_, _, start, end) in enumerate(GO_LIVE_CLASSES):
        go_live = np.where(klass == k, _draw_dates(rng, n_s, start, end), go_live)

    # Provider mode per service.
    u = _rng(own, "mode", land).random(n_s)
    mode = np.where(vollzug == "bund", "bund", np.where(vollzug == "land", "land", "own"))
    mode = mode.astype("<U5")
    g_shares, k_shares = PROVIDER_MODE_SHARES["gemeinde"], PROVIDER_MODE_SHARES["kreis"]
    eligible = {
        "kreis": (vollzug == "gemeinde") & ~priority,
        "land_g": (vollzug == "gemeinde") & ~priority,
        "land_k": (vollzug == "kreis") & ~priority & ~kfz,
        "bund": (vollzug == "kreis") & ~priority & kfz,
    }
    drawn = {
        "kreis": eligible["kreis"] & (u < g_shares["kreis"]),
        "land_g": eligible["land_g"] & (u >= g_shares["kreis"]) & (u < sum(g_shares.values())),
        "land_k": eligible["land_k"] & (u < k_shares["land"]),
        "bund": eligible["bund"] & (u < PROVIDER_MODE_SHARES["kreis_kfz"]["bund"]),
    }
    if bund is not None:  # i-Kfz is one Bund service for all Länder: the Bund layer's
        drawn["bund"] = bund.kfz
    for key, chosen in drawn.items():
        if not chosen.any():  # every mode occurs at least once, whatever the seed
            candidates = np.flatnonzero(eligible[key] & (mode == "own"))
            chosen = np.zeros(n_s, dtype=bool)
            chosen[candidates[np.argmin(u[candidates])]] = True
        mode = np.where(chosen, {"kreis": "kreis", "bund": "bund"}.get(key, "land"), mode)

    # Which providers hold entries of which service.
    holds = np.zeros((n_s, n_p), dtype=bool)
    holds[mode == "bund", i_bund] = True
    holds[mode == "land", i_land] = True
    holds |= ((vollzug == "gemeinde") & (mode == "own"))[:, None] & is_gemeinde[None, :]
    holds |= ((vollzug == "gemeinde") & (mode == "kreis"))[:, None] & is_kreis[None, :]
    holds |= ((vollzug == "kreis") & (mode == "own"))[:, None] & is_kreis[None, :]
    holds |= ((vollzug == "kreis") & (mode == "own") & sonder)[:, None] & is_sonder[None, :]

    # Lag model: log-normal with a median built from multiplicative factors.
    f_unit_base, f_unit = units.unit_factor_base, units.unit_factor
    base = np.array([BASE_MEDIAN_LAG_DAYS.get(v, 0.0) for v in vollzug])
    f_service = np.exp(_rng(own, "service_effect", land).normal(0.0, SERVICE_EFFECT_SIGMA, n_s))
    f_service *= np.where(platform, PLATFORM_FACTOR, 1.0) * np.where(priority, PRIORITY_FACTOR, 1.0)
    land_factor = 1.0  # Hessen is the reference Land
    if not hessen:
        land_factor = float(np.exp(_rng(own, "land_effect", land).normal(0.0, LAND_EFFECT_SIGMA)))
        f_service *= land_factor
    z = _rng(own, "lag", land).standard_normal((n_s, n_p))

    # Withdrawals: a few whole services, plus rare single entries (drawn once for both).
    rng = _rng(own, "withdrawal", land)
    first_ord = SAMPLE_SNAPSHOTS[0].toordinal()
    withdrawable = ~priority & np.isin(vollzug, ["gemeinde", "kreis"]) & (go_live < first_ord - 180)
    if bund is not None:  # the Bund's entries are the Bund layer's: withdraw the Land's own
        withdrawable &= mode != "bund"
    whole = np.full((n_s, n_p), _NEVER, dtype=np.int64)
    for s in rng.choice(np.flatnonzero(withdrawable), WITHDRAWN_SERVICES, replace=False):
        whole[s, :] = _draw_dates(rng, 1, *WITHDRAWAL_WINDOW)[0]
    single_draw = rng.random((n_s, n_p)) < ENTRY_WITHDRAWAL_RATE
    single_offset = rng.integers(20, 301, (n_s, n_p))

    def adoption(unit_factor: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        lag = (base * f_service)[:, None] * unit_factor[None, :] * np.exp(LAG_SIGMA * z)
        lag[:, [i_bund, i_land]] = 0.0  # Land and Bund entries exist from go-live on
        adopt = go_live[:, None] + np.rint(lag).astype(np.int64)
        adopt = np.where(holds & (adopt <= horizon), adopt, _NEVER)
        single = (adopt < _NEVER) & single_draw
        own_date = np.maximum(adopt, first_ord) + single_offset
        withdraw = np.where(single & (own_date < whole), own_date, whole)
        withdraw = np.where(withdraw <= horizon, withdraw, _NEVER)
        adopt = np.where(adopt < withdraw, adopt, _NEVER)  # adopted only after withdrawal = never
        if bund is not None:
            adopt[:, i_bund], withdraw[:, i_bund] = bund.adopt, bund.withdraw
        return adopt, withdraw

    adopt_base, withdraw_base = adoption(f_unit_base)
    adopt, withdraw = adoption(f_unit)

    # Entries and their per-snapshot state.
    e_service, e_provider = np.nonzero(adopt < _NEVER)
    b_service, b_provider = np.nonzero(adopt_base < _NEVER)
    e_flat, b_flat = e_service * n_p + e_provider, b_service * n_p + b_provider
    pos = np.searchsorted(e_flat, b_flat)  # where each entry without I(u) sits now
    if not np.array_equal(e_flat[pos], b_flat):
        raise AssertionError("an IKZ member lost an entry: earlier adoption must only add")
    extra = np.ones(len(e_flat), dtype=bool)
    extra[pos] = False
    n_e, n_b, n_x = len(e_service), len(b_service), int(extra.sum())
    e_adopt, e_withdraw = adopt[e_service, e_provider], withdraw[e_service, e_provider]
    present = (e_adopt[:, None] <= ds_ord[None, :]) & (ds_ord[None, :] < e_withdraw[:, None])

    def per_entry(draw_base: np.ndarray, draw_extra: np.ndarray) -> np.ndarray:
        out = np.empty((n_e, *draw_base.shape[1:]), dtype=draw_base.dtype)
        out[pos], out[extra] = draw_base, draw_extra
        return out

    rng, rng_x = _rng(own, "status", land), _rng(own, "ikz_status", land)
    status_base = rng.random((n_b, n_t)) >= P_NOT_OK
    url_base = rng.random((n_b, n_t)) >= P_URL_MISSING
    status_ok = per_entry(status_base, rng_x.random((n_x, n_t)) >= P_NOT_OK)
    url_ok = per_entry(url_base, rng_x.random((n_x, n_t)) >= P_URL_MISSING)
    bund_rows = np.flatnonzero(e_provider == i_bund) if bund is not None else np.array([], int)
    if bund is not None:  # the Bund's entries are the Bund layer's
        status_ok[bund_rows] = bund.status_ok[e_service[bund_rows]]
        url_ok[bund_rows] = bund.url_ok[e_service[bund_rows]]
    online = present & status_ok & url_ok

    aktiv_values = list(AKTIV_SHARES)
    flag_draws = []
    for rng, n in ((_rng(own, "flags", land), n_b), (_rng(own, "ikz_flags", land), n_x)):
        flag_draws.append(
            (
                rng.choice(len(aktiv_values), n, p=list(AKTIV_SHARES.values())),
                rng.random(n) < P_NOT_CONSIDERED,
                rng.integers(0, len(NOT_CONSIDERED_REASONS), n),
            )
        )
    aktiv_draw, nc_draw, reason_draw = (per_entry(b, x) for b, x in zip(*flag_draws, strict=True))
    aktiv = [aktiv_values[i] for i in aktiv_draw]
    for row in bund_rows.tolist():
        aktiv[row] = bund.aktiv[e_service[row]]  # type: ignore[union-attr]
    municipal = ~np.isin(e_provider, [i_bund, i_land])
    not_considered = municipal & nc_draw
    reason = [
        NOT_CONSIDERED_REASONS[r] if nc else None
        for r, nc in zip(reason_draw, not_considered, strict=True)
    ]
    b_adopt, b_withdraw = adopt_base[b_service, b_provider], withdraw_base[b_service, b_provider]
    present_base = (b_adopt[:, None] <= ds_ord[None, :]) & (ds_ord[None, :] < b_withdraw[:, None])

    efa = _rng(own, "solution", land).random(n_s) < EFA_SHARE
    urls = [
        _url(providers[p], services[s], bool(platform[s]), bool(efa[s]))
        for s, p in zip(e_service.tolist(), e_provider.tolist(), strict=True)
    ]

    # Citizen view per provider (Gemeinde: own | Kreis | Land | Bund) and Flächendeckung.
    by_provider = np.zeros((n_p, n_s, n_t), dtype=bool)
    by_provider[e_provider, e_service] = online
    citizen = by_provider | by_provider[kreis_idx] | by_provider[[i_land]] | by_provider[[i_bund]]
    land_full = citizen[is_gemeinde].all(axis=0)
    kreis_full = np.zeros((n_p, n_s, n_t), dtype=bool)
    for k in np.flatnonzero(is_kreis):
        kreis_full[k] = citizen[is_gemeinde & (kreis_idx == k)].all(axis=0)
    art = np.full((n_e, n_t), _ARTS.index(ART_SOME), dtype=np.int8)
    art[kreis_full[kreis_idx[e_provider], e_service]] = _ARTS.index(ART_KREIS)
    art[land_full[e_service]] = _ARTS.index(ART_LAND)
    art[not_considered] = _ARTS.index(ART_NOT_CONSIDERED)
    art[e_provider == i_land] = _ARTS.index(ART_LAND)
    art[e_provider == i_bund] = _ARTS.index(ART_BUND)

    model = _Model(
        land=land,
        land_name=providers[i_land].name,
        land_factor=land_factor,
        providers=providers,
        gemeindefrei=gemeindefrei,
        services=services,
        mode=mode.tolist(),
        go_live=go_live,
        adopt=adopt,
        withdraw=withdraw,
        e_service=e_service,
        e_provider=e_provider,
        present=present,
        status_ok=status_ok,
        url_ok=url_ok,
        aktiv=aktiv,
        reason=reason,
        urls=urls,
        art=art,
        citizen_online=citizen,
        datenstand=datenstand,
        defects=[],
        laggard=units.laggard,
        ikz_group=units.ikz_group,
        beratung=units.beratung,
        kreis_effect=units.kreis_effect,
        unit_factor=f_unit,
    )
    # Planned on the entries without I(u), with their draws: the same defects as without it.
    model.defects = _plan_defects(
        (_rng(own, "defects", land), _rng(own, "ikz_defects", land)),
        model,
        is_gemeinde,
        pos,
        present_base & status_base & url_base,
        present_base,
    )
    return model


def _draw_ikz(
    rng: np.random.Generator, land: str, kinds: np.ndarray, kreis_idx: np.ndarray
) -> np.ndarray:
    """IKZ-Verbund per provider (index of the Verbund, -1 for none): ``IKZ_GROUPS`` Landkreise
    (another Land: the same share of its eligible ones) drawn without replacement, in each a
    run of ``IKZ_GROUP_SIZE`` consecutive kreisangehörige Städte and Gemeinden (providers are
    sorted by ARS, so by Gemeinde key within a Kreis)."""
    eligible = np.isin(kinds, ["stadt", "gemeinde"])
    low, high = IKZ_GROUP_SIZE
    kreise = [
        int(k)
        for k in np.flatnonzero(kinds == "landkreis")
        if (eligible & (kreis_idx == k)).sum() >= high
    ]
    count = _share(IKZ_GROUPS, len(kreise), HESSEN_LANDKREISE, land)
    group = np.full(len(kinds), -1, dtype=np.int64)
    if not count:
        return group
    for g, k in enumerate(np.sort(rng.choice(kreise, count, replace=False))):
        members = np.flatnonzero(eligible & (kreis_idx == k))
        size = int(rng.integers(low, high + 1))
        start = int(rng.integers(0, len(members) - size + 1))
        group[members[start : start + size]] = g
    return group


def _url(provider: _Provider, service: dict[str, str], platform: bool, efa: bool) -> str:
    ozg = f"ozg-{service['ozgid']}"
    if provider.kind in ("bund", "land"):
        return f"https://onlinedienst.example/{provider.slug}/{ozg}"
    if platform:
        return f"https://{provider.slug}.beispiel-kommune.de/civento/{ozg}"
    if efa:
        return f"https://onlinedienst.example/efa/{ozg}?ars={provider.ars}"
    return f"https://{provider.slug}.beispiel-kommune.de/onlinedienste/{ozg}"


def _defect_kinds(land: str) -> tuple[tuple[str, bool], ...]:
    """``DEFECT_KINDS``; an ARS of the Länder 10–16 has no leading zero to lose."""
    if land.startswith("0"):
        return DEFECT_KINDS
    return tuple(kind for kind in DEFECT_KINDS if kind[0] != "ars_leading_zero_lost")


def _plan_defects(
    rngs: tuple[np.random.Generator, np.random.Generator],
    model: _Model,
    is_gemeinde: np.ndarray,
    rows: np.ndarray,
    online_base: np.ndarray,
    present_base: np.ndarray,
) -> list[_Defect]:
    """Defects on the entries ``rows`` (the model's entries without the IKZ factor) with
    their states without it (``online_base``, ``present_base``: entry × snapshot)."""
    rng, rng_again = rngs
    kinds = _defect_kinds(model.land)
    on_gemeinde = is_gemeinde[model.e_provider[rows]]
    has_umlaut = np.array([bool(re.search("[äöüÄÖÜ]", s["leika_name"])) for s in model.services])
    present_now = model.present[rows]
    online_now = (model.present & model.status_ok & model.url_ok)[rows]
    defects: list[_Defect] = []
    free = np.ones(len(rows), dtype=bool)  # not yet used for a defect
    for t in range(len(SAMPLE_SNAPSHOTS)):
        for slot in range(DEFECTS_PER_SNAPSHOT):
            kind, repairable = kinds[(t * DEFECTS_PER_SNAPSHOT + slot) % len(kinds)]
            needs_online = kind in ("enum_case", "ars_unknown")
            mask = on_gemeinde & present_base[:, t]
            now = present_now[:, t] & (online_now[:, t] if needs_online else True)
            if needs_online:
                mask &= online_base[:, t]
            if kind == "unicode_nfd":
                mask &= has_umlaut[model.e_service[rows]]
            entry = int(rng.choice(np.flatnonzero(mask & free)))
            if not now[entry]:  # an IKZ member's entry, withdrawn earlier with I(u): draw again
                entry = int(rng_again.choice(np.flatnonzero(mask & now & free)))
            free[entry] = False
            defects.append(_describe_defect(t, int(rows[entry]), kind, repairable, model))
    return defects


def _describe_defect(t: int, entry: int, kind: str, repairable: bool, model: _Model) -> _Defect:
    service = model.services[model.e_service[entry]]
    key, name = service["leika_key"], service["leika_name"]
    ars = model.providers[model.e_provider[entry]].ars
    field_, value, description = {
        "ars_leading_zero_lost": ("ars", ars[1:], "ARS lost its leading zero (11 digits)"),
        "whitespace": (
            "leika_name",
            name.replace(" ", "  ", 1) + " ",
            "double inner and trailing whitespace in leika_name",
        ),
        "unicode_nfd": (
            "leika_name",
            unicodedata.normalize("NFD", name),
            "leika_name in Unicode NFD (decomposed umlauts)",
        ),
        "duplicate_record": ("record", "", "exact duplicate of a record"),
        "enum_case": ("online_status", "OK", "online_status in upper case ('OK')"),
        "leika_key_malformed": (
            "leika_key",
            key[:-1] if t % 2 == 0 else key[:5] + "O" + key[6:],
            f"additional record with a malformed leika_key (copy of {key})",
        ),
        "ars_unknown": (
            "ars",
            _unknown_ars(model.land),
            f"additional record with an ARS missing from the Gemeindeverzeichnis (copy of {ars})",
        ),
        "online_status_unknown": (
            "online_status",
            "unbekannt",
            "additional record with an unknown online_status",
        ),
    }[kind]
    emitted_key = value if field_ == "leika_key" else key
    return _Defect(t, entry, kind, repairable, field_, value, emitted_key, description)


def _steckbrief(item: dict[str, object]) -> dict[str, object]:
    """A ``LeistungStammtextOut`` sample item in the live Leistungssteckbrief shape."""
    keys = item["leistungsschluessel"]
    (ozg,) = item["ozg"]  # type: ignore[misc]
    return {
        "leistungsschluessel": keys[0] if len(keys) == 1 else keys,  # type: ignore[index,arg-type]
        "title": item["title"],
        "leistungsbezeichnung": item["leistungsbezeichnung"],
        "leistungsbezeichnung_2": item["leistungsbezeichnung_2"],
        "freigabe_status": item["freigabe_status"],
        "geaendert_datum_zeit": item["geaendert_datum_zeit"],
        "rechtsgrundlagen": item["rechtsgrundlagen"],
        "leistung_stammtexte": [[item["redaktion_id"], item["leistung_id"]]],
        "ozg": {k: v for k, v in ozg.items() if k != "leistungsschluessel"},
        "typisierung": item["typisierung"],
        "leistungsadressat": item["leistungsadressat"],
    }


@dataclass(frozen=True)
class SampleUniverse:
    """The synthetic sample of one Land for one seed; see the module docstring for the model."""

    seed: int
    snapshots: tuple[date, ...]
    _model: _Model = field(repr=False, compare=False)
    # Records per snapshot, the oldest dropped beyond RECORD_CACHE_LIMIT records (see there).
    _cache: dict[date, dict[str, list[Record]]] = field(
        default_factory=dict, repr=False, compare=False
    )

    @property
    def land(self) -> str:
        """The Land's two-digit code."""
        return self._model.land

    @property
    def land_ars(self) -> str:
        return self._model.land_ars

    @property
    def land_name(self) -> str:
        return self._model.land_name

    @property
    def land_factor(self) -> float:
        """λ(L), the Land's factor in the median lag (1 for Hessen, the reference)."""
        return self._model.land_factor

    def datenstand(self, snapshot: date) -> date:
        """PVOG import date behind ``snapshot`` (3–6 days before it)."""
        self._check_snapshot(snapshot)
        return self._model.datenstand[snapshot]

    def ars_list(self) -> list[dict[str, str]]:
        """ArsDto records for Bund, Land, Kreise and all Gemeinde ARS of the Land (Hessen: 425),
        sorted by ARS; a Stadtstaat's one ARS is listed once, with the Land's name."""
        names: dict[str, str] = {}
        for p in self._model.providers + self._model.gemeindefrei:
            names.setdefault(p.ars, p.name)
        return [{"ars": ars, "arsName": name} for ars, name in sorted(names.items())]

    def dashboard_records(
        self, snapshot: date, ars: str, *, include_above: bool, include_below: bool
    ) -> list[Record]:
        """Wire records of the Dashboard API for one ARS at one snapshot (copies, sorted)."""
        self._check_snapshot(snapshot)
        by_ars = self._records(snapshot)
        known = self._model.known
        if ars not in known:
            return []
        wanted = [ars]
        land = self.land_ars
        if include_above and ars != BUND_ARS:
            above = [land, BUND_ARS] if ars != land else [BUND_ARS]
            wanted += [known[ars].kreis_ars, *above] if ars != land else above
        if include_below:
            wanted += self._below(ars, known)
        records = [dict(r) for a in dict.fromkeys(wanted) for r in by_ars.get(a, ())]
        return sorted(records, key=_sort_key)

    def fim_items(self, shape: str = "stammtext") -> list[dict[str, object]]:
        """FIM Portal items for the catalogue, sorted by LeiKa key.

        ``shape="stammtext"``: the spec's ``LeistungStammtextOut`` (list ``leistungsschluessel``,
        list of ``OzgOut``). ``shape="steckbrief"``: what ``/api/v0/leistung-steckbriefe``
        really answers (``docs/contracts/fim.md``): ``leistungsschluessel`` a string,
        ``ozg`` one object, ``leistung_stammtexte`` ``[redaktion_id, leistung_id]`` pairs —
        plus ``typisierung`` and ``leistungsadressat``, which the catalogue needs. Both
        shapes carry the same content (keys, names, OZG mapping, Typisierung, dates)."""
        if shape not in ("stammtext", "steckbrief"):
            raise ValueError(f"shape must be 'stammtext' or 'steckbrief', not {shape!r}")
        rng = _rng(self.seed, "fim")
        items: list[dict[str, object]] = []
        for service in self._model.services:
            created = datetime(2014, 1, 1) + timedelta(
                seconds=int(rng.integers(0, 9 * 365 * 86400))
            )
            latest = datetime(2025, 11, 30)
            changed = created + (latest - created) * float(rng.random())
            freigabe = 6 if rng.random() < 0.92 else None
            key = service["leika_key"]
            items.append(
                {
                    "redaktion_id": "LeiKa",
                    "leistung_id": key,
                    "source": "leika",
                    "title": service["leika_name"],
                    "leistungsschluessel": [key],
                    "leistungstyp": None,
                    "leistungsadressat": service["leistungsadressat"].split(";"),
                    "typisierung": [service["typisierung"]],
                    "freigabe_status": freigabe,
                    "leistungsbezeichnung": service["leika_name"],
                    "leistungsbezeichnung_2": service["leika_bezeichnung"] or None,
                    "kurztext": None,
                    "volltext": None,
                    "rechtsgrundlagen": None,
                    "erstellt_datum_zeit": created.isoformat(timespec="seconds"),
                    "geaendert_datum_zeit": changed.replace(microsecond=0).isoformat(),
                    "klassifizierung": [],
                    "ozg": [
                        {
                            "leistungsschluessel": key,
                            "id": service["ozgid"],
                            "leistung": service["ozg_bezeichnung"],
                            "themenfeld": service["themenfeld"],
                            "themenfeld_label": THEMENFELD_LABELS[service["themenfeld"]],
                            "vollzugsbehoerden": [],
                        }
                    ],
                    "fts_match": None,
                }
            )
        return items if shape == "stammtext" else [_steckbrief(item) for item in items]

    def ground_truth(self) -> pl.DataFrame:
        """Latent adoption and observed first online snapshot per (Kommune, service)."""
        m = self._model
        index = {p.ars: i for i, p in enumerate(m.providers)}
        kinds = np.array([p.kind for p in m.providers])
        kreis_idx = np.array([index[p.kreis_ars] for p in m.providers])
        own_kreis = np.array([p.kreis_ars == p.ars for p in m.providers])
        vollzug = np.array([s["vollzug"] for s in m.services])
        mode = np.array(m.mode)
        sonder = np.array([s["sonderstatus"] == "1" for s in m.services])
        # Gemeinden × Gemeinde and Kreis services, Landkreise × Kreis services.
        applies = (
            ~np.isin(kinds, ["bund", "land"])[:, None]
            & np.isin(vollzug, ["gemeinde", "kreis"])[None, :]
            & ~((kinds == "landkreis")[:, None] & (vollzug != "kreis")[None, :])
        )
        unit_idx, service_idx = np.nonzero(applies)
        v, md = vollzug[service_idx], mode[service_idx]
        own = (
            own_kreis[unit_idx]
            | ((v == "gemeinde") & (md == "own"))
            | ((kinds[unit_idx] == "sonderstatusstadt") & sonder[service_idx])
        )
        central = np.isin(md, ["land", "bund"])
        level = np.where(central, md, np.where(own, "own", "kreis"))
        provider_idx = np.where(
            md == "land",
            _I_LAND,
            np.where(md == "bund", _I_BUND, np.where(own, unit_idx, kreis_idx[unit_idx])),
        )
        adopt = m.adopt[service_idx, provider_idx]
        citizen = m.citizen_online[unit_idx, service_idx]
        first = np.where(citizen.any(axis=1), citizen.argmax(axis=1), -1)
        snapshot_ord = np.array([t.toordinal() for t in self.snapshots] + [_NEVER])
        provider_ars = pl.Series([p.ars for p in m.providers])
        service_keys = pl.Series([s["leika_key"] for s in m.services])
        return pl.DataFrame(
            {
                "ars": provider_ars.gather(unit_idx),
                "leika_key": service_keys.gather(service_idx),
                "vollzug": v,
                "provider_level": level,
                "provider_ars": provider_ars.gather(provider_idx),
                "adoption_date": _to_dates(adopt),
                "withdrawal_date": _to_dates(
                    np.where(adopt < _NEVER, m.withdraw[service_idx, provider_idx], _NEVER)
                ),
                "first_online_snapshot": _to_dates(snapshot_ord[first]),  # -1: _NEVER
                "left_censored": first == 0,
                "sample": np.ones(len(unit_idx), dtype=bool),
            }
        ).sort("ars", "leika_key")

    def kommunen(self) -> pl.DataFrame:
        """The unit-level truth of the roll-out model per Kommune (inhabited Gemeinden and
        Landkreise, sorted by ARS): kind, population, laggard flag, IKZ-Verbund,
        Digitalisierungsberatung, the Kreis effect ``k(u)`` and the product of all unit
        factors ``f_pop · f_type · k · L · I``."""
        return _kommunen_frame(self._model)

    def kommune_merkmale(self) -> pl.DataFrame:
        """The sample's rows of the dbt seed ``kommune_merkmale.csv`` for this Land: one row
        per inhabited Gemeinde and Landkreis with the attributes the model used (``beispiel``
        = true: they describe synthetic Kommunen and apply to sample data only)."""
        return _merkmale_frame(self.kommunen())

    def defects(self) -> pl.DataFrame:
        """Every injected upstream defect (snapshot, query ARS, key, field, kind, …)."""
        m = self._model
        return pl.DataFrame(
            [
                {
                    "snapshot": self.snapshots[d.snapshot_index],
                    "query_ars": m.providers[m.e_provider[d.entry]].ars,
                    "leika_key": d.leika_key,
                    "field": d.field,
                    "kind": d.kind,
                    "repairable": d.repairable,
                    "value": d.value,
                    "description": d.description,
                }
                for d in m.defects
            ],
            schema={
                "snapshot": pl.Date,
                "query_ars": pl.String,
                "leika_key": pl.String,
                "field": pl.String,
                "kind": pl.String,
                "repairable": pl.Boolean,
                "value": pl.String,
                "description": pl.String,
            },
        )

    # --- internals ----------------------------------------------------------------------------

    def _check_snapshot(self, snapshot: date) -> None:
        if snapshot not in self._model.datenstand:
            raise ValueError(f"{snapshot} is not a sample snapshot; known: {self.snapshots}")

    def _below(self, ars: str, known: dict[str, _Provider]) -> list[str]:
        land = self.land_ars
        if ars in (BUND_ARS, land):
            below = [a for a in known if a not in (BUND_ARS, land)]
            return ([land] if ars == BUND_ARS else []) + sorted(below)
        if known[ars].kind == "landkreis":
            return sorted(a for a, p in known.items() if p.kreis_ars == ars and a != ars)
        return []

    def _records(self, snapshot: date) -> dict[str, list[Record]]:
        """Own entries per provider ARS at one snapshot, defects applied (built once, cached)."""
        cached = self._cache.get(snapshot)
        if cached is not None:
            return cached
        m = self._model
        t = self.snapshots.index(snapshot)
        ds = m.datenstand[snapshot].isoformat()
        # Per-service and per-provider values once, the entries' states as Python lists: the
        # loop builds one dict per record and nothing else (a large Land has 180,000).
        services = [
            (
                s["leika_key"],
                s["leika_name"],
                s["leika_bezeichnung"] or None,
                int(s["ozgid"]),
                s["ozg_bezeichnung"],
            )
            for s in m.services
        ]
        providers = [
            (p.ars, p.name, *((m.land, m.land_name) if p.ars != BUND_ARS else ("00", "Bund")))
            for p in m.providers
        ]
        rows = np.flatnonzero(m.present[:, t])
        by_entry: dict[int, Record] = {}
        entry_ars: dict[int, str] = {}  # the provider's ARS (a defect may alter the record's)
        for e, s_idx, p_idx, url_ok, status_ok, art in zip(
            rows.tolist(),
            m.e_service[rows].tolist(),
            m.e_provider[rows].tolist(),
            m.url_ok[rows, t].tolist(),
            m.status_ok[rows, t].tolist(),
            m.art[rows, t].tolist(),
            strict=True,
        ):
            key, name, bezeichnung, ozgid, ozg_bezeichnung = services[s_idx]
            ars, ars_name, federal_state, bundesland = providers[p_idx]
            entry_ars[e] = ars
            by_entry[e] = {
                "leika_key": key,
                "leika_name": name,
                "ars": ars,
                "ars_name": ars_name,
                "ars_federal_state": federal_state,
                "bundesland": bundesland,
                "leika_bezeichnung": bezeichnung,
                "ozgid": ozgid,
                "ozg_bezeichnung": ozg_bezeichnung,
                "url": m.urls[e] if url_ok else "",
                "online_status": "ok" if status_ok else "nicht ok",
                "aktiv": m.aktiv[e],
                "art_flaechendeckung": _ARTS[art],
                "begruendung_nicht_beruecksichtigt": m.reason[e],
                "export_datum": None,
                "datenstand_pvog_import": ds,
            }
        extra: dict[int, list[Record]] = {}
        for d in (d for d in m.defects if d.snapshot_index == t):
            record = by_entry[d.entry]
            if d.kind == "duplicate_record":
                extra.setdefault(d.entry, []).append(dict(record))
            elif d.repairable:
                record[d.field] = d.value
            else:
                copy = dict(record, **{d.field: d.value})
                if d.kind == "ars_unknown":
                    copy["ars_name"] = None
                extra.setdefault(d.entry, []).append(copy)
        result: dict[str, list[Record]] = {}
        for e, record in by_entry.items():
            ars = entry_ars[e]
            result.setdefault(ars, []).append(record)
            result[ars].extend(extra.get(e, ()))
        for records in result.values():
            records.sort(key=_sort_key)
        # Bounded: a large Land's twelve snapshots would hold millions of dicts. Hessen's
        # twelve (about 543,000 records) stay cached, as before the bound. Locked: the replay
        # answers the ingest's parallel queries from several threads.
        with _RECORD_CACHE_LOCK:
            self._cache[snapshot] = result
            sizes = {t: sum(map(len, by_ars.values())) for t, by_ars in self._cache.items()}
            while len(self._cache) > 1 and sum(sizes.values()) > RECORD_CACHE_LIMIT:
                del sizes[next(iter(self._cache))]
                del self._cache[next(iter(self._cache))]
        return result


_KOMMUNEN_SCHEMA = {
    "ars": pl.String,
    "name": pl.String,
    "kind": pl.String,
    "population": pl.Int64,
    "kreis_ars": pl.String,
    "laggard": pl.Boolean,
    "ikz_verbund": pl.Boolean,
    "ikz_verbund_name": pl.String,
    "digitalisierungsberatung": pl.Boolean,
    "kreis_effect": pl.Float64,
    "unit_factor": pl.Float64,
}


def _kommunen_frame(m: _Units | _Model) -> pl.DataFrame:
    """``SampleUniverse.kommunen`` from the unit-level draws (a whole model is not needed)."""
    by_ars = {p.ars: p for p in m.providers}
    names: dict[int, str] = {}
    for i, p in enumerate(m.providers):
        g = int(m.ikz_group[i])
        if g >= 0 and g not in names:
            names[g] = f"IKZ-Verbund {by_ars[p.kreis_ars].name} (ab {p.name})"
    rows = [
        {
            "ars": p.ars,
            "name": p.name,
            "kind": p.kind,
            "population": p.population,
            "kreis_ars": p.kreis_ars,
            "laggard": bool(m.laggard[i]),
            "ikz_verbund": bool(m.ikz_group[i] >= 0),
            "ikz_verbund_name": names.get(int(m.ikz_group[i])),
            "digitalisierungsberatung": bool(m.beratung[i]),
            "kreis_effect": float(m.kreis_effect[i]),
            "unit_factor": float(m.unit_factor[i]),
        }
        for i, p in enumerate(m.providers)
        if p.kind not in ("bund", "land")
    ]
    return pl.DataFrame(rows, schema=_KOMMUNEN_SCHEMA).sort("ars")


def _merkmale_frame(kommunen: pl.DataFrame) -> pl.DataFrame:
    return kommunen.select(
        "ars",
        "name",
        "ikz_verbund",
        pl.col("ikz_verbund_name").fill_null(""),
        "digitalisierungsberatung",
        pl.lit(True).alias("beispiel"),
    )


# (leika_key, ars, url): strings in every record, defective ones included.
_sort_key = operator.itemgetter("leika_key", "ars", "url")


_EPOCH_ORDINAL = date(1970, 1, 1).toordinal()


def _to_dates(ordinals: np.ndarray) -> pl.Series:
    """Ordinals as a Date series, ``_NEVER`` as null (vectorised: millions of rows nationwide)."""
    days = np.where(ordinals >= _NEVER, np.nan, ordinals - _EPOCH_ORDINAL)
    return pl.Series(days, dtype=pl.Float64, nan_to_null=True).cast(pl.Int32).cast(pl.Date)


UNIVERSE_CACHE_SIZE = 4  # Land universes kept per process (a run goes Land by Land)
_RECORD_CACHE_LOCK = threading.Lock()
# Records a universe keeps cached over its snapshots: Hessen's twelve fit, a large Land's few.
RECORD_CACHE_LIMIT = 600_000


def _new_universe(
    seed: int = DEFAULT_SEED, land: str = HESSEN, land_seed: int | None = None
) -> SampleUniverse:
    model = _build_model(seed, _check_land(land), land_seed)
    return SampleUniverse(seed=seed, snapshots=SAMPLE_SNAPSHOTS, _model=model)


_cached_universe = lru_cache(maxsize=UNIVERSE_CACHE_SIZE)(_new_universe)


def build_universe(
    seed: int = DEFAULT_SEED, land: str = HESSEN, *, land_seed: int | None = None
) -> SampleUniverse:
    """The sample universe of ``land`` (default Hessen) for ``seed``: cached per process (the
    last ``UNIVERSE_CACHE_SIZE``), records materialised lazily per snapshot. ``land_seed``
    seeds the Land's own streams instead of ``seed`` (not for Hessen, whose streams are the
    shared ones); ``build_universe.__wrapped__`` builds a fresh one."""
    return _cached_universe(int(seed), land, land_seed)


build_universe.__wrapped__ = _new_universe  # type: ignore[attr-defined]


def iter_laender(
    seed: int = DEFAULT_SEED,
    lands: Iterable[str] = LAND_CODES,
    *,
    land_seeds: dict[str, int] | None = None,
) -> Iterator[SampleUniverse]:
    """The universes of ``lands`` (default all 16) one after the other, each built fresh
    and not cached: a consumer that drops each before the next holds one Land at a time.
    ``land_seeds`` replaces the seed of some Länder's own streams."""
    for land in lands:
        yield _new_universe(seed, land, (land_seeds or {}).get(land))


def nationwide_kommune_merkmale(
    seed: int = DEFAULT_SEED, lands: Iterable[str] = LAND_CODES
) -> pl.DataFrame:
    """``kommune_merkmale`` of every Land, sorted by ARS, from the unit-level draws only."""
    frames = [_merkmale_frame(_kommunen_frame(_units(seed, land))) for land in lands]
    return pl.concat(frames).sort("ars")


def export_ground_truth(universe: SampleUniverse, path: Path) -> Path:
    """Write ``universe.ground_truth()`` as Parquet to ``path`` and return it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    universe.ground_truth().write_parquet(path)
    return path


def export_kommune_merkmale(source: SampleUniverse | pl.DataFrame, path: Path) -> Path:
    """Write ``source.kommune_merkmale()`` (or a frame of that shape) as the dbt seed CSV
    (``true``/``false``, UTF-8) to ``path`` and return it;
    ``dbt_project/seeds/kommune_merkmale.csv`` is this file for
    ``nationwide_kommune_merkmale()`` of the default seed (a test checks it)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    frame = source if isinstance(source, pl.DataFrame) else source.kommune_merkmale()
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(frame.columns)
        for row in frame.iter_rows():
            writer.writerow([("true" if v else "false") if isinstance(v, bool) else v for v in row])
    return path
