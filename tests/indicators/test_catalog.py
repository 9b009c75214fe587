"""The catalog is complete: every entry is documented, tested and (in the demo) has a target."""

from __future__ import annotations

import copy
import importlib
import pkgutil
from pathlib import Path

import polars as pl
import pytest
import yaml

from indicators import definitions, engine
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


# --- strict catalog: unknown, misplaced and mistyped keys ---------------------------------


def _entry(area: str, indicator_id: str) -> dict:
    doc = yaml.safe_load((definitions.CATALOG_DIR / f"{area}.yaml").read_text(encoding="utf-8"))
    return copy.deepcopy(next(e for e in doc["indicatori"] if e["id"] == indicator_id))


RATIO = ("poverta", "poverta_adi_patti_per_valutazione")  # units_ratio
RATE = ("anziani", "anziani_sad_copertura_65")  # distinct_units_rate
SHARE = ("lavoro", "lavoro_tirocini_assunzione")  # record_share
STAFF = ("organizzazione", "org_residenti_per_as")  # staff_ratio


def _with(where: tuple[str, str], change) -> tuple[dict, str]:
    raw = _entry(*where)
    change(raw)
    return raw, where[0]


def _rejects(raw: dict, area: str, key: str, *words: str) -> str:
    with pytest.raises(CatalogError) as info:
        parse_entry(raw, area, area)
    message = str(info.value)
    assert f"catalogo {area}.yaml" in message and f"indicatore {raw['id']}" in message, message
    assert f"'{key}'" in message, message
    for w in words:
        assert w in message, message
    return message


def test_a_parameter_on_one_side_of_a_ratio_that_the_kind_does_not_accept_is_rejected():
    """The issue's case: eta_min on one side of a units_ratio used to be ignored (100% everywhere)."""
    raw, area = _with(RATIO, lambda r: r["misura"]["numeratore"].update(eta_min=85))
    _rejects(raw, area, "misura.numeratore.eta_min", "units_ratio", "ammette solo interventi, evento")


def test_a_parameter_at_the_wrong_place_says_where_it_goes():
    raw, area = _with(RATIO, lambda r: r["misura"].update(interventi=["ADI_PATTO"]))
    _rejects(raw, area, "misura.interventi", "«misura.numeratore» o «misura.denominatore»")
    raw, area = _with(RATE, lambda r: r["misura"]["popolazione"].update(evento="attivo"))
    _rejects(raw, area, "misura.popolazione.evento", "va messo in «misura»")


def test_a_parameter_of_another_kind_is_rejected():
    raw, area = _with(SHARE, lambda r: r["misura"].update(eta_min=18))
    _rejects(raw, area, "misura.eta_min", "record_share")
    raw, area = _with(STAFF, lambda r: r["misura"].update(moltiplicatore=100))
    _rejects(raw, area, "misura.moltiplicatore", "staff_ratio")


def test_unknown_keys_of_the_entry_and_of_the_formula_are_rejected():
    raw, area = _with(RATE, lambda r: r.update(k_minmo=3))
    _rejects(raw, area, "k_minmo", "chiave sconosciuta")
    raw, area = _with(RATE, lambda r: r["formula"].update(nota="x"))
    _rejects(raw, area, "formula.nota", "chiave sconosciuta")


def test_missing_required_parameters_are_named_with_their_path():
    raw, area = _with(RATIO, lambda r: r["misura"]["denominatore"].pop("evento"))
    _rejects(raw, area, "misura.denominatore.evento", "manca", "attivo/inizio/fine")


@pytest.mark.parametrize(
    "where,change,key",
    [
        (RATE, lambda r: r["misura"].update(eta_min="65"), "misura.eta_min"),
        (RATE, lambda r: r["misura"].update(eta_min=True), "misura.eta_min"),
        (RATE, lambda r: r["misura"].update(moltiplicatore="cento"), "misura.moltiplicatore"),
        (RATE, lambda r: r["misura"].update(evento="sempre"), "misura.evento"),
        (RATE, lambda r: r["misura"].update(unita_conteggio="famiglia"), "misura.unita_conteggio"),
        (RATE, lambda r: r["misura"].update(popolazione=[65]), "misura.popolazione"),
        (RATE, lambda r: r["misura"]["popolazione"].update(eta_min=-1), "misura.popolazione.eta_min"),
        (RATIO, lambda r: r["misura"].update(numeratore="ADI_PATTO"), "misura.numeratore"),
        (RATIO, lambda r: r["misura"]["numeratore"].update(interventi="ADI_PATTO"), "misura.numeratore.interventi"),
        (SHARE, lambda r: r["misura"].update(richiede_data_richiesta="sì"), "misura.richiede_data_richiesta"),
        (SHARE, lambda r: r["misura"].update(esito="ASSUNTO"), "misura.esito"),
        (STAFF, lambda r: r["misura"].update(profili="EDUCATORE"), "misura.profili"),
        (RATE, lambda r: r.update(k_minimo=True), "k_minimo"),
        (RATE, lambda r: r.update(minori="no"), "minori"),
        (RATE, lambda r: r.update(conteggio_persone="sì"), "conteggio_persone"),
        (RATE, lambda r: r.update(unita=100), "unita"),
        (RATE, lambda r: r.update(livelli="comune"), "livelli"),
        (SHARE, lambda r: r.update(complemento="sì"), "complemento"),
    ],
)
def test_values_of_the_wrong_type_are_rejected(where, change, key):
    raw, area = _with(where, change)
    _rejects(raw, area, key)


def test_unknown_keys_of_an_area_file_are_rejected(tmp_path):
    for area in definitions.AREAS:
        (tmp_path / f"{area}.yaml").write_bytes((definitions.CATALOG_DIR / f"{area}.yaml").read_bytes())
    assert len(definitions.load_catalog(tmp_path)) == len(catalog())
    with open(tmp_path / "casa.yaml", "a", encoding="utf-8") as fh:
        fh.write("nome_aera: Casa\n")
    with pytest.raises(CatalogError, match=r"catalogo casa\.yaml: chiave sconosciuta 'nome_aera'"):
        definitions.load_catalog(tmp_path)


# --- the complement rule: the kind's default, or the indicator's `complemento` --------------


def test_the_complement_rule_defaults_to_the_kind_and_can_be_set_per_indicator():
    entries = {e.id: e for e in catalog()}
    assert entries["lavoro_tirocini_assunzione"].complemento is True  # record_share: yes by default
    assert entries["poverta_adi_patti_per_valutazione"].complemento is False  # units_ratio: no by default
    assert entries["org_residenti_per_as"].complemento is False  # counts no persons
    raw, area = _with(RATIO, lambda r: r.update(complemento=True))
    assert parse_entry(raw, area, area).complemento is True
    raw, area = _with(SHARE, lambda r: r.update(complemento=False))
    assert parse_entry(raw, area, area).complemento is False


def test_the_complement_rule_is_refused_where_it_means_nothing():
    raw, area = _with(("poverta", "poverta_adi_giorni_attesa"), lambda r: r.update(complemento=True))
    _rejects(raw, area, "complemento", "median_days")
    raw, area = _with(STAFF, lambda r: r.update(complemento=True))
    _rejects(raw, area, "complemento", "conteggio_persone")


def test_disclosure_reads_the_indicator_complement(monkeypatch):
    """A units_ratio of households with `complemento: true`: 10 valuated, 8 with a patto -> 2 left out, hidden."""
    from indicators.disclosure import suppress_small_cells

    raw, area = _with(RATIO, lambda r: r.update(complemento=True))
    entry = parse_entry(raw, area, area)
    row = {
        "indicatore": entry.id,
        "area": area,
        "livello": "ambito",
        "territorio": "AMBITO",
        "anno": 2025,
        "numeratore": 8.0,
        "denominatore": 10.0,
        "valore": 80.0,
        "parziale": False,
        "soppresso": False,
    }
    values = pl.DataFrame([row], schema={**engine.SCHEMA})
    monkeypatch.setattr(definitions, "by_id", lambda: {entry.id: entry})
    assert suppress_small_cells(values, {entry.id: 3}, {})["soppresso"].to_list() == [True]
    default = parse_entry(_entry(*RATIO), area, area)
    monkeypatch.setattr(definitions, "by_id", lambda: {default.id: default})
    assert suppress_small_cells(values, {default.id: 3}, {})["soppresso"].to_list() == [False]
