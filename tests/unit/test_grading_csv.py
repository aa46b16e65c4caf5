"""Parsing an admin's CSV of historical gradings, and the ID-number hash shared with identity."""

import hashlib
import hmac
from datetime import date

from services.application.gradings import id_number_hash, parse_gradings
from services.identity.messaging import id_number_pseudonym

KEY = "unit-test-id-number-hash-key"
TODAY = date(2026, 6, 18)
ID_NUMBER = "11010519491231002X"
OTHER_ID = "440524188001010014"


def parse(text: str, encoding: str = "utf-8"):
    return parse_gradings(text.encode(encoding), KEY, TODAY)


def problems(parsed) -> list[tuple[int, str, str]]:
    return [(error.row, error.column, error.code) for error in parsed.errors]


def test_hash_matches_identity_and_normalizes():
    expected = hmac.new(KEY.encode(), ID_NUMBER.encode(), hashlib.sha256).hexdigest()
    assert id_number_hash(KEY, ID_NUMBER) == expected
    assert id_number_hash(KEY, " 11010519491231002x ") == expected
    assert id_number_pseudonym(KEY, ID_NUMBER) == expected
    assert id_number_hash("another-key-of-16-chars", ID_NUMBER) != expected


def test_valid_file_with_bom_and_variants():
    parsed = parse("\ufeff认定日期,姓名,人才类别,层次,公民身份号码\n"
                   "2024-06-18,张伟明,C,2,11010519491231002x\n"
                   "\n"
                   "2023/5/6,王芳,D类,第三层次,440524188001010014\n"
                   "2025-01-02,王芳,e,一,440524188001010014\n", encoding="utf-8")

    assert parsed.errors == []
    assert parsed.rows == 3
    first, second, third = parsed.gradings
    assert (first.row, first.real_name, first.talent_class, first.level, first.graded_on) == (
        2, "张伟明", "C", 2, date(2024, 6, 18))
    assert first.id_number_hash == id_number_hash(KEY, ID_NUMBER)
    assert first.id_number_masked == "110105********002X"
    assert (second.row, second.talent_class, second.level, second.graded_on) == (4, "D", 3, date(2023, 5, 6))
    assert (third.talent_class, third.level) == ("E", 1)


def test_each_bad_value_reported_by_row_and_column():
    parsed = parse("姓名,公民身份号码,人才类别,层次,认定日期\n"
                   "张伟明,110105194912310021,C,2,2024-06-18\n"
                   ",11010519491231002X,F,4,2024-13-01\n"
                   "王芳,440524188001010014,A,1,2026-06-19\n"
                   "李静,,,,\n")

    assert problems(parsed) == [
        (2, "公民身份号码", "grading.id_number_invalid"),
        (3, "姓名", "grading.value_missing"),
        (3, "人才类别", "grading.class_invalid"),
        (3, "层次", "grading.level_invalid"),
        (3, "认定日期", "grading.date_invalid"),
        (4, "认定日期", "grading.date_in_future"),
        (5, "公民身份号码", "grading.value_missing"),
        (5, "人才类别", "grading.value_missing"),
        (5, "层次", "grading.value_missing"),
        (5, "认定日期", "grading.value_missing"),
    ]
    assert parsed.gradings == []
    assert all("110105194912310021" not in str(error.params) for error in parsed.errors)


def test_repeated_grading_in_file_reported():
    row = f"张伟明,{ID_NUMBER},C,2,2024-06-18\n"
    parsed = parse("姓名,公民身份号码,人才类别,层次,认定日期\n" + row + f"王芳,{OTHER_ID},C,2,2024-06-18\n" + row)
    assert problems(parsed) == [(4, "", "grading.duplicate_row")]
    assert parsed.errors[0].params == {"first": 2}


def test_header_problems():
    wrong = parse("姓名,身份证号,人才类别,层次,认定日期,备注\n张伟明,x,C,2,2024-06-18\n")
    assert problems(wrong) == [(1, "身份证号", "grading.unknown_column"), (1, "备注", "grading.unknown_column"),
                               (1, "公民身份号码", "grading.missing_column")]
    repeated = parse("姓名,姓名,公民身份号码,人才类别,层次,认定日期\n")
    assert problems(repeated) == [(1, "姓名", "grading.repeated_column")]


def test_empty_and_header_only_files():
    assert problems(parse("")) == [(0, "", "grading.empty_file")]
    assert problems(parse("姓名,公民身份号码,人才类别,层次,认定日期\n\n")) == [(0, "", "grading.no_rows")]


def test_gbk_file_rejected():
    parsed = parse("姓名,公民身份号码,人才类别,层次,认定日期\n张伟明,11010519491231002X,C,2,2024-06-18\n",
                   encoding="gbk")
    assert problems(parsed) == [(0, "", "grading.not_utf8")]
