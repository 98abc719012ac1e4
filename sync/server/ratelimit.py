"""Token buckets kept in the database, so a limit holds across uvicorn workers and replicas.

One row per bucket (``rate_buckets``): the tokens left and when they were counted. ``take`` is
one atomic upsert (INSERT ... ON CONFLICT DO UPDATE ... RETURNING) on PostgreSQL and SQLite
alike: two processes charging the same bucket at once serialize on its row, so N processes
allow the configured rate, not N times it. A row whose bucket would have refilled is the same
as no row: ``prune`` deletes only those, so a flood of new keys never resets a victim's wait
(the in-process buckets before this cleared every bucket at 100,000 keys).

Buckets are keyed by opaque ids (device id, client address, a hash of the username), and the
stored key is a keyed hash of them: the table holds no client address.

Clock: wall time of the serving process (replicas need NTP, as they do for every timestamp).
"""

from __future__ import annotations

import hashlib
import ipaddress
import time

from sqlalchemy import case, delete, literal

from sync.server.models import RateBucket

PRUNE_EVERY = 1000  # takes between two prunes of refilled rows, per process


class TokenBuckets:
    """``take(key, cost)``: 0.0 when allowed, else the seconds to wait. ``scope`` separates
    kinds of bucket sharing one table ("device", "login", a new route's own name...)."""

    def __init__(self, capacity: float, per_second: float, *, db, scope: str,
                 secret: bytes = b"", clock=time.time) -> None:
        self.capacity, self.per_second, self.clock = float(capacity), float(per_second), clock
        self.db, self.scope, self.secret = db, scope, secret
        self._takes = 0

    def _row_key(self, key: str) -> str:
        return hashlib.blake2b(f"{self.scope}\x00{key}".encode(), key=self.secret[:64],
                               digest_size=32).hexdigest()

    def _insert(self):
        if self.db.sqlite:
            from sqlalchemy.dialects.sqlite import insert
        else:
            from sqlalchemy.dialects.postgresql import insert
        return insert(RateBucket)

    def take(self, key: str, cost: float = 1.0, *, session=None) -> float:
        """A cost above the capacity is charged as a full bucket: it would otherwise never be
        allowed. ``session``: charge inside that write transaction (a caller already holding
        one: on SQLite a second writer would wait for it for ever)."""
        cost = min(float(cost), self.capacity)
        now = float(self.clock())
        t = RateBucket.__table__.c
        # Refilled tokens, capped; then charged only when they cover the cost.
        refilled = t.tokens + (literal(now) - t.stamp) * self.per_second
        level = case((refilled < self.capacity, refilled), else_=literal(self.capacity))
        ok = level >= cost
        after = level - cost  # a refund (give_back) never fills a bucket past its capacity
        after = case((after > self.capacity, literal(self.capacity)), else_=after)
        stmt = self._insert().values(key=self._row_key(key), tokens=min(self.capacity, self.capacity - cost),
                                     stamp=now, allowed=True)
        stmt = stmt.on_conflict_do_update(index_elements=["key"], set_={
            "tokens": case((ok, after), else_=level),
            "stamp": literal(now), "allowed": ok,
        }).returning(t.tokens, t.allowed)
        if session is not None:
            tokens, allowed = session.execute(stmt).one()
        else:
            with self.db.write() as s:
                tokens, allowed = s.execute(stmt).one()
        self._takes += 1
        if self._takes % PRUNE_EVERY == 0:
            self.prune()
        if allowed:
            return 0.0
        return (cost - tokens) / self.per_second if self.per_second > 0 else 3600.0

    def give_back(self, key: str, cost: float = 1.0, *, session=None) -> None:
        """Return ``cost`` tokens taken for an attempt that proved to be no guess (an
        enrollment with a valid code): only failures use up a guessing budget, so an office
        enrolling thirty tablets from one address is not turned away."""
        self.take(key, -float(cost), session=session)

    def prune(self) -> int:
        """Delete the rows of buckets that are full again (identical to having no row)."""
        if self.per_second <= 0:
            return 0
        full_after = self.capacity / self.per_second
        with self.db.write() as s:
            return s.execute(delete(RateBucket).where(
                RateBucket.stamp < self.clock() - full_after)).rowcount or 0


def parse_networks(spec: str | tuple | list) -> tuple:
    """``"10.0.0.1, 192.168.0.0/16"`` (or a sequence) -> ip networks; a bad item is an error."""
    items = spec.split(",") if isinstance(spec, str) else spec
    return tuple(ipaddress.ip_network(item.strip(), strict=False) for item in items if item.strip())


def _in(host: str, networks) -> bool:
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    return any(address in net for net in networks)


def client_address(peer: str, forwarded_for: str | None, trusted) -> str:
    """The client's address: the TCP peer, unless the peer is a configured trusted proxy;
    then the right-most X-Forwarded-For address that is not itself a trusted proxy (the
    left part of the header is the client's own to write). Nothing trusted: the peer."""
    if not trusted or not forwarded_for or not _in(peer, trusted):
        return peer
    for hop in reversed([h.strip() for h in forwarded_for.split(",") if h.strip()]):
        if not _in(hop, trusted):
            return hop
    return peer
