"""Pydantic models of the form's modules, built from the field lists in form.py.

Saving checks types only: every field may be missing or empty in a draft. Text is stripped and put in
Unicode NFC, so that characters are counted the way people see them, and an empty text becomes null.
A dictionary field takes a code or a label and stores the label. Unknown fields are rejected.
"""

import unicodedata
from datetime import date
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, RootModel, create_model
from pydantic_core import PydanticCustomError

from .dictionaries import label_of
from .form import (
    ACHIEVEMENTS_SAVE_MAX,
    ENTRY_ID,
    ENTRY_ID_PATTERN,
    LONG_TEXT_MAX,
    MAX_SAVED_ENTRIES,
    MODULES,
    TEXT_MAX,
    FormField,
    Module,
)


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


def normalize_text(value: Any) -> Any:
    """Strip, turn Windows line ends into \\n and compose characters (NFC); empty text becomes None."""
    if not isinstance(value, str):
        return value
    text = unicodedata.normalize("NFC", value.replace("\r\n", "\n")).strip()
    return text or None


def _yes_no(value: Any) -> Any:
    """Accept the form's 是/否 as well as JSON booleans."""
    if isinstance(value, str):
        return {"是": True, "否": False, "": None}.get(value.strip(), value)
    return value


def _blank_to_none(value: Any) -> Any:
    return None if isinstance(value, str) and not value.strip() else value


def _in_dictionary(name: str):
    def check(value: str | None) -> str | None:
        if value is None:
            return None
        label = label_of(name, value)
        if label is None:
            raise PydanticCustomError("application.not_in_dictionary", "value is not in the dictionary",
                                      {"input": value, "dictionary": name})
        return label
    return AfterValidator(check)


def _two_decimals(value: float) -> float:
    return round(value, 2)


def _text_type(max_length: int) -> Any:
    return Annotated[Annotated[str, Field(max_length=max_length)] | None, BeforeValidator(normalize_text)]


def _optional(kind: Any, *checks: Any) -> Any:
    """Allow null or an empty string (stored as null) besides `kind` with its `checks`."""
    checked = Annotated[kind, *checks] if checks else kind
    return Annotated[checked | None, BeforeValidator(_blank_to_none)]


def field_type(spec: FormField, module: str) -> Any:
    """Return the annotated type that checks one field when a module is saved."""
    if spec.kind == "text":
        return _text_type(TEXT_MAX)
    if spec.kind == "long_text":
        return _text_type(ACHIEVEMENTS_SAVE_MAX if module == "achievements" else LONG_TEXT_MAX)
    if spec.kind == "dictionary":
        return Annotated[str | None, BeforeValidator(normalize_text), _in_dictionary(spec.dictionary)]
    if spec.kind == "date":
        return _optional(date)
    if spec.kind == "bool":
        return Annotated[bool | None, BeforeValidator(_yes_no)]
    if spec.kind == "talent_class":
        return _optional(Literal["A", "B", "C", "D", "E"])
    if spec.kind == "level":
        return _optional(int, Field(ge=1, le=3))
    if spec.kind == "year":
        return _optional(int, Field(ge=1949, le=2100))
    if spec.kind == "integer":
        return _optional(int, Field(ge=0, le=10_000_000))
    if spec.kind == "amount":
        return _optional(float, Field(ge=-1e10, le=1e10), AfterValidator(_two_decimals))
    raise ValueError(f"unknown field kind {spec.kind!r} of {module}.{spec.name}")


def _check_entry_id(value: str | None) -> str | None:
    if value is not None and not ENTRY_ID_PATTERN.fullmatch(value):
        raise PydanticCustomError("application.entry_id_invalid", "invalid entry id", {"input": value})
    return value


EntryId = Annotated[str | None, AfterValidator(_check_entry_id)]


def _class_name(module: Module, suffix: str) -> str:
    return "".join(part.title() for part in module.name.split("_")) + suffix


def _model(module: Module) -> type[BaseModel]:
    fields: dict[str, Any] = {spec.name: (field_type(spec, module.name), None) for spec in module.fields}
    if not module.is_list:
        return create_model(_class_name(module, ""), __base__=Strict, __doc__=module.label, **fields)
    entry = create_model(_class_name(module, "Entry"), __base__=Strict, __doc__=f"{module.label}的一条经历",
                         **{ENTRY_ID: (EntryId, None)}, **fields)
    return RootModel[Annotated[list[entry], Field(max_length=MAX_SAVED_ENTRIES)]]


MODULE_MODELS: dict[str, type[BaseModel]] = {name: _model(module) for name, module in MODULES.items()}


def parse_module_content(module: str, data: Any) -> Any:
    """Check `data` against the module's model and return it as JSON values, keeping only the fields sent.

    Raises pydantic.ValidationError.
    """
    parsed = MODULE_MODELS[module].model_validate(data)
    return parsed.model_dump(mode="json", exclude_unset=True)


class ModuleContent(RootModel[Any]):
    """Body of PUT /applications/{id}/modules/{module}: an object for 基本信息 and 创新创业成果, a list of
    entries for the other modules. Each module's fields are listed by GET /form."""
