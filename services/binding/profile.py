"""The unit profile (人才分类定级报送信息): its dictionaries and when it counts as complete.

Pure functions with no I/O. Dictionary fields are stored as their Chinese label and accepted as the
label or the code, so that a form may send either.
"""

from collections.abc import Mapping
from typing import Any

# 单位性质. The application copies the unit's choice into 基本信息, where the person cannot edit it.
UNIT_NATURES = {
    "01": "机关",
    "02": "事业单位",
    "03": "企业",
    "04": "社会组织",
    "99": "其他",
}

# Administrative regions: the province and its prefecture-level divisions, with GB/T 2260 codes.
# NOTE: only divisions of Jilin are offered, because recommending units are employers in Jilin.
REGIONS = {
    "220000": "吉林省（省直）",
    "220100": "吉林省长春市",
    "220200": "吉林省吉林市",
    "220300": "吉林省四平市",
    "220400": "吉林省辽源市",
    "220500": "吉林省通化市",
    "220600": "吉林省白山市",
    "220700": "吉林省松原市",
    "220800": "吉林省白城市",
    "222400": "吉林省延边朝鲜族自治州",
}

# Industries: the sections (门类) of GB/T 4754-2017, 国民经济行业分类.
INDUSTRIES = {
    "A": "农、林、牧、渔业",
    "B": "采矿业",
    "C": "制造业",
    "D": "电力、热力、燃气及水生产和供应业",
    "E": "建筑业",
    "F": "批发和零售业",
    "G": "交通运输、仓储和邮政业",
    "H": "住宿和餐饮业",
    "I": "信息传输、软件和信息技术服务业",
    "J": "金融业",
    "K": "房地产业",
    "L": "租赁和商务服务业",
    "M": "科学研究和技术服务业",
    "N": "水利、环境和公共设施管理业",
    "O": "居民服务、修理和其他服务业",
    "P": "教育",
    "Q": "卫生和社会工作",
    "R": "文化、体育和娱乐业",
    "S": "公共管理、社会保障和社会组织",
    "T": "国际组织",
}

DICTIONARIES = {"unit_nature": UNIT_NATURES, "region": REGIONS, "industry": INDUSTRIES}

PROFILE_FIELDS = ("unit_name", "unit_nature", "region", "supervisor", "industry", "contact_name",
                  "contact_phone", "address")
# NOTE: the manual shows the 报送信息 form only in a picture, so which fields are required is our
# decision. Every field is required except 主管部门 (supervisor), which only 机关 and 事业单位 always
# have; enterprises and social organisations often have none.
REQUIRED_PROFILE_FIELDS = ("unit_name", "unit_nature", "region", "industry", "contact_name", "contact_phone",
                           "address")
SUPERVISED_NATURES = ("机关", "事业单位")


def dictionary_label(field: str, value: str) -> str | None:
    """Return the stored label for a code or a label of the field's dictionary, or None if unknown."""
    entries = DICTIONARIES[field]
    text = value.strip()
    if text in entries.values():
        return text
    return entries.get(text.upper())


def dictionary_code(field: str, label: str | None) -> str | None:
    if label is None:
        return None
    return next((code for code, name in DICTIONARIES[field].items() if name == label), None)


def required_fields(profile: Mapping[str, Any]) -> tuple[str, ...]:
    if profile.get("unit_nature") in SUPERVISED_NATURES:
        return (*REQUIRED_PROFILE_FIELDS, "supervisor")
    return REQUIRED_PROFILE_FIELDS


def missing_profile_fields(profile: Mapping[str, Any]) -> list[str]:
    """Name the required fields that are empty or hold a value outside their dictionary, in form order."""
    required = required_fields(profile)
    missing = []
    for name in PROFILE_FIELDS:
        value = profile.get(name)
        if name in required and not value:
            missing.append(name)
        elif value and name in DICTIONARIES and dictionary_label(name, value) != value:
            missing.append(name)
    return missing


def options(field: str) -> list[dict[str, str]]:
    return [{"code": code, "label": label} for code, label in DICTIONARIES[field].items()]
