"""The form's attachment limits per entry and the files service's upload limits are the same numbers."""

import pytest

from services.application.form import MODULES
from services.files.rules import RULES

ENTRY_MODULES = [name for name, module in MODULES.items() if module.attachments is not None]


def test_every_entry_module_has_upload_rule():
    assert set(ENTRY_MODULES) <= set(RULES)


@pytest.mark.parametrize("module", ENTRY_MODULES)
def test_limits_agree(module):
    min_count, max_count = MODULES[module].attachments
    rule = RULES[module]

    assert rule.entry_required
    assert rule.min_count == min_count
    assert rule.max_count == max_count
