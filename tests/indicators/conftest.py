"""Fixtures for the indicator tests: a fresh warehouse per test on a tiny literal territory.

The territory (replacing the real one inside the test's own warehouse, so the arithmetic
can be done by hand):

    SA1: 019035 (Crema), 019005 (Bagnolo Cremasco)      SA2: 019002 (Agnadello), 019041 (Dovera)

Residents (latest ISTAT year 2023; a 2022 row with absurd numbers checks that only the latest
year is used), by age:

    comune   | 5   12  16  20  40    70  80 | total | 0-17 | 11-18 | 15-29 | 18-64 | 65+  | 75+
    019035   | 400 100 100 500 2000  600 400 | 4100  | 600  | 200   | 600   | 2500  | 1000 | 400
    019005   | 100  50  50 100  500  150  50 | 1000  | 200  | 100   | 150   | 600   | 200  | 50
    019002   | 200   .   .   .  600  200   . | 1000  | 200  | 0     | 0     | 600   | 200  | 0
    019041   | 100   .   .   .  700    . 200 | 1000  | 100  | 0     | 0     | 700   | 200  | 200
    SA1      |                               | 5100  | 800  | 300   | 750   | 3100  | 1200 | 450
    SA2      |                               | 2000  | 300  | 0     | 0     | 1300  | 400  | 200
    AMBITO   |                               | 7100  | 1100 | 300   | 750   | 4400  | 1600 | 650
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import duckdb
import polars as pl
import pytest

from core import warehouse
from etl import person_keys

CREMA, BAGNOLO, AGNADELLO, DOVERA = "019035", "019005", "019002", "019041"
SUB = {CREMA: "SA1", BAGNOLO: "SA1", AGNADELLO: "SA2", DOVERA: "SA2"}
POPULATION = {
    CREMA: {5: 400, 12: 100, 16: 100, 20: 500, 40: 2000, 70: 600, 80: 400},
    BAGNOLO: {5: 100, 12: 50, 16: 50, 20: 100, 40: 500, 70: 150, 80: 50},
    AGNADELLO: {5: 200, 40: 600, 70: 200},
    DOVERA: {5: 100, 40: 700, 80: 200},
}
END_2025 = date(2025, 12, 31)
_ids = itertools.count(1)


def set_territory(con: duckdb.DuckDBPyConnection) -> None:
    """Replace comuni, sub-ambiti and population with the literal territory above."""
    con.execute("DELETE FROM comuni WHERE comune NOT IN (?, ?, ?, ?)", list(SUB))
    con.execute("DELETE FROM sub_ambiti")
    for comune, sub in SUB.items():
        con.execute(
            "INSERT INTO sub_ambiti VALUES (?, ?, ?, false, NULL, true, NULL)", [comune, sub, f"Sub-ambito {sub}"]
        )
    con.execute("DELETE FROM popolazione")
    for comune, ages in POPULATION.items():
        for eta, n in ages.items():
            con.execute("INSERT INTO popolazione VALUES (?, ?, 'M', ?, 2023)", [comune, eta, n // 2])
            con.execute("INSERT INTO popolazione VALUES (?, ?, 'F', ?, 2023)", [comune, eta, n - n // 2])
        con.execute("INSERT INTO popolazione VALUES (?, 40, 'M', 999999, 2022)", [comune])


@pytest.fixture
def wh_path(tmp_path: Path) -> Path:
    return tmp_path / "w.duckdb"


@pytest.fixture
def con(wh_path: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    """A read-write connection on this test's own warehouse, with the literal territory."""
    with warehouse.writer(wh_path) as c:
        set_territory(c)
        yield c


def add(
    con: duckdb.DuckDBPyConnection,
    persona: str,
    intervento: str,
    inizio: str,
    fine: str | None = None,
    *,
    comune: str = CREMA,
    nascita: int | None = 1950,
    nucleo: str | None = None,
    richiesta: str | None = None,
    ore: float | None = None,
    esito: str | None = None,
) -> None:
    """One service record (prestazioni), area taken from the intervention catalogue. `persona` and `nucleo` are
    labels: stored, as the loader stores codes, as 64-hex-digit pseudonyms (here their SHA-256), and keyed as
    the loader keys records (etl/person_keys.py), so the measures count the keys."""
    con.execute("BEGIN TRANSACTION")
    con.execute(
        """
        INSERT INTO prestazioni (fonte, id_prestazione, persona_id, sesso, anno_nascita, comune, intervento, area,
                                 data_richiesta, data_inizio, data_fine, ore, importo_euro, esito, nucleo_id, batch_id)
        SELECT 'test', ?, sha256(?::VARCHAR), 'M', ?, ?, ?, area, ?::DATE, ?::DATE, ?::DATE, ?, NULL, ?,
               sha256(?::VARCHAR), 'test'
        FROM interventi WHERE intervento = ?
        """,
        [
            str(next(_ids)),
            persona,
            nascita,
            comune,
            intervento,
            richiesta,
            inizio,
            fine,
            ore,
            esito,
            nucleo,
            intervento,
        ],
    )
    person_keys.prepare(con)  # the keys of a record written by hand
    con.execute("COMMIT")
    assert con.execute("SELECT count(*) FROM interventi WHERE intervento = ?", [intervento]).fetchall()[0][0] == 1


def add_operatore(
    con: duckdb.DuckDBPyConnection,
    id_: str,
    profilo: str,
    sub_ambito: str,
    fte: float,
    contratto: str,
    inizio: str | None,
    fine: str | None = None,
) -> None:
    con.execute(
        "INSERT INTO operatori VALUES (?, ?, ?, ?, ?, ?::DATE, ?::DATE, 'test')",
        [id_, profilo, sub_ambito, fte, contratto, inizio, fine],
    )


def add_sede(con: duckdb.DuckDBPyConnection, id_: str, tipo: str, comune: str) -> None:
    con.execute(
        "INSERT INTO sedi VALUES (?, ?, ?, ?, NULL, NULL, NULL, ?, 'test')",
        [id_, f"Sede {id_}", tipo, comune, SUB[comune]],
    )


def cell(df: pl.DataFrame, indicatore: str, territorio: str, anno: int = 2025) -> dict:
    """The one row of the table for an indicator, territory and year."""
    rows = df.filter(
        (pl.col("indicatore") == indicatore) & (pl.col("territorio") == territorio) & (pl.col("anno") == anno)
    )
    assert rows.height == 1, f"{indicatore} {territorio} {anno}: {rows.height} righe"
    return rows.row(0, named=True)


def values_of(df: pl.DataFrame, indicatore: str, anno: int = 2025) -> dict[str, float | None]:
    """territorio -> valore for an indicator and year."""
    rows = df.filter((pl.col("indicatore") == indicatore) & (pl.col("anno") == anno))
    return dict(zip(rows["territorio"].to_list(), rows["valore"].to_list()))


def counts_of(df: pl.DataFrame, indicatore: str, anno: int = 2025) -> dict[str, tuple]:
    """territorio -> (numeratore, denominatore) for an indicator and year."""
    rows = df.filter((pl.col("indicatore") == indicatore) & (pl.col("anno") == anno))
    return {t: (n, d) for t, n, d in zip(rows["territorio"], rows["numeratore"], rows["denominatore"])}


def assert_values(df: pl.DataFrame, indicatore: str, expected: dict[str, float | None], anno: int = 2025) -> None:
    got = values_of(df, indicatore, anno)
    for territorio, want in expected.items():
        assert territorio in got, f"{indicatore}: manca {territorio}"
        if want is None:
            assert got[territorio] is None, f"{indicatore} {territorio}: atteso null, ottenuto {got[territorio]}"
        else:
            assert got[territorio] == pytest.approx(want, rel=1e-9), f"{indicatore} {territorio} {anno}"
