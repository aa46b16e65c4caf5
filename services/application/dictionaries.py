"""Dictionaries (字典) of the application form: each choice field's options as code and label.

Module contents store the label, except the talent class (stored as its letter code) and the level
(stored as its number), because events and the review service carry those codes. Saving accepts a
code or a label. Pure data and look-ups with no I/O.

Sources: 民族 GB/T 3304-1991; 政治面貌 GB/T 4762-1984 (short labels); 学历 GB/T 4658-2006 (main
classes); 学位 GB/T 6864-2003 by discipline (学科门类, with 艺术学 added as the 13th since 2011);
性别 GB/T 2261.1-2003; talent classes from the Jilin talent policy 3.0 (2022). The remaining
dictionaries follow the choices of the portal's form.
"""

from dataclasses import dataclass, field
from typing import Any

# NOTE: the manual shows most drop-down lists only in pictures. Where no standard exists (人员类别,
# 学习方式, 论著类型, 企业规模 and the others after them), the options are our choice. They are kept
# here as data, so that the department can change them in one place.


@dataclass(frozen=True)
class Option:
    code: str
    label: str
    # Extra facts of an option, such as the 专业技术 and 职业技能 sections that a 人员类别 brings.
    attributes: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Dictionary:
    name: str
    label: str
    label_en: str
    options: tuple[Option, ...]

    def find(self, value: str) -> Option | None:
        """Return the option whose code or label is `value` (surrounding spaces ignored), or None."""
        text = value.strip()
        for option in self.options:
            if text in (option.code, option.label):
                return option
        return None

    def search(self, prefix: str | None) -> list[Option]:
        """Return the options whose label starts with `prefix` (case-insensitive), all without one."""
        if not prefix or not prefix.strip():
            return list(self.options)
        wanted = prefix.strip().casefold()
        return [option for option in self.options if option.label.casefold().startswith(wanted)]


def _numbered(labels: list[str], width: int = 2, start: int = 1) -> tuple[Option, ...]:
    return tuple(Option(f"{index:0{width}d}", label) for index, label in enumerate(labels, start))


ETHNICITIES = [
    "汉族", "蒙古族", "回族", "藏族", "维吾尔族", "苗族", "彝族", "壮族", "布依族", "朝鲜族", "满族", "侗族",
    "瑶族", "白族", "土家族", "哈尼族", "哈萨克族", "傣族", "黎族", "傈僳族", "佤族", "畲族", "高山族", "拉祜族",
    "水族", "东乡族", "纳西族", "景颇族", "柯尔克孜族", "土族", "达斡尔族", "仫佬族", "羌族", "布朗族", "撒拉族",
    "毛南族", "仡佬族", "锡伯族", "阿昌族", "普米族", "塔吉克族", "怒族", "乌孜别克族", "俄罗斯族", "鄂温克族",
    "德昂族", "保安族", "裕固族", "京族", "塔塔尔族", "独龙族", "鄂伦春族", "赫哲族", "门巴族", "珞巴族", "基诺族",
]

DISCIPLINES = ["哲学", "经济学", "法学", "教育学", "文学", "历史学", "理学", "工学", "农学", "医学", "军事学",
               "管理学", "艺术学"]


def _degrees() -> tuple[Option, ...]:
    """学位 by level (2 博士, 3 硕士, 4 学士) and discipline, then the professional degrees and none."""
    options = []
    for level, suffix in (("2", "博士"), ("3", "硕士"), ("4", "学士")):
        options += [Option(f"{level}{index:02d}", f"{discipline}{suffix}")
                    for index, discipline in enumerate(DISCIPLINES, 1)]
        options.append(Option(f"{level}50", f"{suffix}专业学位"))
    options.append(Option("999", "无学位"))
    return tuple(options)


PROFESSIONAL = "professional_technical"
VOCATIONAL = "vocational_skill"


def _tracks(professional: bool, vocational: bool) -> dict[str, bool]:
    return {PROFESSIONAL: professional, VOCATIONAL: vocational}


TALENT_CLASSES = {"A": "国内外顶尖人才", "B": "国家级领军人才", "C": "省部级领军人才", "D": "省域拔尖人才",
                  "E": "青年后备人才"}
TALENT_LEVELS = {"1": "第一层次", "2": "第二层次", "3": "第三层次"}

_ALL = (
    Dictionary("gender", "性别", "gender", (Option("1", "男"), Option("2", "女"))),
    Dictionary("ethnicity", "民族", "ethnicity",
               (*_numbered(ETHNICITIES), Option("97", "其他"), Option("98", "外国血统中国籍人士"))),
    Dictionary("political_status", "政治面貌", "political status", _numbered([
        "中共党员", "中共预备党员", "共青团员", "民革党员", "民盟盟员", "民建会员", "民进会员", "农工党党员",
        "致公党党员", "九三学社社员", "台盟盟员", "无党派人士", "群众"])),
    Dictionary("degree_level", "学历", "education level", (
        Option("11", "博士研究生"), Option("14", "硕士研究生"), Option("21", "大学本科"), Option("31", "大学专科"),
        Option("41", "中等专科"), Option("44", "职业高中"), Option("47", "技工学校"), Option("61", "普通高中"),
        Option("71", "初中及以下"), Option("90", "其他"))),
    Dictionary("degree", "学位", "degree", _degrees()),
    Dictionary("study_mode", "教育方式", "mode of study", _numbered(
        ["全日制", "非全日制", "成人高等教育", "高等教育自学考试", "网络教育", "其他"], width=1)),
    Dictionary("person_category", "人员类别", "personnel category", (
        Option("01", "专业技术人才", _tracks(True, False)),
        Option("02", "技能人才", _tracks(False, True)),
        Option("03", "企业经营管理人才", _tracks(False, False)),
        Option("04", "其他人才", _tracks(False, False)),
    )),
    Dictionary("talent_source", "人才来源", "talent source", _numbered(["引进人才", "柔性引进人才", "现有人才"])),
    Dictionary("service_type", "人才认定服务类型", "grading service type",
               _numbered(["首次认定", "晋升认定"], width=1)),
    Dictionary("talent_class", "人才类别", "talent class", tuple(
        Option(code, f"{code}类 {label}", {"levels": [{"code": level, "label": level_label}
                                                    for level, level_label in TALENT_LEVELS.items()]})
        for code, label in TALENT_CLASSES.items())),
    Dictionary("talent_level", "人才层次", "talent level",
               tuple(Option(code, label) for code, label in TALENT_LEVELS.items())),
    # The same options as the unit profile's 单位性质 in the binding service.
    Dictionary("unit_nature", "单位性质", "unit type", (
        Option("01", "机关"), Option("02", "事业单位"), Option("03", "企业"), Option("04", "社会组织"),
        Option("99", "其他"))),
    Dictionary("yes_no", "是否", "yes or no", (Option("1", "是"), Option("0", "否"))),
    Dictionary("title_level", "职称级别", "professional title level", _numbered(
        ["正高级", "副高级", "中级", "初级（助理级）", "初级（员级）"], width=1)),
    Dictionary("skill_level", "职业技能等级", "vocational skill level", _numbered(
        ["一级/高级技师", "二级/技师", "三级/高级工", "四级/中级工", "五级/初级工"], width=1)),
    Dictionary("learning_mode", "学习方式", "mode of learning", _numbered(
        ["脱产", "半脱产", "在职（业余）", "线上学习"], width=1)),
    Dictionary("publication_type", "论著类型", "publication type", _numbered(
        ["期刊论文", "会议论文", "专著", "编著", "译著", "教材"], width=1)),
    Dictionary("author_role", "本人排名", "author role", _numbered(
        ["独立作者", "第一作者", "通讯作者", "第二作者", "其他作者"], width=1)),
    Dictionary("enterprise_scale", "企业规模", "enterprise size", _numbered(
        ["大型企业", "中型企业", "小型企业", "微型企业"], width=1)),
    Dictionary("recognition_level", "级别", "level of the honour or award", (
        Option("1", "国家级"), Option("2", "省部级"), Option("3", "市（厅）级"), Option("4", "县（处）级"),
        Option("9", "其他"))),
    Dictionary("award_grade", "奖励等级", "award grade", (
        Option("1", "特等奖"), Option("2", "一等奖"), Option("3", "二等奖"), Option("4", "三等奖"),
        Option("5", "优秀奖"), Option("9", "其他"))),
)

DICTIONARIES: dict[str, Dictionary] = {dictionary.name: dictionary for dictionary in _ALL}


def dictionary(name: str) -> Dictionary:
    return DICTIONARIES[name]


def label_of(name: str, value: str) -> str | None:
    """Return the label of the option whose code or label is `value`, or None when there is none."""
    option = DICTIONARIES[name].find(value)
    return option.label if option else None


def tracks_of(person_category: str | None) -> dict[str, bool] | None:
    """Return which of 专业技术 and 职业技能 a 人员类别 brings, or None for an unknown or missing one."""
    option = DICTIONARIES["person_category"].find(person_category) if person_category else None
    return dict(option.attributes) if option else None
