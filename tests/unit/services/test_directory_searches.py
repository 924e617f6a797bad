"""Directory search pages: shared by processes, kept by each, forgotten on any change."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import Any

import pytest

from cbp.adapters.clock_and_ids.clock import UuidV7IdGenerator
from cbp.adapters.memory.broadcast import InProcessBroadcast
from cbp.adapters.memory.cache import InMemoryCache
from cbp.adapters.memory.clock import InMemoryClock
from cbp.ports.storage.pages import Page
from cbp.services.directory_searches import DirectorySearches, PageForm

#: Pages kept as the text that was read, so a test sees which reading answered.
TEXT = PageForm[str]("test", lambda page: str(page.next_cursor).encode(), bytes.decode)


class Directory:
    """A directory whose every search answers with how many searches it has run."""

    def __init__(self) -> None:
        self.reads = 0
        self.during_read: Callable[[], None] = lambda: None

    def search(self, text: str, *, cursor: str | None, limit: int) -> Page[Any]:
        self.reads += 1
        self.during_read()
        return Page([], f"read {self.reads}")

    def reading(self) -> AbstractContextManager[Any]:
        @contextmanager
        def unit_of_work() -> Iterator[Any]:
            yield self

        return unit_of_work()

    @property
    def directory(self) -> Directory:
        return self


class Process:
    """One process's searches over the shared cache and broadcast."""

    def __init__(self, cache: InMemoryCache, changes: InProcessBroadcast, now: list[float]):
        self.searches = DirectorySearches(
            cache, changes, UuidV7IdGenerator(), ttl_seconds=60, monotonic=lambda: now[0]
        )

    def search(self, directory: Directory, text: str = "gas") -> str:
        return self.searches.search(
            text, cursor=None, limit=20, reading=directory.reading, form=TEXT
        )


@pytest.fixture
def world() -> tuple[Directory, InMemoryCache, InProcessBroadcast, list[float]]:
    return Directory(), InMemoryCache(InMemoryClock()), InProcessBroadcast(), [0.0]


def test_a_repeated_search_is_read_once_and_then_served_from_the_process(world: Any) -> None:
    directory, cache, changes, now = world
    process = Process(cache, changes, now)
    assert [process.search(directory) for _ in range(3)] == ["read 1"] * 3
    assert directory.reads == 1
    cache.delete('directory:search:["test", 20, null, "gas"]')
    assert process.search(directory) == "read 1", "the process kept its own copy"


def test_another_process_reads_the_shared_page_without_the_database(world: Any) -> None:
    directory, cache, changes, now = world
    first, second = Process(cache, changes, now), Process(cache, changes, now)
    assert (first.search(directory), second.search(directory)) == ("read 1", "read 1")
    assert directory.reads == 1


def test_a_change_anywhere_is_seen_by_every_process_at_once(world: Any) -> None:
    directory, cache, changes, now = world
    first, second = Process(cache, changes, now), Process(cache, changes, now)
    first.search(directory), second.search(directory)
    first.searches.forget_all()
    assert second.search(directory) == "read 2"
    assert first.search(directory) == "read 2", "the new page is shared"


def test_a_page_read_while_the_directory_changes_is_not_kept(world: Any) -> None:
    directory, cache, changes, now = world
    process = Process(cache, changes, now)
    process.search(directory, "water")  # NOTE: listening from the first search on
    directory.during_read = lambda: changes.announce("directory")
    assert process.search(directory) == "read 2"
    directory.during_read = lambda: None
    cache.delete('directory:search:["test", 20, null, "gas"]')
    assert process.search(directory) == "read 3", "the process did not keep the page"


def test_a_kept_page_lasts_no_longer_than_the_cache_entry(world: Any) -> None:
    directory, cache, changes, now = world
    process = Process(cache, changes, now)
    process.search(directory)
    cache.delete('directory:search:["test", 20, null, "gas"]')
    now[0] = 60.0
    assert process.search(directory) == "read 2"


def test_the_process_keeps_its_most_recent_pages_only(
    world: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    directory, cache, changes, now = world
    monkeypatch.setattr(DirectorySearches, "RECENT_LIMIT", 2)
    process = Process(cache, changes, now)
    for text in ("a", "b", "a", "c"):
        process.search(directory, text)
    assert list(process.searches._recent) == [
        'directory:search:["test", 20, null, "a"]',
        'directory:search:["test", 20, null, "c"]',
    ]
