"""Other CRMs' words for Dealdeck's choices, so that their exports import as they are.

Each table maps a system's value (matched without case, width, spaces or
punctuation: ``Working - Contacted`` = ``working contacted``) to Dealdeck's.
The values come from each system's documentation and its exports' picklists:
Salesforce (Lead Status, Rating, Lead Source, Account Type), HubSpot (Lead
Status, Lifecycle Stage, Original Source), Zoho CRM (Lead Status, Rating, Lead
Source, Account Type), Pipedrive (lead labels, person labels), Microsoft
Dynamics 365 (lead status reason, rating), Odoo (stage, priority), Atomic CRM
(contact status), and the usual Chinese CRM terms. A value no table knows is
the caller's to report; it is never a reason to refuse a row.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping
from functools import cache

_NON_WORD = re.compile(r"[\W_]+", re.UNICODE)


def normalise_value(text: str) -> str:
    """Case, width, spaces and punctuation do not matter in a choice value."""
    return _NON_WORD.sub("", unicodedata.normalize("NFKC", text).casefold())


def _table(groups: Mapping[str, Iterable[str]]) -> dict[str, str]:
    table: dict[str, str] = {}
    for ours, theirs in groups.items():
        for word in (ours, *theirs):
            table.setdefault(normalise_value(word), ours)
    return table


# A lead "converted" elsewhere has no customer here yet: the importer keeps it
# qualified (see ``csv_import``) and says so.
LEAD_STATUS = _table({
    "new": ("open", "open - not contacted", "not contacted", "new lead", "unread", "subscriber", "lead",
            "untouched", "fresh", "cold", "未跟进", "未联系", "新线索", "新建", "新", "待跟进", "未处理", "待分配"),
    "contacted": ("working - contacted", "working", "in progress", "attempted to contact", "attempted",
                  "connected", "contact in future", "contacted - future", "bad timing", "marketing qualified lead",
                  "marketingqualifiedlead", "mql", "engaged", "responded", "follow up", "follow-up",
                  "warm", "跟进中", "已联系", "联系中", "沟通中", "初步接触", "跟进"),
    "qualified": ("open deal", "sales qualified lead", "salesqualifiedlead", "sql", "opportunity", "pre qualified",
                  "pre-qualified", "qualified lead", "proposition", "proposal", "hot", "interested",
                  "有意向", "意向客户", "已确认", "需求确认", "合格", "已验证"),
    "converted": ("closed - converted", "converted", "customer", "won", "evangelist", "in-contract", "in contract",
                  "已转化", "已成交", "成交", "转化", "已签约", "签约"),
    "disqualified": ("closed - not converted", "not converted", "unqualified", "not qualified", "disqualified",
                     "junk lead", "junk", "lost lead", "lost", "cannot contact", "no longer interested", "canceled",
                     "cancelled", "dead", "spam", "invalid", "无效", "无效线索", "无意向", "已放弃", "放弃", "关闭",
                     "丢单", "输单"),
})

GRADE = _table({
    "A": ("hot", "hot lead", "a", "very very high", "very high", "high priority", "3", "3 stars", "★★★",
          "acquired", "in-contract", "vip", "key", "important", "a级", "热",
          "重要", "重点", "重要客户", "重点客户", "vip客户", "高", "高意向"),
    "B": ("warm", "warm lead", "b", "high", "medium high", "2", "2 stars", "★★", "active", "b级", "温", "中", "中等",
          "一般重要"),
    "C": ("cold", "cold lead", "c", "medium", "normal", "1", "1 star", "★", "c级", "冷", "普通", "普通客户", "一般",
          "低"),
    "D": ("low", "d", "0", "0 stars", "none", "market failed", "project cancelled", "project canceled", "shut down",
          "shutdown", "d级", "无", "很低"),
})

CUSTOMER_LIFECYCLE = _table({
    "prospect": ("prospect", "lead", "subscriber", "marketing qualified lead", "sales qualified lead", "opportunity",
                 "potential", "potential customer", "analyst", "press", "investor", "other", "潜在客户", "意向客户",
                 "潜在", "线索", "商机"),
    "active": ("customer", "customer - direct", "customer - channel", "client", "active", "current customer",
               "evangelist", "reseller", "distributor", "integrator", "partner", "channel partner / reseller",
               "installation partner", "technology partner", "in-contract", "won", "成交客户", "正式客户", "合作中",
               "已成交", "老客户", "活跃", "活跃客户", "签约客户"),
    "at_risk": ("at risk", "at-risk", "risk", "churn risk", "风险", "风险客户", "预警", "流失预警"),
    "churned": ("churned", "former customer", "inactive", "lost", "lost customer", "cancelled", "canceled",
                "closed", "流失", "流失客户", "已流失", "沉睡客户", "停止合作"),
})

LEAD_SOURCE = _table({
    "website": ("web", "website", "web site", "web form", "web download", "web research", "online store",
                "organic search", "paid search", "direct traffic", "seo", "inbound", "chat", "online", "官网",
                "网站", "网络", "线上", "搜索", "在线咨询", "网络推广", "百度"),
    "referral": ("referral", "referrals", "employee referral", "external referral", "partner referral",
                 "customer referral", "word of mouth", "推荐", "转介绍", "客户介绍", "介绍", "老客户介绍", "口碑"),
    "trade show": ("trade show", "tradeshow", "trade fair", "exhibition", "event", "events", "conference",
                   "seminar - internal", "seminar - partner", "seminar partner", "internal seminar", "seminar",
                   "webinar", "线下活动", "展会", "会议", "活动", "展览"),
    "cold call": ("cold call", "cold calling", "outbound", "outbound call", "purchased list",
                  "list", "sales email alias", "sales mail alias", "email marketing", "电话营销", "陌拜", "陌生拜访",
                  "电销", "外呼", "地推", "电话"),
    "partner": ("partner", "partners", "channel", "reseller", "channel partner", "合作伙伴", "代理商", "渠道",
                "经销商"),
    "social media": ("social media", "social", "paid social", "organic social", "facebook", "twitter", "linkedin",
                     "google+", "instagram", "youtube", "advertisement", "ads", "社交媒体", "微信", "抖音", "微博",
                     "小红书", "广告", "公众号"),
    "other": ("other", "other campaigns", "offline sources", "offline", "public relations", "none", "unknown",
              "其他", "其它", "未知"),
})

YES_NO = _table({
    "yes": ("yes", "y", "true", "t", "1", "x", "on", "checked", "primary", "是", "对", "有", "√", "✓", "✔"),
    "no": ("no", "n", "false", "f", "0", "off", "unchecked", "否", "不是", "无", "×", "✗"),
})

#: field -> its foreign vocabulary
VOCABULARIES: dict[str, dict[str, str]] = {
    "status": LEAD_STATUS, "grade": GRADE, "lifecycle": CUSTOMER_LIFECYCLE, "source": LEAD_SOURCE,
    "primary": YES_NO,
}


@cache
def _choices(allowed: tuple[str, ...]) -> dict[str, str]:
    return {normalise_value(choice): choice for choice in allowed}


def translate(field: str, value: str, allowed: Iterable[str] | None = None) -> str | None:
    """Dealdeck's value for another system's ``value`` of ``field``, or None.

    ``allowed`` (e.g. the config's lead sources) is what Dealdeck accepts; a
    value already one of them is kept, and a translation outside them is None.
    """
    key = normalise_value(value)
    choices = _choices(tuple(allowed)) if allowed is not None else {}
    if key in choices:
        return choices[key]
    ours = VOCABULARIES.get(field, {}).get(key)
    if ours is None or (allowed is not None and normalise_value(ours) not in choices):
        return None
    return choices.get(normalise_value(ours), ours)
