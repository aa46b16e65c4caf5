"""数据验证: every rule of the form checked at once over all modules and the attachments.

`validate_application` returns every failure, in the order of the form, as FieldErrors whose `module`
names the module (or "materials" for the 材料附件) and whose `field` is the field's name, prefixed
with the entry's index in a list module ("1.end_date"). The messages name the module, the entry and
the field in Chinese or English. Submitting runs the same function. Pure functions with no I/O.
"""

from dataclasses import dataclass
from datetime import date
from typing import Any

from services.common.errors import FieldError

from .form import (
    ACHIEVEMENTS_MAX_CHARS,
    ENTRY_ID,
    INTRODUCED_SOURCES,
    MATERIALS_LABEL,
    MODULES,
    PERFORMANCE_YEARS,
    REQUIREMENTS,
    Module,
)

ATTACHMENT_LABELS = {
    "photo": ("个人照片", "personal photo"),
    "id_card": ("身份证正反面", "both sides of the ID card"),
    "employment_contract": ("聘用合同", "employment contract"),
    "diploma": ("最高全日制学历证", "highest full-time diploma"),
    "degree": ("最高全日制学位证", "highest full-time degree certificate"),
    "introduction_agreement": ("引进协议", "introduction agreement"),
}
MATERIAL_KINDS = ("id_card", "employment_contract", "diploma", "degree", "introduction_agreement")
REQUIRED_MATERIALS = ("id_card", "employment_contract", "diploma", "degree")


@dataclass(frozen=True)
class Context:
    """Facts the rules compare against: the classes the call accepts and today's date in Beijing."""

    call_classes: tuple[str, ...]
    today: date


def validate_application(modules: dict[str, Any], files: list[dict[str, Any]], context: Context) -> list[FieldError]:
    """Run 数据验证 and return every failing rule in the order of the form."""
    errors: list[FieldError] = []
    basic_info = modules.get("basic_info") or {}
    for module in MODULES.values():
        content = modules.get(module.name)
        if module.is_list:
            errors += _check_list(module, content if isinstance(content, list) else [], files, context)
        else:
            errors += _check_object(module, content if isinstance(content, dict) else {}, context)
    errors += _check_photo(files)
    errors += _check_materials(files, basic_info)
    return errors


def required_materials(basic_info: dict[str, Any]) -> tuple[str, ...]:
    """Name the material kinds a submission needs: 引进协议 too for 引进人才 and 柔性引进人才."""
    if basic_info.get("talent_source") in INTRODUCED_SOURCES:
        return (*REQUIRED_MATERIALS, "introduction_agreement")
    return REQUIRED_MATERIALS


def performance_years(today: date) -> tuple[int, int]:
    """Return the first and last year that 企业人才业绩 may report: the last three complete years."""
    return today.year - PERFORMANCE_YEARS, today.year - 1


# Messages

def _place(module: Module, index: int | None) -> dict[str, str]:
    if index is None:
        return {"where_zh": module.label, "where_en": module.label_en}
    return {"where_zh": f"{module.label}第 {index + 1} 条", "where_en": f"{module.label_en}, entry {index + 1}"}


def _problem(module: Module, name: str, code: str, index: int | None = None, **params: Any) -> FieldError:
    spec = module.field(name)
    field_zh, field_en = (spec.label, spec.label_en) if spec else (name, name)
    path = name if index is None else f"{index}.{name}"
    return FieldError(field=path, code=code, module=module.name,
                      params={**_place(module, index), "field_zh": field_zh, "field_en": field_en, **params})


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip()) or value == []


def _date(value: Any) -> date | None:
    try:
        return date.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        return None


# Modules

def _check_fields(module: Module, content: dict[str, Any], context: Context, index: int | None) -> list[FieldError]:
    """Check the required fields and the dates of one object or entry."""
    errors = [_problem(module, spec.name, "application.field_required", index)
              for spec in module.fields if spec.required and not spec.read_only and _blank(content.get(spec.name))]
    for spec in module.fields:
        day = _date(content.get(spec.name)) if spec.kind == "date" else None
        if day is not None and spec.past and day > context.today:
            errors.append(_problem(module, spec.name, "application.date_in_future", index,
                                   today=context.today.isoformat()))
    if module.period is not None:
        start_name, end_name = module.period
        start, end = _date(content.get(start_name)), _date(content.get(end_name))
        if start is not None and end is not None and end <= start:
            errors.append(_problem(module, end_name, "application.end_not_after_start", index))
    return errors


def _check_object(module: Module, content: dict[str, Any], context: Context) -> list[FieldError]:
    errors = _check_fields(module, content, context, None)
    if module.name == "basic_info":
        errors += _check_basic_info(module, content, context)
    if module.name == "achievements":
        errors += _check_achievements(module, content)
    return errors


def _check_basic_info(module: Module, info: dict[str, Any], context: Context) -> list[FieldError]:
    errors = []
    if _blank(info.get("unit_nature")):
        errors.append(_problem(module, "unit_nature", "application.unit_nature_missing"))
    for requirement in REQUIREMENTS:
        value = info.get(requirement.field)
        if value not in requirement.values:
            continue
        shown = {True: "是", False: "否"}.get(value, value) if isinstance(value, bool) else value
        errors += [_problem(module, name, requirement.code, value=shown)
                   for name in requirement.requires if _blank(info.get(name))]
    talent_class = info.get("talent_class")
    if talent_class and talent_class not in context.call_classes:
        errors.append(_problem(module, "talent_class", "application.class_not_offered",
                               talent_class=talent_class, classes="、".join(context.call_classes)))
    return errors


def _check_achievements(module: Module, achievements: dict[str, Any]) -> list[FieldError]:
    text = achievements.get("text")
    # len() counts Unicode code points, so one Chinese character counts as one, whatever its UTF-8 bytes.
    if isinstance(text, str) and len(text) > ACHIEVEMENTS_MAX_CHARS:
        return [_problem(module, "text", "application.text_too_long", max=ACHIEVEMENTS_MAX_CHARS,
                         length=len(text))]
    return []


def _check_list(module: Module, entries: list[Any], files: list[dict[str, Any]],
                context: Context) -> list[FieldError]:
    errors = []
    if module.required and not entries:
        errors.append(_problem(module, "entries", "application.entries_missing"))
    if module.max_entries is not None and len(entries) > module.max_entries:
        errors.append(_problem(module, "entries", "application.too_many_entries", max=module.max_entries,
                               count=len(entries)))
    for index, entry in enumerate(entries):
        entry = entry if isinstance(entry, dict) else {}
        errors += _check_fields(module, entry, context, index)
        if module.name == "enterprise_performance":
            errors += _check_performance_year(module, entry, context, index)
        if module.attachments is not None:
            errors += _check_entry_files(module, entry, files, index)
    return errors


def _check_performance_year(module: Module, entry: dict[str, Any], context: Context, index: int) -> list[FieldError]:
    year = entry.get("year")
    first, last = performance_years(context.today)
    if isinstance(year, int) and not first <= year <= last:
        return [_problem(module, "year", "application.performance_year_outside", index, year=year, first=first,
                         last=last)]
    return []


def _check_entry_files(module: Module, entry: dict[str, Any], files: list[dict[str, Any]],
                       index: int) -> list[FieldError]:
    low, high = module.attachments
    count = sum(1 for item in files if item.get("kind") == module.name and item.get("entry_id") == entry.get(ENTRY_ID))
    if count < low:
        return [_problem(module, "attachments", "application.entry_attachments_missing", index, min=low, max=high)]
    if count > high:
        return [_problem(module, "attachments", "application.entry_attachments_too_many", index, max=high,
                         count=count)]
    return []


# Attachments

def _check_photo(files: list[dict[str, Any]]) -> list[FieldError]:
    if any(item.get("kind") == "photo" for item in files):
        return []
    kind_zh, kind_en = ATTACHMENT_LABELS["photo"]
    module = MODULES["basic_info"]
    return [FieldError(field="photo", code="application.attachment_missing", module=module.name,
                       params={**_place(module, None), "kind_zh": kind_zh, "kind_en": kind_en})]


def _check_materials(files: list[dict[str, Any]], basic_info: dict[str, Any]) -> list[FieldError]:
    kinds = {item.get("kind") for item in files}
    errors = []
    for kind in required_materials(basic_info):
        if kind not in kinds:
            kind_zh, kind_en = ATTACHMENT_LABELS[kind]
            params = {"where_zh": MATERIALS_LABEL[0], "where_en": MATERIALS_LABEL[1], "kind_zh": kind_zh,
                      "kind_en": kind_en}
            errors.append(FieldError(field=kind, code="application.attachment_missing", module="materials",
                                     params=params))
    return errors
