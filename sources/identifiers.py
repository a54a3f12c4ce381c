"""Identifiers that become part of a file path or of SQL text, validated in one place.

Values from the APIs (ARS, LeiKa keys, the names of landed responses) and from the user
(``--land``, ``--snapshot``, ``--ars``, ``OZG_LAND``, ``OZG_PVOG_ARS``) end up in paths
such as ``raw/land=<LL>/pvog/<snapshot>/servicedescriptions_<ARS>.csv.gz`` or
``reports/steckbrief-<ARS>.html``. Each such value is checked against its exact format
(ASCII digits only: ``str.isdigit`` also accepts ``²`` or ``٣``) before a path is built,
so a hostile value (``../x``, ``06/../../etc``, an absolute path, a NUL byte, 10 000
characters) is refused with a message naming what was expected, before anything is
written.

SQL: data values are always bound parameters (``?`` / ``$name``). Identifiers cannot be
parameters; the few that are not literal code constants (names from the warehouse
catalogue or the dbt manifest) go through ``quote_identifier`` / ``relation`` /
``identifier_list``, which accept plain names only and quote them
(``tests/unit/test_input_safety.py`` fails on SQL that interpolates anything else).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import date

ARS_PATTERN = re.compile(r"[0-9]{12}")
LAND_PATTERN = re.compile(r"0[1-9]|1[0-6]")  # the 16 Länder (sources.config.LAENDER)
LEIKA_PATTERN = re.compile(r"99[0-9]{12}")
SNAPSHOT_PATTERN = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
# One path component: no separator, no leading dot (never "..", never a hidden or
# temporary file), short enough for every filesystem with the ".gz" and temp prefixes.
FILE_NAME_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,149}")
# A plain SQL name (letters, digits, underscore); quoted by the helpers below.
SQL_NAME_PATTERN = re.compile(r"[^\W\d]\w{0,127}")
# dbt's rendered relation_name: two or three double-quoted plain names joined by dots.
DBT_RELATION_PATTERN = re.compile(r'"[^\W\d]\w*"(?:\."[^\W\d]\w*"){1,2}')


class InvalidIdentifier(ValueError):
    """A value that would become part of a path or of SQL text has the wrong format."""


def _shown(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 60 else f"{text[:40]}… ({len(str(value))} characters)"


def _check(value: object, pattern: re.Pattern[str], what: str, expected: str) -> str:
    if not isinstance(value, str) or pattern.fullmatch(value) is None:
        raise InvalidIdentifier(f"{what} must be {expected}, not {_shown(value)}")
    return value


def validate_ars(value: object, *, what: str = "ARS") -> str:
    """A 12-digit Amtlicher Regionalschlüssel (``064140000000``)."""
    return _check(value, ARS_PATTERN, what, "12 digits 0-9")


def is_ars(value: object) -> bool:
    return isinstance(value, str) and ARS_PATTERN.fullmatch(value) is not None


def validate_land(value: object) -> str:
    """A two-digit Land code ``01``–``16``."""
    return _check(value, LAND_PATTERN, "Land", "a two-digit code 01–16")


def validate_leika(value: object) -> str:
    """A 14-digit LeiKa key starting with ``99``."""
    return _check(value, LEIKA_PATTERN, "LeiKa key", "14 digits starting with 99")


def validate_snapshot(value: object) -> str:
    """A snapshot as ``YYYY-MM-DD`` (a ``date`` or its ISO string): the ISO string."""
    if isinstance(value, date):
        return value.isoformat()
    text = _check(value, SNAPSHOT_PATTERN, "snapshot", "a date YYYY-MM-DD")
    try:
        date.fromisoformat(text)
    except ValueError:
        raise InvalidIdentifier(f"snapshot must be a real date YYYY-MM-DD, not {text!r}") from None
    return text


def is_snapshot(value: object) -> bool:
    try:
        validate_snapshot(value)
    except InvalidIdentifier:
        return False
    return True


def validate_file_name(value: object, *, what: str = "file name") -> str:
    """One path component of letters, digits, ``.``, ``_`` and ``-`` (no leading dot)."""
    return _check(
        value,
        FILE_NAME_PATTERN,
        what,
        "one path component of at most 150 characters A-Z a-z 0-9 . _ - (no leading dot)",
    )


# -- SQL identifiers -------------------------------------------------------------------------
def quote_identifier(name: object) -> str:
    """``name`` as a quoted SQL identifier; only plain names (letters, digits, ``_``)."""
    return '"' + _check(name, SQL_NAME_PATTERN, "SQL identifier", "a plain name [A-Za-z_0-9]") + '"'


def relation(*parts: str) -> str:
    """A quoted, dot-joined relation name: ``relation("marts", "x")`` → ``"marts"."x"``."""
    return ".".join(quote_identifier(part) for part in parts)


def identifier_list(names: Iterable[str], *, table: str | None = None) -> str:
    """Comma-separated quoted identifiers, each qualified with ``table`` if given."""
    prefix = f"{quote_identifier(table)}." if table else ""
    quoted = [prefix + quote_identifier(name) for name in names]
    if not quoted:
        raise InvalidIdentifier("an SQL identifier list must not be empty")
    return ", ".join(quoted)


def dbt_relation(relation_name: object) -> str:
    """A relation name as dbt renders it in the manifest (``"db"."schema"."table"``)."""
    return _check(
        relation_name, DBT_RELATION_PATTERN, "dbt relation name", 'quoted plain names "a"."b"."c"'
    )
