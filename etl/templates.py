"""Templates of every input table, generated from the schema the loader validates with.

For each table of `etl.schemas.TABLES` (a table added there gets its template with no other change):

* a CSV: the headers and one example row, UTF-8 with BOM and `;` (what Excel in Italian opens
  as columns), written by `core.spreadsheet.write_csv`;
* an XLSX: the same in a sheet named like the table (the loader reads it), and a second sheet
  «Istruzioni» that says, for each column, whether it is required, its format, its allowed values
  and what it means: the first three from the `Column` the loader checks, the meaning from
  `etl.schemas.COLUMN_DOCS`. So a template never says something the loader does not do.

The example row loads without a rejected row (tests/etl/test_templates.py loads every template back
through `python -m etl load`). Its codice fiscale is synthetic and belongs to nobody: surname and name
`XXX XXX` (a real surname or name always has letters of its own), with a valid check character.
A table whose file replaces the whole table (the sub-ambito composition) gets its current content
instead of one example row: a file with one comune would be refused.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field

import duckdb
import polars as pl
import xlsxwriter

from core import settings
from core.spreadsheet import write_csv
from core.warehouse import has_table, query_pl
from etl.codice_fiscale import check_character
from etl.schemas import TABLES, Column, TableSpec, column_doc

# Surname XXX, name XXX (no letters of their own: no real person), born 01/01/2000, place Z999.
SYNTHETIC_CF_FIRST15 = "XXXXXX00A01Z999"
SYNTHETIC_CF = SYNTHETIC_CF_FIRST15 + check_character(SYNTHETIC_CF_FIRST15)
GUIDE_SHEET = "Istruzioni"
GUIDE_COLUMNS = (
    "Colonna",
    "Obbligatoria",
    "Formato",
    "Valori ammessi",
    "Descrizione",
    "Esempio",
    "Altri nomi accettati",
)
XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

# How a value of each kind is written (the loader's parsing, etl/validate.py and core/normalize.py).
KIND_FORMATS = {
    "text": "testo",
    "code": "uno dei valori ammessi (maiuscole o minuscole)",
    "date": "data: 31/12/2025 oppure 2025-12-31",
    "decimal": "numero: 1234,5 oppure 1.234,5 oppure 1234.5",
    "integer": "numero intero",
    "bool": "sì o no (anche vero/falso, 1/0)",
    "comune": "codice ISTAT (019035) o nome del comune (Crema) di un comune dell'ambito",
    "codice_fiscale": "codice fiscale (16 caratteri), codice fiscale provvisorio (11 cifre), STP o ENI (3 lettere e 13 "
    "cifre)",
    "codice_sorgente": "codice di un altro sistema, come scritto nel sistema (maiuscole o minuscole, spazi ignorati)",
    "intervento": "codice del catalogo degli interventi",
    "sub_ambito": "codice di un sub-ambito",
    "indicatore": "codice di un indicatore del catalogo",
    "territorio": "AMBITO o il codice di un sub-ambito",
    "sede": "codice di una sede già caricata nella tabella delle sedi",
}
PREFERRED_EXAMPLES = {"intervento": "SAD", "indicatore": "anziani_sad_copertura_65"}


@dataclass(frozen=True)
class References:
    """The reference data the templates show as allowed values and use in the example row."""

    comuni: list[tuple[str, str]]  # (ISTAT code, name) of the ambito's comuni
    sub_ambiti: list[tuple[str, str]]  # (code, name)
    interventi: list[tuple[str, str, str]]  # (code, area, description), the catalogue
    indicatori: list[str]  # the catalog's indicator ids (handed in: etl never imports indicators)
    capofila: str | None = None  # ISTAT code of the capofila (the example comune)
    current: dict[str, pl.DataFrame] = field(default_factory=dict)  # replace-all tables: their rows as text


def references(con: duckdb.DuckDBPyConnection, indicator_ids: list[str]) -> References:
    """The reference data of a warehouse (or a dashboard snapshot) for the templates."""
    comuni = [tuple(r) for r in con.execute("SELECT comune, nome FROM comuni ORDER BY nome").fetchall()]
    subs = [
        tuple(r)
        for r in con.execute(
            "SELECT sub_ambito, any_value(nome_sub_ambito) FROM sub_ambiti GROUP BY sub_ambito ORDER BY sub_ambito"
        ).fetchall()
    ]
    interventi = [
        tuple(r) for r in con.execute("SELECT intervento, area, descrizione FROM interventi ORDER BY rowid").fetchall()
    ]
    capofila = settings.ambito_info().get("capofila")
    code = next((c for c, n in comuni if n == capofila), None)
    current = {}
    if has_table(con, "sub_ambiti"):
        current["sub_ambiti"] = query_pl(
            con,
            "SELECT comune, sub_ambito, nome_sub_ambito, CASE WHEN pilota THEN 'sì' ELSE 'no' END AS pilota, "
            "coalesce(strftime(data_avvio_pilota, '%d/%m/%Y'), '') AS data_avvio_pilota, "
            "CASE WHEN provvisorio THEN 'sì' ELSE 'no' END AS provvisorio FROM sub_ambiti ORDER BY sub_ambito, comune",
        )
    return References(comuni, subs, interventi, list(indicator_ids), code, current)  # type: ignore[arg-type]


# --- the example row ---------------------------------------------------------------------------


def _example(spec: TableSpec, col: Column, refs: References) -> str:
    doc = column_doc(spec.name, col.name)
    if doc is not None and doc.esempio is not None:
        return doc.esempio
    if col.kind == "codice_fiscale":
        return SYNTHETIC_CF
    if col.kind == "comune" and refs.comuni:
        first = refs.capofila or refs.comuni[0][0]
        if col.name == "comune_destinazione":  # a road distance from the capofila to another comune
            return next((c for c, _ in refs.comuni if c != first), first)
        return first
    if col.kind == "sub_ambito" and refs.sub_ambiti:
        return refs.sub_ambiti[0][0]
    if col.kind == "territorio":
        return "AMBITO"
    if col.kind == "intervento" and refs.interventi:
        codes = [c for c, _, _ in refs.interventi]
        return PREFERRED_EXAMPLES["intervento"] if PREFERRED_EXAMPLES["intervento"] in codes else codes[0]
    if col.kind == "indicatore" and refs.indicatori:
        preferred = PREFERRED_EXAMPLES["indicatore"]
        return preferred if preferred in refs.indicatori else refs.indicatori[0]
    if col.kind == "integer" and col.name == "anno":  # a target table's year: the baseline's
        return str(settings.plan_years()[0])
    if col.default is not None:
        return col.default
    return ""


def example_frame(spec: TableSpec, refs: References) -> pl.DataFrame:
    """The template's rows as text, one column per column of the table, in the table's order:
    one example row, or the current content for a table whose file replaces it whole."""
    names = [c.name for c in spec.columns]
    if spec.replace_all and spec.name in refs.current:
        current = refs.current[spec.name]
        return current.select(
            [pl.col(n).cast(pl.String) if n in current.columns else pl.lit("").alias(n) for n in names]
        )
    row = {c.name: [_example(spec, c, refs) or None] for c in spec.columns}  # an empty cell, not ""
    return pl.DataFrame(row, schema={n: pl.String for n in names})


# --- the instructions --------------------------------------------------------------------------


def _number_format(col: Column) -> str:
    base = KIND_FORMATS[col.kind]
    low, high = col.min_value, col.max_value
    if low is not None and high is not None:
        lower = f"maggiore di {low:g}" if col.min_exclusive else f"almeno {low:g}"
        return f"{base}; {lower} e al massimo {high:g}"
    if low is not None:
        return f"{base}; non negativo" if low == 0 else f"{base}; almeno {low:g}"
    return base


def format_text(col: Column) -> str:
    """How a value of the column is written, in Italian."""
    if col.kind in ("decimal", "integer"):
        return _number_format(col)
    return KIND_FORMATS.get(col.kind, KIND_FORMATS["text"])


def allowed_text(col: Column, refs: References) -> str:
    """The allowed values of a closed column (one per line for the long lists), else ""."""
    if col.kind == "code":
        return ", ".join(col.values)
    if col.kind == "bool":
        return "sì, no"
    if col.kind == "intervento":
        return "\n".join(f"{c} ({a}): {d}" for c, a, d in refs.interventi)
    if col.kind == "sub_ambito":
        return "\n".join(f"{c}: {n}" for c, n in refs.sub_ambiti)
    if col.kind == "territorio":
        return "\n".join(["AMBITO", *(f"{c}: {n}" for c, n in refs.sub_ambiti)])
    if col.kind == "indicatore":
        return "\n".join(refs.indicatori)
    if col.kind == "comune":
        return "\n".join(f"{c} {n}" for c, n in refs.comuni)
    return ""


def required_text(spec: TableSpec, col: Column) -> str:
    """sì / no (with the value used when empty) / which of the alternatives (`required_one_of`) it belongs to."""
    if col.required:
        return "sì"
    groups = [g for g in spec.required_one_of if col.name in g]
    if groups:
        alternatives = " oppure ".join(" e ".join(g) for g in spec.required_one_of)
        return f"una delle alternative: {alternatives}"
    return f"no (se vuota: {col.default})" if col.default is not None else "no"


def column_guide(spec: TableSpec, refs: References) -> pl.DataFrame:
    """One row per column: Colonna, Obbligatoria, Formato, Valori ammessi, Descrizione, Esempio, Altri nomi
    accettati, all from the loader's `Column` (and `COLUMN_DOCS` for the meaning)."""
    examples = example_frame(spec, refs).head(1)
    rows = []
    for col in spec.columns:
        doc = column_doc(spec.name, col.name)
        rows.append(
            {
                "Colonna": col.name,
                "Obbligatoria": required_text(spec, col),
                "Formato": format_text(col),
                "Valori ammessi": allowed_text(col, refs),
                "Descrizione": doc.descrizione if doc else "",
                "Esempio": examples[col.name][0] if examples.height else "",
                "Altri nomi accettati": ", ".join(col.aliases),
            }
        )
    return pl.DataFrame(rows, schema={c: pl.String for c in GUIDE_COLUMNS})


def table_rules(spec: TableSpec) -> list[str]:
    """The rules across columns and rows of the table, in Italian."""
    key = " + ".join(spec.key)
    rules = [
        f"Chiave: {key}. Una riga con la chiave di una già caricata la sostituisce; righe con la stessa chiave nello "
        "stesso file sono tutte scartate."
    ]
    rules += [f"Tra {a} e {b}: scartata la riga con {reason}." for a, b, reason in spec.date_order]
    if spec.replace_all:
        rules.append(
            "Il file sostituisce l'intera tabella e deve assegnare ogni comune dell'ambito: il modello contiene la "
            "composizione attuale, da modificare."
        )
    return rules


# --- the files -----------------------------------------------------------------------------------


def template_filename(spec: TableSpec, fmt: str) -> str:
    return f"modello_{spec.name}.{fmt}"


def template_csv(spec: TableSpec, refs: References) -> bytes:
    """The CSV template: UTF-8 with BOM, `;`, headers and the example row."""
    text = write_csv(example_frame(spec, refs), separator=";", include_bom=True)
    return text.encode("utf-8")


def template_xlsx(spec: TableSpec, refs: References) -> bytes:
    """The XLSX template: the table's sheet (headers, example row; cells as text so 019035 keeps its zero)
    and the «Istruzioni» sheet."""
    out = io.BytesIO()
    wb = xlsxwriter.Workbook(out, {"in_memory": True, "strings_to_numbers": False, "strings_to_formulas": False})
    try:
        header = wb.add_format({"bold": True, "bg_color": "#EEF3F8", "bottom": 1, "num_format": "@"})
        text = wb.add_format({"num_format": "@"})
        wrap = wb.add_format({"text_wrap": True, "valign": "top"})
        bold = wb.add_format({"bold": True, "valign": "top"})
        title = wb.add_format({"bold": True, "font_size": 14, "font_color": "#1F4E79"})
        data = wb.add_worksheet(spec.name[:31])
        rows = example_frame(spec, refs)
        data.write_row(0, 0, rows.columns, header)
        for i, row in enumerate(rows.iter_rows(), start=1):
            for j, value in enumerate(row):
                data.write_string(i, j, value or "", text)
        for j, name in enumerate(rows.columns):
            data.set_column(j, j, max(14, min(40, len(name) + 4)), text)
        data.freeze_panes(1, 0)

        guide = wb.add_worksheet(GUIDE_SHEET)
        guide.write_string(0, 0, f"Modello della tabella {spec.label}: come compilarlo", title)
        intro = [
            f"Compilare il foglio «{data.name}» dalla riga 2, una riga per record, senza cambiare le intestazioni "
            "della riga 1. "
            + (
                "Il foglio contiene i dati attuali."
                if spec.replace_all
                else "La riga 2 è un esempio: sostituirla o cancellarla."
            ),
            "Caricare il file nella pagina «Dati e qualità» del cruscotto oppure con `python -m etl load FILE`: la "
            "tabella è riconosciuta dalle intestazioni; ogni riga con un problema è scartata con il motivo, le "
            "altre sono caricate.",
            *table_rules(spec),
        ]
        for i, line in enumerate(intro, start=2):
            guide.write_string(i, 0, line)
        start = len(intro) + 3
        frame = column_guide(spec, refs)
        guide.write_row(start, 0, frame.columns, bold)
        for i, row in enumerate(frame.iter_rows(), start=start + 1):
            for j, value in enumerate(row):
                guide.write_string(i, j, value or "", wrap)
        for j, width in enumerate((24, 16, 34, 44, 60, 24, 30)):
            guide.set_column(j, j, width)
    finally:
        wb.close()
    return out.getvalue()


def all_templates() -> list[TableSpec]:
    """Every input table, in the registry's order: a new table gets its template automatically."""
    return list(TABLES.values())
