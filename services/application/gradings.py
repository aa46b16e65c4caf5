"""Historical gradings imported by an admin as CSV, and the ID-number pseudonym that matches them.

The file is UTF-8 (a byte order mark is allowed) with a header row naming these five columns in any
order, and one grading per row:

    姓名,公民身份号码,人才类别,层次,认定日期
    张伟明,11010519491231002X,C,2,2024-06-18

- 姓名: 1 to 50 characters.
- 公民身份号码: 18 characters with a valid GB 11643 check character and birth date.
- 人才类别: A to E, optionally followed by 类 (C类).
- 层次: 1, 2 or 3, also written 一, 二 or 三, optionally as 第二层次.
- 认定日期: YYYY-MM-DD (or YYYY/M/D), not after today.

Every row is checked and every failure is reported with its line number, column and a message; a
file with any failure imports nothing. The service never stores a full ID number: it keeps the
keyed hash and the masked form. Pure functions with no I/O.
"""

import csv
import hashlib
import hmac
import io
import re
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from services.common.validators import is_valid_id_number, mask_id_number, normalize_id_number

COLUMNS = {"姓名": "real_name", "公民身份号码": "id_number", "人才类别": "talent_class", "层次": "level",
           "认定日期": "graded_on"}
MAX_ROWS = 20000
MAX_NAME_LENGTH = 50
_CLASS = re.compile(r"([A-Ea-e])类?")
_LEVEL_DIGITS = {"1": 1, "2": 2, "3": 3, "一": 1, "二": 2, "三": 3}
_LEVEL = re.compile(r"第?([123一二三])(层次)?")
_DATE = re.compile(r"(\d{4})[-/](\d{1,2})[-/](\d{1,2})")


def id_number_hash(key: str, id_number: str) -> str:
    """Return the hex HMAC-SHA256 of the normalized ID number under `key` (TALENT_ID_NUMBER_HASH_KEY).

    Identity publishes the same value in identity.user_registered, so both must compute it alike.
    """
    return hmac.new(key.encode(), normalize_id_number(id_number).encode(), hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class RowError:
    """One failure of the report: the file's line number (the header is line 1), the column and a code."""

    row: int
    column: str
    code: str
    params: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ImportedGrading:
    row: int
    real_name: str
    id_number_hash: str
    id_number_masked: str
    talent_class: str
    level: int
    graded_on: date


@dataclass
class ParsedFile:
    gradings: list[ImportedGrading] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    rows: int = 0


def parse_gradings(content: bytes, hash_key: str, today: date) -> ParsedFile:
    """Parse and check a whole file; a file-level failure is reported on row 0 or the header's row 1."""
    result = ParsedFile()
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        result.errors.append(RowError(0, "", "grading.not_utf8"))
        return result
    reader = csv.reader(io.StringIO(text, newline=""))
    header = next(reader, None)
    columns = _check_header(header, result)
    if columns is None:
        return result

    first_seen: dict[tuple[str, date, str, int], int] = {}
    for values in reader:
        if not any(value.strip() for value in values):
            continue
        result.rows += 1
        if result.rows > MAX_ROWS:
            result.errors.append(RowError(reader.line_num, "", "grading.too_many_rows", {"max": MAX_ROWS}))
            return result
        grading = _parse_row(reader.line_num, values, columns, hash_key, today, result.errors)
        if grading is None:
            continue
        key = (grading.id_number_hash, grading.graded_on, grading.talent_class, grading.level)
        if key in first_seen:
            result.errors.append(RowError(grading.row, "", "grading.duplicate_row", {"first": first_seen[key]}))
            continue
        first_seen[key] = grading.row
        result.gradings.append(grading)
    if result.rows == 0 and not result.errors:
        result.errors.append(RowError(0, "", "grading.no_rows"))
    return result


def _check_header(header: list[str] | None, result: ParsedFile) -> dict[str, int] | None:
    """Map each field to its column index, or add the header's errors and return None."""
    if header is None:
        result.errors.append(RowError(0, "", "grading.empty_file"))
        return None
    names = [name.strip() for name in header]
    errors = [RowError(1, name, "grading.unknown_column") for name in names if name not in COLUMNS]
    errors += [RowError(1, name, "grading.missing_column") for name in COLUMNS if name not in names]
    errors += [RowError(1, name, "grading.repeated_column") for name in COLUMNS if names.count(name) > 1]
    if errors:
        result.errors.extend(errors)
        return None
    return {COLUMNS[name]: index for index, name in enumerate(names)}


def _parse_row(line: int, values: list[str], columns: dict[str, int], hash_key: str, today: date,
               errors: list[RowError]) -> ImportedGrading | None:
    def cell(name: str) -> str:
        index = columns[name]
        return values[index].strip() if index < len(values) else ""

    found: list[RowError] = []
    real_name = cell("real_name")
    if not real_name:
        found.append(RowError(line, "姓名", "grading.value_missing"))
    elif len(real_name) > MAX_NAME_LENGTH:
        found.append(RowError(line, "姓名", "grading.name_too_long", {"max": MAX_NAME_LENGTH}))

    id_number = normalize_id_number(cell("id_number"))
    if not id_number:
        found.append(RowError(line, "公民身份号码", "grading.value_missing"))
    elif not is_valid_id_number(id_number, today):
        found.append(RowError(line, "公民身份号码", "grading.id_number_invalid"))

    talent_class = _talent_class(cell("talent_class"), line, found)
    level = _level(cell("level"), line, found)
    graded_on = _graded_on(cell("graded_on"), today, line, found)

    if found:
        errors.extend(found)
        return None
    return ImportedGrading(row=line, real_name=real_name, id_number_hash=id_number_hash(hash_key, id_number),
                           id_number_masked=mask_id_number(id_number), talent_class=talent_class, level=level,
                           graded_on=graded_on)


def _talent_class(value: str, line: int, found: list[RowError]) -> str | None:
    if not value:
        found.append(RowError(line, "人才类别", "grading.value_missing"))
        return None
    match = _CLASS.fullmatch(value)
    if match is None:
        found.append(RowError(line, "人才类别", "grading.class_invalid", {"value": value}))
        return None
    return match.group(1).upper()


def _level(value: str, line: int, found: list[RowError]) -> int | None:
    if not value:
        found.append(RowError(line, "层次", "grading.value_missing"))
        return None
    match = _LEVEL.fullmatch(value)
    if match is None:
        found.append(RowError(line, "层次", "grading.level_invalid", {"value": value}))
        return None
    return _LEVEL_DIGITS[match.group(1)]


def _graded_on(value: str, today: date, line: int, found: list[RowError]) -> date | None:
    if not value:
        found.append(RowError(line, "认定日期", "grading.value_missing"))
        return None
    match = _DATE.fullmatch(value)
    try:
        day = date(*(int(part) for part in match.groups())) if match else None
    except ValueError:
        day = None
    if day is None:
        found.append(RowError(line, "认定日期", "grading.date_invalid", {"value": value}))
        return None
    if day > today:
        found.append(RowError(line, "认定日期", "grading.date_in_future", {"value": value}))
        return None
    return day
