"""GET /form and GET /dictionaries: the form's modules, fields and choices, for clients to build it from data."""

from aiohttp import web

from services.common.errors import ApiError, preferred_language
from services.common.web import json_response, parse_query

from .dictionaries import DICTIONARIES
from .form import ACHIEVEMENTS_MAX_CHARS, GROUPS, MODULES, REQUIREMENTS, FormField, Module, Requirement
from .routes import api
from .schemas import (
    DictionaryInfo,
    DictionaryList,
    DictionaryOut,
    DictionaryQuery,
    FieldOut,
    FormOut,
    ModuleSpecOut,
    OptionOut,
)


@api.get("/dictionaries", summary="List the dictionaries of the form's choice fields", response=DictionaryList,
         public=True)
async def list_dictionaries(request: web.Request) -> web.Response:
    language = preferred_language(request)
    items = [DictionaryInfo(name=item.name, label=item.label_en if language == "en" else item.label,
                            count=len(item.options)) for item in DICTIONARIES.values()]
    return json_response(DictionaryList(items=items))


@api.get("/dictionaries/{name}", summary="Options of one dictionary; ?q= keeps the labels that start with q",
         response=DictionaryOut, public=True, query=DictionaryQuery)
async def get_dictionary(request: web.Request) -> web.Response:
    name = request.match_info["name"]
    query = parse_query(request, DictionaryQuery)
    found = DICTIONARIES.get(name)
    if found is None:
        raise ApiError(404, "application.dictionary_not_found", name=name)

    language = preferred_language(request)
    items = [OptionOut(code=option.code, label=option.label, attributes=option.attributes or None)
             for option in found.search(query.q)]
    return json_response(DictionaryOut(name=found.name, label=found.label_en if language == "en" else found.label,
                                       items=items))


@api.get("/form", summary="Modules and fields of the application form with their rules", response=FormOut,
         public=True)
async def get_form(request: web.Request) -> web.Response:
    language = preferred_language(request)
    modules = [module_spec(module, language) for module in MODULES.values()]
    return json_response(FormOut(modules=modules, achievements_max_chars=ACHIEVEMENTS_MAX_CHARS))


def module_spec(module: Module, language: str) -> ModuleSpecOut:
    english = language == "en"
    low, high = module.attachments or (None, None)
    group_zh, group_en = GROUPS[module.group]
    return ModuleSpecOut(
        module=module.name, label=module.label_en if english else module.label, group=module.group,
        group_label=group_en if english else group_zh, is_list=module.is_list, required=module.required,
        max_entries=module.max_entries, min_attachments=low, max_attachments=high,
        fields=[field_spec(module, spec, language) for spec in module.fields])


def field_spec(module: Module, spec: FormField, language: str) -> FieldOut:
    requirement = next((item for item in REQUIREMENTS if spec.name in item.requires), None)
    required_when = None
    if module.name == "basic_info" and requirement is not None:
        required_when = describe(requirement, language)
    return FieldOut(name=spec.name, label=spec.label_en if language == "en" else spec.label, kind=spec.kind,
                    dictionary=spec.dictionary, required=spec.required, read_only=spec.read_only,
                    required_when=required_when)


def describe(requirement: Requirement, language: str) -> str:
    """Put a conditional requirement in words, e.g. 人才来源为“引进人才”或“柔性引进人才”时必填."""
    deciding = MODULES["basic_info"].field(requirement.field)
    if language == "en":
        values = " or ".join({True: "yes", False: "no"}.get(value, value) if isinstance(value, bool) else value
                             for value in requirement.values)
        return f"required when {deciding.label_en} is {values}"
    values = "”或“".join({True: "是", False: "否"}.get(value, value) if isinstance(value, bool) else value
                         for value in requirement.values)
    return f"{deciding.label}为“{values}”时必填"
