"""The procedure's structure, declared once: deadline steps, case stages, workflow actions, escalation measures.

Everything else reads this table: the rule-set schema's enums (checked against it by the tests), the
engine's deadlines and escalations (rules/), the sweeps' SQL, the workflow, what each user may see,
the indicators and every Chinese label. Adding a deadline step means adding a `Step` here, its name
to the schema's `step` enum (config/schema/ruleset.schema.json) and a line to docs/ruleset-format.md.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

__all__ = [
    "ACTIONS", "ACTS_AS", "ALL_STEPS", "CLOSING_STEP", "DUTY_STEPS", "EXTENDABLE", "EXTENSIONS", "HANDLING_ROLES", "LIMIT_KEYS", "MEASURES",
    "OFFICE_HOLDS", "OFFICE_UNIT", "OPEN_STAGES", "PETITIONER", "STAGE_NAMES", "STAGES", "STEPS", "TARGETS", "TIMINGS", "Action", "Measure", "Stage", "Step", "Timing",
    "action", "actions_allowed", "duties_of", "stage", "step",
]

N22 = "《信访工作条例》"
SD = "《山东省信访条例》"


@dataclass(frozen=True)
class Step:
    """A step with a time limit (`time_limits.<name>` in a rule set) and the case field that starts its clock.

    A `duty` is what a body must do by its deadline: late, it is overdue and counts against on-time
    rates. A `window` is a period within which someone may act (the petitioner's review request, the
    receiving unit's objection): when it closes the right lapses, and nobody is late. A duty `answers` to
    the body that is late when it is: the receiving petition office for routing and telling (Art. 22), the
    responsible unit for handling (Art. 32-34) and the feedback it owes, the body above for review (Art. 35, 36).
    """

    name: str
    label: str
    starts: str | None  # a Case JSON field (`handling_start`: accepted_on, else received_on); None: no clock yet
    kind: Literal["duty", "window"]
    holder: Literal["office", "unit", "petitioner"]  # who acts within it
    article: str
    when_refused: bool = False  # its clock runs even for a matter not accepted (Art. 22, 23: register and tell)
    answers: Literal["office", "unit", "above"] | None = None  # a duty's: who is late when it is; a window's: None


STEPS: tuple[Step, ...] = (
    Step("route", "登记转送", "received_on", "duty", "office", f"{N22}第二十二条", when_refused=True, answers="office"),
    Step("notify", "告知", "received_on", "duty", "office", f"{N22}第二十三条", when_refused=True, answers="office"),
    Step("objection", "提出异议", "received_on", "window", "unit", f"{N22}第二十三条第三款"),
    Step("conclude", "办理办结", "handling_start", "duty", "office", f"{N22}第三十四条", answers="unit"),
    Step("review_request", "申请复查", "answered_on", "window", "petitioner", f"{N22}第三十五条"),
    Step("review_acceptance", "复查受理", "review_requested_on", "duty", "office", f"{SD}第四十三条", answers="above"),
    Step("review", "复查", "review_requested_on", "duty", "office", f"{N22}第三十五条", answers="above"),
    Step("rereview_request", "申请复核", "review_answered_on", "window", "petitioner", f"{N22}第三十六条"),
    Step("rereview_acceptance", "复核受理", "rereview_requested_on", "duty", "office", f"{SD}第四十四条",
         answers="above"),
    Step("rereview", "复核", "rereview_requested_on", "duty", "office", f"{N22}第三十六条", answers="above"),
    Step("feedback", "交办反馈", "assigned_on", "duty", "unit", f"{N22}第二十二条", answers="unit"),
    Step("supervision_feedback", "督办反馈", "supervised_on", "duty", "unit", f"{N22}第四十条", answers="unit"),
)
_STEPS = {s.name: s for s in STEPS}
ALL_STEPS = tuple(s.name for s in STEPS)
DUTY_STEPS = tuple(s.name for s in STEPS if s.kind == "duty")  # what makes a body late (indicators, lists)


def duties_of(body: str) -> tuple[str, ...]:
    """The duty steps `body` (office, unit, above) is late for when they are late: what each is ranked by."""
    return tuple(s.name for s in STEPS if s.kind == "duty" and s.answers == body)


CLOSING_STEP = "conclude"  # the written decision (Art. 32-34) closes the case for the backlog count

# Keys of `time_limits` that are no step of their own but lengthen one (Art. 34: the handling extension).
EXTENSIONS = {"extension": "conclude"}
LIMIT_KEYS = (*ALL_STEPS, *EXTENSIONS)  # every key a `time_limits` mapping may hold
EXTENDABLE = "extendable:"  # a case's flag `extendable:<step>`: its rule set lets that step be extended, not yet done


@dataclass(frozen=True)
class Stage:
    """Where a case stands; an open stage has a clock running that the sweeps watch."""

    name: str
    label: str
    open: bool


STAGES: tuple[Stage, ...] = (  # 登记 → 转送/交办 → 受理 → 办理 → 答复 → 复查 → 复核
    Stage("registered", "已登记", True),
    Stage("transferred", "已转送", True),
    Stage("assigned", "已交办", True),
    Stage("separated", "诉访分离", False),
    Stage("accepted", "已受理", True),
    Stage("refused", "不予受理", False),
    Stage("extension_requested", "申请延期", True),
    Stage("extended", "已延期", True),
    Stage("concluded", "已办结", False),
    Stage("review_requested", "申请复查", True),
    Stage("reviewed", "已复查", False),
    Stage("rereview_requested", "申请复核", True),
    Stage("hearing", "听证中", True),
    Stage("rereviewed", "已复核", False),
    Stage("closed", "已结案", False),
)
_STAGES = {s.name: s for s in STAGES}
STAGE_NAMES = tuple(s.name for s in STAGES)
OPEN_STAGES = tuple(s.name for s in STAGES if s.open)

HANDLING_ROLES = ("clerk", "discipline")  # who handles cases; admin may do everything

# Who, besides holding one of the roles, takes an action (server/cases/permissions.py checks it):
ACTS_AS = {
    "office": "the receiving petition office (信访工作机构): a clerk whose unit is of type petition_office, or none",
    "unit": "the unit the case is routed to (承办单位): a clerk of that unit",
    "holder": "whoever holds the case now: the office before it is routed, the unit after",
    "approver": "an approver with authority over the case, other than who asked (Art. 34)",
    "above": "a body of a level above the case's jurisdiction (复查、复核, Art. 35, 36)",
    "anyone": "whoever holds the roles, in scope",
    "petitioner": "the petitioner of the case, online with its query code (网上信访)",
}
PETITIONER = "petitioner"  # the public's actor kind (server/accounts.py): no staff role, its own case only


@dataclass(frozen=True)
class Action:
    """One workflow action: the stages it is allowed in, the stage it leads to, who takes it, what it records and stops.

    `sets` is the Case JSON field the action dates (accept → accepted_on): the engine reads a case's
    progress from those fields, the server from its file, and both stop the same clocks (`completes`).
    `acts_as` says whose action it is (ACTS_AS); `needs_flag`, that the case must carry a flag (a
    feedback is owed only on an assigned case); `adds_flag` and `drops_flag` keep such flags.
    """

    name: str
    label: str
    allowed_in: tuple[str, ...]
    leads_to: str | None  # None: the stage stays
    article: str
    required: tuple[str, ...] = ()
    optional: tuple[str, ...] = ()
    sets: str | None = None
    completes: tuple[str, ...] = ()
    roles: tuple[str, ...] = HANDLING_ROLES
    acts_as: str = "anyone"
    needs_flag: str | None = None
    adds_flag: str | None = None
    drops_flag: str | None = None
    reopens: tuple[str, ...] = ()  # steps whose clock starts again (a new 督办 after an answered one)


_ROUTING = ("registered",)
OFFICE_HOLDS = _ROUTING  # the stages in which the receiving office holds the case: not yet routed to a unit
OFFICE_UNIT = "petition_office"  # the receiving office's unit id (and type) in every rule set, a routing target
_DECIDING = ("registered", "transferred", "assigned")
_HANDLING = ("accepted", "extension_requested", "extended")
_SUPERVISED = ("transferred", "assigned", *_HANDLING)
ACTIONS: tuple[Action, ...] = (  # in the regulation's order, as the case file offers them
    Action("transfer", "转送", _ROUTING, "transferred", f"{N22}第二十二条、第二十三条第三款", required=("unit",),
           optional=("unit_name",), completes=("route", "notify"), acts_as="office"),
    Action("assign", "交办", _ROUTING, "assigned", f"{N22}第二十二条", required=("unit",), optional=("unit_name",),
           sets="assigned_on", completes=("route", "notify"), acts_as="office", adds_flag="assigned"),
    Action("separate", "诉访分离", _ROUTING, "separated", f"{N22}第二十二条第二款、第二十八条第二款",
           optional=("reason", "unit"), completes=ALL_STEPS, acts_as="office"),
    Action("object", "对转送提出异议", ("transferred", "assigned"), "registered", f"{N22}第二十三条第三款",
           required=("reason",), completes=("objection",), acts_as="unit"),
    Action("accept", "受理", _DECIDING, "accepted", f"{N22}第二十三条", sets="accepted_on",
           completes=("route", "notify", "objection"), acts_as="unit"),
    Action("refuse", "不予受理", _DECIDING, "refused", f"{N22}第二十三条", optional=("reason",), completes=ALL_STEPS,
           acts_as="holder"),
    Action("report", "反馈办理情况", _HANDLING, None, f"{N22}第二十二条", required=("progress",),
           sets="feedback_on", completes=("feedback",), acts_as="unit", needs_flag="assigned"),
    Action("supervise", "督办", _SUPERVISED, None, f"{N22}第四十条", required=("reason",), sets="supervised_on",
           roles=("clerk", "supervisor"), acts_as="office", adds_flag="supervised",
           reopens=("supervision_feedback",)),
    Action("answer_supervision", "督办反馈", _SUPERVISED, None, f"{N22}第四十条", required=("answer",),
           sets="supervision_answered_on", completes=("supervision_feedback",), acts_as="unit",
           needs_flag="supervised", drops_flag="supervised"),
    Action("request_extension", "申请延期", ("accepted",), "extension_requested", f"{N22}第三十四条",
           required=("days", "reason"), acts_as="unit"),
    Action("approve_extension", "批准延期", ("extension_requested",), "extended", f"{N22}第三十四条",
           sets="extension_days", roles=("approver",), acts_as="approver"),
    Action("deny_extension", "不予批准延期", ("extension_requested",), "accepted", f"{N22}第三十四条",
           required=("reason",), roles=("approver",), acts_as="approver"),
    Action("conclude", "办结", ("accepted", "extended"), "concluded", f"{N22}第三十二条至第三十四条",
           required=("outcome",), optional=("answered_on", "opinion", "satisfaction"), sets="answered_on",
           completes=("route", "notify", "objection", "conclude", "feedback"), acts_as="unit"),
    Action("rate", "评价", ("concluded", "closed"), None, f"{N22}第三十四条（满意度评价）",
           required=("satisfaction",), optional=("comment",), roles=(PETITIONER,), acts_as="petitioner"),
    Action("request_review", "申请复查", ("concluded",), "review_requested", f"{N22}第三十五条", optional=("body", "reason"),
           sets="review_requested_on", completes=("review_request",), roles=(*HANDLING_ROLES, PETITIONER)),
    Action("extend_review", "延长复查期限", ("review_requested",), None, "省级信访条例（如《北京市信访条例》第四十条）",
           required=("days", "reason"), roles=("approver",), acts_as="above", needs_flag=f"{EXTENDABLE}review",
           drops_flag=f"{EXTENDABLE}review"),
    Action("review_opinion", "出具复查意见", ("review_requested",), "reviewed", f"{N22}第三十五条",
           required=("outcome",), optional=("answered_on", "opinion"), sets="review_answered_on",
           completes=("review_acceptance", "review"), acts_as="above"),
    Action("request_rereview", "申请复核", ("reviewed",), "rereview_requested", f"{N22}第三十六条", optional=("body",),
           sets="rereview_requested_on", completes=("rereview_request",), roles=(*HANDLING_ROLES, PETITIONER)),
    Action("hearing_start", "开始听证", ("rereview_requested",), "hearing", f"{N22}第三十六条", acts_as="above"),
    Action("hearing_end", "结束听证", ("hearing",), "rereview_requested", f"{N22}第三十六条", acts_as="above"),
    Action("rereview_opinion", "出具复核意见", ("rereview_requested",), "rereviewed", f"{N22}第三十六条",
           required=("outcome",), optional=("opinion",), sets="history.rereview_concluded",
           completes=("rereview_acceptance", "rereview"), acts_as="above"),
    Action("close", "结案", ("refused", "concluded", "reviewed", "rereviewed"), "closed", f"{N22}第三十四条",
           optional=("satisfaction",), completes=ALL_STEPS),
    Action("migrate", "改用新版规则集", tuple(s.name for s in STAGES if s.name not in ("closed", "separated")), None,
           "规则集版本的显式迁移（留痕）", required=("reason",), optional=("to",), roles=("policy_officer",)),
)
_ACTIONS = {a.name: a for a in ACTIONS}


@dataclass(frozen=True)
class Timing:
    """When an escalation step falls due, as the rule set writes it (`after_days: 3` ...).

    Counted in calendar days from the watched deadline (or, for a backlog step, from the day the case
    was received); a step that `ends_at_deadline` (a warning) is due only through the deadline's day,
    after which the overdue steps take over.
    """

    key: str
    label: str
    watches: bool  # counts from the watched step's deadline; False: from the day received
    sign: int  # +1: N days after, -1: N days before
    ends_at_deadline: bool = False


TIMINGS: tuple[Timing, ...] = (
    Timing("before_days", "期限届满前", True, -1, ends_at_deadline=True),
    Timing("after_days", "期限届满后", True, +1),
    Timing("open_days", "积案", False, +1),
)


@dataclass(frozen=True)
class Measure:
    """An escalation measure (Art. 18, 39-45) and whether it asks a supervisor to act."""

    name: str
    label: str
    asks_supervisor: bool
    article: str


MEASURES: tuple[Measure, ...] = (
    Measure("warn", "预警", False, f"{N22}第四十条"),
    Measure("flag", "标识", False, f"{N22}第四十条"),
    Measure("supervise", "督办", True, f"{N22}第四十条"),
    Measure("escalate", "提交上级", True, f"{N22}第二十五条、第三十九条"),
    Measure("assign_leader", "领导包案", True, f"{N22}第十八条"),
)
# To whom an escalation is sent (`to:`).
TARGETS = {"petition_office": "信访工作机构", "level_above": "上一级", "joint_conference": "联席会议", "leader": "领导"}


def actions_allowed(stage: str, outcome: str | None = None, flags: Iterable[str] = (), *,
                    petitioner: bool = False) -> list[str]:
    """The actions a case's stage (and flags) allow, in the regulation's order; a mediation agreement (Art. 33)
    is no written decision, so it has no review request. The petitioner's own actions (a rating) are listed for
    the petitioner only (`petitioner`), never among the office's."""
    flags = set(flags)
    found = [a.name for a in ACTIONS if stage in a.allowed_in and (a.needs_flag is None or a.needs_flag in flags)
             and (petitioner or a.roles != (PETITIONER,))]
    return [a for a in found if a != "request_review"] if outcome == "mediated" else found


def step(name: str) -> Step:
    return _STEPS[name]


def stage(name: str) -> Stage:
    return _STAGES[name]


def action(name: str) -> Action:
    return _ACTIONS[name]
