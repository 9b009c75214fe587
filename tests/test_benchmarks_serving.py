"""The serving benchmark's arithmetic and report (benchmarks/serving.py), on literal rows.

The measurement itself needs a server and Chromium (`python -m benchmarks.serving`); here: the
percentiles, the medians and ranges of the runs, and each goal met or not, computed by hand.
"""

from __future__ import annotations

from benchmarks import serving


def test_percentiles_are_nearest_rank():
    values = [float(x) for x in range(20, 0, -1)]  # 20..1, unordered on purpose
    assert serving.percentile(values, 95) == 19.0  # rank ceil(0.95 * 20) = 19
    assert serving.percentile(values, 50) == 10.0
    assert serving.percentile([4.0, 1.0, 3.0, 2.0], 50) == 2.0
    assert serving.percentile([], 95) is None


def _session(p95: float, errors: int = 0, tree: str = "nostro") -> dict:
    return {
        "tree": tree,
        "client": "protocollo",
        "sessions": 48,
        "load": "none",
        "p50": p95 / 2,
        "p95": p95,
        "errors": errors,
        "server_cpu_per_visit_s": 0.06,
        "browser_cpu_s": None,
        "peak_rss_bytes": 400 * 1024**2,
        "loadavg_before": "1.00, 1.00, 1.00",
    }


RESULTS = {
    "args": {"runs": 3, "demo_scale": 1},
    "cold": [
        {
            "tree": "nostro",
            "first_page_s": x,
            "error": None,
            "server_start_s": 1.0,
            "second_page_s": 0.6,
            "server_cpu_until_first_page_s": 2.0,
        }
        for x in (1.5, 2.5, 1.8)
    ],
    "lock": [
        {"tree": "nostro", "free_median_s": 1.0, "locked_median_s": 1.05},
        {"tree": "nostro", "free_median_s": 2.0, "locked_median_s": 2.4},
        {"tree": "nostro", "free_median_s": 1.0, "locked_median_s": 0.9},
        {"tree": "base", "free_median_s": 1.0, "locked_median_s": 9.0},  # the other version: not a goal
    ],
    "cpu": [
        {"tree": "nostro", "returning_cpu_per_visit_s": r, "first_time_cpu_per_visit_s": f}
        for r, f in ((0.08, 0.30), (0.12, 0.25), (0.09, 0.28))
    ],
    "sessions": [_session(2.0), _session(2.5), _session(3.5)],
}


def test_goals_from_the_medians_of_the_runs():
    goals = serving.summarise(RESULTS)["goals"]
    by_start = {g["goal"].split(",")[0].split(" (")[0]: g for g in goals}
    first = by_start["prima pagina nel browser dopo `streamlit run`"]
    assert first["value"] == (1.8, 1.5, 2.5) and first["met"] is True  # median 1,8 s < 2 s
    lock = by_start["pagina mentre un altro processo tiene il lucchetto di scrittura"]
    assert lock["value"] == (1.05, 0.9, 1.2) and lock["met"] is True  # ratios 1,05 · 1,2 · 0,9
    returning, first_time = [g for g in goals if g["goal"].startswith("CPU del server")]
    assert returning["value"] == (0.09, 0.08, 0.12) and returning["met"] is True
    assert first_time["value"] == (0.28, 0.25, 0.30) and first_time["met"] is False
    sessions = [g for g in goals if g["goal"].startswith("48 sessioni")]
    assert len(sessions) == 1 and sessions[0]["value"] == (2.5, 2.0, 3.5) and sessions[0]["met"] is True


def test_an_error_among_the_sessions_fails_the_goal_and_the_report_says_so():
    results = {**RESULTS, "sessions": [_session(2.0), _session(2.5, errors=1), _session(2.2)]}
    [goal] = [g for g in serving.summarise(results)["goals"] if g["goal"].startswith("48 sessioni")]
    assert goal["met"] is False
    md = serving.markdown(results)
    assert "| **prima pagina**, dalla richiesta al disegno | 1,80 s [1,50–2,50] |" in md
    assert "| protocollo | 48 | niente | questa versione | 1,1 s [1,0–1,2] | 2,2 s [2,0–2,5] | 1 |" in md
    assert md.count("**no**") == 2  # first-time CPU, and the sessions with an error
