"""Slowing down password guessing without locking anyone out. No Streamlit here.

Every checked failure is remembered for `WINDOW` seconds, per user name and per source (the
address of the connection). The first `FREE` failures cost nothing. After that, each name and
each source has a server-wide *next attempt allowed at*: the time of its last checked failure
plus `delay(k)` seconds, k being its recent failures: 2, 4, 8, 16, 32, then `MAX_DELAY` (60)
seconds at most. An attempt before both times is not checked ("attendere N secondi") and counts
for nothing. The clock is the server's, not the browser session's: opening many sessions in
parallel gives a guesser no more tries (one per delay per name, and per address, in all).

No account is ever locked. When the waiting time of a name ends, the attempt checked first is
the one of a client (a browser session) that has been waiting for this name and was not checked
in the last `WINDOW` (the oldest such waiter), for `GRACE` seconds; only then anyone else. So a
guesser retrying the instant each wait ends does not win the slot against the real user, who
waits at most `MAX_DELAY` seconds once (plus the seconds they take to come back) and then gets in
with the right password. A guesser who prepares many fresh sessions in advance could still push
the real user back by one slot per session: the cost of it is one guess per slot in total.

The source only adds to the slowing (a guesser trying many names from one address waits like one
trying one name); an unknown or shared source (localhost, a reverse proxy) reaches the maximum
sooner, and its real users still wait at most `MAX_DELAY` seconds once.

Failures are not forgotten on a successful login (they expire after `WINDOW`): otherwise each
login of the real user would hand a guesser `FREE` new quick guesses.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

FREE = 5  # failures (per name, per source) within WINDOW checked at once
BASE = 2.0  # seconds of wait after FREE failures, doubling at each further failure
MAX_DELAY = 60.0  # the longest wait between two checked attempts on a name (or from a source)
GRACE = 30.0  # seconds the first checked attempt after a wait is kept for a client that waited for it
WINDOW = 15 * 60  # seconds a failure is remembered
_KEEP = FREE + 16  # failures kept per key: enough to reach MAX_DELAY (memory stays bounded under a flood)
_PRUNE_EVERY = 60.0


@dataclass(frozen=True)
class Decision:
    """Whether to check the password now; if not, how many seconds the client still has to wait."""

    check: bool
    wait: float = 0.0


class LoginThrottle:
    """Process-wide memory of failed logins (thread-safe); `clock` is injectable for tests."""

    def __init__(
        self,
        free: int = FREE,
        base: float = BASE,
        max_delay: float = MAX_DELAY,
        window: float = WINDOW,
        grace: float = GRACE,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.free, self.base, self.max_delay, self.window, self.grace = free, base, max_delay, window, grace
        self.clock = clock
        self._lock = threading.Lock()
        self._failures: dict[str, deque[float]] = {}  # "n:" + name or "s:" + source -> failure times
        self._next_at: dict[str, float] = {}  # same keys -> next attempt allowed at
        self._waiting: dict[str, dict[str, float]] = {}  # name -> {client: waiting since}
        self._checked: dict[tuple[str, str], float] = {}  # (name, client) -> last checked attempt
        self._pruned = 0.0

    def delay(self, failures: int) -> float:
        """Seconds between two checked attempts, after `failures` recent failures."""
        if failures < self.free:
            return 0.0
        return min(self.base * 2.0 ** (failures - self.free), self.max_delay)

    def _recent(self, key: str, now: float) -> int:
        times = self._failures.get(key)
        if not times:
            return 0
        while times and now - times[0] >= self.window:
            times.popleft()
        if not times:
            del self._failures[key]
            self._next_at.pop(key, None)
            return 0
        return len(times)

    def _prune(self, now: float) -> None:
        if now - self._pruned < _PRUNE_EVERY:
            return
        self._pruned = now
        for key in list(self._failures):
            self._recent(key, now)
        for name, waiting in list(self._waiting.items()):
            for client, since in list(waiting.items()):
                if now - since >= self.window:
                    del waiting[client]
            if not waiting:
                del self._waiting[name]
        for key, at in list(self._checked.items()):
            if now - at >= self.window:
                del self._checked[key]

    def _allowed_at(self, name: str, source: str, now: float) -> float:
        keys = ("n:" + name, "s:" + source)
        return max([self._next_at.get(k, 0.0) for k in keys if self._recent(k, now)] or [0.0])

    def _first_waiter(self, name: str, opened: float, now: float) -> str | None:
        """The client the slot opened at `opened` is kept for: waiting since before it, not checked lately."""
        waiting = self._waiting.get(name) or {}
        fresh = [
            (since, client)
            for client, since in waiting.items()
            if since <= opened and now - self._checked.get((name, client), -self.window) >= self.window
        ]
        return min(fresh)[1] if fresh else None

    def attempt(self, name: str, source: str, client: str) -> Decision:
        """Before checking a password for `name`: check now, or tell the client how long to wait."""
        now = self.clock()
        with self._lock:
            self._prune(now)
            allowed_at = self._allowed_at(name, source, now)
            if now < allowed_at:
                self._waiting.setdefault(name, {}).setdefault(client, now)
                return Decision(False, allowed_at - now)
            if allowed_at and now < allowed_at + self.grace:
                first = self._first_waiter(name, allowed_at, now)
                if first is not None and first != client:
                    self._waiting.setdefault(name, {}).setdefault(client, now)
                    return Decision(False, allowed_at + self.grace - now)
            waiting = self._waiting.get(name)
            if waiting:
                waiting.pop(client, None)
            self._checked[(name, client)] = now
            if allowed_at:  # the slot is taken: nobody else is checked before this attempt's outcome
                for key in ("n:" + name, "s:" + source):
                    if self._recent(key, now):
                        self._next_at[key] = max(self._next_at.get(key, 0.0), now + self.delay(self._recent(key, now)))
            return Decision(True)

    def failed(self, name: str, source: str, client: str) -> None:
        """A checked attempt with a wrong password (or an unknown name)."""
        now = self.clock()
        with self._lock:
            for key in ("n:" + name, "s:" + source):
                self._failures.setdefault(key, deque(maxlen=_KEEP)).append(now)
                self._next_at[key] = now + self.delay(self._recent(key, now))

    def succeeded(self, name: str, client: str) -> None:
        with self._lock:
            waiting = self._waiting.get(name)
            if waiting:
                waiting.pop(client, None)
