"""The server's in-process caches (sync/server/caches.py): bounded FIFOs owned by the Services,
safe to share between threads, and no module-level cache left in sync/server."""

from __future__ import annotations

import ast
import threading
from pathlib import Path

import pytest

from sync.server import services
from sync.server.caches import SharedCache
from sync.server.config import Settings

SERVER = Path(__file__).resolve().parent.parent / "sync" / "server"


def test_oldest_stored_goes_first_and_storing_again_makes_it_newest():
    cache = SharedCache(3)
    for key in "abc":
        cache.put(key, key.upper())
    cache.get("a")  # a hit reorders nothing (FIFO, as the caches it replaced)
    cache.put("d", "D")
    assert cache.get("a") is None and [cache.get(k) for k in "bcd"] == ["B", "C", "D"]
    cache.put("b", "B2")  # stored again: now the newest
    cache.put("e", "E")
    assert cache.get_many("bcde") == {"b": "B2", "d": "D", "e": "E"}
    assert len(cache) == 3
    cache.pop("d")
    cache.clear()
    assert len(cache) == 0 and cache.get_many("bcde") == {}


def test_size_zero_keeps_nothing():
    cache = SharedCache(0)
    cache.put("a", 1)
    cache.put_many([("b", 2)])
    assert cache.get("a") is None and cache.get_many(["a", "b"]) == {} and len(cache) == 0
    with pytest.raises(ValueError):
        SharedCache(-1)


def test_threads_sharing_a_cache_never_see_it_over_its_size_or_fail():
    cache = SharedCache(64)
    errors: list[BaseException] = []

    def work(seed: int) -> None:
        try:
            for i in range(3000):
                key = (seed * 7 + i) % 200
                cache.put_many([(key, key), (key + 1, key + 1)])
                for k, v in cache.get_many(range(key - 5, key + 5)).items():
                    assert k == v
                assert len(cache) <= 64
        except BaseException as exc:  # noqa: BLE001 - reported by the main thread
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []


def test_each_services_owns_its_caches_at_the_sizes_stated(tmp_path, monkeypatch):
    monkeypatch.delenv("CANVASS_CANDIDATE_CACHE", raising=False)
    url = f"sqlite:///{tmp_path / 's.db'}"
    one, two = (services.Services.build(Settings.load(url)) for _ in range(2))
    try:
        sizes = {name: getattr(one, name).size for name in
                 ("candidates", "doorstep_filters", "doorstep_reuse", "index_answers", "simulations",
                  "index_keys")}
        assert sizes == {"candidates": 100_000, "doorstep_filters": 32, "doorstep_reuse": 32,
                         "index_answers": 8, "simulations": 256, "index_keys": 256}
        one.candidates.put("e1", "x")
        assert two.candidates.get("e1") is None  # two apps in one process share nothing
        monkeypatch.setenv("CANVASS_CANDIDATE_CACHE", "0")  # no plaintext kept (SECURITY.md)
        assert services.Services.build(Settings.load(url)).candidates.size == 0
    finally:
        one.db.dispose()
        two.db.dispose()


def test_no_module_level_cache_in_the_server():
    """A dict, OrderedDict or memo filled at run time at module level is process-wide state no
    Services owns; the server's caches are Services' SharedCaches."""
    found = set()
    for path in SERVER.rglob("*.py"):
        where = path.relative_to(SERVER).as_posix()
        for node in ast.parse(path.read_text(encoding="utf-8")).body:
            if isinstance(node, (ast.Assign, ast.AnnAssign)):
                value = node.value
                called = getattr(getattr(value, "func", None), "id", "") or getattr(
                    getattr(value, "func", None), "attr", "")
                if (isinstance(value, ast.Dict) and not value.keys) or (
                        isinstance(value, ast.Call) and called in ("dict", "OrderedDict", "defaultdict")):
                    targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                    found.update(f"{where} {ast.unparse(t)}" for t in targets)
            elif isinstance(node, ast.FunctionDef):
                if any("cache" in ast.unparse(deco) for deco in node.decorator_list):
                    found.add(f"{where} {node.name}")
    # Filled once at import, never at run time: the job handlers; memos of one value holding
    # no data: the dummy password hash, the migration heads.
    assert found == {"jobs.py HANDLERS", "tokens.py _dummy_hash", "routes/health.py migration_heads"}
