"""Seeded generator of the synthetic part of the sample: Dashboard API records and FIM items.

Real inputs are the Destatis GV100AD 30.11.2025 (Hessen: 26 Kreise, 421 inhabited Gemeinden,
4 uninhabited gemeindefreie Gebiete) and the hand-curated synthetic service catalogue
``catalogue.csv`` (394 services, every LeiKa key starts with ``999`` and every OZG-ID lies in
90001–99999, so nothing can be mistaken for a real key). Everything this module emits is
**synthetic**: the figures are not official numbers. The output is a pure function of the seed.

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

   ``m(l, u) = BASE_MEDIAN_LAG_DAYS[vollzug] · s(l) · P(l) · R(l)``
   ``· f_pop(u) · f_type(u) · k(u) · L(u)``

   - ``s(l) = exp(N(0, SERVICE_EFFECT_SIGMA))``: service difficulty;
   - ``P(l) = PLATFORM_FACTOR`` if the service runs on the Land-wide municipal platform
     (civento/ekom21, catalogue ``platform = 1``), else 1;
   - ``R(l) = PRIORITY_FACTOR`` for the priority basket (Bund-funded roll-in teams), else 1;
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
   every inhabited Gemeinde of Hessen has the service online, else ``kreisweit`` if every
   inhabited Gemeinde of its Kreis has, else ``in mind. einer Kommune verfügbar``.
10. **URLs.** One synthetic Onlinedienst per provider and OZG-Leistung, so several LeiKa keys
    share a URL: Bund/Land ``https://onlinedienst.example/{bund|hessen}/ozg-<id>``; platform
    services ``https://<slug>.beispiel-kommune.de/civento/ozg-<id>``; other Kommune services either
    an EfA service ``https://onlinedienst.example/efa/ozg-<id>?ars=<ars>`` (``EFA_SHARE`` of the
    services) or the Kommune's own portal ``https://<slug>.beispiel-kommune.de/onlinedienste/ozg-<id>``.

Parameter values (module constants below; change them only together with this text):
``BASE_MEDIAN_LAG_DAYS`` gemeinde 420, kreis 260; ``LAG_SIGMA`` 0.9; ``SERVICE_EFFECT_SIGMA``
0.45; ``PLATFORM_FACTOR`` 0.55; ``PRIORITY_FACTOR`` 0.5; ``POP_REFERENCE`` 8,083 (median
Gemeinde); ``POP_ELASTICITY`` 0.25; ``POP_FACTOR_RANGE`` 0.35–2.0; ``TYPE_FACTOR`` kreisfreie
Stadt 0.75, Sonderstatusstadt 0.85, Stadt 1.0, Gemeinde 1.15, Landkreis 0.9;
``KREIS_EFFECT_SIGMA`` 0.3; ``LAGGARD_GEMEINDEN`` 13, ``LAGGARD_LANDKREISE`` 1,
``LAGGARD_FACTOR`` 3.0; ``IKZ_GROUPS`` 20, ``IKZ_GROUP_SIZE`` 3–5, ``IKZ_FACTOR`` 0.8;
``P_DIGITALISIERUNGSBERATUNG`` 0.3 (no effect); ``WITHDRAWN_SERVICES`` 4,
``WITHDRAWAL_WINDOW`` 2026-02-15…2026-10-15, ``ENTRY_WITHDRAWAL_RATE`` 0.4 %; ``P_NOT_OK``
1.5 %; ``P_URL_MISSING`` 0.3 %; ``AKTIV_SHARES`` ja 95 %, nein 2.5 %, null 2.5 %;
``P_NOT_CONSIDERED`` 1 %; ``EFA_SHARE`` 50 %; ``DEFECTS_PER_SNAPSHOT`` 3. With the default seed
this gives about 39,000 entries (all ARS, own entries) in the first snapshot and 51,000 in the
last; building the universe takes about 2 s.

API semantics (``SampleUniverse.dashboard_records``): ``include_above`` adds the entries of the
Kreis (if different), the Land and the Bund; ``include_below`` on a Kreis adds its Gemeinden, on
the Land all Kreise and Gemeinden, on the Bund the whole of Hessen. The gemeindefreie Gebiete
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
"""

from __future__ import annotations

import csv
import re
import unicodedata
import zlib
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import cache
from pathlib import Path

import numpy as np
import polars as pl

from sources import dashboard
from sources.sample.files import gv100ad_frame

CATALOGUE_CSV = Path(__file__).parent / "catalogue.csv"

BUND_ARS = "000000000000"
LAND_ARS = "060000000000"
LAND_CODE = "06"
LAND_NAME = "Hessen"

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
LAGGARD_GEMEINDEN = 13
LAGGARD_LANDKREISE = 1
LAGGARD_FACTOR = 3.0
IKZ_GROUPS = 20
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
SONDERSTATUS_POPULATION = (50_000, 100_000)
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
UNKNOWN_ARS = "069990000000"

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


def _rng(seed: int, stream: str) -> np.random.Generator:
    # One independent stream per model component, so tuning one does not reshuffle the others.
    return np.random.default_rng([seed, zlib.crc32(stream.encode())])


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
    """Latent state: providers, services, entries (provider × service) and their snapshot states."""

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
        self.known = {p.ars: p for p in self.providers + self.gemeindefrei}


_ARTS = (ART_BUND, ART_LAND, ART_KREIS, ART_SOME, ART_NOT_CONSIDERED)


def _load_providers() -> tuple[list[_Provider], list[_Provider]]:
    """Bund, Land, Landkreise and inhabited Gemeinden sorted by ARS; plus gemeindefreie Gebiete."""
    frame = gv100ad_frame().filter(pl.col("land") == LAND_CODE)
    kreise = frame.filter(pl.col("satzart") == "40").sort("ars").to_dicts()
    gemeinden = frame.filter(pl.col("satzart") == "60").sort("ars").to_dicts()
    kreis_pop: dict[str, int] = {}
    for row in gemeinden:
        kreis = row["ars"][:5] + "0000000"
        kreis_pop[kreis] = kreis_pop.get(kreis, 0) + (row["bevoelkerung"] or 0)
    rows: list[tuple[str, str, str, int, str]] = []
    for row in kreise:
        if row["textkennzeichen"] == "44":
            rows.append((row["ars"], row["name"], "landkreis", kreis_pop[row["ars"]], row["ars"]))
    gemeindefrei: list[_Provider] = []
    low, high = SONDERSTATUS_POPULATION
    for row in gemeinden:
        pop = row["bevoelkerung"] or 0
        kreis = row["ars"][:5] + "0000000"
        if row["textkennzeichen"] == "61":
            kind, kreis = "kreisfreie_stadt", row["ars"]
        elif low <= pop < high:
            kind = "sonderstatusstadt"
        elif row["textkennzeichen"] == "63":
            kind = "stadt"
        else:
            kind = "gemeinde"
        if pop == 0:
            gemeindefrei.append(_Provider(row["ars"], row["name"], "gemeindefrei", 0, kreis, ""))
            continue
        rows.append((row["ars"], row["name"], kind, pop, kreis))
    rows.sort()
    providers = [
        _Provider(BUND_ARS, "Bund", "bund", 0, BUND_ARS, "bund"),
        _Provider(LAND_ARS, LAND_NAME, "land", sum(kreis_pop.values()), LAND_ARS, "hessen"),
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


def _build_model(seed: int) -> _Model:
    providers, gemeindefrei = _load_providers()
    services = load_catalogue()
    n_s, n_p, n_t = len(services), len(providers), len(SAMPLE_SNAPSHOTS)
    index = {p.ars: i for i, p in enumerate(providers)}
    kinds = np.array([p.kind for p in providers])
    kreis_idx = np.array([index[p.kreis_ars] for p in providers])
    is_gemeinde = np.isin(kinds, ["kreisfreie_stadt", "sonderstatusstadt", "stadt", "gemeinde"])
    is_kreis = np.isin(kinds, ["landkreis", "kreisfreie_stadt"])
    is_sonder = kinds == "sonderstatusstadt"
    i_bund, i_land = index[BUND_ARS], index[LAND_ARS]

    # Datenstand: the PVOG import a few days before each snapshot.
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
    priority = np.isin(names, list(PRIORITY_BASKET.values()))
    platform = np.array([s["platform"] == "1" for s in services])
    sonder = np.array([s["sonderstatus"] == "1" for s in services])
    kfz = np.array([s["service_group"] == "Kfz" for s in services])

    # Go-live class and date per service.
    rng = _rng(seed, "go_live")
    u = rng.random(n_s)
    cum = np.cumsum([share for _, share, _, _ in GO_LIVE_CLASSES])
    klass = np.searchsorted(cum, u, side="right").clip(0, len(GO_LIVE_CLASSES) - 1)
    klass = np.where(priority & (klass == 2), 1, klass)
    go_live = np.zeros(n_s, dtype=np.int64)
    for k, (_, _, start, end) in enumerate(GO_LIVE_CLASSES):
        go_live = np.where(klass == k, _draw_dates(rng, n_s, start, end), go_live)

    # Provider mode per service.
    u = _rng(seed, "mode").random(n_s)
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
    pops = np.array([max(p.population, 1) for p in providers], dtype=float)
    f_pop = np.clip((pops / POP_REFERENCE) ** -POP_ELASTICITY, *POP_FACTOR_RANGE)
    f_type = np.array([TYPE_FACTOR.get(k, 1.0) for k in kinds])
    kreis_effect = np.exp(_rng(seed, "kreis_effect").normal(0.0, KREIS_EFFECT_SIGMA, n_p))
    f_kreis = kreis_effect[kreis_idx]  # a Kreis's effect is drawn at its own index
    rng = _rng(seed, "laggard")
    laggard = np.zeros(n_p, dtype=bool)
    for kind_mask, count in (
        (np.isin(kinds, ["stadt", "gemeinde"]), LAGGARD_GEMEINDEN),
        (kinds == "landkreis", LAGGARD_LANDKREISE),
    ):
        laggard[rng.choice(np.flatnonzero(kind_mask), count, replace=False)] = True
    ikz_group = _draw_ikz(seed, providers, kinds, kreis_idx)
    beratung_draw = _rng(seed, "digitalisierungsberatung").random(n_p)
    beratung = (is_gemeinde | (kinds == "landkreis")) & (beratung_draw < P_DIGITALISIERUNGSBERATUNG)
    # Without I(u) (the model before the IKZ attribute) and with it: the draws of the entries
    # of the first stay as they were (see the docstring).
    f_unit_base = f_pop * f_type * f_kreis * np.where(laggard, LAGGARD_FACTOR, 1.0)
    f_unit = f_unit_base * np.where(ikz_group >= 0, IKZ_FACTOR, 1.0)
    base = np.array([BASE_MEDIAN_LAG_DAYS.get(v, 0.0) for v in vollzug])
    f_service = np.exp(_rng(seed, "service_effect").normal(0.0, SERVICE_EFFECT_SIGMA, n_s))
    f_service *= np.where(platform, PLATFORM_FACTOR, 1.0) * np.where(priority, PRIORITY_FACTOR, 1.0)
    z = _rng(seed, "lag").standard_normal((n_s, n_p))

    # Withdrawals: a few whole services, plus rare single entries (drawn once for both).
    rng = _rng(seed, "withdrawal")
    first_ord = SAMPLE_SNAPSHOTS[0].toordinal()
    candidates = np.flatnonzero(
        ~priority & np.isin(vollzug, ["gemeinde", "kreis"]) & (go_live < first_ord - 180)
    )
    whole = np.full((n_s, n_p), _NEVER, dtype=np.int64)
    for s in rng.choice(candidates, WITHDRAWN_SERVICES, replace=False):
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

    rng, rng_x = _rng(seed, "status"), _rng(seed, "ikz_status")
    status_base = rng.random((n_b, n_t)) >= P_NOT_OK
    url_base = rng.random((n_b, n_t)) >= P_URL_MISSING
    status_ok = per_entry(status_base, rng_x.random((n_x, n_t)) >= P_NOT_OK)
    url_ok = per_entry(url_base, rng_x.random((n_x, n_t)) >= P_URL_MISSING)
    online = present & status_ok & url_ok

    aktiv_values = list(AKTIV_SHARES)
    flag_draws = []
    for rng, n in ((_rng(seed, "flags"), n_b), (_rng(seed, "ikz_flags"), n_x)):
        flag_draws.append(
            (
                rng.choice(len(aktiv_values), n, p=list(AKTIV_SHARES.values())),
                rng.random(n) < P_NOT_CONSIDERED,
                rng.integers(0, len(NOT_CONSIDERED_REASONS), n),
            )
        )
    aktiv_draw, nc_draw, reason_draw = (per_entry(b, x) for b, x in zip(*flag_draws, strict=True))
    aktiv = [aktiv_values[i] for i in aktiv_draw]
    municipal = ~np.isin(e_provider, [i_bund, i_land])
    not_considered = municipal & nc_draw
    reason = [
        NOT_CONSIDERED_REASONS[r] if nc else None
        for r, nc in zip(reason_draw, not_considered, strict=True)
    ]
    b_adopt, b_withdraw = adopt_base[b_service, b_provider], withdraw_base[b_service, b_provider]
    present_base = (b_adopt[:, None] <= ds_ord[None, :]) & (ds_ord[None, :] < b_withdraw[:, None])

    efa = _rng(seed, "solution").random(n_s) < EFA_SHARE
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
        laggard=laggard,
        ikz_group=ikz_group,
        beratung=beratung,
        kreis_effect=f_kreis,
        unit_factor=f_unit,
    )
    # Planned on the entries without I(u), with their draws: the same defects as without it.
    model.defects = _plan_defects(
        seed, model, is_gemeinde, pos, present_base & status_base & url_base, present_base
    )
    return model


def _draw_ikz(
    seed: int, providers: list[_Provider], kinds: np.ndarray, kreis_idx: np.ndarray
) -> np.ndarray:
    """IKZ-Verbund per provider (index of the Verbund, -1 for none): ``IKZ_GROUPS`` Landkreise
    drawn without replacement, in each a run of ``IKZ_GROUP_SIZE`` consecutive kreisangehörige
    Städte and Gemeinden (providers are sorted by ARS, so by Gemeinde key within a Kreis)."""
    rng = _rng(seed, "ikz")
    eligible = np.isin(kinds, ["stadt", "gemeinde"])
    low, high = IKZ_GROUP_SIZE
    kreise = [
        int(k)
        for k in np.flatnonzero(kinds == "landkreis")
        if (eligible & (kreis_idx == k)).sum() >= high
    ]
    group = np.full(len(providers), -1, dtype=np.int64)
    for g, k in enumerate(np.sort(rng.choice(kreise, IKZ_GROUPS, replace=False))):
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


def _plan_defects(
    seed: int,
    model: _Model,
    is_gemeinde: np.ndarray,
    rows: np.ndarray,
    online_base: np.ndarray,
    present_base: np.ndarray,
) -> list[_Defect]:
    """Defects on the entries ``rows`` (the model's entries without the IKZ factor) with
    their states without it (``online_base``, ``present_base``: entry × snapshot)."""
    rng, rng_again = _rng(seed, "defects"), _rng(seed, "ikz_defects")
    on_gemeinde = is_gemeinde[model.e_provider[rows]]
    has_umlaut = np.array([bool(re.search("[äöüÄÖÜ]", s["leika_name"])) for s in model.services])
    present_now = model.present[rows]
    online_now = (model.present & model.status_ok & model.url_ok)[rows]
    defects: list[_Defect] = []
    used: set[int] = set()
    for t in range(len(SAMPLE_SNAPSHOTS)):
        for slot in range(DEFECTS_PER_SNAPSHOT):
            kind, repairable = DEFECT_KINDS[(t * DEFECTS_PER_SNAPSHOT + slot) % len(DEFECT_KINDS)]
            needs_online = kind in ("enum_case", "ars_unknown")
            mask = on_gemeinde & present_base[:, t]
            now = present_now[:, t] & (online_now[:, t] if needs_online else True)
            if needs_online:
                mask &= online_base[:, t]
            if kind == "unicode_nfd":
                mask &= has_umlaut[model.e_service[rows]]
            candidates = np.setdiff1d(np.flatnonzero(mask), list(used))
            entry = int(rng.choice(candidates))
            if not now[entry]:  # an IKZ member's entry, withdrawn earlier with I(u): draw again
                entry = int(rng_again.choice(np.setdiff1d(np.flatnonzero(mask & now), list(used))))
            used.add(entry)
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
            UNKNOWN_ARS,
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
    """The synthetic sample for one seed; see the module docstring for the model."""

    seed: int
    snapshots: tuple[date, ...]
    _model: _Model = field(repr=False, compare=False)
    _cache: dict[date, dict[str, list[Record]]] = field(
        default_factory=dict, repr=False, compare=False
    )

    def datenstand(self, snapshot: date) -> date:
        """PVOG import date behind ``snapshot`` (3–6 days before it)."""
        self._check_snapshot(snapshot)
        return self._model.datenstand[snapshot]

    def ars_list(self) -> list[dict[str, str]]:
        """ArsDto records for Bund, Land, Kreise and all 425 Gemeinde ARS, sorted by ARS."""
        units = self._model.providers + self._model.gemeindefrei
        return sorted(({"ars": p.ars, "arsName": p.name} for p in units), key=lambda r: r["ars"])

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
        if include_above and ars != BUND_ARS:
            above = [LAND_ARS, BUND_ARS] if ars != LAND_ARS else [BUND_ARS]
            wanted += [known[ars].kreis_ars, *above] if ars != LAND_ARS else above
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
        rows_unit: list[int] = []
        rows_service: list[int] = []
        rows_provider: list[int] = []
        rows_level: list[str] = []
        for u, unit in enumerate(m.providers):
            if unit.kind in ("bund", "land"):
                continue
            for s, service in enumerate(m.services):
                vollzug, mode = service["vollzug"], m.mode[s]
                if vollzug not in ("gemeinde", "kreis") or (
                    unit.kind == "landkreis" and vollzug != "kreis"
                ):
                    continue
                if mode in ("land", "bund"):
                    level, provider = mode, index[LAND_ARS if mode == "land" else BUND_ARS]
                elif (
                    unit.kreis_ars == unit.ars
                    or (vollzug == "gemeinde" and mode == "own")
                    or (unit.kind == "sonderstatusstadt" and service["sonderstatus"] == "1")
                ):
                    level, provider = "own", u
                else:
                    level, provider = "kreis", index[unit.kreis_ars]
                rows_unit.append(u)
                rows_service.append(s)
                rows_provider.append(provider)
                rows_level.append(level)
        unit_idx, service_idx = np.array(rows_unit), np.array(rows_service)
        provider_idx = np.array(rows_provider)
        citizen = m.citizen_online[unit_idx, service_idx]
        first = np.where(citizen.any(axis=1), citizen.argmax(axis=1), -1)
        return pl.DataFrame(
            {
                "ars": [m.providers[u].ars for u in rows_unit],
                "leika_key": [m.services[s]["leika_key"] for s in rows_service],
                "vollzug": [m.services[s]["vollzug"] for s in rows_service],
                "provider_level": rows_level,
                "provider_ars": [m.providers[p].ars for p in rows_provider],
                "adoption_date": _to_dates(m.adopt[service_idx, provider_idx]),
                "withdrawal_date": _to_dates(
                    np.where(
                        m.adopt[service_idx, provider_idx] < _NEVER,
                        m.withdraw[service_idx, provider_idx],
                        _NEVER,
                    )
                ),
                "first_online_snapshot": pl.Series(
                    [self.snapshots[i] if i >= 0 else None for i in first.tolist()], dtype=pl.Date
                ),
                "left_censored": first == 0,
                "sample": np.ones(len(rows_unit), dtype=bool),
            }
        ).sort("ars", "leika_key")

    def kommunen(self) -> pl.DataFrame:
        """The unit-level truth of the roll-out model per Kommune (inhabited Gemeinden and
        Landkreise, sorted by ARS): kind, population, laggard flag, IKZ-Verbund,
        Digitalisierungsberatung, the Kreis effect ``k(u)`` and the product of all unit
        factors ``f_pop · f_type · k · L · I``."""
        m = self._model
        names = self._ikz_names()
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
        return pl.DataFrame(rows).sort("ars")

    def kommune_merkmale(self) -> pl.DataFrame:
        """The sample's rows of the dbt seed ``kommune_merkmale.csv``: one row per inhabited
        Gemeinde and Landkreis with the attributes the model used (``beispiel`` = true: they
        describe synthetic Kommunen and apply to sample data only)."""
        return self.kommunen().select(
            "ars",
            "name",
            "ikz_verbund",
            pl.col("ikz_verbund_name").fill_null(""),
            "digitalisierungsberatung",
            pl.lit(True).alias("beispiel"),
        )

    def _ikz_names(self) -> dict[int, str]:
        m = self._model
        by_ars = {p.ars: p for p in m.providers}
        names: dict[int, str] = {}
        for i, p in enumerate(m.providers):
            g = int(m.ikz_group[i])
            if g >= 0 and g not in names:
                names[g] = f"IKZ-Verbund {by_ars[p.kreis_ars].name} (ab {p.name})"
        return names

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
        if ars in (BUND_ARS, LAND_ARS):
            below = [a for a in known if a not in (BUND_ARS, LAND_ARS)]
            return ([LAND_ARS] if ars == BUND_ARS else []) + sorted(below)
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
        by_entry: dict[int, Record] = {}
        for e in np.flatnonzero(m.present[:, t]).tolist():
            s, p = m.services[m.e_service[e]], m.providers[m.e_provider[e]]
            hessen = p.ars != BUND_ARS
            by_entry[e] = {
                "leika_key": s["leika_key"],
                "leika_name": s["leika_name"],
                "ars": p.ars,
                "ars_name": p.name,
                "ars_federal_state": LAND_CODE if hessen else "00",
                "bundesland": LAND_NAME if hessen else "Bund",
                "leika_bezeichnung": s["leika_bezeichnung"] or None,
                "ozgid": int(s["ozgid"]),
                "ozg_bezeichnung": s["ozg_bezeichnung"],
                "url": m.urls[e] if m.url_ok[e, t] else "",
                "online_status": "ok" if m.status_ok[e, t] else "nicht ok",
                "aktiv": m.aktiv[e],
                "art_flaechendeckung": _ARTS[m.art[e, t]],
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
            ars = m.providers[m.e_provider[e]].ars
            result.setdefault(ars, []).append(record)
            result[ars].extend(extra.get(e, ()))
        for records in result.values():
            records.sort(key=_sort_key)
        self._cache[snapshot] = result
        return result


def _sort_key(record: Record) -> tuple[str, str, str]:
    return (str(record["leika_key"]), str(record["ars"]), str(record["url"]))


def _to_dates(ordinals: np.ndarray) -> pl.Series:
    values = [None if o >= _NEVER else date.fromordinal(int(o)) for o in ordinals.tolist()]
    return pl.Series(values, dtype=pl.Date)


@cache
def build_universe(seed: int = DEFAULT_SEED) -> SampleUniverse:
    """The sample universe for ``seed`` (cached; records are materialised lazily per snapshot)."""
    return SampleUniverse(seed=seed, snapshots=SAMPLE_SNAPSHOTS, _model=_build_model(seed))


def export_ground_truth(universe: SampleUniverse, path: Path) -> Path:
    """Write ``universe.ground_truth()`` as Parquet to ``path`` and return it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    universe.ground_truth().write_parquet(path)
    return path


def export_kommune_merkmale(universe: SampleUniverse, path: Path) -> Path:
    """Write ``universe.kommune_merkmale()`` as the dbt seed CSV (``true``/``false``, UTF-8)
    to ``path`` and return it; ``dbt_project/seeds/kommune_merkmale.csv`` is this file for
    the default seed (a test checks it)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    frame = universe.kommune_merkmale()
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(frame.columns)
        for row in frame.iter_rows():
            writer.writerow([("true" if v else "false") if isinstance(v, bool) else v for v in row])
    return path
