import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from cbp.domain.banking import (
    AccountMask,
    aba_check_digit,
    check_account_against_masks,
    check_routing_number,
    is_valid_routing_number,
    mask_account_number,
    normalize_account_number,
)
from cbp.domain.errors import InvalidAccountNumber, InvalidInput, InvalidRoutingNumber

VALID_PREFIXES = [*range(0, 13), *range(21, 33), *range(61, 73), 80]


@st.composite
def routing_numbers(draw: st.DrawFn) -> str:
    prefix = f"{draw(st.sampled_from(VALID_PREFIXES)):02d}"
    body = draw(st.text("0123456789", min_size=6, max_size=6))
    first_eight = prefix + body
    return first_eight + str(aba_check_digit(first_eight))


@given(routing_numbers().filter(lambda n: n != "000000000"))
def test_a_number_with_its_check_digit_is_valid(number: str) -> None:
    assert is_valid_routing_number(number)
    assert check_routing_number(number) == number


def test_all_zeros_passes_the_checksum_but_is_no_bank() -> None:
    assert aba_check_digit("00000000") == 0
    assert not is_valid_routing_number("000000000")


@given(routing_numbers(), st.integers(min_value=0, max_value=8), st.integers(0, 9))
def test_changing_any_single_digit_breaks_the_checksum(number: str, index: int, digit: int) -> None:
    assume(int(number[index]) != digit)
    altered = number[:index] + str(digit) + number[index + 1 :]
    assert not is_valid_routing_number(altered)


def test_known_routing_numbers() -> None:
    assert is_valid_routing_number("011000015")  # Federal Reserve Bank of Boston
    assert is_valid_routing_number("021000021")  # JPMorgan Chase
    assert not is_valid_routing_number("021000022")
    assert not is_valid_routing_number("12345678")
    assert not is_valid_routing_number("0110000１5")
    assert not is_valid_routing_number("991000015")  # no such Fed prefix
    with pytest.raises(InvalidRoutingNumber):
        check_routing_number("123456789")


@st.composite
def mask_and_match(draw: st.DrawFn) -> tuple[str, str]:
    pattern = draw(st.text("9AX7K", min_size=1, max_size=20))
    chars = []
    for symbol in pattern:
        if symbol == "9":
            chars.append(draw(st.sampled_from("0123456789")))
        elif symbol == "A":
            chars.append(draw(st.sampled_from("ABCXYZ")))
        elif symbol == "X":
            chars.append(draw(st.sampled_from("09AZ")))
        else:
            chars.append(symbol)
    return pattern, "".join(chars)


@given(mask_and_match())
def test_a_number_built_from_a_mask_matches_it(pair: tuple[str, str]) -> None:
    pattern, number = pair
    assert AccountMask(pattern).matches(number)
    assert not AccountMask(pattern).matches(number + "1")


def test_masks_check_each_position() -> None:
    mask = AccountMask("AB99")
    assert mask.matches("AB12")
    assert not mask.matches("AC12")
    assert not mask.matches("ABX2")
    with pytest.raises(InvalidInput):
        AccountMask("99-99")


def test_an_account_number_must_fit_one_of_the_billers_masks() -> None:
    masks = (AccountMask("9999999999"), AccountMask("A999999"))
    assert check_account_against_masks("123-456 7890", masks) == "1234567890"
    assert check_account_against_masks("b123456", masks) == "B123456"
    with pytest.raises(InvalidAccountNumber):
        check_account_against_masks("12345", masks)
    assert check_account_against_masks("12345", ()) == "12345"


def test_account_numbers_are_normalized_and_bounded() -> None:
    assert normalize_account_number(" 12-34 ") == "1234"
    for bad in ("", "12$4", "1" * 35, "１２３"):
        with pytest.raises(InvalidAccountNumber):
            normalize_account_number(bad)


@given(st.text("0123456789ABCDEF", min_size=1, max_size=34))
def test_masking_hides_all_but_a_short_tail_and_the_length(number: str) -> None:
    masked = mask_account_number(number)
    visible = masked.removeprefix("****")
    assert masked.startswith("****")
    assert len(visible) <= 4
    assert len(visible) <= len(number) // 2
    assert number.endswith(visible)
    if len(number) >= 8:
        assert masked == "****" + number[-4:]  # NOTE: the head may equal the tail ("00000000")
