"""The measure kinds: one declaration beside its query, read by the catalog, the engine, disclosure and the sheet.

`tests/indicators/fixtures/kinds/records_per_person` is a kind written by following the README section
"Aggiungere un tipo di misura"; the tests below register it and check that nothing else had to change.
"""

from __future__ import annotations

import copy
import sys
from pathlib import Path

import pytest
import yaml

from indicators import api, definitions, kinds
from indicators.definitions import CatalogError, parse_entry
from indicators.engine import indicator_values
from tests.indicators.conftest import BAGNOLO, CREMA, DOVERA, add, cell

README = Path(kinds.__file__).resolve().parent.parent / "README.md"
FIXTURE_KINDS = Path(__file__).parent / "fixtures" / "kinds"


def test_every_kind_is_a_declaration_beside_its_query():
    folder = Path(kinds.__file__).parent
    modules = {p.stem for p in folder.glob("*.py") if not p.stem.startswith("_")}
    assert set(kinds.KINDS) == modules
    assert {e.tipo for e in definitions.catalog()} <= modules
    for name, kind in kinds.KINDS.items():
        assert kind.name == name
        assert kind.label and kind.reads, name
        assert set(kind.counts) <= {"numeratore", "denominatore"}, name
    queries = {p.stem for p in folder.glob("*.sql")}
    shared = {
        "staff_ratio": "_staff_fte",
        "staff_fte_rate": "_staff_fte",  # residents and FTE, both ways
        "units_per_fte": "_staff_fte",  # with the persons of distinct_units_rate.sql
        "units_ratio": "distinct_units_rate",  # both sides are counts of distinct units (Kind.units)
        "contact_rate": "_contacts",
        "contact_share": "_contacts",
        "contact_days": "_contacts",
    }
    assert modules - set(shared) <= queries
    assert set(shared.values()) | {"_macros", "distinct_units_rate"} <= queries


def test_readme_lists_every_kind():
    """The README's table of kinds is the one generated from the declarations (paste reference_table())."""
    assert kinds.reference_table() in README.read_text(encoding="utf-8")


def test_the_sheet_reads_the_declaration():
    e = api.indicator("anziani_sad_copertura_65")
    assert api._misura_text(e) == [
        "- Tipo di misura: persone o nuclei distinti ogni N residenti (`distinct_units_rate`)",
        "- Interventi: SAD",
        "- Periodo: interventi attivi nell'anno",
        "- Si contano: persone distinti",
        "- Età al 31 dicembre: da 65 a oltre",
        "- Popolazione di riferimento: residenti da 65 a oltre anni",
        "- Moltiplicatore: 100",
    ]
    share = api.indicator("lavoro_tirocini_assunzione")  # record_share: no multiplier line (it is a percentage)
    assert api._misura_text(share)[0] == "- Tipo di misura: quota percentuale di interventi (`record_share`)"
    assert not any("Moltiplicatore" in line for line in api._misura_text(share))


# --- a new kind, added as the README says -------------------------------------------------


@pytest.fixture
def records_per_person(monkeypatch):
    found = kinds.discover("tests.indicators.fixtures.kinds", FIXTURE_KINDS)
    monkeypatch.setitem(kinds.KINDS, "records_per_person", found["records_per_person"])
    return found["records_per_person"]


def _entry(**misura) -> dict:
    doc = yaml.safe_load((definitions.CATALOG_DIR / "anziani.yaml").read_text(encoding="utf-8"))
    raw = copy.deepcopy(next(e for e in doc["indicatori"] if e["id"] == "anziani_sad_ore_per_utente"))
    raw.update(id="anziani_sad_interventi_per_persona", misura={"tipo": "records_per_person", **misura})
    return raw


def test_a_new_kind_is_computed_checked_disclosed_and_described(records_per_person, con):
    # SAD active in 2025: Crema p1 x2, p2 x1 -> 3 records / 2 persons; Bagnolo p3 x1; Dovera none.
    # SA1: 4 records / 3 persons; SA2: 0 / 0 (no value); AMBITO 4 / 3. ADI records do not count.
    add(con, "p1", "SAD", "2025-01-10")
    add(con, "p1", "SAD", "2025-03-01", "2025-04-01")
    add(con, "p2", "SAD", "2024-05-01")
    add(con, "p3", "SAD", "2025-02-01", comune=BAGNOLO)
    add(con, "p4", "ADI_PATTO", "2025-02-01", comune=DOVERA)
    add(con, "p5", "SAD", "2023-01-01", "2024-12-31")  # ended before 2025
    add(con, "x", "ADI_PATTO", "2025-12-31")  # the date of the data: 2025 complete
    entry = parse_entry(_entry(interventi=["SAD"], evento="attivo"), "anziani", "Anziani")
    assert entry.kind is records_per_person and entry.colonne_conteggio == ("denominatore",)
    assert entry.complemento is False

    table = indicator_values(con, years=[2025], entries=[entry])
    assert (cell(table, entry.id, CREMA)["numeratore"], cell(table, entry.id, CREMA)["denominatore"]) == (3, 2)
    assert cell(table, entry.id, CREMA)["valore"] == pytest.approx(1.5)
    assert cell(table, entry.id, BAGNOLO)["valore"] == 1.0
    assert cell(table, entry.id, "SA1")["valore"] == pytest.approx(4 / 3)
    assert cell(table, entry.id, "SA2")["valore"] is None
    assert cell(table, entry.id, "AMBITO")["valore"] == pytest.approx(4 / 3)

    assert entry.kind.describe(entry.misura) == [
        "- Tipo di misura: interventi per persona (`records_per_person`)",
        "- Interventi: SAD",
        "- Periodo: interventi attivi nell'anno",
    ]
    assert (
        "| `records_per_person` | `interventi` (elenco di codici di intervento), `evento` (attivo/inizio/fine) | "
        "interventi / persone distinte | denominatore | — |" in kinds.reference_table()
    )


def test_a_new_kind_gets_the_strict_checks(records_per_person):
    with pytest.raises(CatalogError, match=r"'misura\.evento' manca"):
        parse_entry(_entry(interventi=["SAD"]), "anziani", "Anziani")
    with pytest.raises(CatalogError, match=r"'misura\.eta_min' non è ammesso qui per il tipo di misura records_per"):
        parse_entry(_entry(interventi=["SAD"], evento="attivo", eta_min=65), "anziani", "Anziani")
    with pytest.raises(CatalogError, match="complemento"):
        parse_entry({**_entry(interventi=["SAD"], evento="attivo"), "complemento": True}, "anziani", "Anziani")


def test_a_module_without_a_declaration_is_refused(tmp_path):
    pkg = tmp_path / "kinds_senza_dichiarazione"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "vuoto.py").write_text("X = 1\n")
    sys.path.insert(0, str(tmp_path))
    try:
        with pytest.raises(TypeError, match=r"vuoto\.py: manca la dichiarazione KIND"):
            kinds.discover("kinds_senza_dichiarazione", pkg)
    finally:
        sys.path.remove(str(tmp_path))
