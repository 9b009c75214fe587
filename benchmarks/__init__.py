"""Benchmarks at ambito, regional and national scale, side by side with the alternatives.

`python -m benchmarks [--scales ambito,lombardia,italia] [--out DIR] [--keep]`

* `scales`: what each scale is (comuni, records) and its ambito folder;
* `generate`: the synthetic contract-format files, written in chunks (never the
  whole file in memory);
* `measure`: a subprocess with a time budget and a memory guard, its wall time
  and peak RSS;
* `steps`: the alternatives (bare DuckDB, pandas + SQLite) as subprocess scripts;
* `dashboard`: indicators and page run times, run in a subprocess per scale;
* `report`: the table (absolute figures, ratios, goals) as Markdown and JSON;
* `cli`: the run, scale by scale, stopping cleanly with partial results.
"""
