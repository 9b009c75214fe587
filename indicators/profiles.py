"""Named queries for territory profiles: who lives there, who works there, where.

Parameterised SQL only; the dashboard and the reports call these by name.
"""

from __future__ import annotations

from datetime import date

import duckdb
import polars as pl

from core.warehouse import query_pl, records_by_source

AGE_BANDS = [(a, a + 4) for a in range(0, 85, 5)] + [(85, 100)]  # uniform 5-year bands, 85+ last


def territories(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    """comune, nome, sub_ambito, nome_sub_ambito, pilota, provvisorio, residenti: the territory as loaded."""
    return query_pl(
        con,
        """
        SELECT c.comune, c.nome, s.sub_ambito, s.nome_sub_ambito, s.pilota, s.data_avvio_pilota, s.provvisorio,
               (SELECT CAST(sum(residenti) AS BIGINT) FROM popolazione p
                 WHERE p.comune = c.comune AND p.anno = (SELECT max(anno) FROM popolazione)) AS residenti
        FROM comuni c LEFT JOIN sub_ambiti s USING (comune)
        ORDER BY s.sub_ambito, c.nome
        """,
    )


def sub_ambiti_table(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    """The sub-ambito composition (comune → sub_ambito), as used for maps and totals."""
    return query_pl(con, "SELECT comune, sub_ambito, nome_sub_ambito, pilota, provvisorio FROM sub_ambiti")


def is_provisional(con: duckdb.DuckDBPyConnection) -> bool:
    rows = con.execute("SELECT bool_or(provvisorio) FROM sub_ambiti").fetchall()
    return bool(rows and rows[0][0])


def population_pyramid(con: duckdb.DuckDBPyConnection, comuni: list[str]) -> pl.DataFrame:
    """Residents by age band and sex for the given comuni: fascia, sesso, residenti."""
    bands = pl.DataFrame(
        {
            "da": [a for a, _ in AGE_BANDS],
            "a": [b for _, b in AGE_BANDS],
            "fascia": [f"{a}–{b}" if b < 100 else f"{a}+" for a, b in AGE_BANDS],
        }
    )
    con_bands = con.cursor()
    con_bands.register("_bands", bands)
    try:
        return query_pl(
            con_bands,
            """
            SELECT b.fascia, b.da, p.sesso, CAST(sum(p.residenti) AS BIGINT) AS residenti
            FROM popolazione p JOIN _bands b ON p.eta BETWEEN b.da AND b.a
            WHERE p.anno = (SELECT max(anno) FROM popolazione) AND list_contains(?, p.comune)
            GROUP BY ALL ORDER BY b.da, p.sesso
            """,
            [comuni],
        )
    finally:
        con_bands.close()


def equipe(con: duckdb.DuckDBPyConnection, on: date) -> pl.DataFrame:
    """FTE by sub-ambito, profile and contract of the staff active on a date."""
    return query_pl(
        con,
        """
        SELECT sub_ambito, profilo, contratto, count(*) AS persone, CAST(sum(fte) AS DOUBLE) AS fte
        FROM operatori
        WHERE (data_inizio IS NULL OR data_inizio <= ?) AND (data_fine IS NULL OR data_fine >= ?)
        GROUP BY ALL ORDER BY sub_ambito, profilo, contratto
        """,
        [on, on],
    )


def sedi(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    """Hub and spoke access points with coordinates and comune name."""
    return query_pl(
        con,
        """
        SELECT s.id_sede, s.nome, s.tipo, s.comune, c.nome AS nome_comune, s.indirizzo, s.lat, s.lon,
               coalesce(s.sub_ambito, sa.sub_ambito) AS sub_ambito
        FROM sedi s LEFT JOIN comuni c USING (comune) LEFT JOIN sub_ambiti sa USING (comune)
        ORDER BY s.tipo, s.nome
        """,
    )


def data_date(con: duckdb.DuckDBPyConnection) -> date | None:
    """The latest start date in the service records: 'dati aggiornati al'."""
    return records_by_source(con)["ultima_data_inizio"].max()
