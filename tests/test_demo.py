"""The synthetic demo generator: determinism, volumes, plausibility, and the deliberate mistakes.

The files are re-read here independently of the loader (with the project's
normalisation helpers), so the expectations do not depend on the loader.
"""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import numpy as np
import polars as pl
import pytest
import shapely

from core import settings, territory
from core.normalize import comune_key, header_key, parse_date_expr, parse_decimal_expr
from demo import generate as demo
from etl.codice_fiscale import CF_PATTERN, check_character, derive_expr

SEED = 42
CATALOGUE = pl.read_csv(settings.INTERVENTI_FILE)
CONTRACT_COLUMNS = [
    "id_prestazione",
    "codice_fiscale",
    "comune_residenza",
    "intervento",
    "data_richiesta",
    "data_inizio",
    "data_fine",
    "ore",
    "importo_euro",
    "esito",
    "id_nucleo",
]
REQUIRED = ["id_prestazione", "codice_fiscale", "comune_residenza", "intervento", "data_inizio"]


# --- reading the files back ---------------------------------------------------------


def read_raw(out_dir: Path, name: str) -> pl.DataFrame:
    """A prestazioni file as text, contract column names, `riga` = line number (header = 1)."""
    path = out_dir / name
    if path.suffix == ".csv":
        df = pl.read_csv(path, separator=";", infer_schema=False)
    else:
        df = pl.read_excel(path, infer_schema_length=0)
    by_key = {header_key(c): c for c in CONTRACT_COLUMNS + ["fonte"]}
    df = df.rename({c: by_key[header_key(c)] for c in df.columns})
    blank = [pl.when(pl.col(c).str.strip_chars() == "").then(None).otherwise(pl.col(c)).alias(c) for c in df.columns]
    return df.with_columns(blank).with_row_index("riga", offset=2).with_columns(pl.col("riga").cast(pl.Int64))


def comune_lookup() -> dict[str, str]:
    com = territory.comuni()
    return dict(zip(com["chiave"], com["comune"], strict=True))


def parsed(raw: pl.DataFrame) -> pl.DataFrame:
    """Typed columns beside the text: dates, numbers, ISTAT code of the comune (null outside the ambito)."""
    keys = comune_lookup()
    codes = set(keys.values())

    def to_code(value: str | None) -> str | None:
        if value is None:
            return None
        if value.isdigit():
            return f"{int(value):06d}" if f"{int(value):06d}" in codes else None
        return keys.get(comune_key(value))

    sesso, nato, real = derive_expr(pl.col("codice_fiscale"), demo.DEMO_CUTOFF.year)
    return raw.with_columns(
        parse_date_expr(pl.col("data_richiesta")).alias("d_richiesta"),
        parse_date_expr(pl.col("data_inizio")).alias("d_inizio"),
        parse_date_expr(pl.col("data_fine")).alias("d_fine"),
        parse_decimal_expr(pl.col("ore")).alias("n_ore"),
        parse_decimal_expr(pl.col("importo_euro")).alias("n_importo"),
        pl.col("comune_residenza").map_elements(to_code, return_dtype=pl.String).alias("comune"),
        sesso.alias("sesso"),
        nato.alias("nato"),
        real.alias("nascita_reale"),
    )


def faults(df: pl.DataFrame) -> pl.DataFrame:
    """Every rule of the data contract a row can break, as boolean columns (an independent validator)."""
    cf = pl.col("codice_fiscale")
    well_formed = cf.str.contains(CF_PATTERN).fill_null(False)
    check_ok = cf.map_elements(lambda v: len(v) == 16 and check_character(v[:15]) == v[15], return_dtype=pl.Boolean)
    return df.with_columns(
        (pl.any_horizontal(pl.col(c).is_null() for c in REQUIRED)).alias("f_mancante"),
        (cf.is_not_null() & ~well_formed).alias("f_cf_formato"),
        (well_formed & ~pl.when(well_formed).then(check_ok).otherwise(True)).alias("f_cf_controllo"),
        (pl.col("comune_residenza").is_not_null() & pl.col("comune").is_null()).alias("f_comune"),
        (pl.col("intervento").is_not_null() & ~pl.col("intervento").is_in(CATALOGUE["intervento"].to_list())).alias(
            "f_intervento"
        ),
        (pl.col("data_inizio").is_not_null() & pl.col("d_inizio").is_null()).alias("f_data"),
        (pl.col("d_fine") < pl.col("d_inizio")).fill_null(False).alias("f_fine"),
        (pl.col("d_richiesta") > pl.col("d_inizio")).fill_null(False).alias("f_richiesta"),
        ((pl.col("n_ore") < 0).fill_null(False) | (pl.col("n_importo") < 0).fill_null(False)).alias("f_negativo"),
        (pl.col("id_prestazione").is_duplicated() & (pl.int_range(pl.len()).over("id_prestazione") > 0)).alias(
            "f_duplicato"
        ),
    ).with_columns(pl.any_horizontal(pl.col("^f_.*$")).alias("bad"))


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("demo_small")
    demo.generate_demo_files(out, seed=SEED, scale=0.1)
    return out


@pytest.fixture(scope="module")
def medium(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("demo_medium")
    demo.generate_demo_files(out, seed=SEED, scale=0.3)
    return out


def verdicts(out_dir: Path) -> pl.DataFrame:
    """Both prestazioni files, parsed, with the validator's verdict and the expected rejection (`tipo`)."""
    frames = []
    for name in (demo.PRESTAZIONI_CSV, demo.PRESTAZIONI_SIL):
        df = faults(parsed(read_raw(out_dir, name)))
        frames.append(df.with_columns(pl.lit(name).alias("file")).drop("fonte", strict=False))
    rows = pl.concat(frames, how="vertical")
    expected = pl.DataFrame(demo.expected_rejections(out_dir)).select("file", "riga", "tipo")
    return rows.join(expected, on=["file", "riga"], how="left")


@pytest.fixture(scope="module")
def small_rows(small: Path) -> pl.DataFrame:
    return verdicts(small)


def good(rows: pl.DataFrame) -> pl.DataFrame:
    return rows.filter(pl.col("tipo").is_null())


# --- determinism and volumes --------------------------------------------------------


def test_same_seed_gives_identical_bytes_and_another_seed_does_not(tmp_path: Path) -> None:
    first = demo.generate_demo_files(tmp_path / "a", seed=7, scale=0.1)
    second = demo.generate_demo_files(tmp_path / "b", seed=7, scale=0.1)
    other = demo.generate_demo_files(tmp_path / "c", seed=8, scale=0.1)
    assert [p.name for p in first] == [
        demo.PRESTAZIONI_CSV,
        demo.PRESTAZIONI_SIL,
        demo.OPERATORI_CSV,
        demo.SEDI_CSV,
        demo.ACCESSI_CSV,
    ]
    for a, b in zip(first, second, strict=True):
        assert a.read_bytes() == b.read_bytes(), a.name
    expected = demo.EXPECTED_REJECTIONS_FILE
    assert (tmp_path / "a" / expected).read_bytes() == (tmp_path / "b" / expected).read_bytes()
    assert first[0].read_bytes() != other[0].read_bytes()
    assert first[1].read_bytes() != other[1].read_bytes()


def test_scale_multiplies_the_rows(small: Path, medium: Path) -> None:
    for name in (demo.PRESTAZIONI_CSV, demo.PRESTAZIONI_SIL):
        n_small, n_medium = read_raw(small, name).height, read_raw(medium, name).height
        assert 2.4 < n_medium / n_small < 3.6, (name, n_small, n_medium)
    total = sum(read_raw(small, n).height for n in (demo.PRESTAZIONI_CSV, demo.PRESTAZIONI_SIL))
    assert 6_000 <= total <= 14_000  # 80k-120k rows at scale 1


def test_every_catalogue_code_and_every_year_is_present(small_rows: pl.DataFrame) -> None:
    rows = good(small_rows)
    assert set(rows["intervento"]) == set(CATALOGUE["intervento"])
    areas = dict(zip(CATALOGUE["intervento"], CATALOGUE["area"], strict=True))
    sil = rows.filter(pl.col("file") == demo.PRESTAZIONI_SIL)
    assert {areas[c] for c in sil["intervento"]} == {"lavoro"}
    assert "lavoro" not in {areas[c] for c in rows.filter(pl.col("file") == demo.PRESTAZIONI_CSV)["intervento"]}
    assert rows["d_inizio"].max() <= demo.DEMO_CUTOFF
    # Every record is active in the extraction window (from 2023 to the cutoff).
    assert rows.filter(pl.col("d_fine") < date(2023, 1, 1)).height == 0
    started = rows["d_inizio"].dt.year().value_counts().sort("d_inizio")
    assert set(range(2023, demo.DEMO_CUTOFF.year + 1)) <= set(started["d_inizio"])
    assert started.filter(pl.col("d_inizio") < 2023)["count"].sum() < 0.05 * rows.height


# --- persons ------------------------------------------------------------------------


def test_good_rows_have_valid_codici_fiscali_consistent_with_the_age_rules(small_rows: pl.DataFrame) -> None:
    rows = good(small_rows)
    cfs = rows["codice_fiscale"].to_list()
    assert all(re.match(CF_PATTERN, cf) and check_character(cf[:15]) == cf[15] for cf in cfs)
    assert rows["nascita_reale"].all()
    # Synthetic by construction: a vowel then a consonant other than X never starts a real surname code.
    assert all(cf[0] in "AEIOU" and cf[1] not in "AEIOUX" for cf in cfs)
    rows = rows.with_columns((pl.col("d_inizio").dt.year() - pl.col("nato")).alias("eta"))
    for code, (lo, hi) in demo.AGE_RULES.items():
        ages = rows.filter(pl.col("intervento") == code)["eta"]
        assert ages.len() > 0, code
        assert ages.min() >= lo, (code, ages.min())
        assert hi is None or ages.max() <= hi, (code, ages.max())
    b2 = rows.filter(pl.col("intervento") == "B2_FNA")
    assert b2.filter(pl.col("eta") >= 75).height > 0.7 * b2.height  # mostly 75+
    assert set(rows["sesso"]) == {"M", "F"}


def test_persons_keep_their_comune_and_households_group_persons(small_rows: pl.DataFrame) -> None:
    rows = good(small_rows)
    per_person = rows.group_by("codice_fiscale").agg(pl.col("comune").n_unique().alias("n"), pl.len().alias("k"))
    assert per_person["n"].max() == 1
    assert per_person["k"].max() >= 6  # SAD: monthly records, many for one person
    nuclei = rows.filter(pl.col("id_nucleo").is_not_null())
    assert set(nuclei["intervento"].unique()) <= set(
        CATALOGUE.filter(pl.col("area").is_in(["poverta", "casa", "famiglia"]))["intervento"]
    )
    members = nuclei.group_by("id_nucleo").agg(pl.col("codice_fiscale").n_unique().alias("n"))
    assert members.filter(pl.col("n") >= 2).height > 10
    # A household lives in one comune.
    assert nuclei.group_by("id_nucleo").agg(pl.col("comune").n_unique())["comune"].max() == 1


def test_volumes_follow_the_population(small_rows: pl.DataFrame) -> None:
    rows = good(small_rows)
    com = territory.comuni()
    residents = territory.population(com["comune"].to_list()).group_by("comune").agg(pl.col("residenti").sum())
    largest = residents.sort("residenti", descending=True)["comune"][0]
    counts = rows.group_by("comune").len().sort("len", descending=True)
    assert set(counts["comune"]) == set(com["comune"])
    assert counts["comune"][0] == largest
    joined = counts.join(residents, on="comune")
    small_half = joined.filter(pl.col("residenti") < joined["residenti"].median())["len"].sum()
    big_half = joined.filter(pl.col("residenti") >= joined["residenti"].median())["len"].sum()
    assert big_half > 3 * small_half
    # The comune is written as an ISTAT code mostly, by name sometimes (also in capitals).
    written = rows["comune_residenza"]
    assert written.str.contains(r"^\d{6}$").mean() > 0.7
    assert written.str.contains(r"[a-z]").sum() > 0
    assert written.str.contains(r"^[A-Z' -]+$").sum() > 0


def test_services_look_plausible(small_rows: pl.DataFrame, medium: Path) -> None:
    rows = good(small_rows)
    sad = rows.filter(pl.col("intervento") == "SAD")
    assert sad["n_ore"].min() >= 4 and sad["n_ore"].max() <= 40
    assert rows.filter(pl.col("intervento") == "ADM")["n_ore"].is_not_null().all()
    for code in ("CONTRIBUTO_ECONOMICO", "SOSTEGNO_AFFITTO", "MOROSITA_INCOLPEVOLE", "EMERGENZA_ABITATIVA"):
        assert rows.filter(pl.col("intervento") == code)["n_importo"].min() > 0, code
    casa = rows.filter(pl.col("intervento").is_in(["MOROSITA_INCOLPEVOLE", "SOSTEGNO_AFFITTO", "EMERGENZA_ABITATIVA"]))
    assert casa["id_nucleo"].is_not_null().all()

    tir = rows.filter((pl.col("intervento") == "TIROCINIO") & pl.col("d_fine").is_not_null())
    share = (tir["esito"] == "ASSUNZIONE").mean()
    assert 0.2 <= share <= 0.4, share
    assert set(tir["esito"]) == {"ASSUNZIONE", "CONCLUSO", "INTERROTTO"}
    ongoing = rows.filter((pl.col("intervento") == "TIROCINIO") & pl.col("d_fine").is_null())
    assert ongoing.height > 0 and set(ongoing["esito"]) == {"IN_CORSO"}
    months = (tir["d_fine"] - tir["d_inizio"]).dt.total_days() / 30.44
    assert 4.5 < months.mean() < 7.5

    # ADI: request before the first meeting, most within 120 days, a tail beyond, improving in the pilots.
    adi = parsed(read_raw(medium, demo.PRESTAZIONI_CSV)).filter(
        (pl.col("intervento") == "ADI_VALUTAZIONE")
        & pl.col("d_richiesta").is_not_null()
        & pl.col("comune").is_not_null()
    )
    adi = adi.filter(pl.col("d_richiesta") <= pl.col("d_inizio")).with_columns(
        ((pl.col("d_inizio") - pl.col("d_richiesta")).dt.total_days() <= 120).alias("entro"),
        pl.col("d_inizio").dt.year().alias("anno"),
    )
    assert 0.6 < adi["entro"].mean() < 0.95
    pilots = territory.sub_ambiti_file().filter(pl.col("pilota"))["comune"].to_list()
    assert pilots, "the shipped sub-ambiti have pilots"
    in_pilots = adi.filter(pl.col("comune").is_in(pilots))
    by_year = dict(in_pilots.group_by("anno").agg(pl.col("entro").mean()).iter_rows())
    assert by_year[2026] > by_year[2024] + 0.05, by_year

    # Patto after the valutazione for the same household.
    patti = rows.filter(pl.col("intervento") == "ADI_PATTO")
    valutati = set(rows.filter(pl.col("intervento") == "ADI_VALUTAZIONE")["id_nucleo"])
    assert patti["id_nucleo"].is_in(list(valutati)).mean() > 0.9


# --- the deliberate mistakes --------------------------------------------------------

CHECKS = {
    "cf_carattere_controllo": "f_cf_controllo",
    "cf_formato": "f_cf_formato",
    "comune_fuori_ambito": "f_comune",
    "intervento_sconosciuto": "f_intervento",
    "data_fine_prima_inizio": "f_fine",
    "data_richiesta_dopo_inizio": "f_richiesta",
    "valore_negativo": "f_negativo",
    "data_impossibile": "f_data",
    "valore_mancante": "f_mancante",
    "id_duplicato": "f_duplicato",
}


def test_expected_rejections_are_exactly_the_malformed_rows(small: Path, small_rows: pl.DataFrame) -> None:
    listed = demo.expected_rejections(small)
    assert listed
    assert set(CHECKS) == set(demo.BAD_ROW_KINDS)
    assert {r["tipo"] for r in listed if r["file"] == demo.PRESTAZIONI_CSV} == set(demo.BAD_ROW_KINDS)
    assert any(r["file"] == demo.PRESTAZIONI_SIL for r in listed)
    assert len({(r["file"], r["riga"]) for r in listed}) == len(listed)
    share = len(listed) / small_rows.height
    assert 0.003 < share < 0.02, share
    # The independent validator flags exactly the listed rows ...
    flagged = set(small_rows.filter(pl.col("bad")).select("file", "riga").iter_rows())
    assert flagged == {(r["file"], r["riga"]) for r in listed}
    # ... and each for the stated reason only (one mistake per row).
    for r in listed:
        row = small_rows.filter((pl.col("file") == r["file"]) & (pl.col("riga") == r["riga"])).row(0, named=True)
        broken = {k for k, f in CHECKS.items() if row[f]}
        assert broken == {r["tipo"]}, (r, broken)


def test_each_listed_row_is_malformed_as_stated(small: Path) -> None:
    outside = set(territory.italy_municipalities()["comune"]) - set(territory.comuni()["comune"])
    raws = {name: read_raw(small, name) for name in (demo.PRESTAZIONI_CSV, demo.PRESTAZIONI_SIL)}
    for r in demo.expected_rejections(small):
        raw = raws[r["file"]]
        row = raw.row(r["riga"] - 2, named=True)
        assert row["riga"] == r["riga"]
        value = row[r["campo"]]
        kind = r["tipo"]
        if kind == "cf_carattere_controllo":
            assert re.match(CF_PATTERN, value) and check_character(value[:15]) != value[15]
        elif kind == "cf_formato":
            assert not re.match(CF_PATTERN, value)
        elif kind == "comune_fuori_ambito":
            assert value == r["valore"] and value in outside
        elif kind == "intervento_sconosciuto":
            assert value not in set(CATALOGUE["intervento"])
        elif kind in ("data_fine_prima_inizio", "data_richiesta_dopo_inizio"):
            check = pl.DataFrame({"a": [row["data_inizio"]], "b": [value]}).select(
                parse_date_expr(pl.col("a")).alias("a"), parse_date_expr(pl.col("b")).alias("b")
            )
            a, b = check.row(0)
            assert a is not None and b is not None
            assert (b < a) if kind == "data_fine_prima_inizio" else (b > a)
        elif kind == "valore_negativo":
            assert pl.DataFrame({"v": [value]}).select(parse_decimal_expr(pl.col("v")).alias("v"))["v"][0] < 0
        elif kind == "data_impossibile":
            assert re.match(r"^\d{2}/\d{2}/\d{4}$|^\d{4}-\d{2}-\d{2}$", value)
            assert pl.DataFrame({"v": [value]}).select(parse_date_expr(pl.col("v")).alias("v"))["v"][0] is None
        elif kind == "valore_mancante":
            assert value is None and r["campo"] in REQUIRED
        elif kind == "id_duplicato":
            original = raw.row(r["riga_originale"] - 2, named=True)
            assert r["riga_originale"] < r["riga"]
            assert original["id_prestazione"] == value
            assert original["codice_fiscale"] != row["codice_fiscale"] or original["data_inizio"] != row["data_inizio"]
        else:
            pytest.fail(f"unknown kind {kind}")


# --- staff and access points --------------------------------------------------------


def test_operatori_follow_the_contract_and_the_ratio_differs_between_sub_ambiti(small: Path) -> None:
    ops = pl.read_csv(small / demo.OPERATORI_CSV, try_parse_dates=True)
    assert ops.columns == ["id_operatore", "profilo", "sub_ambito", "fte", "contratto", "data_inizio", "data_fine"]
    assert ops["id_operatore"].is_unique().all()
    assert ops["fte"].min() >= 0.5 and ops["fte"].max() <= 1
    assert set(ops["profilo"]) >= {"ASSISTENTE_SOCIALE", "EDUCATORE", "PSICOLOGO", "AMMINISTRATIVO"}
    assert (ops["contratto"] == "INDETERMINATO").mean() > 0.6 and (ops["contratto"] == "DETERMINATO").sum() > 0
    assert ops.filter(pl.col("data_fine") < pl.col("data_inizio")).height == 0
    sub = territory.sub_ambiti_file()
    assert set(ops["sub_ambito"]) == set(sub["sub_ambito"])
    residents = (
        territory.population(sub["comune"].to_list())
        .join(sub, on="comune")
        .group_by("sub_ambito")
        .agg(pl.col("residenti").sum())
    )

    def ratio(day: date) -> dict[str, float]:
        fte = (
            ops.filter(
                (pl.col("profilo") == "ASSISTENTE_SOCIALE")
                & (pl.col("contratto") == "INDETERMINATO")
                & (pl.col("data_inizio") <= day)
                & (pl.col("data_fine").is_null() | (pl.col("data_fine") >= day))
            )
            .group_by("sub_ambito")
            .agg(pl.col("fte").sum())
        )
        joined = residents.join(fte, on="sub_ambito").with_columns((pl.col("residenti") / pl.col("fte")).alias("r"))
        return dict(joined.select("sub_ambito", "r").iter_rows())

    r2024 = ratio(date(2024, 12, 31))
    assert min(r2024.values()) < 5000 < max(r2024.values()), r2024
    now = ratio(demo.DEMO_CUTOFF)
    for sa in sub.filter(pl.col("pilota"))["sub_ambito"].unique():
        assert now[sa] < r2024[sa] and now[sa] < 5000, (sa, r2024[sa], now[sa])


def test_sedi_hub_in_capofila_spokes_in_larger_comuni_inside_their_comune(small: Path) -> None:
    sedi = pl.read_csv(small / demo.SEDI_CSV, schema_overrides={"comune": pl.String})
    assert sedi.columns == ["id_sede", "nome", "tipo", "comune", "indirizzo", "lat", "lon", "sub_ambito"]
    com = territory.comuni()
    capofila = com.filter(pl.col("chiave") == comune_key(settings.ambito_info()["capofila"]))["comune"][0]
    hub = sedi.filter(pl.col("tipo") == "HUB")
    assert hub.height == 1 and hub["comune"][0] == capofila
    sub = territory.sub_ambiti_file()
    spokes = sedi.filter(pl.col("tipo") == "SPOKE").group_by("sub_ambito").len()
    assert set(spokes["sub_ambito"]) == set(sub["sub_ambito"])
    assert spokes["len"].min() >= 2 and spokes["len"].max() <= 4
    assert sedi.join(sub, on="comune").filter(pl.col("sub_ambito") != pl.col("sub_ambito_right")).height == 0
    geo = territory.geometries(sedi["comune"].unique().to_list())
    for row in sedi.iter_rows(named=True):
        assert shapely.contains_xy(geo.geometry.loc[row["comune"]], row["lon"], row["lat"]), row
        assert re.match(r"^(Via|Piazza) .+ \d+$", row["indirizzo"])
    # Spokes are in the larger comuni of their sub-ambito.
    residents = territory.population(com["comune"].to_list()).group_by("comune").agg(pl.col("residenti").sum())
    ranked = sub.join(residents, on="comune").with_columns(
        pl.col("residenti").rank("ordinal", descending=True).over("sub_ambito").alias("rango")
    )
    ranks = sedi.filter(pl.col("tipo") == "SPOKE").join(ranked, on="comune")["rango"]
    assert ranks.max() <= 4


def test_rejects_bad_arguments(tmp_path: Path) -> None:
    with pytest.raises(ValueError):
        demo.generate_demo_files(tmp_path, scale=0)
    with pytest.raises(ValueError):
        demo.generate_demo_files(tmp_path, cutoff=date(2022, 6, 30))
    assert not any(tmp_path.iterdir())


def test_check_tables_match_check_character() -> None:
    rng = np.random.Generator(np.random.PCG64(1))
    birth = rng.integers(-20000, 20000, 500)
    female = rng.random(500) < 0.5
    place = np.array(["D142"] * 500, dtype="S4").view(np.uint8).reshape(-1, 4)
    for cf in demo._codici_fiscali(rng, birth, female, place).to_list():
        assert check_character(cf[:15]) == cf[15]


def test_another_ambito_works_from_its_files_alone(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """No comune is hard-coded: a small ambito of another province is just another folder of files."""
    italy = territory.italy_municipalities()
    own = set(territory.comuni()["comune"])
    province = italy.filter(~pl.col("comune").is_in(list(own)))["sigla_provincia"].sort()[0]
    chosen = italy.filter(pl.col("sigla_provincia") == province).sort("comune").head(8)
    folder = tmp_path / "ambito"
    folder.mkdir()
    capofila = chosen["nome"][3]
    (folder / "ambito.toml").write_text(f'nome = "Ambito di prova"\nnome_breve = "Prova"\ncapofila = "{capofila}"\n')
    chosen.select("comune", "nome").write_csv(folder / "comuni.csv")
    chosen.select("comune").with_columns(
        pl.when(pl.int_range(pl.len()) < 4).then(pl.lit("A")).otherwise(pl.lit("B")).alias("sub_ambito"),
        pl.lit("Zona").alias("nome_sub_ambito"),
        pl.when(pl.int_range(pl.len()) < 4).then(pl.lit("true")).otherwise(pl.lit("false")).alias("pilota"),
        pl.when(pl.int_range(pl.len()) < 4).then(pl.lit("2025-06-01")).otherwise(pl.lit("")).alias("data_avvio_pilota"),
        pl.lit("true").alias("provvisorio"),
    ).write_csv(folder / "sub_ambiti.csv")
    monkeypatch.setenv("PDZ_AMBITO_DIR", str(folder))

    out = tmp_path / "out"
    demo.generate_demo_files(out, seed=3, scale=1.0)
    rows = good(verdicts(out))
    assert rows.filter(pl.col("bad")).is_empty()
    codes = set(chosen["comune"])
    assert set(rows["comune"]) == codes
    belfiore = set(chosen["cod_catastale"])
    places = {cf[11:15] for cf in rows["codice_fiscale"]}
    own_places = set(territory.italy_municipalities().filter(pl.col("comune").is_in(list(own)))["cod_catastale"])
    assert places & belfiore and not places & own_places
    sedi = pl.read_csv(out / demo.SEDI_CSV, schema_overrides={"comune": pl.String})
    hub = sedi.filter(pl.col("tipo") == "HUB")
    assert hub["comune"].to_list() == chosen.filter(pl.col("nome") == capofila)["comune"].to_list()
    assert set(sedi["sub_ambito"]) == {"A", "B"}
    ops = pl.read_csv(out / demo.OPERATORI_CSV)
    assert set(ops["sub_ambito"]) == {"A", "B"}


def test_demo_pilot_can_be_evaluated_and_its_synthetic_effect_starts_at_the_start() -> None:
    """The shipped pilot starts leave a complete year after the start before the demo's cutoff (so
    `python -m indicators evaluate` has something to measure), and the planted improvement is 0 before
    each pilot's start and full one year later (no effect leaks into the "before" years)."""
    from indicators.evaluation import pilot_design

    design = pilot_design(territory.sub_ambiti_file())
    assert design.pilots and design.first_after_year <= demo.DEMO_CUTOFF.year - 1
    assert design.last_before_year >= demo.WINDOW_START.year + 1  # two complete years before
    gen = demo._Generator(SEED, 0.1, demo.DEMO_CUTOFF)
    for i, start in enumerate(gen.sa_start):
        sa = np.array([i, i, i])
        days = np.array([start - 1, start + 182, start + 365])
        progress = gen.progress(sa, days)
        if gen.sa_pilot[i]:
            assert progress.tolist() == pytest.approx([0.0, 182 / 365, 1.0])
        else:
            assert progress.max() <= 0.2
