"""Code mappings from «Dati e qualità»: the Ufficio di Piano maps a held code (or any code of another
system) to an intervento of the catalogue. Streamlit glue only: the write goes through
`etl.codifiche` (the mapping and the release of the held rows it covers, in one transaction), and
each edit is written in the audit log.
"""

from __future__ import annotations

import polars as pl
import streamlit as st

from etl import codifiche
from etl import queries as etl_queries
from indicators import api
from ui.audit import audit_action
from ui.filters import Frame
from ui.session import db_path, refresh_after_write

_FLASH = "codifiche_esito"  # the outcome of the last edit, shown after the rerun that refreshes the page
# A new generation of the held-code form after each save (new widget keys): the next code never inherits
# the last choice (the browser keeps a widget's value for as long as its key lives).
_GENERATION = "codifiche_generazione"


def show_outcome() -> None:
    """The outcome of the last edit of this session (once)."""
    outcome = st.session_state.pop(_FLASH, None)
    if outcome:
        kind, text = outcome
        (st.success if kind == "ok" else st.warning)(text)


def intervention_labels(f: Frame) -> dict[str, str]:
    """Catalogue code -> «SAD — Assistenza domiciliare (area anziani)», in catalogue order."""
    names = api.area_names()
    cat = etl_queries.intervention_catalogue(f.con)
    return {
        r["intervento"]: f"{r['intervento']} — {r['descrizione'] or ''} (area {names.get(r['area'], r['area'])})"
        for r in cat.iter_rows(named=True)
    }


def map_held_code_form(f: Frame, held: pl.DataFrame) -> None:
    """One form: pick a held code, the intervento it means, an optional description; save and load its rows."""
    codes = [(r["sistema"], r["codice"], r["righe"]) for r in held.iter_rows(named=True)]
    labels = intervention_labels(f)
    gen = st.session_state.get(_GENERATION, 0)
    with st.form(f"associa_codice_in_attesa_{gen}"):
        st.markdown("**Associa un codice in attesa a un intervento del catalogo**")
        chosen = st.selectbox(
            "Codice in attesa",
            codes,
            key=f"attesa_codice_{gen}",
            format_func=lambda c: f"{c[0]} · {c[1]} ({c[2]:,} righe in attesa)".replace(",", "."),
        )
        intervento = st.selectbox(
            "Intervento del catalogo",
            list(labels),
            format_func=labels.get,
            index=None,
            placeholder="Scegliere l'intervento che il codice indica",
            key=f"attesa_intervento_{gen}",
        )
        descrizione = st.text_input(
            "Descrizione del codice nel sistema di origine (facoltativa)",
            max_chars=200,
            key=f"attesa_descrizione_{gen}",
        )
        submitted = st.form_submit_button("Associa e carica le righe", type="primary")
    if submitted:
        if intervento is None:
            st.error("Scegliere l'intervento del catalogo a cui associare il codice.")
            return
        _save(f, chosen[0], chosen[1], intervento, descrizione)


def edit_mappings(f: Frame, mappings: pl.DataFrame) -> None:
    """Add or change any mapping (free sistema and codice), or remove one."""
    labels = intervention_labels(f)
    with st.form("modifica_codifica"):
        st.markdown("**Aggiungi o modifica una codifica**")
        left, right = st.columns(2)
        sistema = left.text_input("Sistema di codifica (es. il nome del sistema o del flusso di origine)")
        codice = right.text_input("Codice nel sistema di origine")
        intervento = st.selectbox(
            "Intervento del catalogo",
            list(labels),
            format_func=labels.get,
            index=None,
            placeholder="Scegliere l'intervento",
            key="modifica_codifica_intervento",
        )
        descrizione = st.text_input("Descrizione (facoltativa)", max_chars=200, key="modifica_codifica_descrizione")
        submitted = st.form_submit_button("Salva la codifica")
    if submitted:
        if intervento is None:
            st.error("Scegliere l'intervento del catalogo.")
            return
        _save(f, sistema, codice, intervento, descrizione)
    if mappings.height:
        pairs = [(r["sistema"], r["codice"]) for r in mappings.iter_rows(named=True)]
        with st.form("elimina_codifica"):
            pair = st.selectbox("Codifica da eliminare", pairs, format_func=lambda p: f"{p[0]} · {p[1]}")
            st.caption("Le righe già caricate con questa codifica restano come sono.")
            if st.form_submit_button("Elimina la codifica"):
                _remove(f, *pair)


def unknown_age_table(unknown: pl.DataFrame) -> pl.DataFrame:
    """Records without a year of birth per intervento, with the indicators that leave them out (age bounds)."""
    excluded = age_bound_indicators()
    return unknown.with_columns(
        pl.col("intervento")
        .map_elements(lambda i: "; ".join(excluded.get(i, [])) or "nessuno", return_dtype=pl.String)
        .alias("esclusi_da")
    )


def age_bound_indicators() -> dict[str, list[str]]:
    """intervento -> names of the indicators that count it only within an age range (they need the age)."""
    out: dict[str, list[str]] = {}
    for entry in api.catalog():
        m = entry.misura
        if m.get("eta_min") is None and m.get("eta_max") is None:
            continue
        for intervento in m.get("interventi", []):
            out.setdefault(intervento, []).append(entry.nome)
    return out


def _save(f: Frame, sistema: str, codice: str, intervento: str, descrizione: str | None) -> None:
    _require_office(f)
    try:
        result = codifiche.save_mapping(
            sistema, codice, intervento, descrizione or None, db=db_path(), user=f.access.utente if f.access else None
        )
    except codifiche.MappingRefused as exc:
        audit_action(f, "codifica", f"{sistema} {codice}", "rifiutato", str(exc))
        st.error(str(exc)[:1].upper() + str(exc)[1:])
        return
    text = (
        f"Codifica salvata: {_shown(sistema)} {_shown(codice)} → {intervento}. "
        f"Righe in attesa ora caricate: {result.rows_released:,}".replace(",", ".")
        + (
            f"; scartate: {result.rows_released_rejected} (motivi nell'elenco degli scarti)."
            if result.rows_released_rejected
            else "."
        )
    )
    audit_action(f, "codifica", f"{sistema} {codice}", "ok", text)
    if result.rows_released_rejected:  # their reasons, in «Righe scartate nell'ultimo caricamento»
        st.session_state["last_batches"] = [result.batch_id]
    st.session_state[_FLASH] = ("ok" if not result.rows_released_rejected else "warn", text)
    st.session_state[_GENERATION] = st.session_state.get(_GENERATION, 0) + 1
    refresh_after_write()  # the next run shows the released rows and the mapping
    st.rerun()


def _remove(f: Frame, sistema: str, codice: str) -> None:
    _require_office(f)
    try:
        codifiche.remove_mapping(sistema, codice, db=db_path(), user=f.access.utente if f.access else None)
    except codifiche.MappingRefused as exc:
        st.error(str(exc))
        return
    text = f"Codifica {sistema} {codice} eliminata: vale per i caricamenti successivi."
    audit_action(f, "codifica", f"{sistema} {codice}", "ok", text)
    st.session_state[_FLASH] = ("ok", text)
    refresh_after_write()
    st.rerun()


def _shown(code: str) -> str:
    """A code as stored (etl/validate.py, kind codice_sorgente): upper case, spaces trimmed and collapsed."""
    return " ".join(code.split()).upper()


def _require_office(f: Frame) -> None:
    if f.is_public or not (f.access and f.access.is_office):  # the page already stopped; never write for another role
        raise PermissionError("codifiche riservate all'Ufficio di Piano")
