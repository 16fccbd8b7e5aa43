"""The fixed list of hardship tags, and which of them make a lead urgent."""

from __future__ import annotations

HARDSHIP_TAGS: dict[str, str] = {
    "no_income": "无收入来源",
    "serious_illness": "重病",
    "disability": "残疾",
    "elderly_alone": "独居老人",
    "left_behind_child": "留守儿童",
    "no_housing": "无房或住房危险",
    "disaster": "遭受灾害",
    "unemployment": "失业",
    "medical_expense": "医疗支出大",
    "education_expense": "教育支出大",
    "other": "其他",
}

# A household without shelter or hit by disaster cannot wait three working days (急难型).
URGENT_TAGS = frozenset({"no_housing", "disaster"})

MAX_PHOTOS_PER_LEAD = 10
