"""Assemblea dei Sindaci: one objective per screen for the projector, printable; public view always."""

from __future__ import annotations

import streamlit as st

from ui import assemblea, assemblea_print, assemblea_slide

seduta = assemblea.setup()  # guard, no sidebar, large type; year, territory and objectives chosen once
shown = assemblea.objectives(seduta)
if not shown:
    st.stop()
current, n = assemblea.navigator(shown)  # previous / next (← →), jump to an objective
assemblea_slide.show(seduta, current, n, len(shown))  # value, objective, status in words, map and trend
assemblea.bottom_navigation(shown, n)
assemblea_print.printing(seduta, shown, current)  # this objective or all those shown, A4 landscape
