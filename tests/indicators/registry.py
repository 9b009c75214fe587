"""Which indicators have a given/expect test: `@covers("id")` on the test records it.

`test_catalog.py` imports every `test_given_*` module and fails when a catalog entry is missing here.
"""

from __future__ import annotations

from collections.abc import Callable

TESTED: set[str] = set()


def covers(*indicator_ids: str) -> Callable:
    def mark(fn: Callable) -> Callable:
        TESTED.update(indicator_ids)
        return fn

    return mark
