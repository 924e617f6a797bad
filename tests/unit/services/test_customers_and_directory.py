import pytest

from cbp.bootstrap import Cbp, bootstrap
from cbp.domain.directory import PayeeStatus
from cbp.domain.errors import AlreadyExists, IllegalTransition, InvalidInput, NotFound
from cbp.ports.errors import DependencyUnavailable
from cbp.services import commands as c
from cbp.settings import Settings
from tests.unit.services.conftest import address


def add_biller(app: Cbp, name: str, aliases: tuple[str, ...] = ()) -> str:
    return str(
        app.handle(
            c.AddGlobalPayee(name=name, category="utilities", address=address(), aliases=aliases)
        )
    )


class TestCustomers:
    def test_a_customer_belongs_to_its_tenant_only(self, app: Cbp) -> None:
        acme = app.handle(c.CreateTenant(name="Acme"))
        other = app.handle(c.CreateTenant(name="Other"))
        customer_id = app.handle(c.CreateCustomer(tenant_id=acme, external_id="u1", name="Ada"))
        assert app.queries.get_customer(acme, customer_id).name == "Ada"
        with pytest.raises(NotFound):
            app.queries.get_customer(other, customer_id)

    def test_an_external_id_is_unique_within_a_tenant(self, app: Cbp) -> None:
        acme = app.handle(c.CreateTenant(name="Acme"))
        other = app.handle(c.CreateTenant(name="Other"))
        app.handle(c.CreateCustomer(tenant_id=acme, external_id="u1", name="Ada"))
        with pytest.raises(AlreadyExists):
            app.handle(c.CreateCustomer(tenant_id=acme, external_id="u1", name="Bob"))
        app.handle(c.CreateCustomer(tenant_id=other, external_id="u1", name="Bob"))

    def test_bad_customer_data_is_refused(self, app: Cbp) -> None:
        acme = app.handle(c.CreateTenant(name="Acme"))
        with pytest.raises(InvalidInput, match="email"):
            app.handle(c.CreateCustomer(tenant_id=acme, external_id="u1", name="A", email="nope"))
        with pytest.raises(InvalidInput, match="name"):
            app.handle(c.CreateCustomer(tenant_id=acme, external_id="u1", name=" "))
        with pytest.raises(NotFound):
            app.handle(c.CreateCustomer(tenant_id="ten_x", external_id="u1", name="A"))


class TestDirectory:
    def test_search_is_case_insensitive_and_ranks_prefix_matches_first(self, app: Cbp) -> None:
        add_biller(app, "American Water")
        add_biller(app, "Water District of Springfield")
        add_biller(app, "Springfield Electric", aliases=("SpringWater",))
        names = [p.name for p in app.queries.search_directory("WATER").items]
        assert names == ["Water District of Springfield", "American Water", "Springfield Electric"]

    def test_search_pages_through_every_match_once(self, app: Cbp) -> None:
        for i in range(7):
            add_biller(app, f"Biller {i}")
        seen: list[str] = []
        cursor = None
        while True:
            page = app.queries.search_directory("biller", cursor=cursor, limit=3)
            seen += [p.name for p in page.items]
            if page.next_cursor is None:
                break
            cursor = page.next_cursor
        assert seen == [f"Biller {i}" for i in range(7)]

    def test_search_text_that_looks_like_sql_is_just_text(self, app: Cbp) -> None:
        add_biller(app, "O'Brien Plumbing")
        assert [p.name for p in app.queries.search_directory("o'b").items] == ["O'Brien Plumbing"]
        assert app.queries.search_directory("'; DROP TABLE directory; --").items == []

    def test_search_refuses_empty_or_huge_text_and_bad_cursors(self, app: Cbp) -> None:
        for text in ("", "   ", "x" * 101):
            with pytest.raises(InvalidInput):
                app.queries.search_directory(text)
        with pytest.raises(InvalidInput, match="cursor"):
            app.queries.search_directory("a", cursor="not-a-cursor!")
        with pytest.raises(InvalidInput, match="limit"):
            app.queries.search_directory("a", limit=101)

    def test_searches_are_cached_until_the_directory_changes(self, app: Cbp) -> None:
        biller_id = add_biller(app, "Springfield Gas")
        assert app.queries.search_directory("spring").items[0].name == "Springfield Gas"
        with app.deps.unit_of_work() as uow:  # a change behind the cache's back stays invisible...
            biller = uow.directory.get(biller_id)
            biller.update(name="Springfield Gas & Light", at=app.deps.clock.now())
            uow.directory.save(biller)
            uow.commit()
        assert app.queries.search_directory("spring").items[0].name == "Springfield Gas"
        app.handle(c.UpdateGlobalPayee(global_payee_id=biller_id, lead_days=4))
        result = app.queries.search_directory("spring").items[0]  # ...until a use case changes it
        assert (result.name, result.lead_days) == ("Springfield Gas & Light", 4)

    def test_a_status_change_is_announced_on_payee_events(self, app: Cbp) -> None:
        biller_id = add_biller(app, "Springfield Gas")
        app.handle(c.UpdateGlobalPayee(global_payee_id=biller_id, status="suspended"))
        assert app.queries.get_global_payee(biller_id).status is PayeeStatus.SUSPENDED
        app.run_until_idle()
        published = app.container.adapters.broker().messages
        assert [(m.destination, m.type) for m in published] == [
            ("payee.events", "PayeeStatusChanged")
        ]
        assert published[0].payload["new_status"] == "suspended"
        with pytest.raises(IllegalTransition):
            app.handle(c.UpdateGlobalPayee(global_payee_id=biller_id, status="suspended"))

    def test_bad_biller_data_is_refused(self, app: Cbp) -> None:
        with pytest.raises(InvalidInput, match="lead days"):
            app.handle(c.AddGlobalPayee(name="X", category="u", address=address(), lead_days=31))
        with pytest.raises(InvalidInput, match="payment_method"):
            app.handle(
                c.AddGlobalPayee(name="X", category="u", address=address(), payment_method="cash")
            )
        with pytest.raises(InvalidInput, match="mask"):
            app.handle(
                c.AddGlobalPayee(name="X", category="u", address=address(), account_masks=("9-9",))
            )
        biller_id = add_biller(app, "Springfield Gas")
        with pytest.raises(InvalidInput, match="status"):
            app.handle(c.UpdateGlobalPayee(global_payee_id=biller_id, status="paused"))
        with pytest.raises(NotFound):
            app.queries.get_global_payee("gpy_missing")


class BrokenCache:
    """A cache whose server is down."""

    def get(self, key: str) -> bytes | None:
        raise DependencyUnavailable("cache", "connection refused")

    def get_many(self, keys: object) -> list[bytes | None]:
        raise DependencyUnavailable("cache", "connection refused")

    def set(self, key: str, value: bytes, *, ttl_seconds: float) -> None:
        raise DependencyUnavailable("cache", "connection refused")

    def delete(self, key: str) -> None:
        raise DependencyUnavailable("cache", "connection refused")


def test_the_directory_works_uncached_while_the_cache_is_down() -> None:
    core = bootstrap(Settings(database_url="memory://"), cache=BrokenCache())
    try:
        add_biller(core, "Springfield Gas")
        assert [p.name for p in core.queries.search_directory("spring").items] == [
            "Springfield Gas"
        ]
    finally:
        core.close()
