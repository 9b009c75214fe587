"""The measure kinds: one module `<tipo>.py` (its declaration, `KIND = Kind(...)`) beside its query `<tipo>.sql`.

`KINDS` (tipo -> Kind) is read from this folder: every module whose name does not start with `_`.
The catalog's checks (`indicators.definitions`), the engine, disclosure control (count columns,
complement rule) and the indicator sheet all read these declarations; there is no other list.
Shared pieces: `_declare.py` (Kind and the parameter types), `_compute.py` (Context, running a query),
`_macros.sql`, `_population.sql`, `_staff_fte.sql`. How to add a kind: indicators/README.md.
"""

from __future__ import annotations

import importlib
import pkgutil
from dataclasses import replace
from pathlib import Path

from indicators.kinds._compute import Context
from indicators.kinds._declare import Kind


def discover(package: str, folder: Path) -> dict[str, Kind]:
    """The kinds declared in `folder` (the package `package`): module name -> its KIND, named after the module."""
    found: dict[str, Kind] = {}
    for mod in sorted(pkgutil.iter_modules([str(folder)]), key=lambda m: m.name):
        if mod.name.startswith("_"):
            continue
        kind = getattr(importlib.import_module(f"{package}.{mod.name}"), "KIND", None)
        if not isinstance(kind, Kind):
            raise TypeError(f"{folder / mod.name}.py: manca la dichiarazione KIND = Kind(...)")
        found[mod.name] = replace(kind, name=mod.name)
    return found


KINDS: dict[str, Kind] = discover(__name__, Path(__file__).resolve().parent)


def reference_table() -> str:
    """The Markdown table of the kinds for indicators/README.md (a test checks that the README has it)."""
    lines = [
        "| tipo | parametri (`?` = facoltativo) | numeratore / denominatore | conteggi di persone | complemento |",
        "|---|---|---|---|---|",
    ]
    for name, k in KINDS.items():
        complement = {True: "sì", False: "no (attivabile)", None: "—"}[k.complement]
        counts = ", ".join(k.counts) or "—"
        lines.append(f"| `{name}` | {k.params_doc() or '(nessuno)'} | {k.reads} | {counts} | {complement} |")
    return "\n".join(lines)


__all__ = ["KINDS", "Context", "Kind", "discover", "reference_table"]
