"""The indicator catalog: one YAML file per area in this folder (format in indicators/README.md).

The parsing lives in `indicators.definitions`; this package re-exports the accessors so that
`from indicators.catalog import indicator_ids` works (the composition roots hand the ids to
the loader to check `obiettivi`: `etl/cli.py`, `ui/upload.py`, `demo/build.py`).
"""

from indicators.definitions import AREAS, CatalogError, Indicator, by_id, catalog, get, load_catalog


def indicator_ids() -> list[str]:
    """The ids of every indicator of the catalog, in catalog order."""
    return [e.id for e in catalog()]


__all__ = ["AREAS", "CatalogError", "Indicator", "by_id", "catalog", "get", "indicator_ids", "load_catalog"]
