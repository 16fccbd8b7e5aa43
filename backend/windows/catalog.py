"""The national categories of assistance and the departments that handle them (DOMAIN.md)."""

from __future__ import annotations

# Department kinds: key -> (label, the usual name suffix of a county's bureau).
DEPARTMENTS: dict[str, tuple[str, str]] = {
    "minzheng": ("民政", "民政局"),
    "yingji": ("应急管理", "应急管理局"),
    "yibao": ("医疗保障", "医疗保障局"),
    "jiaoyu": ("教育", "教育局"),
    "zhujian": ("住建", "住房和城乡建设局"),
    "renshe": ("人社", "人力资源和社会保障局"),
}

# Categories (8+1): key -> (label, default department kind).
CATEGORIES: dict[str, tuple[str, str]] = {
    "dibao": ("最低生活保障", "minzheng"),
    "tekun": ("特困人员供养", "minzheng"),
    "linshi": ("临时救助", "minzheng"),
    "shouzai": ("受灾人员救助", "yingji"),
    "yiliao": ("医疗救助", "yibao"),
    "jiaoyu": ("教育救助", "jiaoyu"),
    "zhufang": ("住房救助", "zhujian"),
    "jiuye": ("就业救助", "renshe"),
    # Charities and volunteers are coordinated by civil affairs.
    "shehui": ("社会力量参与", "minzheng"),
}
