"""The demo's vocabulary: its team, names, companies, products and the weights that
make a realistic mix of statuses, stages, activities and service (store.demo draws from
them with one seeded random generator)."""

from __future__ import annotations

from collections.abc import Sequence
from itertools import accumulate
from typing import Generic, Literal, TypeVar

T = TypeVar("T")
Culture = Literal["cn", "en"]
Locale = Literal["cn", "us", "eu"]


class Weights(Generic[T]):
    """Options with integer weights, for ``random.choices`` (cumulative weights made once)."""

    def __init__(self, pairs: Sequence[tuple[T, int]]) -> None:
        self.options = [option for option, _ in pairs]
        self.cumulative = list(accumulate(weight for _, weight in pairs))


# --- vocabulary -------------------------------------------------------------------------

#: (id, name, region) of the demo team, in order; `me` is the first
TEAM: tuple[tuple[str, str, str], ...] = (
    ("alice", "Alice Morgan", "North America"), ("wang.fang", "王芳", "East China"),
    ("bob", "Bob Fischer", "Europe"), ("li.wei", "李伟", "South China"),
    ("carol", "Carol Diaz", "North America"), ("zhang.min", "张敏", "North China"),
    ("dave", "Dave Okafor", "Europe"), ("chen.jing", "陈静", "East China"),
    ("erin", "Erin Walsh", "North America"), ("liu.yang", "刘洋", "South China"),
    ("frank", "Frank Meyer", "Europe"), ("zhao.lei", "赵磊", "North China"),
    ("grace", "Grace Kim", "North America"), ("huang.ting", "黄婷", "East China"),
    ("henry", "Henry Adams", "Europe"), ("zhou.jie", "周杰", "South China"),
)
REGIONS = ("North America", "East China", "Europe", "South China", "North China")
CHINA_REGIONS = frozenset({"East China", "South China", "North China"})

EN_FIRST = ("Emma", "Liam", "Olivia", "Noah", "Ava", "James", "Sophia", "Lucas", "Mia", "Ethan",
            "Isabella", "Mason", "Charlotte", "Logan", "Amelia", "Oliver", "Harper", "Elijah",
            "Evelyn", "Jacob", "Abigail", "Daniel", "Emily", "Henry", "Ella", "Samuel", "Grace",
            "David", "Chloe", "Thomas", "Lena", "Jonas", "Hannah", "Felix", "Sarah", "Marco",
            "Priya", "Omar", "Nina", "Raj")
EN_LAST = ("Clarke", "Smith", "Johnson", "Brown", "Taylor", "Wilson", "Davies", "Evans", "Thomas",
           "Roberts", "Walker", "Wright", "Hughes", "Green", "Hall", "Wood", "Harris", "Lewis",
           "Martin", "Jackson", "Müller", "Schmidt", "Fischer", "Weber", "Becker", "Rossi",
           "Garcia", "Martinez", "Patel", "Nguyen", "Kowalski", "Jansen", "Dubois", "Moreau",
           "O'Brien", "Murphy", "Kelly", "Bennett", "Foster", "Hayes")
#: (characters, pinyin)
CN_SURNAMES = (("王", "wang"), ("李", "li"), ("张", "zhang"), ("刘", "liu"), ("陈", "chen"),
               ("杨", "yang"), ("黄", "huang"), ("赵", "zhao"), ("吴", "wu"), ("周", "zhou"),
               ("徐", "xu"), ("孙", "sun"), ("马", "ma"), ("朱", "zhu"), ("胡", "hu"), ("郭", "guo"),
               ("何", "he"), ("高", "gao"), ("林", "lin"), ("罗", "luo"), ("郑", "zheng"),
               ("梁", "liang"), ("谢", "xie"), ("宋", "song"))
CN_GIVEN = (("伟", "wei"), ("芳", "fang"), ("娜", "na"), ("敏", "min"), ("静", "jing"), ("丽", "li"),
            ("强", "qiang"), ("磊", "lei"), ("军", "jun"), ("洋", "yang"), ("勇", "yong"),
            ("艳", "yan"), ("杰", "jie"), ("娟", "juan"), ("涛", "tao"), ("明", "ming"),
            ("超", "chao"), ("秀英", "xiuying"), ("霞", "xia"), ("平", "ping"), ("刚", "gang"),
            ("桂英", "guiying"), ("建华", "jianhua"), ("文", "wen"), ("华", "hua"), ("婷", "ting"),
            ("宇", "yu"), ("鑫", "xin"), ("浩", "hao"), ("晨", "chen"), ("子涵", "zihan"),
            ("思远", "siyuan"), ("雨桐", "yutong"), ("志强", "zhiqiang"), ("海燕", "haiyan"),
            ("晓东", "xiaodong"))
CN_CITIES = ("上海", "北京", "深圳", "广州", "杭州", "苏州", "南京", "成都", "武汉", "天津", "西安",
             "重庆", "宁波", "青岛")
CN_CORES = (("华信", "huaxin"), ("恒通", "hengtong"), ("中科", "zhongke"), ("远航", "yuanhang"),
            ("金桥", "jinqiao"), ("天成", "tiancheng"), ("博达", "boda"), ("瑞丰", "ruifeng"),
            ("新元", "xinyuan"), ("鼎盛", "dingsheng"), ("宏图", "hongtu"), ("东方", "dongfang"),
            ("嘉禾", "jiahe"), ("星辰", "xingchen"), ("润泽", "runze"), ("聚力", "juli"),
            ("华拓", "huatuo"), ("安达", "anda"), ("永信", "yongxin"), ("海纳", "haina"),
            ("万通", "wantong"), ("启明", "qiming"), ("盛世", "shengshi"), ("协和", "xiehe"))
#: (industry, English company word, Chinese company word, its pinyin)
INDUSTRIES = (
    ("Technology", "Systems", "科技", "keji"), ("Trading", "Traders", "贸易", "maoyi"),
    ("Manufacturing", "Manufacturing", "制造", "zhizao"),
    ("Electronics", "Electronics", "电子", "dianzi"), ("Logistics", "Logistics", "物流", "wuliu"),
    ("Medical devices", "Medical", "医疗器械", "yiliao"), ("Software", "Software", "软件", "ruanjian"),
    ("Machinery", "Machinery", "机械", "jixie"), ("Chemicals", "Chemicals", "化工", "huagong"),
    ("Food", "Foods", "食品", "shipin"), ("Energy", "Energy", "能源", "nengyuan"),
    ("Packaging", "Packaging", "包装", "baozhuang"), ("Retail", "Retail", "商贸", "shangmao"),
    ("Healthcare", "Health", "健康", "jiankang"),
)
Industry = tuple[str, str, str, str]
EN_PREFIXES = ("Northwind", "Contoso", "Fabrikam", "Blue Harbor", "Redwood", "Summit", "Pioneer",
               "Silverline", "Brightwater", "Oakridge", "Ironbridge", "Greenfield", "Stonegate",
               "Lakeside", "Westbrook", "Crescent", "Evergreen", "Falcon", "Meridian", "Atlas",
               "Keystone", "Highland", "Riverside", "Granite", "Beacon", "Harborview", "Sterling",
               "Cobalt", "Maple Leaf", "Trinity", "Horizon", "Clearwater")
EN_QUALIFIERS = ("", "Global", "United", "Digital", "Advanced", "Pacific", "Northern")
EN_SUFFIXES: dict[Locale, tuple[str, ...]] = {"us": ("Inc", "LLC", "Corp"),
                                              "eu": ("Ltd", "GmbH", "PLC", "Ltd")}
EN_CITIES: dict[Locale, tuple[str, ...]] = {
    "us": ("Seattle", "Austin", "Boston", "Chicago", "Denver", "Atlanta"),
    "eu": ("London", "Manchester", "Berlin", "Munich", "Hamburg", "Dublin"),
}
EN_STREETS = ("High Street", "Market Street", "Station Road", "Park Avenue", "Mill Lane", "Harbour Way")
CN_ROADS = ("人民路", "中山路", "解放路", "建设路", "科技路", "创新大道")
#: company segment and how many times a small company's quantities it buys
SEGMENTS = Weights([(("SMB", 1), 55), (("Mid-market", 3), 30), (("Enterprise", 8), 15)])

TITLES: dict[Culture, tuple[str, ...]] = {
    "en": ("Purchasing Manager", "CTO", "Operations Director", "IT Manager", "CEO",
           "Procurement Lead", "Head of Facilities", "Plant Manager", "Finance Director"),
    "cn": ("采购经理", "总经理", "技术总监", "运营总监", "IT经理", "行政主管", "厂长", "财务总监",
           "项目经理"),
}
SOURCE_WEIGHTS = {"trade show": 20, "website": 30, "referral": 15, "cold call": 15, "partner": 8,
                  "social media": 7, "other": 5}
LEAD_STATUSES = ("new", "contacted", "qualified", "converted", "disqualified")
STATUSES = Weights(list(zip(LEAD_STATUSES, (20, 26, 15, 27, 12), strict=True)))
TAGS = ("hot", "decision-maker", "budget-approved", "needs-demo", "price-sensitive", "expansion",
        "key-account", "newsletter", "重点客户", "展会线索")
TAG_COUNTS = Weights([(0, 4), (1, 4), (2, 2), (3, 1)])
FOLLOW_UPS = Weights([((-10, -1), 25), ((0, 0), 12), ((1, 14), 55), (None, 8)])  # days from today
DISQUALIFY_REASONS: dict[Culture, tuple[str, ...]] = {
    "en": ("No budget this year", "Not the decision maker", "Wrong contact details",
           "Chose a competitor", "No real need", "Out of our territory"),
    "cn": ("没有预算", "不是决策人", "联系方式错误", "已选择竞争对手", "暂无需求"),
}
LEAD_NOTES: dict[Culture, tuple[str, ...]] = {
    "en": ("Interested in a pilot at one site.", "Asked for references in their industry.",
           "Budget is decided next quarter.", "Prefers email; travels a lot.",
           "Met at the booth; wants a demo for the team."),
    "cn": ("希望先在一个工厂试点。", "需要同行业的案例。", "预算下季度确定。", "偏好微信沟通。",
           "展会上认识，想给团队做演示。"),
}
EXTRA_CONTACTS = Weights([(0, 6), (1, 3), (2, 1)])
#: (name, Chinese name, lowest and highest unit price, sold per seat)
PRODUCTS = (
    ("CRM licence (seat, yearly)", "CRM 软件许可（每席位/年）", 300, 900, True),
    ("Implementation (day)", "实施服务（人天）", 800, 1600, False),
    ("Training workshop", "培训课程", 1500, 5000, False),
    ("Support plan (yearly)", "年度维保服务", 2000, 12000, False),
    ("Barcode scanner", "条码扫描枪", 120, 400, True),
    ("Industrial sensor kit", "工业传感器套件", 450, 1800, True),
    ("Data migration", "数据迁移", 3000, 15000, False),
    ("Cloud hosting (yearly)", "云托管（年）", 2400, 9600, False),
)
DISCOUNTS = (0, 0, 0, 5, 10, 15)
#: (English title, Chinese title, indexes into PRODUCTS)
DealType = tuple[str, str, tuple[int, ...]]
DEAL_TYPES: tuple[DealType, ...] = (
    ("CRM rollout", "CRM 系统上线", (0, 1, 2)), ("Support renewal", "年度维保续约", (3,)),
    ("Warehouse scanners", "仓库扫码设备", (4, 1)), ("Sensor retrofit", "传感器改造", (5, 1, 3)),
    ("Cloud migration", "云迁移项目", (7, 6, 1)), ("Training programme", "员工培训项目", (2,)),
)
REPEAT_DEALS = (("expansion", "增购"), ("renewal", "续约"), ("second site", "二期项目"))
NEXT_STEPS: dict[Culture, tuple[str, ...]] = {
    "en": ("Send revised quote", "Schedule product demo", "Call procurement", "Site visit with engineer",
           "Confirm budget owner", "Send contract draft", "Reference call with a customer"),
    "cn": ("发送修改后的报价", "安排产品演示", "联系采购部门", "工程师上门拜访", "确认预算负责人",
           "发送合同草稿"),
}
CLOSE_DATE_MOVES = Weights([(0, 70), (1, 20), (2, 10)])
SUBJECTS: dict[tuple[Culture, str], tuple[str, ...]] = {
    ("en", "call"): ("Intro call", "Follow-up call", "Qualification call", "Left a voicemail",
                     "Check-in call"),
    ("cn", "call"): ("初次电话沟通", "电话跟进", "需求了解电话", "电话回访"),
    ("en", "email"): ("Sent product brochure", "Sent a case study", "Answered questions by email"),
    ("cn", "email"): ("发送产品资料", "发送客户案例", "邮件答复问题"),
    ("en", "message"): ("Messaged about next steps",), ("cn", "message"): ("微信跟进", "微信发送资料"),
    ("en", "meeting"): ("Needs workshop", "Online demo", "Negotiation meeting", "Review meeting"),
    ("cn", "meeting"): ("需求研讨会", "线上演示", "商务谈判", "项目评审会"),
    ("en", "visit"): ("Site visit", "Visit with engineer", "Quarterly business review"),
    ("cn", "visit"): ("上门拜访", "工程师现场勘察", "季度回访"),
    ("en", "note"): ("Budget expected next quarter", "Decision maker is the COO",
                     "Competitor also bidding"),
    ("cn", "note"): ("预算预计下季度到位", "决策人是运营副总", "竞争对手也在报价"),
    ("en", "quote_sent"): ("Quote sent",), ("cn", "quote_sent"): ("已发送报价",),
}
LEAD_ACTIVITY_KINDS = Weights([("call", 40), ("email", 32), ("message", 10), ("meeting", 12),
                               ("note", 6)])
DEAL_ACTIVITY_KINDS = Weights([("call", 30), ("email", 25), ("meeting", 15), ("visit", 10),
                               ("message", 10), ("note", 10)])
#: kinds of activity that count as a revisit of a customer (as in Store.log_activity)
REVISIT_KINDS = ("visit", "call", "meeting")
TODOS: dict[Culture, tuple[str, ...]] = {
    "en": ("Prepare proposal", "Send contract draft", "Book demo", "Check budget approval",
           "Update forecast"),
    "cn": ("准备方案", "发送合同草稿", "预约演示", "确认预算审批", "更新预测"),
}
LIFECYCLES = Weights([("active", 80), ("at_risk", 14), ("churned", 6)])
REVISIT_DAYS = (14, 21, 30, 30, 30, 45, 60, 90)
TICKET_TITLES: dict[Culture, tuple[str, ...]] = {
    "en": ("Scanner does not pair with handheld", "Invoice amount is wrong", "Login fails after update",
           "Sensor readings drift", "Training materials missing", "Reports are slow",
           "Delivery arrived damaged"),
    "cn": ("扫码枪无法连接", "发票金额有误", "升级后无法登录", "传感器读数漂移", "缺少培训资料",
           "报表生成缓慢", "到货包装破损"),
}
TICKET_STATUSES = Weights([("open", 20), ("in_progress", 20), ("resolved", 25), ("closed", 35)])
SEVERITIES = Weights([("low", 25), ("normal", 45), ("high", 20), ("urgent", 10)])
UNHAPPY_SEVERITIES = Weights([("normal", 20), ("high", 45), ("urgent", 35)])
SURVEY_COMMENTS: dict[tuple[Culture, str], tuple[str, ...]] = {
    ("en", "low"): ("Support took too long to respond.", "Still waiting for a fix.",
                    "Price went up without notice."),
    ("en", "mid"): ("OK overall; onboarding could be smoother.", "Product is fine, documentation is thin."),
    ("en", "high"): ("Great support team, quick fix.", "Rollout went smoothly.", "Would recommend to peers."),
    ("cn", "low"): ("售后响应太慢。", "问题还没解决。", "价格上涨没有提前通知。"),
    ("cn", "mid"): ("整体还可以，培训可以更好。", "产品不错，文档偏少。"),
    ("cn", "high"): ("服务很好，响应及时。", "上线很顺利。", "愿意推荐给同行。"),
}
CSAT_SCORES = Weights(list(zip(range(1, 6), (3, 5, 12, 40, 40), strict=True)))
NPS_SCORES = Weights(list(zip(range(11), (1, 1, 1, 2, 2, 4, 5, 10, 20, 24, 30), strict=True)))
