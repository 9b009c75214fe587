"""The demo's contacts at the access points (accessi.csv): contract columns, plausible volumes, new users'
first contact before their first intervention, and the pilot sub-ambiti turning to their spokes."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import polars as pl
import pytest

from core import territory
from demo import generate as demo
from etl.codice_fiscale import CF_PATTERN
from etl.schemas import ACCESSI, match_columns
from tests.test_demo import read_raw


@pytest.fixture(scope="module")
def out(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("demo_accessi")
    demo.generate_demo_files(folder, seed=11, scale=0.3)
    return folder


@pytest.fixture(scope="module")
def contacts(out: Path) -> pl.DataFrame:
    raw = pl.read_csv(out / demo.ACCESSI_CSV, infer_schema=False)
    mapping, unknown = match_columns(ACCESSI, raw.columns)
    assert unknown == [] and set(mapping.values()) == {c.name for c in ACCESSI.columns}
    return raw.rename(mapping).with_columns(pl.col("data_accesso").str.to_date("%d/%m/%Y"))


def test_contacts_every_year_from_2024_with_every_esito(contacts: pl.DataFrame) -> None:
    assert contacts["id_accesso"].is_unique().all()
    assert contacts["data_accesso"].min() >= demo.ACCESS_START and contacts["data_accesso"].max() <= demo.DEMO_CUTOFF
    assert set(contacts["data_accesso"].dt.year()) == set(range(2024, demo.DEMO_CUTOFF.year + 1))
    assert set(contacts["esito"]) == {"INFORMAZIONE", "INVIO_SERVIZIO", "PRESA_IN_CARICO"}
    # plausible volume: some tens of contacts per 1,000 residents a year at scale 1
    residents = territory.population(territory.comuni()["comune"].to_list())["residenti"].sum()
    per_year = contacts.filter(pl.col("data_accesso").dt.year() == 2025).height / 0.3
    assert 15 <= per_year / residents * 1000 <= 80, per_year / residents * 1000


def test_codici_fiscali_valid_and_always_given_for_takings_in_charge(contacts: pl.DataFrame) -> None:
    given = contacts.filter(pl.col("codice_fiscale").is_not_null())
    assert given["codice_fiscale"].str.contains(CF_PATTERN).all()
    assert contacts.filter(pl.col("esito") == "PRESA_IN_CARICO")["codice_fiscale"].null_count() == 0
    others = contacts.filter(pl.col("esito") != "PRESA_IN_CARICO")
    assert 0.2 < others["codice_fiscale"].is_not_null().mean() < 0.4  # about ACCESS_CF_SHARE


def test_first_contact_precedes_the_first_intervention_of_the_same_person(out: Path, contacts: pl.DataFrame) -> None:
    records = pl.concat(
        [
            read_raw(out, demo.PRESTAZIONI_CSV).select(
                "codice_fiscale", pl.col("data_inizio").str.to_date("%d/%m/%Y", strict=False).alias("inizio")
            ),
            read_raw(out, demo.PRESTAZIONI_SIL).select(
                "codice_fiscale", pl.col("data_inizio").str.to_date("%Y-%m-%d", strict=False).alias("inizio")
            ),
        ]
    )
    first = records.group_by("codice_fiscale").agg(pl.col("inizio").min())
    linked = contacts.filter(pl.col("esito") == "PRESA_IN_CARICO").join(first, on="codice_fiscale")
    assert linked.height > 0.9 * contacts.filter(pl.col("esito") == "PRESA_IN_CARICO").height
    days = (linked["inizio"] - linked["data_accesso"]).dt.total_days()
    assert days.min() >= 0 and 10 <= days.median() <= 40


def test_pilot_sub_ambiti_turn_from_the_hub_to_their_spokes(out: Path, contacts: pl.DataFrame) -> None:
    sedi = pl.read_csv(out / demo.SEDI_CSV, schema_overrides={"comune": pl.String})
    sub = territory.sub_ambiti_file().select("comune", "sub_ambito", "pilota", "data_avvio_pilota")
    df = contacts.join(sedi.select(pl.col("id_sede"), "tipo"), on="id_sede").join(
        sub, left_on="comune_residenza", right_on="comune"
    )
    assert df.height == contacts.height  # every contact at a sede of the file, from a comune of the ambito
    start = sub.filter(pl.col("pilota"))["data_avvio_pilota"].min()
    hub_share = {
        (pilot, late): grp["tipo"].eq("HUB").mean()
        for (pilot, late), grp in df.group_by(pl.col("pilota"), pl.col("data_accesso") >= date(start.year + 1, 1, 1))
    }
    assert hub_share[(True, True)] < 0.6 * hub_share[(True, False)]  # pilots: fewer contacts at the hub
    assert hub_share[(False, True)] > 0.8 * hub_share[(False, False)]  # the others: about the same
