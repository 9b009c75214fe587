"""The territory is data: the Cremasco files, and another ambito by files only."""

from __future__ import annotations

import csv

import duckdb

from core import territory
from etl.loader import load_files
from tests.conftest import PRESTAZIONI_HEADER, prestazione, write_csv

CONTRACT_CODES = {
    "019002",
    "019005",
    "019010",
    "019011",
    "019012",
    "019015",
    "019017",
    "019018",
    "019019",
    "019020",
    "019024",
    "019025",
    "019029",
    "019034",
    "019035",
    "019037",
    "019039",
    "019041",
    "019043",
    "019047",
    "019049",
    "019054",
    "019055",
    "019058",
    "019059",
    "019060",
    "019062",
    "019066",
    "019067",
    "019072",
    "019073",
    "019078",
    "019079",
    "019080",
    "019081",
    "019082",
    "019084",
    "019086",
    "019087",
    "019094",
    "019097",
    "019102",
    "019104",
    "019105",
    "019109",
    "019110",
    "019111",
    "019112",
}


def test_the_48_comuni_of_the_contract():
    c = territory.comuni()
    assert set(c["comune"]) == CONTRACT_CODES and c.height == 48


def test_sub_ambiti_cover_every_comune_once_six_groups_contiguous_and_provisional():
    sub = territory.sub_ambiti_file()
    assert sorted(sub["comune"]) == sorted(CONTRACT_CODES)
    assert sub["sub_ambito"].n_unique() == 6
    assert sub["provvisorio"].all()
    geo = territory.geometries(sorted(CONTRACT_CODES)).to_crs(32632)
    for code, group in sub.group_by("sub_ambito"):
        members = group["comune"].to_list()
        seen, todo = {members[0]}, [members[0]]
        while todo:  # walk the adjacency graph of the group's comuni
            here = geo.loc[todo.pop()].geometry.buffer(5)
            for other in members:
                if other not in seen and here.intersects(geo.loc[other].geometry):
                    seen.add(other)
                    todo.append(other)
        assert seen == set(members), f"sub-ambito {code} is not contiguous"


def test_population_is_istat_by_age_and_sex():
    pop = territory.population(["019035"])
    assert set(pop["sesso"]) == {"M", "F"} and pop["eta"].min() == 0 and pop["eta"].max() == 100
    assert 30_000 < pop["residenti"].sum() < 40_000  # Crema has about 33,800 residents


def test_another_ambito_works_by_changing_data_files_only(tmp_path, db_path, monkeypatch):
    folder = tmp_path / "ambito_milano_sud"
    folder.mkdir()
    (folder / "ambito.toml").write_text(
        'nome = "Ambito di prova"\ncapofila = "Rozzano"\nanno_baseline = 2024\nanni_piano = [2025, 2026, 2027]\n'
    )
    with open(folder / "comuni.csv", "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerows([["comune", "nome"], ["015189", "Rozzano"], ["015146", "Milano"]])
    with open(folder / "sub_ambiti.csv", "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerows(
            [
                ["comune", "sub_ambito", "nome_sub_ambito", "pilota", "data_avvio_pilota", "provvisorio"],
                ["015189", "S1", "Sud", "false", "", "true"],
                ["015146", "S2", "Città", "true", "2025-01-01", "false"],
            ]
        )
    monkeypatch.setenv("PDZ_AMBITO_DIR", str(folder))
    f = write_csv(
        tmp_path / "p.csv",
        PRESTAZIONI_HEADER,
        [prestazione("1", comune="Milano"), prestazione("2", comune="Crema"), prestazione("3", comune="15189")],
    )
    [res] = load_files([f], db=db_path)
    assert (res.rows_loaded, res.rows_rejected) == (2, 1)
    con = duckdb.connect(str(db_path), read_only=True)
    assert con.execute("SELECT count(*) FROM comuni").fetchall() == [(2,)]
    assert con.execute("SELECT motivo FROM scarti").fetchall() == [("comune non appartenente all'ambito",)]
    con.close()


def test_uploaded_sub_ambiti_replace_the_provisional_table_only_when_complete(tmp_path, db_path):
    sub = territory.sub_ambiti_file()
    partial = write_csv(
        tmp_path / "sub.csv",
        ["comune", "sub_ambito", "nome_sub_ambito"],
        [[c, "X1", "Uno"] for c in sub["comune"].to_list()[:10]],
    )
    [res] = load_files([partial], table="sub_ambiti", db=db_path)
    assert res.status == "failed" and "mancano" in res.error
    full = write_csv(
        tmp_path / "sub2.csv",
        ["comune", "sub_ambito", "nome_sub_ambito", "pilota"],
        [
            [c, "X1" if i % 2 else "X2", "Uno" if i % 2 else "Due", "sì" if i % 2 else "no"]
            for i, c in enumerate(sub["comune"].to_list())
        ],
    )
    [res] = load_files([full], table="sub_ambiti", db=db_path)
    assert (res.status, res.rows_loaded) == ("loaded", 48)
    con = duckdb.connect(str(db_path), read_only=True)
    got = con.execute("SELECT sub_ambito, count(*), bool_or(provvisorio) FROM sub_ambiti GROUP BY 1 ORDER BY 1")
    assert got.fetchall() == [("X1", 24, False), ("X2", 24, False)]
    con.close()
