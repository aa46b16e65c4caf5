import json
from datetime import date
from pathlib import Path

import pytest

from services.common.validators import (
    certificate_identifier_check_char,
    id_number_check_char,
    is_valid_certificate_identifier,
    is_valid_id_number,
    is_valid_mobile,
    is_valid_uscc,
    make_certificate_identifier,
    mask_id_number,
    mask_mobile,
    normalize_id_number,
    normalize_uscc,
    uscc_check_char,
)

FIXTURES_DIR = Path(__file__).parent.parent / "fixtures"
PUBLISHED_IDENTIFIER = "1.2.156.3005.2.11100000000013338W032.11220000013544541J.2430599.001.F"


def _with_id_check_char(first17: str) -> str:
    return first17 + id_number_check_char(first17)


@pytest.mark.parametrize("number", ["11010519491231002X", "440524188001010014"])
def test_id_number_reference_examples(number: str) -> None:
    assert is_valid_id_number(number)


def test_id_number_lowercase_x() -> None:
    assert is_valid_id_number("11010519491231002x")
    assert normalize_id_number(" 11010519491231002x ") == "11010519491231002X"


@pytest.mark.parametrize("number", ["110105194912310021", "440524188001010015"])
def test_id_number_wrong_check_char(number: str) -> None:
    assert not is_valid_id_number(number)


@pytest.mark.parametrize("number", ["", "11010519491231002", "11010519491231002X0"])
def test_id_number_bad_length(number: str) -> None:
    assert not is_valid_id_number(number)


@pytest.mark.parametrize("number", ["1101051949123100AX", "X1010519491231002X"])
def test_id_number_letters(number: str) -> None:
    assert not is_valid_id_number(number)


def test_id_number_non_ascii_digits() -> None:
    assert not is_valid_id_number("١١٠١٠٥١٩٤٩١٢٣١٠٠٢X")


def test_id_number_impossible_date() -> None:
    assert not is_valid_id_number(_with_id_check_char("22010419990230031"))


def test_id_number_future_birth_date() -> None:
    number = _with_id_check_char("22010420300101031")

    assert not is_valid_id_number(number)
    assert is_valid_id_number(number, today=date(2030, 1, 1))


def test_id_number_before_1800() -> None:
    assert not is_valid_id_number(_with_id_check_char("22010417991231031"))


def test_id_check_char_rejects_letters() -> None:
    with pytest.raises(ValueError):
        id_number_check_char("2201041985061203A")


@pytest.mark.parametrize("code", ["91440300708461136T", "91110108551385082Q"])
def test_uscc_reference_examples(code: str) -> None:
    assert is_valid_uscc(code)


def test_uscc_normalized() -> None:
    assert normalize_uscc(" 91440300708461136t ") == "91440300708461136T"
    assert is_valid_uscc("91440300708461136t")


def test_uscc_wrong_check_char() -> None:
    assert not is_valid_uscc("91440300708461136U")


@pytest.mark.parametrize("code", ["", "91440300708461136", "91440300708461136T0"])
def test_uscc_bad_length(code: str) -> None:
    assert not is_valid_uscc(code)


@pytest.mark.parametrize("letter", ["I", "O", "Z", "S", "V"])
def test_uscc_forbidden_letters(letter: str) -> None:
    assert not is_valid_uscc(f"9144030070846113{letter}T")
    with pytest.raises(ValueError):
        uscc_check_char(f"9144030070846113{letter}")


def test_uscc_letter_first_char() -> None:
    first17 = "Y1220101MA17QH2R7"

    assert is_valid_uscc(first17 + uscc_check_char(first17))


def test_uscc_check_value_zero() -> None:
    # The last body character has weight 28, coprime to 31, so its 31 values give all 31 check values.
    variants = [f"9122010100000000{char}" for char in "0123456789ABCDEFGHJKLMNPQRTUWXY"]
    first17 = next(code for code in variants if uscc_check_char(code) == "0")

    assert is_valid_uscc(first17 + "0")


def test_mask_id_number() -> None:
    assert mask_id_number("11010519491231002X") == "110105********002X"
    assert mask_id_number("11010519491231002x") == "110105********002X"


def test_mask_id_number_bad_length() -> None:
    with pytest.raises(ValueError):
        mask_id_number("1101051949")


@pytest.mark.parametrize("number", ["13812345678", "19912345678", "16612345678"])
def test_mobile_valid(number: str) -> None:
    assert is_valid_mobile(number)


@pytest.mark.parametrize(
    "number", ["12812345678", "1381234567", "138123456789", "+8613812345678", "1381234567a", ""]
)
def test_mobile_invalid(number: str) -> None:
    assert not is_valid_mobile(number)


def test_mask_mobile() -> None:
    assert mask_mobile("13812345678") == "138****5678"


def test_mask_mobile_invalid() -> None:
    with pytest.raises(ValueError):
        mask_mobile("12345")


def test_certificate_identifier_published_example() -> None:
    assert is_valid_certificate_identifier(PUBLISHED_IDENTIFIER)


def test_certificate_identifier_check_char() -> None:
    body = "".join(["11100000000013338W032", "11220000013544541J", "2430599", "001"])

    assert certificate_identifier_check_char(body) == "F"


@pytest.mark.parametrize(
    "identifier",
    [
        PUBLISHED_IDENTIFIER[:-1] + "G",
        PUBLISHED_IDENTIFIER.replace("2430599", "2430598"),
        PUBLISHED_IDENTIFIER.replace("11220000013544541J", "11220000013544514J"),
    ],
)
def test_certificate_identifier_corrupted(identifier: str) -> None:
    assert not is_valid_certificate_identifier(identifier)


@pytest.mark.parametrize(
    "identifier",
    [
        "",
        PUBLISHED_IDENTIFIER.removeprefix("1.2.156.3005.2."),
        PUBLISHED_IDENTIFIER.replace("1.2.156.3005.2", "1.2.156.3005.3"),
        PUBLISHED_IDENTIFIER.replace(".001.", ".1."),
        PUBLISHED_IDENTIFIER.replace("2430599", "2430.599"),
        PUBLISHED_IDENTIFIER.lower(),
    ],
)
def test_certificate_identifier_malformed(identifier: str) -> None:
    assert not is_valid_certificate_identifier(identifier)


def test_make_certificate_identifier() -> None:
    identifier = make_certificate_identifier("11100000000013338W032", "11220000013544541J", "2430599")

    assert identifier == PUBLISHED_IDENTIFIER


@pytest.mark.parametrize(
    ("serial", "version"), [("2430599", 1000), ("2430599", 0), ("2430.599", 1), ("a1", 1), ("", 1)]
)
def test_make_certificate_identifier_invalid(serial: str, version: int) -> None:
    with pytest.raises(ValueError):
        make_certificate_identifier("11100000000013338W032", "11220000013544541J", serial, version)


def test_fixture_person_identifiers() -> None:
    person = json.loads((FIXTURES_DIR / "person.json").read_text(encoding="utf-8"))

    assert is_valid_id_number(person["id_number"])
    assert is_valid_mobile(person["mobile"])
    assert person["id_number"][6:14] == person["application"]["basic_info"]["birth_date"].replace("-", "")


def test_fixture_unit_identifiers() -> None:
    unit = json.loads((FIXTURES_DIR / "unit.json").read_text(encoding="utf-8"))

    assert is_valid_uscc(unit["uscc"])
    assert is_valid_mobile(unit["contact_mobile"])
