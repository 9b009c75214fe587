"""Every setting of the registry is documented in the settings table of docs/IMPOSTAZIONI.md (the datasette habit)."""

from __future__ import annotations

import re

from core import settings
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
