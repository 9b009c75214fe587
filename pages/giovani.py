"""Area page: see pages/area.py."""

from pages import area

area.render("giovani")
