"""Account and routing numbers are never stored in the clear, and keys rotate."""

from collections.abc import Callable
from datetime import timedelta

import pytest
from sqlalchemy import Engine, select, text

from cbp.adapters.sql import schema as t
from cbp.adapters.sql.crypto import FieldCipher
from cbp.adapters.sql.maintenance import rotate_encryption_keys
from cbp.adapters.sql.unit_of_work import SqlAlchemyUnitOfWork
from cbp.domain.money import Money
from tests.contract import builders as b

ENGINES = ["sqlite_engine", pytest.param("postgres_engine", marks=pytest.mark.services)]


@pytest.fixture(params=ENGINES)
def engine(request: pytest.FixtureRequest) -> Engine:
    return request.getfixturevalue(request.param)  # type: ignore[no-any-return]


def store_accounts(engine: Engine, cipher: FieldCipher) -> tuple[str, str]:
    payee = b.payee("ten_1", "cus_1")
    account = b.funding_account("ten_1", "cus_1")
    with SqlAlchemyUnitOfWork(engine, cipher) as uow:
        uow.payees.add(payee)
        uow.funding_accounts.add(account)
        uow.commit()
    return payee.id, account.id


def store_micro_deposit_account(engine: Engine, cipher: FieldCipher) -> str:
    account = b.funding_account("ten_1", "cus_1")
    amounts = (Money.of("0.17", "USD"), Money.of("0.43", "USD"))
    account.start_micro_deposits(amounts, expires_at=b.NOW + timedelta(days=7), at=b.NOW)
    with SqlAlchemyUnitOfWork(engine, cipher) as uow:
        uow.funding_accounts.add(account)
        uow.commit()
    return account.id


def raw_dump(engine: Engine) -> str:
    with engine.connect() as conn:
        rows = [*conn.execute(select(t.payees)), *conn.execute(select(t.funding_accounts))]
    return repr(rows)


def test_the_raw_tables_hold_no_plaintext_number(engine: Engine) -> None:
    cipher = FieldCipher([FieldCipher.generate_key()])
    store_accounts(engine, cipher)
    store_micro_deposit_account(engine, cipher)
    dump = raw_dump(engine)
    for plaintext in ("4417123456", "000123456789", "011000015", "123456789", "3456", "0.17"):
        assert plaintext not in dump
    with engine.connect() as conn:
        stored = conn.execute(text("SELECT account_number_enc FROM payees")).scalar_one()
    assert cipher.decrypt(stored) == "4417123456"


def test_rotation_moves_every_number_to_the_new_key(engine: Engine) -> None:
    old_key, new_key = FieldCipher.generate_key(), FieldCipher.generate_key()
    payee_id, account_id = store_accounts(engine, FieldCipher([old_key]))
    challenged_id = store_micro_deposit_account(engine, FieldCipher([old_key]))
    progress: list[tuple[int, int]] = []
    rows = rotate_encryption_keys(
        engine, FieldCipher([new_key, old_key]), progress=lambda d, n: progress.append((d, n))
    )
    assert rows == 3 and progress[-1] == (3, 3)
    only_new = FieldCipher([new_key])
    with SqlAlchemyUnitOfWork(engine, only_new) as uow:
        assert uow.payees.get("ten_1", payee_id).account_number == "4417123456"
        account = uow.funding_accounts.get("ten_1", account_id)
        assert (account.routing_number, account.account_number) == ("011000015", "000123456789")
        challenge = uow.funding_accounts.get("ten_1", challenged_id).micro_deposits
        assert challenge is not None
        assert [str(m.amount) for m in challenge.amounts] == ["0.17", "0.43"]
    with (
        pytest.raises(ValueError, match="cannot be decrypted"),
        SqlAlchemyUnitOfWork(engine, FieldCipher([old_key])) as uow,
    ):
        uow.payees.get("ten_1", payee_id)


def test_a_wrong_key_is_a_clear_error_not_garbage(engine: Engine) -> None:
    payee_id, _ = store_accounts(engine, FieldCipher([FieldCipher.generate_key()]))
    stranger: Callable[[], SqlAlchemyUnitOfWork] = lambda: SqlAlchemyUnitOfWork(  # noqa: E731
        engine, FieldCipher([FieldCipher.generate_key()])
    )
    with pytest.raises(ValueError, match="configured keys"), stranger() as uow:
        uow.payees.get("ten_1", payee_id)
