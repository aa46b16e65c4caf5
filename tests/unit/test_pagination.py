import uuid
from datetime import UTC, datetime

import pytest

from services.common.errors import ApiError
from services.common.pagination import decode_cursor, encode_cursor


def test_cursor_round_trip():
    moment = datetime(2026, 12, 4, 20, 1, 2, 345678, tzinfo=UTC)
    row_id = uuid.uuid4()

    assert decode_cursor(encode_cursor(moment, row_id)) == (moment, row_id)


def test_cursor_is_url_safe_without_padding():
    cursor = encode_cursor(datetime(2026, 1, 1, tzinfo=UTC), uuid.uuid4())

    assert "=" not in cursor
    assert "+" not in cursor
    assert "/" not in cursor


def test_no_cursor_is_first_page():
    assert decode_cursor(None) is None


@pytest.mark.parametrize("cursor", ["not-base64!", "e30", "eyJ0IjogMX0"])
def test_malformed_cursor_names_field(cursor):
    with pytest.raises(ApiError) as raised:
        decode_cursor(cursor)

    assert raised.value.status == 422
    assert [(error.field, error.code) for error in raised.value.errors] == [("cursor", "pagination.cursor_invalid")]
