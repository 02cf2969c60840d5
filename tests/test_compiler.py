"""Tests of the rule-set compiler: readable rule ids traced to YAML, typed facts, compiled once per content."""

import datetime as dt
import json

from xinfang.rules.case_input import parse_case
from xinfang.rules.compiler import Compiler, build_rules, compile_ruleset
from xinfang.rules.durable_adapter import DurableAdapter, default_adapter

AT = dt.date(2024, 6, 1)


def test_rule_ids_are_readable_and_traced_to_the_rule_set(bundled):
    effective = bundled.effective("000000", AT)
    compiled = compile_ruleset(effective)
    # N22 refuses neither level-skipping visits nor late reviews; its one track has no condition.
    assert list(compiled.rules) == [
        "admissibility:pending_elsewhere", "admissibility:rereview_concluded_same_facts",
        "admissibility:representatives", "route:accusation", "route:litigation"]
    for rule_id, path in compiled.paths.items():
        source = effective.source_of(path)
        assert source is not None and source.file.endswith("2022-05-01.yaml"), rule_id
    assert compiled.paths["admissibility:representatives"] == "intake.group_visit.max_representatives"
    assert compiled.paths["route:accusation"] == "routing.accusation.unit"


def test_shandong_refusals_compiled_from_its_own_file(bundled):
    # SD Art. 26, 33: the province turns two refusals on; they compile as rules traced to its file.
    effective = bundled.effective("370000", AT)
    compiled = compile_ruleset(effective)
    for rule in ("admissibility:level_skipping_visit", "admissibility:missed_review_deadline"):
        assert effective.source_of(compiled.paths[rule]).file.endswith("370000_shandong/2016-01-01.yaml")


def test_when_becomes_one_key_conditions_without_ne_or_in():
    # durable-rules 2.0.28: no $ne/$in, and a several-key object tests only its first key.
    b = build_rules({"tracks": {"t": {"when": {
        "categories": ["10", "11"], "intakes": ["visit"], "keywords": ["欠薪", "讨薪"],
        "min_representatives": 2, "max_representatives": 5}}}})
    assert b.rules["track:t"] == {"$and": [
        {"$or": [{"category": "10"}, {"category": "11"}]},
        {"intake": "visit"},
        {"kw_0": True},
        {"$gte": {"representatives": 2}},
        {"$lte": {"representatives": 5}},
    ]}
    text = json.dumps(b.rules)
    assert '"$ne"' not in text and '"$in"' not in text


def test_keyword_lists_share_one_fact_each():
    b = build_rules({"tracks": {"a": {"when": {"keywords": ["欠薪", "讨薪"]}},
                                "b": {"when": {"keywords": ["讨薪", "欠薪"]}},
                                "c": {"when": {"keywords": ["咨询"]}}}})
    assert b.rules["track:a"] == b.rules["track:b"] == {"kw_0": True}
    assert b.rules["track:c"] == {"kw_1": True}


def test_local_routing_rules_never_see_accusations_or_litigation():
    # Art. 22 ¶2, 30: those are routed by law, before any local rule.
    b = build_rules({"routing": {"rules": {"x": {"when": {"categories": ["10"]}, "unit": "u"},
                                           "accusation": {"when": {"categories": ["11"]}, "unit": "u"}}}})
    assert b.rules["route:x"]["$and"][1:] == [{"$neq": {"kind": "accusation"}}, {"$neq": {"channel": "litigation"}}]
    assert "route:rules.accusation" in b.rules  # a local id never shadows the fixed route:accusation


def test_facts_are_typed(bundled):
    compiled = compile_ruleset(bundled.effective("000000", AT))
    case = parse_case({"received_on": "2024-06-03", "intake": "visit", "text": "征地", "representatives": 7,
                       "receiving_level": "province", "competent_level": "county"})
    facts = compiled.facts(case, "12", "appeal", "petition", compiled.matched_keywords(case.text), False)
    assert facts["representatives"] == 7 and type(facts["representatives"]) is int
    assert facts["level_gap"] == 2
    assert all(type(v) in (str, int, bool) for v in facts.values())
    assert default_adapter().evaluate(compiled.name, facts) == {"admissibility:representatives"}


def test_compiled_once_per_version_and_shared_by_identical_content(bundled):
    compiler = Compiler(DurableAdapter())
    national = compiler.compile(bundled.effective("000000", AT))
    assert compiler.compile(bundled.effective("000000", dt.date(2024, 7, 1))) is national
    # 110101 has no rule set of its own: the same rules, one engine ruleset.
    assert compiler.compile(bundled.effective("110101", AT)).name == national.name
    assert national.name.startswith("xinfang@") and national.compile_seconds > 0


def test_a_changed_draft_gets_a_new_name(bundled, local_ruleset):
    library, issues = local_ruleset("""
        tracks:
          urgent: {name: 紧急办, priority: 5, when: {keywords: [紧急]}}
        """)
    assert issues == []
    draft = compile_ruleset(library.effective("110101", AT))
    national = compile_ruleset(bundled.effective("000000", AT))
    assert draft.name != national.name and "track:urgent" in draft.rules
    assert draft.version_label == "000000@2022.1+110101@2024.1"


def test_every_bundled_rule_set_compiles(bundled):
    for code in bundled.codes():
        for version in bundled.versions(code):
            compiled = compile_ruleset(bundled.effective(code, version.effective_from))
            assert default_adapter().is_registered(compiled.name)


def test_drafts_differing_in_keywords_only_share_the_engine_ruleset(tmp_path, local_ruleset):
    # Keywords become boolean facts computed in Python: the engine sees only "kw_0", so the engine
    # ruleset is shared, while each draft keeps its own words.
    first, _ = local_ruleset("tracks:\n  urgent: {name: 紧急办, when: {keywords: [断水]}}\n", code="110102",
                             name="西城区")
    second, _ = local_ruleset("tracks:\n  urgent: {name: 紧急办, when: {keywords: [断电]}}\n", code="110105",
                              name="朝阳区")
    a = compile_ruleset(first.effective("110102", AT))
    b = compile_ruleset(second.effective("110105", AT))
    assert a.name == b.name and a is not b
    assert "断水" in a.keywords and "断水" not in b.keywords


def test_a_draft_is_released_once_done_with(local_ruleset):
    # A draft's engine ruleset (~1 MiB) is given back once its preview is done; published ones never are.
    library, issues = local_ruleset("""
        tracks:
          urgent: {name: 紧急办, priority: 5, when: {keywords: [十万火急]}}
        """)
    assert issues == []
    effective = library.effective("110101", AT)
    adapter = DurableAdapter()
    compiler = Compiler(adapter)
    compiled = compiler.compile(effective)
    assert adapter.is_registered(compiled.name)
    assert compiler.release(effective) is True
    assert not adapter.is_registered(compiled.name)
    assert compiler.release(effective) is False  # already forgotten
    assert compiler.compile(effective) is not compiled  # compiled afresh when needed again


def test_forgetting_a_draft_plan(local_ruleset):
    from xinfang.rules.decide import evaluate
    from xinfang.rules.plan import forget
    library, issues = local_ruleset("""
        tracks:
          urgent: {name: 紧急办, priority: 5, when: {keywords: [万分火急], max_representatives: 17}}
        """)
    assert issues == []
    case = {"received_on": "2024-06-03", "intake": "letter", "text": "万分火急"}
    assert evaluate(library, "110101", case)["track"] == "urgent"
    effective = library.effective("110101", AT)
    name = compile_ruleset(effective).name
    assert forget(effective) is True and not default_adapter().is_registered(name)
    assert evaluate(library, "110101", case)["track"] == "urgent"  # a later use compiles it again
