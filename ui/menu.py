"""The dashboard's pages and who may open each (app.py builds `st.navigation` from this).

A page a role may not use is left out of its menu; app.py registers it hidden, so that its
URL reaches the page's own guard (`ui/guard.py`), which refuses and stops.
"""

from __future__ import annotations

from dataclasses import dataclass

from core.users import ROLES
from indicators.api import area_names

ALL = tuple(ROLES)
OFFICE = ("ufficio_di_piano",)
WITH_COMUNI = ("ufficio_di_piano", "sindaco")  # the Regione sees the ambito and the sub-ambiti only
DEFAULT = "panoramica"


@dataclass(frozen=True)
class Entry:
    file: str
    title: str
    icon: str
    url_path: str
    roles: tuple[str, ...]


def _area(code: str, icon: str) -> Entry:
    return Entry(f"pages/{code}.py", area_names()[code], icon, code, ALL)


PAGES: dict[str, list[Entry]] = {
    "Piano di Zona": [
        Entry("pages/panoramica.py", "Panoramica", ":material/traffic:", "panoramica", ALL),
        Entry("pages/obiettivi.py", "Obiettivi e indicatori", ":material/flag:", "obiettivi", ALL),
        # every role; the page shows the Regione no comune row (no comune map, table or what-if detail)
        Entry("pages/riorganizzazione.py", "Riorganizzazione", ":material/compare_arrows:", "riorganizzazione", ALL),
        Entry("pages/esporta.py", "Esporta i dati", ":material/download:", "esporta", ALL),
        Entry("pages/assemblea.py", "Assemblea dei Sindaci", ":material/co_present:", "assemblea", ALL),
    ],
    "Obiettivi per area": [
        _area("poverta", ":material/volunteer_activism:"),
        _area("casa", ":material/home:"),
        _area("anziani", ":material/elderly:"),
        _area("giovani", ":material/child_care:"),
        _area("famiglia", ":material/family_restroom:"),
        _area("lavoro", ":material/work:"),
        _area("organizzazione", ":material/hub:"),
    ],
    "Territori": [
        Entry("pages/sub_ambito.py", "Sub-ambito", ":material/map:", "sub_ambito", ALL),
        Entry("pages/comune.py", "Comune", ":material/account_balance:", "comune", WITH_COMUNI),
    ],
    "Ufficio di Piano": [
        Entry("pages/dati.py", "Dati e qualità", ":material/upload_file:", "dati", OFFICE),
        Entry("pages/registro.py", "Registro accessi", ":material/manage_search:", "registro", OFFICE),
    ],
}


def all_entries() -> list[Entry]:
    return [e for entries in PAGES.values() for e in entries]


def menu_for(ruolo: str) -> dict[str, list[Entry]]:
    """The visible menu of a role, by section (an unknown role gets nothing)."""
    out: dict[str, list[Entry]] = {}
    for section, entries in PAGES.items():
        allowed = [e for e in entries if ruolo in e.roles]
        if allowed:
            out[section] = allowed
    return out


def hidden_for(ruolo: str) -> list[Entry]:
    """Pages registered but not shown: their URL opens the page's guard, which refuses."""
    return [e for e in all_entries() if ruolo not in e.roles]
