"""Field-level differences between two submitted snapshots, shown to reviewers after a resubmission.

A change is `{"module", "field_path", "before", "after"}`, plus `entry_id` for an entry of a list
module. Paths follow 数据验证: a field name ("gender"), or the entry's index and the field name
("1.end_date") in a list module. Entries are matched by `entry_id`, so reordering changes nothing; an
added entry has path "<index>" with `before` null, a removed one its old index with `after` null.
Attachments count as part of their module: "attachments.<kind>" for the photo (basic_info) and the
材料附件 (module "materials"), "<index>.attachments" for an entry's files; their values are the
files' ids and names. Pure functions with no I/O.
"""

from typing import Any

from .form import ENTRY_ID, MATERIALS, MODULES

Change = dict[str, Any]


def diff_snapshots(before_modules: dict[str, Any], after_modules: dict[str, Any], before_files: list[dict[str, Any]],
                   after_files: list[dict[str, Any]]) -> list[Change]:
    """Return every changed field and attachment slot, in the order of the form."""
    changes: list[Change] = []
    for module in MODULES.values():
        before, after = before_modules.get(module.name), after_modules.get(module.name)
        if module.is_list:
            changes += _diff_entries(module.name, _entries(before), _entries(after), before_files, after_files)
        else:
            changes += _diff_fields(module.name, "", before if isinstance(before, dict) else {},
                                    after if isinstance(after, dict) else {})
            if module.name == "basic_info":
                changes += _diff_slot("basic_info", "attachments.photo", before_files, after_files, "photo", None)
    for kind in sorted({item.get("kind") for item in before_files + after_files if item.get("entry_id") is None}):
        if kind != "photo":
            changes += _diff_slot(MATERIALS, f"attachments.{kind}", before_files, after_files, kind, None)
    return changes


def changed_modules(changes: list[Change]) -> list[str]:
    """Name the modules with at least one change, in the order of the form with "materials" last."""
    touched = {change["module"] for change in changes}
    return [name for name in (*MODULES, MATERIALS) if name in touched]


def _entries(content: Any) -> list[dict[str, Any]]:
    return [entry for entry in content if isinstance(entry, dict)] if isinstance(content, list) else []


def _diff_fields(module: str, prefix: str, before: dict[str, Any], after: dict[str, Any],
                 entry_id: str | None = None) -> list[Change]:
    changes = []
    names = [name for name in after if name != ENTRY_ID]
    names += [name for name in before if name not in after and name != ENTRY_ID]
    for name in names:
        if before.get(name) != after.get(name):
            changes.append(_change(module, f"{prefix}{name}", before.get(name), after.get(name), entry_id))
    return changes


def _diff_entries(module: str, before: list[dict[str, Any]], after: list[dict[str, Any]],
                  before_files: list[dict[str, Any]], after_files: list[dict[str, Any]]) -> list[Change]:
    changes = []
    old = {entry.get(ENTRY_ID): (index, entry) for index, entry in enumerate(before)}
    for index, entry in enumerate(after):
        entry_id = entry.get(ENTRY_ID)
        if entry_id not in old:
            changes.append(_change(module, str(index), None, _plain(entry), entry_id))
            changes += _diff_slot(module, f"{index}.attachments", [], after_files, module, entry_id)
            continue
        changes += _diff_fields(module, f"{index}.", old[entry_id][1], entry, entry_id)
        changes += _diff_slot(module, f"{index}.attachments", before_files, after_files, module, entry_id)
    kept = {entry.get(ENTRY_ID) for entry in after}
    for entry_id, (index, entry) in old.items():
        if entry_id not in kept:
            changes.append(_change(module, str(index), _plain(entry), None, entry_id))
    return changes


def _diff_slot(module: str, path: str, before_files: list[dict[str, Any]], after_files: list[dict[str, Any]],
               kind: str, entry_id: str | None) -> list[Change]:
    before, after = _slot(before_files, kind, entry_id), _slot(after_files, kind, entry_id)
    if [item["file_id"] for item in before] == [item["file_id"] for item in after]:
        return []
    return [_change(module, path, before, after, entry_id)]


def _slot(files: list[dict[str, Any]], kind: str, entry_id: str | None) -> list[dict[str, Any]]:
    found = [{"file_id": str(item.get("file_id")), "file_name": item.get("file_name")} for item in files
             if item.get("kind") == kind and item.get("entry_id") == entry_id]
    return sorted(found, key=lambda item: item["file_id"])


def _plain(entry: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in entry.items() if key != ENTRY_ID}


def _change(module: str, path: str, before: Any, after: Any, entry_id: str | None) -> Change:
    change = {"module": module, "field_path": path, "before": before, "after": after}
    if entry_id is not None:
        change["entry_id"] = entry_id
    return change
