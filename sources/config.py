"""Runtime configuration read from environment variables.

Every knob the pipeline has is listed here with its default, so the README's
configuration table and the code cannot drift apart (``tests/unit/test_config.py``
checks that every variable below is documented).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from sources.identifiers import validate_ars, validate_land

Mode = Literal["sample", "live"]

# name -> (default, description). Order is the order of the README table.
ENVIRONMENT: dict[str, tuple[str, str]] = {
    "OZG_MODE": ("sample", "`sample` (embedded data, no network) or `live` (public APIs)"),
    "OZG_DATA_DIR": ("./data", "root of all runtime output (raw landing, Dagster home, …)"),
    "OZG_LAND": (
        "06",
        "Länder a run covers: one two-digit code (06 = Hessen), a comma-separated list "
        "(`05,06`) or `all` (the 16 Länder); the embedded sample covers all 16",
    ),
    "OZG_DASHBOARD_URL": (
        "https://api.ozg-umsetzung.de/api/public/v1/dash",
        "base URL of the Dashboard Digitale Verwaltung open-data API: a base URL ending in "
        "`/public/v1/dash` is host B (OZG Data Hub, open-pvog paths), any other host A "
        "(bund.dev spec paths, e.g. `https://dashboard-daten.digitale-verwaltung.de/api`)",
    ),
    "OZG_DASHBOARD_ENDPOINT": (
        "export",
        "`export`: one CSV file per ARS (host B `open-pvog/{ars}/export`, the only endpoint "
        "verified live; host A `v1/data/{ars}?filetype=csv`, unverified), a 413 falls back "
        "to paging; `paged`: the Spring-page JSON (unverified on both hosts)",
    ),
    "OZG_PVOG_URL": (
        "https://pvog.fitko.net/suchdienst/api",
        "base URL of the PVOG Suchdienst API",
    ),
    "OZG_PVOG_CLIENT_ID": ("", "optional `pvog-sud-api-client-id` header value issued by FITKO"),
    "OZG_PVOG_ARS": (
        "",
        "comma-separated ARS for which the PVOG CSV is pulled; empty = Bund only in sample mode, "
        "Bund + Land (+ the six pilots for Hessen) in live mode",
    ),
    "OZG_FIM_URL": ("https://fimportal.de", "base URL of the FIM Portal API"),
    "OZG_FIM_PATH": (
        "/api/v0/leistung-steckbriefe",
        "path of the FIM Leistungssteckbriefe list under `OZG_FIM_URL` "
        "(`/api/v1/leistung-steckbriefe` answers as well)",
    ),
    "OZG_DESTATIS_URL": (
        "https://www.destatis.de",
        "base URL from which the GV100AD zip is downloaded",
    ),
    "OZG_GV100AD_EDITION": (
        "",
        "GV100AD edition (Gebietsstand) to use, `YYYY-MM-DD`; empty = the annual edition "
        "31.12. of the year before the snapshot; another date than 31.12. selects the "
        "quarterly archive `GV100ADQ` (unverified)",
    ),
    "OZG_PAGE_SIZE": ("200", "page size requested from paged APIs (Dashboard `size`, FIM `limit`)"),
    "OZG_HTTP_CONNECT_TIMEOUT": ("10", "seconds to establish a connection"),
    "OZG_HTTP_READ_TIMEOUT": ("60", "seconds to wait for response bytes"),
    "OZG_HTTP_DEADLINE": ("300", "total seconds one request may take, retries included"),
    "OZG_HTTP_MAX_ATTEMPTS": ("5", "attempts per request (1 = no retries)"),
    "OZG_HTTP_MIN_INTERVAL": ("0.25", "politeness: minimum seconds between requests to one host"),
    "OZG_HTTP_CONCURRENCY": ("4", "parallel requests per source (bounded thread pool)"),
    "OZG_HTTP_MAX_BYTES": (
        "268435456",
        "bytes one response may have (256 MiB), on the wire and after decompression "
        "(Content-Encoding, zip members); a larger one fails and is not retried",
    ),
    "OZG_HTTP_REDIRECT_HOSTS": (
        "",
        "comma-separated further hosts (`host` or `host:port`) a redirect may lead to; "
        "otherwise redirects stay on the requested host, and never go from https to http",
    ),
    "OZG_ABOVE_PULLS": (
        "pilots",
        "which ARS are also pulled with `includeAbove=true` (the citizen view as the API sees "
        "it): `pilots`, `all` or `none`",
    ),
    "OZG_SAMPLE_SEED": ("20251201", "seed of the synthetic sample generator"),
    "OZG_ALERT_WEBHOOK": ("", "URL that receives a JSON failure record when a Dagster run fails"),
    "OZG_PUBLISH_POSTGRES_DSN": (
        "",
        "libpq connection string or URI (`postgresql://user:password@host:5432/db`) of a "
        "PostgreSQL database; set, every publication also replaces the marts in the schema "
        "`OZG_PUBLISH_POSTGRES_SCHEMA` atomically (docs/bi-postgres.md); a secret",
    ),
    "OZG_PUBLISH_POSTGRES_SCHEMA": (
        "ozg_marts",
        "schema the PostgreSQL publication replaces on every publication (lower-case name, "
        "at most 40 characters; not `public`)",
    ),
    "OZG_PUBLISH_POSTGRES_READER": (
        "ozg_leser",
        "read-only role granted USAGE on that schema and SELECT on every mart (created "
        "NOLOGIN if missing; BI logins are made members of it)",
    ),
    "OZG_RUN_LOCK_TIMEOUT": (
        "3600",
        "seconds an `ozg run` waits for another run on the same data directory "
        "(0 = refuse at once)",
    ),
    "OZG_DEV_HOST": (
        "127.0.0.1",
        "address the Dagster UI of `make dev` binds to; another address than 127.0.0.1 "
        "exposes the UI (which can launch runs) to the network",
    ),
}

# Variables whose values are secrets: never written to manifests, logs, metadata or
# error messages (``redact``).
SECRET_VARIABLES = ("OZG_PVOG_CLIENT_ID", "OZG_ALERT_WEBHOOK", "OZG_PUBLISH_POSTGRES_DSN")
REDACTED = "[redacted]"

# Sources whose pulls depend on the Land (its ARS); the others are nationwide.
LAND_SPECIFIC_SOURCES = frozenset({"dashboard", "pvog"})

USER_AGENT = "ozg-verfuegbarkeit/0.1 (+open-source ETL for the BMDS-Hessen pilot; python-requests)"

# The six pilot Kommunen of the BMDS–Hessen pilot (GV100AD 30.11.2025).
PILOT_ARS: dict[str, str] = {
    "064140000000": "Wiesbaden",
    "066110000000": "Kassel",
    "064360005005": "Hattersheim am Main",
    "065310007007": "Heuchelheim a. d. Lahn",
    "064390000000": "Rheingau-Taunus-Kreis",
    "064400000000": "Wetteraukreis",
}
BUND_ARS = "000000000000"
SAMPLE_LAND = "06"  # the Land of `make run`; the embedded sample covers all 16 Länder

LAENDER: dict[str, str] = {
    "01": "Schleswig-Holstein",
    "02": "Hamburg",
    "03": "Niedersachsen",
    "04": "Bremen",
    "05": "Nordrhein-Westfalen",
    "06": "Hessen",
    "07": "Rheinland-Pfalz",
    "08": "Baden-Württemberg",
    "09": "Bayern",
    "10": "Saarland",
    "11": "Berlin",
    "12": "Brandenburg",
    "13": "Mecklenburg-Vorpommern",
    "14": "Sachsen",
    "15": "Sachsen-Anhalt",
    "16": "Thüringen",
}


def env(name: str) -> str:
    """Value of a documented variable, falling back to its documented default."""
    if name not in ENVIRONMENT:
        raise KeyError(f"undocumented configuration variable {name}")
    value = os.environ.get(name, "")
    return value if value.strip() else ENVIRONMENT[name][0]


def redact(text: str, secrets: tuple[str, ...] = ()) -> str:
    """``text`` without the values of ``SECRET_VARIABLES`` (as set now) and ``secrets``.

    Of a URL-valued secret (the alert webhook) its user info, path and query are replaced
    on their own too: an error of ``requests`` names the path without the host."""
    values = [os.environ.get(name, "").strip() for name in SECRET_VARIABLES]
    pieces: set[str] = set()
    for value in (*values, *(s.strip() for s in secrets)):
        if len(value) < 4:  # unset, or too short to be a secret (and to replace safely)
            continue
        pieces.add(value)
        parts = urlsplit(value)
        if parts.scheme and parts.netloc:
            path_and_query = parts.path + (f"?{parts.query}" if parts.query else "")
            url_parts = (parts.path, parts.query, path_and_query, parts.username, parts.password)
            # A piece as short as "/api" is no token, and replacing it would mangle other URLs.
            pieces |= {part for part in url_parts if part and len(part) >= 8}
    for piece in sorted(pieces, key=len, reverse=True):  # longest first
        text = text.replace(piece, REDACTED)
    return text


def url_origin(url: str) -> str:
    """``scheme://host[:port]`` of ``url``: what may be shown of a secret URL."""
    parts = urlsplit(url)
    try:
        port = parts.port
    except ValueError:  # not a number: not shown
        port = None
    return f"{parts.scheme or '?'}://{parts.hostname or '?'}" + (f":{port}" if port else "")


def land_ars(land: str) -> str:
    return f"{land}{'0' * 10}"


def parse_lands(value: str) -> tuple[str, ...]:
    """``06``, ``05,06`` or ``all`` → the Land codes in order, each checked."""
    if value.strip().lower() == "all":
        return tuple(LAENDER)
    codes = tuple(dict.fromkeys(code.strip() for code in value.split(",") if code.strip()))
    unknown = [code for code in codes if code not in LAENDER]
    if not codes or unknown:
        raise ValueError(
            f"Land must be a two-digit code 01–16, a comma-separated list or 'all', not {value!r}"
        )
    return codes


def fim_path(value: str) -> str:
    """``OZG_FIM_PATH``: an absolute path, kept without a trailing slash."""
    path = "/" + value.strip().strip("/")
    if path == "/":
        raise ValueError("OZG_FIM_PATH must be a path such as /api/v0/leistung-steckbriefe")
    return path


def gv100ad_edition(value: str) -> date | None:
    """``OZG_GV100AD_EDITION``: ``YYYY-MM-DD`` or empty (the annual edition before the snapshot)."""
    if not value.strip():
        return None
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        raise ValueError(
            f"OZG_GV100AD_EDITION must be a date YYYY-MM-DD (e.g. 2025-12-31) or empty, "
            f"not {value!r}"
        ) from None


def max_bytes(value: str) -> int:
    """``OZG_HTTP_MAX_BYTES``: a positive number of bytes."""
    try:
        limit = int(value.strip().replace("_", ""))
    except ValueError:
        limit = 0
    if limit <= 0:
        raise ValueError(
            f"OZG_HTTP_MAX_BYTES must be a positive number of bytes (e.g. 268435456), not {value!r}"
        )
    return limit


def redirect_hosts(value: str) -> tuple[str, ...]:
    """``OZG_HTTP_REDIRECT_HOSTS``: ``host`` or ``host:port`` entries, lower-cased."""
    hosts = tuple(h.strip().lower() for h in value.split(",") if h.strip())
    malformed = [h for h in hosts if "/" in h or " " in h]
    if malformed:
        raise ValueError(
            f"OZG_HTTP_REDIRECT_HOSTS lists hosts (`host` or `host:port`), not URLs: "
            f"{', '.join(malformed)}"
        )
    return hosts


def check_sample_scope(mode: str, lands: tuple[str, ...]) -> None:
    """The sample has synthetic Dashboard data for each of the 16 Länder (one universe per
    Land, ``sources/sample/generator.py``): refuse anything else early instead of failing
    later on an empty landing."""
    others = [code for code in lands if code not in LAENDER]
    if mode == "sample" and others:
        raise ValueError(f"sample mode covers the Länder 01–16 only, not {', '.join(others)}")


@dataclass(frozen=True)
class HttpSettings:
    connect_timeout: float = 10.0
    read_timeout: float = 60.0
    deadline: float = 300.0
    max_attempts: int = 5
    min_interval: float = 0.25
    concurrency: int = 4
    backoff_base: float = 0.5
    backoff_max: float = 30.0
    # 256 MiB: the largest real payload is a Land's Dashboard export with all its Kommunen
    # (~10 MB for Hessen's 40 000 rows; a few times that for Bayern), the GV100AD zip
    # inflates to 3.5 MB. The cap is per response and held in memory, times the concurrency.
    max_bytes: int = 256 * 1024 * 1024
    redirect_hosts: tuple[str, ...] = ()  # lower-case `host` or `host:port`
    # An absolute ``time.monotonic()`` after which no request with these settings may run:
    # the overall budget of a caller that makes several requests (the sensor's probe).
    # None: each request is bounded by its own ``deadline`` only.
    until: float | None = None


@dataclass(frozen=True)
class Settings:
    mode: Mode = "sample"
    data_dir: Path = Path("data")
    # The Land one partition is built for; `lands` is the scope a run or schedule covers.
    land: str = "06"
    lands: tuple[str, ...] = ("06",)
    dashboard_url: str = ENVIRONMENT["OZG_DASHBOARD_URL"][0]
    dashboard_endpoint: Literal["export", "paged"] = "export"
    pvog_url: str = ENVIRONMENT["OZG_PVOG_URL"][0]
    pvog_client_id: str = field(default="", repr=False)  # a secret: not in repr()
    pvog_ars: tuple[str, ...] = ()
    fim_url: str = ENVIRONMENT["OZG_FIM_URL"][0]
    fim_path: str = ENVIRONMENT["OZG_FIM_PATH"][0]
    destatis_url: str = ENVIRONMENT["OZG_DESTATIS_URL"][0]
    gv100ad_edition: date | None = None  # None = 31.12. of the year before the snapshot
    page_size: int = 200
    above_pulls: Literal["pilots", "all", "none"] = "pilots"
    sample_seed: int = 20251201
    http: HttpSettings = field(default_factory=HttpSettings)

    @classmethod
    def from_env(cls, **overrides: object) -> Settings:
        mode = env("OZG_MODE")
        if mode not in ("sample", "live"):
            raise ValueError(f"OZG_MODE must be 'sample' or 'live', not {mode!r}")
        above = env("OZG_ABOVE_PULLS")
        if above not in ("pilots", "all", "none"):
            raise ValueError(f"OZG_ABOVE_PULLS must be pilots, all or none, not {above!r}")
        endpoint = env("OZG_DASHBOARD_ENDPOINT").strip()
        if endpoint not in ("export", "paged"):
            raise ValueError(f"OZG_DASHBOARD_ENDPOINT must be export or paged, not {endpoint!r}")
        lands = parse_lands(str(overrides.pop("lands", env("OZG_LAND"))))
        settings = cls(
            mode=mode,  # type: ignore[arg-type]
            # Absolute at once: a later step may run with another working directory
            # (dagster-dbt's metadata queries change it), and "./data" must stay this one.
            data_dir=Path(env("OZG_DATA_DIR")).resolve(),
            land=lands[0],
            lands=lands,
            dashboard_url=env("OZG_DASHBOARD_URL").rstrip("/"),
            dashboard_endpoint=endpoint,  # type: ignore[arg-type]
            pvog_url=env("OZG_PVOG_URL").rstrip("/"),
            pvog_client_id=env("OZG_PVOG_CLIENT_ID").strip(),
            pvog_ars=tuple(
                validate_ars(a.strip(), what="OZG_PVOG_ARS entry")
                for a in env("OZG_PVOG_ARS").split(",")
                if a.strip()
            ),
            fim_url=env("OZG_FIM_URL").rstrip("/"),
            fim_path=fim_path(env("OZG_FIM_PATH")),
            destatis_url=env("OZG_DESTATIS_URL").rstrip("/"),
            gv100ad_edition=gv100ad_edition(env("OZG_GV100AD_EDITION")),
            page_size=int(env("OZG_PAGE_SIZE")),
            above_pulls=above,  # type: ignore[arg-type]
            sample_seed=int(env("OZG_SAMPLE_SEED")),
            http=HttpSettings(
                connect_timeout=float(env("OZG_HTTP_CONNECT_TIMEOUT")),
                read_timeout=float(env("OZG_HTTP_READ_TIMEOUT")),
                deadline=float(env("OZG_HTTP_DEADLINE")),
                max_attempts=int(env("OZG_HTTP_MAX_ATTEMPTS")),
                min_interval=float(env("OZG_HTTP_MIN_INTERVAL")),
                concurrency=int(env("OZG_HTTP_CONCURRENCY")),
                max_bytes=max_bytes(env("OZG_HTTP_MAX_BYTES")),
                redirect_hosts=redirect_hosts(env("OZG_HTTP_REDIRECT_HOSTS")),
            ),
        )
        settings = replace(settings, **overrides) if overrides else settings
        check_sample_scope(settings.mode, settings.lands)
        return settings

    def for_land(self, land: str) -> Settings:
        """These settings for building one Land's partition."""
        validate_land(land)
        check_sample_scope(self.mode, (land,))
        return replace(self, land=land)

    @property
    def land_ars(self) -> str:
        return land_ars(self.land)

    @property
    def raw_dir(self) -> Path:
        return self.data_dir / "raw"

    def raw_root(self, source: str) -> Path:
        """Where ``source`` lands: Land-independent sources (GV100AD, FIM) once per snapshot
        under ``raw/``, Land-specific ones (Dashboard, PVOG) under ``raw/land=<LL>/``."""
        if source in LAND_SPECIFIC_SOURCES:
            return self.raw_dir / f"land={validate_land(self.land)}"
        return self.raw_dir
