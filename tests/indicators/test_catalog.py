"""The catalog is complete: every entry is documented, tested and (in the demo) has a target."""

from __future__ import annotations

import importlib
import pkgutil
from pathlib import Path

import pytest
import yaml

from indicators import definitions
from indicators.api import catalog
from indicators.definitions import CatalogError, parse_entry
from tests.indicators import registry

CORE = {
    "poverta_adi_valutati_120gg": "poverta",
    "casa_nuclei_sostenuti_1000": "casa",
    "anziani_sad_copertura_65": "anziani",
    "giovani_adm_minori_1000": "giovani",
    "famiglia_centro_famiglia_1000": "famiglia",
    "lavoro_tirocini_assunzione": "lavoro",
    "org_residenti_per_as": "organizzazione",
}


def _import_given_modules() -> None:
    folder = Path(__file__).parent
    for mod in pkgutil.iter_modules([str(folder)]):
        if mod.name.startswith("test_given_"):
            importlib.import_module(f"tests.indicators.{mod.name}")


def test_every_entry_is_documented():
    for e in catalog():
        assert e.descrizione.strip(), e.id
        assert e.unita.strip(), e.id
        assert e.direzione in ("alto", "basso"), e.id
        assert e.nome.strip() and e.fonte.strip(), e.id
        assert e.formula_numeratore and e.formula_denominatore, e.id
        assert e.livelli, e.id


def test_every_entry_has_a_given_expect_test():
    _import_given_modules()
    missing = sorted({e.id for e in catalog()} - registry.TESTED)
    assert not missing, f"indicatori senza test given/expect: {missing}"
    unknown = sorted(registry.TESTED - {e.id for e in catalog()})
    assert not unknown, f"test per indicatori che non esistono nel catalogo: {unknown}"


def test_core_set_and_areas():
    entries = {e.id: e for e in catalog()}
    for id_, area in CORE.items():
        assert entries[id_].area == area
    for area in definitions.AREAS:
        assert sum(e.area == area for e in catalog()) >= 3, area
    assert entries["org_residenti_per_as"].livelli == ("sub_ambito", "ambito")
    assert not entries["org_residenti_per_as"].conteggio_persone
    assert entries["anziani_sad_copertura_65"].misura["eta_min"] == 65
    assert entries["giovani_adm_minori_1000"].misura["eta_max"] == 17


def test_k_for_minors_and_settings(monkeypatch):
    entries = {e.id: e for e in catalog()}
    assert entries["giovani_adm_minori_1000"].k == 5 and entries["giovani_adm_minori_1000"].k_minimo == 5
    assert entries["casa_nuclei_sostenuti_1000"].k == 3
    assert entries["org_residenti_per_as"].k == 0  # not suppressed
    monkeypatch.setenv("PDZ_K", "4")
    monkeypatch.setenv("PDZ_K_MINORI", "7")
    assert entries["casa_nuclei_sostenuti_1000"].k == 4  # max(setting 4, k_minimo 3)
    assert entries["giovani_adm_minori_1000"].k == 7
    for e in catalog():
        assert e.k_minimo == (5 if e.minori else 3), e.id


def test_loader_sees_the_catalog_ids():
    from indicators.catalog import indicator_ids

    assert indicator_ids() == [e.id for e in catalog()]


def test_malformed_entries_are_rejected():
    raw = yaml.safe_load((definitions.CATALOG_DIR / "casa.yaml").read_text(encoding="utf-8"))["indicatori"][0]
    parse_entry(raw, "casa", "Casa")  # the real entry is fine
    for broken, message in [
        ({**raw, "descrizione": " "}, "vuoto"),
        ({k: v for k, v in raw.items() if k != "unita"}, "unita"),
        ({**raw, "direzione": "su"}, "direzione"),
        ({**raw, "livelli": ["provincia"]}, "livelli"),
        ({**raw, "misura": {**raw["misura"], "tipo": "boh"}}, "misura.tipo"),
        ({**raw, "misura": {**raw["misura"], "interventi": ["SAD_NOTTURNO"]}}, "SAD_NOTTURNO"),
        ({**raw, "misura": {**raw["misura"], "extra": 1}}, "extra"),
        ({**raw, "soglie": [{"valore": "cinquemila", "nome": "LEPS"}]}, "soglie"),
        ({**raw, "soglie": [{"valore": 5000}]}, "soglie"),
    ]:
        with pytest.raises(CatalogError, match=message):
            parse_entry(broken, "casa", "Casa")
    assert parse_entry({**raw, "soglie": [{"valore": 5000, "nome": "limite LEPS"}]}, "casa", "Casa").soglie == (
        (5000.0, "limite LEPS"),
    )


def _demo_builder():
    for name in ("demo.generate", "demo.build"):
        try:
            mod = importlib.import_module(name)
        except ImportError:
            continue
        if hasattr(mod, "build_demo"):
            return mod.build_demo
    return None


@pytest.mark.slow
def test_every_indicator_has_a_target_in_the_demo(tmp_path, monkeypatch):
    build_demo = _demo_builder()
    if build_demo is None:
        pytest.skip("demo.generate non ha build_demo: il database dimostrativo non si può ancora costruire")
    db = tmp_path / "demo.duckdb"
    monkeypatch.setenv("PDZ_SECRET", str(tmp_path / "secret.key"))
    build_demo(db, seed=7, scale=0.3)
    from core import warehouse

    with warehouse.reader(db) as con:
        with_target = {
            r[0] for r in con.execute("SELECT DISTINCT indicatore FROM obiettivi WHERE tipo = 'TARGET'").fetchall()
        }
    missing = sorted({e.id for e in catalog()} - with_target)
    assert not missing, f"indicatori senza obiettivo nei dati dimostrativi: {missing}"
