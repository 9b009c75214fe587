"""`python -m indicators compute` on a small literal warehouse gives the same bytes as the files in fixtures/.

A refactoring guard: the files were written by the code before the measure kinds moved to
indicators/kinds/, the public file again after cross-indicator suppression, both rewritten when the five
indicators of the reorganisation were added (their rows only; every earlier row unchanged). Gzipped;
rewritten only on purpose, when a rule changes: run this module with PDZ_GOLDEN_WRITE=1 and read the diff
the failing test printed. The warehouse is the 4-comuni territory of conftest.py with
records of every intervention, drawn with a fixed seed, so every measure kind and both audiences
(disclosure control included) are exercised.
"""

from __future__ import annotations

import csv
import difflib
import gzip
import os
import random
from pathlib import Path

import pytest

from core import settings, warehouse
from indicators import cli
from tests.indicators.conftest import SUB, add, add_operatore, add_sede, set_territory

FIXTURES = Path(__file__).parent / "fixtures"
GOLDEN = {a: FIXTURES / f"compute_{a}.json.gz" for a in ("ufficio", "pubblico")}


def _fill(con) -> None:
    rnd = random.Random(20261130)
    with open(settings.INTERVENTI_FILE, newline="", encoding="utf-8") as fh:
        codes = [r["intervento"] for r in csv.DictReader(fh)]
    comuni = list(SUB)
    for _ in range(700):
        start = f"{rnd.choice((2023, 2024, 2025))}-{rnd.randint(1, 12):02d}-{rnd.randint(1, 28):02d}"
        end = None if rnd.random() < 0.3 else f"{int(start[:4]) + rnd.choice((0, 0, 1))}-12-{rnd.randint(1, 28):02d}"
        if end is not None and end < start:
            end = None
        richiesta = None if rnd.random() < 0.2 else f"{int(start[:4]) - 1}-{rnd.randint(6, 12):02d}-01"
        add(
            con,
            f"p{rnd.randint(1, 260)}",
            rnd.choice(codes),
            start,
            end,
            comune=rnd.choice(comuni),
            nascita=rnd.randint(1925, 2022),
            nucleo=None if rnd.random() < 0.4 else f"n{rnd.randint(1, 120)}",
            richiesta=richiesta,
            ore=None if rnd.random() < 0.5 else float(rnd.randint(1, 40)),
            esito=rnd.choice((None, "IN_CORSO", "CONCLUSO", "INTERROTTO", "ASSUNZIONE")),
        )
    add(con, "last", "SAD", "2025-10-15")  # the date of the data: 2025 is a year to date
    profili = ("ASSISTENTE_SOCIALE", "EDUCATORE", "PSICOLOGO", "AMMINISTRATIVO")
    for i in range(14):
        add_operatore(
            con,
            f"o{i}",
            profili[i % 4],
            ("SA1", "SA2")[i % 2],
            (0.5, 1.0)[i % 3 == 0],
            ("INDETERMINATO", "DETERMINATO")[i % 5 == 0],
            f"{2022 + i % 3}-03-01",
            None if i % 4 else "2024-06-30",
        )
    add_sede(con, "h1", "HUB", comuni[0])
    add_sede(con, "s1", "SPOKE", comuni[3])
    con.execute(
        "INSERT INTO obiettivi SELECT ?, 'AMBITO', anno, tipo, valore, 'test' FROM (VALUES "
        "(2024, 'BASELINE', 1.0), (2025, 'TARGET', 1.5), (2027, 'TARGET', 2.0)) AS t(anno, tipo, valore)",
        ["anziani_sad_copertura_65"],
    )


@pytest.fixture
def filled(wh_path: Path) -> Path:
    with warehouse.writer(wh_path) as con:
        set_territory(con)
        _fill(con)
    return wh_path


@pytest.mark.parametrize("audience", list(GOLDEN))
def test_compute_output_is_unchanged(filled: Path, tmp_path: Path, audience: str) -> None:
    out = tmp_path / f"{audience}.json"
    args = ["compute", "--db", str(filled), "--format", "json", "--out", str(out)]
    assert cli.main(args + (["--public"] if audience == "pubblico" else [])) == 0
    if os.environ.get("PDZ_GOLDEN_WRITE"):
        GOLDEN[audience].write_bytes(gzip.compress(out.read_bytes(), mtime=0))
    got, want = out.read_text(encoding="utf-8"), gzip.decompress(GOLDEN[audience].read_bytes()).decode("utf-8")
    if got != want:
        diff = difflib.unified_diff(want.splitlines(), got.splitlines(), "prima", "adesso", lineterm="", n=2)
        pytest.fail("l'uscita di compute è cambiata:\n" + "\n".join(list(diff)[:60]))
