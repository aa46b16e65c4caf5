"""The application's content as one document: the form as currently saved, and each submitted snapshot.

The same functions build the content that 数据验证 checks, the snapshot a submission stores and
publishes, and the data of the summary table (一览表), so the three never disagree. Pure functions with
no I/O.
"""

from datetime import datetime
from typing import Any

from .form import ENTRY_ID, MODULES, derive_basic_info

SNAPSHOT_FILE_FIELDS = ("file_id", "kind", "entry_id", "file_name", "content_type", "size", "sha256")
HEADER_FIELDS = ("person_id", "person_name", "id_number_masked", "uscc", "unit_name", "call_id", "call_title")


def present_modules(saved: dict[str, Any], person_name: str | None, unit_nature: str | None) -> dict[str, Any]:
    """Return every module's content, an empty one where nothing was saved, with 基本信息's read-only fields."""
    modules = {}
    for name, module in MODULES.items():
        content = saved.get(name)
        if module.is_list:
            modules[name] = content if isinstance(content, list) else []
        else:
            modules[name] = content if isinstance(content, dict) else {}
    modules["basic_info"] = derive_basic_info(modules["basic_info"], person_name, unit_nature)
    return modules


def attached_files(files: list[dict[str, Any]], modules: dict[str, Any]) -> list[dict[str, Any]]:
    """Return the files that belong to the application as currently saved, with the fields a snapshot records.

    Files of an entry that was removed from its module are left out: they are no longer part of the
    application, and the files service still lets the applicant delete them.
    """
    entries = {name: {entry.get(ENTRY_ID) for entry in modules.get(name) or [] if isinstance(entry, dict)}
               for name, module in MODULES.items() if module.is_list}
    attached = []
    for item in files:
        kind = item.get("kind")
        if kind in entries and item.get("entry_id") not in entries[kind]:
            continue
        attached.append({name: item.get(name) for name in SNAPSHOT_FILE_FIELDS})
    return sorted(attached, key=lambda item: (item["kind"] or "", item["entry_id"] or "", str(item["file_id"])))


def snapshot_header(application: Any, basic_info: dict[str, Any]) -> dict[str, Any]:
    """Name who applies, through which unit and call, for which class and level."""
    header = {name: application[name] for name in HEADER_FIELDS}
    header["call_id"] = str(header["call_id"])
    header.update(unit_nature=basic_info.get("unit_nature"), talent_class=basic_info.get("talent_class"),
                  level=basic_info.get("level"))
    return header


def snapshot_document(version: int, header: dict[str, Any], modules: dict[str, Any], files: list[dict[str, Any]],
                      submitted_at: datetime) -> dict[str, Any]:
    """Build the snapshot as events carry it and reviewers see it."""
    return {"version": version, "submitted_at": submitted_at.isoformat(), "pledge": True, "header": header,
            "modules": modules, "files": files}
