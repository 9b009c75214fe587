"""Slowing down password guessing without locking anyone out. No Streamlit here.

Every failed login is remembered for `WINDOW` seconds, per user name and per source (the address
of the connection). The first `FREE` failures cost nothing. After that no account is ever locked:
an attempt is checked only once the *client* making it (one browser session) has waited
`delay(k)` seconds, k being the larger of the failures on that name and from that source:
2, 4, 8, 16, 32, then `MAX_DELAY` (60) seconds at most. A waiting client's first attempt starts
its clock and is not checked ("attendere N secondi"); each checked failure starts it again.

So a guesser pays the wait on every guess (at most one a minute per session), while the real
user, in their own session, waits at most `MAX_DELAY` seconds once and then gets in with the right
password, whatever the guesser does: there is no shared lock for anyone to take. The source only
adds to the count (a guesser trying many names from one address is slowed as fast as one trying
one name); an unknown or shared source (localhost, a reverse proxy) just reaches the maximum
sooner, still `MAX_DELAY` seconds at most for the real user.

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
MAX_DELAY = 60.0  # the longest wait: what a real user waits at worst, once
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
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.free, self.base, self.max_delay, self.window, self.clock = free, base, max_delay, window, clock
        self._lock = threading.Lock()
        self._by_name: dict[str, deque[float]] = {}
        self._by_source: dict[str, deque[float]] = {}
        self._armed: dict[tuple[str, str], float] = {}  # (client, name) -> when its wait started
        self._pruned = 0.0

    def delay(self, failures: int) -> float:
        """Seconds a client waits before an attempt is checked, after `failures` recent failures."""
        if failures < self.free:
            return 0.0
        return min(self.base * 2.0 ** (failures - self.free), self.max_delay)

    def _recent(self, table: dict[str, deque[float]], key: str, now: float) -> int:
        times = table.get(key)
        if not times:
            return 0
        while times and now - times[0] >= self.window:
            times.popleft()
        if not times:
            del table[key]
            return 0
        return len(times)

    def _failures(self, name: str, source: str, now: float) -> int:
        return max(self._recent(self._by_name, name, now), self._recent(self._by_source, source, now))

    def _prune(self, now: float) -> None:
        if now - self._pruned < _PRUNE_EVERY:
            return
        self._pruned = now
        for table in (self._by_name, self._by_source):
            for key in list(table):
                self._recent(table, key, now)
        for key, since in list(self._armed.items()):
            if now - since >= self.window:
                del self._armed[key]

    def attempt(self, name: str, source: str, client: str) -> Decision:
        """Before checking a password for `name`: check now, or tell the client how long to wait."""
        now = self.clock()
        with self._lock:
            self._prune(now)
            needed = self.delay(self._failures(name, source, now))
            if needed == 0:
                return Decision(True)
            since = self._armed.setdefault((client, name), now)
            waited = now - since
            return Decision(True) if waited >= needed else Decision(False, needed - waited)

    def failed(self, name: str, source: str, client: str) -> None:
        """A checked attempt with a wrong password (or an unknown name)."""
        now = self.clock()
        with self._lock:
            for table, key in ((self._by_name, name), (self._by_source, source)):
                table.setdefault(key, deque(maxlen=_KEEP)).append(now)
            if self.delay(self._failures(name, source, now)) > 0:
                self._armed[(client, name)] = now  # the next attempt of this client waits from now
            else:
                self._armed.pop((client, name), None)

    def succeeded(self, name: str, client: str) -> None:
        with self._lock:
            self._armed.pop((client, name), None)
