"""The vocabulary of the demo data: places and their weights, category mixes, synthetic names and petition texts."""

from __future__ import annotations

import random

__all__ = ["REGIONS", "CATEGORY_WEIGHTS", "REGION_CATEGORY_WEIGHTS", "INTAKE_WEIGHTS", "TEXTS", "FACTS",
           "REFUSAL_REASONS", "CONSULTATION", "person_name", "id_number", "phone", "village", "community", "slots"]

# Region → (share of all cases, jurisdictions in it with their weights). The bundled rule sets' jurisdictions,
# their townships and districts, and a few places elsewhere that only inherit the national baseline.
REGIONS: dict[str, tuple[float, tuple[tuple[str, float], ...]]] = {
    "yinan": (22, (("371321", 8), ("371321001", 3), ("371321101", 1), ("371321102", 1), ("371321103", 1),
                   ("371321104", 1), ("371321105", 1), ("371321106", 1), ("371321109", 1), ("371321110", 1),
                   ("371321111", 1), ("371321112", 1), ("371321113", 1), ("371321114", 1), ("371321115", 1),
                   ("371321201", 1))),
    "linyi": (21, (("371300", 5), ("371302", 6), ("371311", 3), ("371312", 3), ("371322", 2), ("371323", 2),
                   ("371324", 2), ("371325", 2), ("371326", 1.5), ("371327", 1.5), ("371328", 1), ("371329", 1))),
    "rizhao": (12, (("371100", 4), ("371102", 4), ("371103", 2), ("371121", 1.5), ("371122", 2))),
    "ganzhou": (22, (("360700", 5), ("360702", 5), ("360703", 3), ("360704", 2), ("360731", 2), ("360781", 2),
                     ("360732", 1.5))),
    "yuanjiang": (15, (("430981", 5), ("430981006", 2), ("430981008", 1.5), ("430981102", 2.5), ("430981114", 2.5),
                       ("430981105", 1), ("430981107", 1), ("430981108", 1))),
    "elsewhere": (8, (("110101", 2), ("310104", 2), ("440106", 2), ("510104", 1), ("330106", 1))),
}

# The usual mix of a year's petitions by category (national codes; 1201 is Yinan's own).
CATEGORY_WEIGHTS = {
    "10": 14, "11": 9, "12": 8, "13": 15, "14": 9, "15": 6, "16": 4, "17": 7, "18": 5, "05": 4, "06": 5, "07": 3,
    "01": 4, "02": 1, "03": 0.5, "04": 1.5, "99": 3,
}
# What a region's reports stress: land expropriation in Yinan, wages in Ganzhou, farming in Yuanjiang.
REGION_CATEGORY_WEIGHTS = {
    "yinan": {"1201": 12, "12": 3}, "ganzhou": {"13": 20}, "yuanjiang": {"11": 18, "14": 10}, "rizhao": {"10": 18},
}
# 网上 most, then visits, letters, the hotline, phone calls (the seed reports: online entry first).
INTAKE_WEIGHTS = {"online": 50, "visit": 18, "letter": 12, "hotline": 13, "phone": 7}

_SURNAMES = ("王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢"
             "姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤")
_GIVEN = ("建国", "秀英", "桂兰", "志强", "海燕", "玉兰", "桂英", "红梅", "秀兰", "春生", "德明", "金花", "立新", "卫东",
          "晓明", "丽华", "文斌", "振华", "淑珍", "凤英", "永刚", "兰英", "学军", "俊杰", "雪梅", "国庆", "长青", "玉梅",
          "伟", "芳", "娜", "敏", "静", "磊", "军", "洋", "勇", "艳", "杰", "娟", "涛", "超", "霞", "刚", "平", "辉", "鹏", "琳")
_VILLAGE_HEAD = ("东", "西", "南", "北", "前", "后", "大", "小", "王家", "李家", "张家", "刘家", "马", "石", "河", "柳", "杨", "黄")
_VILLAGE_TAIL = ("庄", "岭", "沟", "屯", "洼", "坡", "营", "湖", "峪", "店", "桥", "埠")
_COMMUNITIES = ("阳光花园", "锦绣家园", "滨河新城", "翰林苑", "幸福里", "和谐家园", "书香苑", "金色华庭", "御景湾", "春江苑")
_COMPANIES = ("某建筑劳务有限公司", "某建设工程有限公司", "某房地产开发有限公司", "某物业服务有限公司", "某服装加工厂",
              "某食品有限公司", "某木业有限公司", "某商贸有限公司")
_PROJECTS = ("安置房", "商住楼", "学校教学楼", "厂房", "道路改造", "老旧小区改造")


def person_name(rng: random.Random) -> str:
    return rng.choice(_SURNAMES) + rng.choice(_GIVEN)


def id_number(rng: random.Random, code: str) -> str:
    """A synthetic 18-digit number: the place's first six digits, a birth date, a sequence and the check digit."""
    born = f"{rng.randint(1950, 2000)}{rng.randint(1, 12):02d}{rng.randint(1, 28):02d}"
    body = code[:6] + born + f"{rng.randint(0, 999):03d}"
    weights = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
    return body + "10X98765432"[sum(int(d) * w for d, w in zip(body, weights)) % 11]


def phone(rng: random.Random) -> str:
    return rng.choice(("13", "15", "18", "17")) + f"{rng.randint(0, 999_999_999):09d}"


def village(rng: random.Random) -> str:
    return rng.choice(_VILLAGE_HEAD) + rng.choice(_VILLAGE_TAIL) + "村"


def community(rng: random.Random) -> str:
    return rng.choice(_COMMUNITIES) + "小区"


def slots(rng: random.Random, town: str, county: str) -> dict[str, object]:
    """The values a text template may name; `town` is the township (or the county itself), `county` its county."""
    return {
        "town": town, "county": county, "village": village(rng), "community": community(rng),
        "company": county + rng.choice(_COMPANIES), "project": rng.choice(_PROJECTS),
        "amount": rng.randrange(8_000, 68_000, 100), "months": rng.randint(2, 9), "households": rng.randint(3, 40),
        "area": round(rng.uniform(0.6, 6.5), 1), "school": town + rng.choice(("中心小学", "第一中学", "实验学校", "中心幼儿园")),
        "hospital": county + rng.choice(("人民医院", "中医医院", "妇幼保健院")), "years": rng.randint(2, 6),
        "department": county + rng.choice(("住房和城乡建设局", "自然资源局", "市场监督管理局", "农业农村局")),
    }


# Category → request texts; each names the words the category is known by (征地拆迁, 欠薪, 噪音, 低保, 学校, 举报…).
TEXTS: dict[str, tuple[str, ...]] = {
    "10": ("{community}物业公司长期不履行维修义务，楼道照明和电梯多次损坏无人处理，请求督促物业整改。",
           "{community}冬季供暖温度不达标，室温长期低于16度，请求供热企业尽快解决供暖问题。",
           "本人购买的{community}住房已交付{years}年仍未办理房产证，请求协调开发商尽快办证。",
           "{village}自来水供水时断时续，夏季经常停水，请求有关部门解决供水问题。"),
    "11": ("反映{village}村务公开不及时，集体土地流转收益去向不明，请求镇政府督促村务公开。",
           "本人系{village}村民，宅基地审批申请提交一年多仍未办理，请求尽快审批。",
           "本人土地承包经营权确权面积比实际耕种面积少登记{area}亩，请求核实更正。",
           "反映{village}耕地地力保护补贴、稻谷补贴未足额发放到户，请求核查农业补贴发放情况。"),
    "12": ("{village}部分土地被征收用于道路建设，土地补偿款至今未发放到位，请求依法支付土地补偿。",
           "反映{village}有人在基本农田上非法占地建设厂房，请求自然资源部门查处。",
           "{village}{households}户村民的承包地被土地征收，征地补偿标准低于公布标准，请求重新核定。"),
    "1201": ("{village}{households}户村民的承包地被征收，征地拆迁补偿款和青苗补偿未按协议足额支付，请求落实安置补偿。",
             "本人房屋在{town}道路拓宽中被拆除，拆迁补偿款至今未到位，请求尽快支付补偿款。",
             "{village}地上附着物补偿标准与征收补偿方案不一致，请求按方案重新核算征收补偿。"),
    "13": ("本人在{company}承建的{project}工地务工，被拖欠工资{amount}元，多次讨薪无果，请求帮助追讨欠薪。",
           "{company}拖欠{households}名农民工工资共计{amount}元已{months}个月，请求督促企业支付。",
           "单位未依法为职工缴纳养老保险，请求责令补缴社保费用。",
           "本人在工作中受伤，申请工伤认定已超过两个月未有结果，请求尽快作出认定。"),
    "14": ("{community}附近工地夜间施工噪音扰民，严重影响居民休息，请求责令停止夜间施工。",
           "{village}附近养殖场排污，河水发黑有异味，请求环保部门查处污染行为。",
           "{town}某搅拌站扬尘污染严重，周边村民意见很大，请求依法整治。",
           "{community}楼下烧烤店油烟和噪声扰民，多次协商无果，请求有关部门处理。"),
    "15": ("孩子今年符合入学条件，但被{school}以户籍不在学区为由拒收，请求协调入学。",
           "反映{school}要求学生统一购买教辅资料，请求教育部门规范学校收费。",
           "{school}门前道路没有交通信号灯，学生上下学存在安全隐患，请求增设。"),
    "16": ("在{hospital}住院治疗，医保报销比例与政策规定不符，请求核查医保报销。",
           "反映{hospital}部分检查项目重复收费，请求卫生健康部门核查医疗收费。"),
    "17": ("家中两位老人常年患病，无固定收入，申请低保被以有子女为由拒绝，请求重新审核低保资格。",
           "本人因病致贫，申请临时救助已两个月无答复，请求尽快办理救助。",
           "反映{town}养老院护理人员不足，老人生活照料不到位，请求民政部门督促整改。"),
    "18": ("{village}至{town}驻地的道路年久失修，坑洼严重，群众出行困难，请求维修道路。",
           "{community}周边公交线路班次太少，早晚高峰候车时间过长，请求增加公交班次。"),
    "05": ("多次向{department}反映{village}违法建设问题，相关部门拖着不办，请求依法履行职责。",
           "举报{company}无证经营已一年，{department}不作为，请求要求履职。"),
    "06": ("举报{village}村干部在低保评定中优亲厚友、收受好处，请求调查处理。",
           "举报{town}某站所工作人员利用职务便利索要好处费，请求纪检监察机关查处。",
           "检举{village}村干部挪用集体土地补偿款，请求查处违纪行为。"),
    "07": ("建议在{town}增设便民服务点，方便群众就近办理社保、医保业务。",
           "对{community}老旧小区改造方案提出意见和建议，希望增加停车位和充电桩。"),
    "01": ("不服{county}人民法院作出的民事判决，认为判决认定事实错误，请求重新审理。",
           "申请强制执行后一年多仍未执行到位，请求法院加快执行。"),
    "02": ("劳动争议仲裁裁决生效后单位拒不履行，请求协调履行仲裁裁决。",),
    "03": ("本人对受到的党纪处分不服，提出党员申诉，请求重新审查。",),
    "04": ("对{department}作出的行政处罚决定不服，认为处罚过重，请求撤销行政处罚。",),
    "99": ("{community}周边流浪犬较多，存在伤人隐患，请求有关部门处理。",
           "反映{town}集市占道经营，节假日交通拥堵，请求加强管理。"),
}
# Simple questions a clerk answers the same day (沂南县 当日办, 赣州市 简易办): category → text.
CONSULTATION = {
    "17": "咨询低保申请如何办理，需要准备哪些材料。",
    "13": "咨询灵活就业人员养老保险如何办理缴费。",
    "10": "咨询公租房申请条件和办事指南。",
    "11": "咨询土地承包经营权证补办如何办理。",
    "18": "咨询农村客运班线开通的政策咨询渠道。",
}
FACTS = ("{months}个月前开始出现上述问题，本人多次向村（社区）和有关部门反映，至今未得到解决。",
         "问题已持续{years}年，涉及{households}户群众，附相关照片和协议复印件。",
         "曾于今年向{town}有关站所口头反映，答复将研究处理，但一直没有结果。")
# Refusals by the procedure the matter belongs to (Art. 22 ¶2, 31): told where to go instead.
REFUSAL_REASONS = {
    "litigation": "属于涉法涉诉事项，依照诉访分离的规定，告知信访人依法向人民法院、人民检察院或者公安机关提出",
    "arbitration": "属于应当通过仲裁解决的事项，告知信访人依法申请仲裁",
    "party_appeal": "属于党员申诉事项，告知信访人依照党内法规向党组织提出",
    "administrative": "属于可以通过行政复议等法定途径解决的事项，告知信访人依法申请行政复议",
    "petition": "该信访事项已经受理并正在规定期限内办理，信访人又向上级机关提出同一信访事项",
}
