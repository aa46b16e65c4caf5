"""The content of the summary table (人才分类定级认定一览表): every module in the order of the form, in Chinese.

`build_summary` turns the header, modules and files of a snapshot (or of a draft, built the same way
by snapshots.py) into headings and label/value pairs that summary_pdf.py lays out. Conditional fields
that do not apply are left out, as the form hides them. Pure functions with no I/O.
"""

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from .dictionaries import TALENT_CLASSES, TALENT_LEVELS
from .domain import CHINA
from .form import ENTRY_ID, GROUPS, MATERIALS_LABEL, MODULES, REQUIREMENTS, FormField, Module
from .validation import ATTACHMENT_LABELS, MATERIAL_KINDS

TITLE = "人才分类定级认定一览表"
PLEDGE = "本人承诺，申报所提供的材料真实、准确，如有违诺情况，本人愿承担所有责任。"
EMPTY = "未填写"

Pairs = list[tuple[str, str]]


@dataclass(frozen=True)
class Entry:
    title: str | None
    pairs: Pairs


@dataclass(frozen=True)
class Section:
    heading: str
    # The group heading (B 学习教育经历, ...) printed before the first module of its group.
    group: str | None = None
    entries: list[Entry] = field(default_factory=list)
    text: str | None = None


@dataclass(frozen=True)
class SummaryDocument:
    title: str
    header: Pairs
    basic_group: str
    basic_heading: str
    basic_info: Pairs
    sections: list[Section]
    pledge: str
    # Printed at the foot of every page beside the page numbers.
    footer: str


@dataclass(frozen=True)
class SummarySource:
    """The data the table shows: a snapshot, or a draft's current content built the same way."""

    application_id: str
    header: dict[str, Any]
    modules: dict[str, Any]
    files: list[dict[str, Any]]
    # The snapshot's version, or None for a draft (or a returned application being changed).
    version: int | None
    submitted_at: datetime | None
    status_label: str


def build_summary(source: SummarySource, generated_at: datetime) -> SummaryDocument:
    basic = MODULES["basic_info"]
    sections = []
    group = basic.group
    for module in MODULES.values():
        if module.name == "basic_info":
            continue
        heading = GROUPS[module.group][0] if module.group != group else None
        group = module.group
        sections.append(_section(module, source.modules.get(module.name), source.files, heading))
    sections.append(Section(MATERIALS_LABEL[0], entries=[Entry(None, _materials(source.files))]))

    return SummaryDocument(
        title=TITLE, header=_header_pairs(source, generated_at), basic_group=GROUPS[basic.group][0],
        basic_heading=basic.label, basic_info=_basic_pairs(basic, source.modules.get("basic_info") or {}, source.files),
        sections=sections, pledge=_pledge(source),
        footer=f"申报编号 {source.application_id}" + (f" · 第 {source.version} 版" if source.version else " · 草稿"),
    )


def _header_pairs(source: SummarySource, generated_at: datetime) -> Pairs:
    header = source.header
    version = f"第 {source.version} 版" if source.version else "未提交的草稿"
    return [
        ("申报人", _text(header.get("person_name"))),
        ("公民身份号码", _text(header.get("id_number_masked"))),
        ("推荐单位", _text(header.get("unit_name"))),
        ("统一社会信用代码", _text(header.get("uscc"))),
        ("申报通知", _text(header.get("call_title"))),
        ("申报类别及层次", _grade(header.get("talent_class"), header.get("level"))),
        ("业务状态", source.status_label),
        ("申报版本", version),
        ("提交时间", _moment(source.submitted_at)),
        ("生成时间", _moment(generated_at)),
    ]


def _pledge(source: SummarySource) -> str:
    if source.submitted_at is None:
        return f"{PLEDGE}（尚未提交，提交时须勾选此承诺。）"
    return f"{PLEDGE}（申报人已于 {_moment(source.submitted_at)} 勾选承诺并提交。）"


def _applies(name: str, content: dict[str, Any]) -> bool:
    """Tell whether a conditional field of 基本信息 applies, as the form shows or hides it."""
    for requirement in REQUIREMENTS:
        if name in requirement.requires:
            value = content.get(requirement.field)
            return value is None or value in requirement.values
    return True


def _basic_pairs(module: Module, content: dict[str, Any], files: list[dict[str, Any]]) -> Pairs:
    pairs = [(spec.label, _value(spec, content.get(spec.name))) for spec in module.fields
             if _applies(spec.name, content)]
    photos = [item for item in files if item.get("kind") == "photo"]
    pairs.append(("个人照片", "已上传" if photos else "未上传"))
    return pairs


def _section(module: Module, content: Any, files: list[dict[str, Any]], group: str | None) -> Section:
    if not module.is_list:
        text = (content or {}).get("text") if isinstance(content, dict) else None
        return Section(module.label, group, text=text or EMPTY)
    entries = []
    for index, entry in enumerate(content if isinstance(content, list) else []):
        pairs = [(spec.label, _value(spec, entry.get(spec.name))) for spec in module.fields]
        if module.attachments is not None:
            attached = [item for item in files
                        if item.get("kind") == module.name and item.get("entry_id") == entry.get(ENTRY_ID)]
            pairs.append(("证明材料", _file_names(attached)))
        entries.append(Entry(f"第 {index + 1} 条", pairs))
    return Section(module.label, group, entries=entries, text=None if entries else "无")


def _materials(files: list[dict[str, Any]]) -> Pairs:
    pairs = []
    for kind in MATERIAL_KINDS:
        attached = [item for item in files if item.get("kind") == kind]
        pairs.append((ATTACHMENT_LABELS[kind][0], _file_names(attached)))
    return pairs


def _file_names(files: list[dict[str, Any]]) -> str:
    if not files:
        return "未上传"
    return f"{len(files)} 个：" + "、".join(str(item.get("file_name") or "") for item in files)


def _value(spec: FormField, value: Any) -> str:
    if value is None or value == "":
        return ""
    if spec.kind == "bool":
        return "是" if value else "否"
    if spec.kind == "talent_class":
        return f"{value}类 {TALENT_CLASSES.get(value, '')}".strip()
    if spec.kind == "level":
        return TALENT_LEVELS.get(str(value), str(value))
    if spec.kind == "year":
        return f"{value} 年"
    return _text(value)


def _grade(talent_class: Any, level: Any) -> str:
    if not talent_class:
        return ""
    grade = f"{talent_class}类 {TALENT_CLASSES.get(talent_class, '')}"
    return f"{grade} {TALENT_LEVELS.get(str(level), '')}".strip()


def _text(value: Any) -> str:
    return "" if value is None else str(value)


def _moment(value: datetime | None) -> str:
    return value.astimezone(CHINA).strftime("%Y-%m-%d %H:%M") if value else ""
