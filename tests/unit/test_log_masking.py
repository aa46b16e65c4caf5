import json
import logging

import pytest

from services.common.logs import ContextFilter, JsonFormatter, MaskingFormatter, mask_personal_data


def test_valid_id_number_masked():
    assert mask_personal_data("applicant 11010519491231002X signed in") == "applicant 110105********002X signed in"


def test_lowercase_x_id_number_masked():
    assert mask_personal_data("id=11010519491231002x") == "id=110105********002x"


def test_number_failing_id_check_kept():
    # An all-digit 统一社会信用代码 (or any 18 digits) whose check character is not an ID number's.
    assert mask_personal_data("unit 912201043196639123") == "unit 912201043196639123"


def test_mobile_masked():
    assert mask_personal_data("sms to 13812345678 queued") == "sms to 138****5678 queued"


@pytest.mark.parametrize(("text", "masked"), [
    ("sms to +8613812345678", "sms to +86138****5678"),
    ("sms to 8613812345678", "sms to 86138****5678"),
    ("sms to 008613812345678", "sms to 0086138****5678"),
    ("sms to +86 13812345678", "sms to +86 138****5678"),
    ("sms to +86-13812345678", "sms to +86-138****5678"),
])
def test_mobile_with_country_code_masked(text, masked):
    assert mask_personal_data(text) == masked


def test_other_prefixed_digits_kept():
    assert mask_personal_data("order 9913812345678") == "order 9913812345678"


def test_longer_digit_runs_kept():
    assert mask_personal_data("order 1381234567890") == "order 1381234567890"


def _record(message: str) -> logging.LogRecord:
    record = logging.LogRecord("talent", logging.INFO, __file__, 1, message, None, None)
    ContextFilter("test").filter(record)
    return record


def test_text_formatter_masks():
    line = MaskingFormatter("%(message)s").format(_record("registered 440524188001010014, 13912345678"))
    assert line == "registered 440524********0014, 139****5678"


def test_json_formatter_masks():
    entry = json.loads(JsonFormatter().format(_record("registered 440524188001010014")))
    assert entry["message"] == "registered 440524********0014"
    assert entry["service"] == "test"
