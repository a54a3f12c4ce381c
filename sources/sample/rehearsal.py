"""The sample as the real APIs are observed to answer: a rehearsal of live mode.

The embedded sample proves the logic against a known truth; this variant of it proves
that live mode survives what the real APIs are reported to return
(``docs/contracts/``), on the same synthetic universe. It differs from the sample in
two ways that real data has and the sample's ground truth must not:

* **Typisierung as on real municipal Leistungen.** Real municipal Leistungen carry FIM
  Typisierung 2/3 or 4, not 5; every item of Typisierung 5 is retyped to ``4`` or
  ``2/3`` (alternating by LeiKa key), so no Leistung resolves through the Typisierung
  default "5 → Gemeinde" and the competence model must infer from the observed offer.
* **Hanau under its new ARS.** Hanau is kreisfrei since 2026-01-01 with ARS
  ``064150000000``. From the 2026 snapshots on, the API keys Hanau's own entries under the
  new ARS, lists the new ARS in its ARS list, and answers the old ARS ``064350014014``
  with no entries — while the embedded Gemeindeverzeichnis (30.11.2025) still knows only
  the old one.

Everything served from here is still synthetic sample data (keine amtlichen Zahlen).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sources.sample.generator import SampleUniverse

HANAU_OLD_ARS = "064350014014"
HANAU_NEW_ARS = "064150000000"
HANAU_NAME = "Hanau, Brüder-Grimm-Stadt"
HANAU_KREISFREI_SINCE = date(2026, 1, 1)
MUNICIPAL_TYPES = ("4", "2/3")


def retyped(typisierung: object, leika_key: str) -> object:
    """Typisierung 5 → 4 or 2/3 (by the key's last significant digit); others unchanged."""
    codes = [typisierung] if isinstance(typisierung, str) else typisierung
    if not isinstance(codes, list) or "5" not in codes:
        return typisierung
    replacement = MUNICIPAL_TYPES[int(leika_key[-4]) % 2]
    new = [replacement if code == "5" else code for code in codes]
    return new if isinstance(typisierung, list) else new[0]


@dataclass(frozen=True)
class RehearsalUniverse:
    """A :class:`SampleUniverse` answering like the real APIs (see the module docstring)."""

    base: SampleUniverse

    @property
    def seed(self) -> int:
        return self.base.seed

    @property
    def snapshots(self) -> tuple[date, ...]:
        return self.base.snapshots

    def hanau_moved(self, snapshot: date) -> bool:
        return snapshot >= HANAU_KREISFREI_SINCE

    def ars_list(self) -> list[dict[str, str]]:
        listed = self.base.ars_list()
        listed.append({"ars": HANAU_NEW_ARS, "arsName": HANAU_NAME})
        return sorted(listed, key=lambda r: r["ars"])

    def dashboard_records(
        self, snapshot: date, ars: str, *, include_above: bool, include_below: bool
    ) -> list[dict[str, object]]:
        if not self.hanau_moved(snapshot):
            return self.base.dashboard_records(
                snapshot, ars, include_above=include_above, include_below=include_below
            )
        if ars == HANAU_OLD_ARS:
            return []
        if ars == HANAU_NEW_ARS:
            records = self.base.dashboard_records(
                snapshot, HANAU_OLD_ARS, include_above=include_above, include_below=False
            )
            return [self._rekeyed(r) for r in records]
        records = self.base.dashboard_records(
            snapshot, ars, include_above=include_above, include_below=include_below
        )
        return [self._rekeyed(r) for r in records]

    @staticmethod
    def _rekeyed(record: dict[str, object]) -> dict[str, object]:
        if record.get("ars") != HANAU_OLD_ARS:
            return record
        return {**record, "ars": HANAU_NEW_ARS, "ars_name": HANAU_NAME}

    def fim_items(self, shape: str = "stammtext") -> list[dict[str, object]]:
        items = []
        for item in self.base.fim_items(shape=shape):  # type: ignore[arg-type]
            keys = item.get("leistungsschluessel")
            key = keys if isinstance(keys, str) else str((keys or ["0000"])[0])
            items.append({**item, "typisierung": retyped(item.get("typisierung"), key)})
        return items
