"""Every setting of the registry is documented in the settings table of docs/IMPOSTAZIONI.md (the datasette habit)."""

from __future__ import annotations

import re

import pytest

from core import settings, warehouse
from core.settings import REPO_ROOT


def test_every_setting_is_in_the_readme_table_with_its_default():
    readme = (REPO_ROOT / "docs" / "IMPOSTAZIONI.md").read_text(encoding="utf-8")
    rows = {m.group(1): m.group(2) for m in re.finditer(r"^\| `(PDZ_[A-Z_]+)` \| ([^|]*) \|", readme, re.M)}
    for s in settings.SETTINGS.values():
        assert s.env in rows, f"{s.env} is missing from the settings table of docs/IMPOSTAZIONI.md"
        if s.default and not s.default.startswith(str(REPO_ROOT)):
            assert s.default in rows[s.env], f"{s.env}: documented default {rows[s.env]!r}, registry {s.default!r}"
    assert set(rows) == {s.env for s in settings.SETTINGS.values()}, (
        "docs/IMPOSTAZIONI.md lists a setting the registry lacks"
    )


@pytest.mark.parametrize("value", ["4GB", "512MB", "1.5GiB", "25%", "100%"])
def test_a_memory_limit_duckdb_reads_is_accepted_and_applied(tmp_path, monkeypatch, value):
    monkeypatch.setenv("PDZ_MEMORY_LIMIT", value)
    assert settings.memory_limit() == value
    with warehouse.writer(tmp_path / "w.duckdb") as con:
        limit = warehouse.scalar(con, "SELECT current_setting('memory_limit')")
    assert limit.endswith("iB") and float(limit.split()[0]) > 0  # DuckDB took it (shown in its own unit)


@pytest.mark.parametrize("value", ["tanta", "4", "0%", "150%", "-1GB", "4GB; DROP TABLE meta"])
def test_a_wrong_memory_limit_is_explained_in_italian_before_duckdb_sees_it(tmp_path, monkeypatch, value):
    monkeypatch.setenv("PDZ_MEMORY_LIMIT", value)
    with pytest.raises(ValueError, match="PDZ_MEMORY_LIMIT=.* non è valido"):
        settings.memory_limit()
    with pytest.raises(ValueError, match="PDZ_MEMORY_LIMIT"), warehouse.writer(tmp_path / "w.duckdb"):
        pass
