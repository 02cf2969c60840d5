"""The durable-rules adapter: every sharp edge of the engine it owns, each as its own test."""

import math
import subprocess
import sys
import textwrap
import threading
from datetime import date
from decimal import Decimal

import pytest

from xinfang.rules.durable_adapter import ALWAYS, DurableAdapter, default_adapter, ruleset_name

PETITION_RULES = {
    "group_visit": {"$gt": {"representatives": 5}},
    "land": {"category": "0101"},
    "land_group": {"$and": [{"category": "0101"}, {"$gt": {"representatives": 5}}]},
    "land_or_housing": {"$or": [{"category": "0101"}, {"category": "0102"}]},
    "no_accused": {"$nex": {"accused_unit": 1}},
    "accusation": {"kind": "accusation"},
}


@pytest.fixture
def adapter():
    return DurableAdapter()


def test_every_matching_rule_fires_including_or(adapter):
    adapter.register("petition", PETITION_RULES)
    fired = adapter.evaluate("petition", {"category": "0101", "representatives": 6, "kind": "appeal"})
    assert fired == {"group_visit", "land", "land_group", "land_or_housing", "no_accused"}
    # both $or branches true: still reported once
    adapter.register("or2", {"r": {"$or": [{"n": 10}, {"$gt": {"n": 5}}]}})
    assert adapter.evaluate("or2", {"n": 10}) == {"r"}


def test_session_state_object_is_not_mistaken_for_the_fact(adapter):
    # the engine's session state {"sid", "id", "$s"} is a fact too; $nex would match it unguarded
    adapter.register("nex", {"no_x": {"$nex": {"x": 1}}})
    assert adapter.evaluate("nex", {"x": 1}) == frozenset()
    assert adapter.evaluate("nex", {"y": 1}) == {"no_x"}


def test_nothing_matching_does_not_crash_in_a_subprocess():
    # without the catch-all, delete_state on such a session segfaults (reliably once durable.engine
    # is imported); run it where a crash fails this test instead of killing pytest
    script = textwrap.dedent("""
        import durable.engine
        from xinfang.rules.durable_adapter import DurableAdapter
        a = DurableAdapter()
        a.register("none", {"r": {"n": 1}})
        for i in range(500):
            assert a.evaluate("none", {"n": 2}) == frozenset()
            a.raw_post("none", {"n": 2})
        print("survived")
    """)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, (done.returncode, done.stderr[-2000:])
    assert done.stdout.strip() == "survived"


def test_catch_all_is_never_reported(adapter):
    adapter.register("empty", {})
    assert adapter.evaluate("empty", {"n": 1}) == frozenset()
    with pytest.raises(ValueError):
        adapter.register("clash", {ALWAYS: {"n": 1}})


def test_absent_or_none_fields_fail_every_comparison_even_neq(adapter):
    adapter.register("none", {"not_acc": {"$neq": {"kind": "accusation"}}, "is_none": {"kind": None},
                              "has": {"$ex": {"kind": 1}}})
    assert adapter.evaluate("none", {"kind": "appeal"}) == {"not_acc", "has"}
    assert adapter.evaluate("none", {"kind": None}) == {"is_none", "has"}
    assert adapter.evaluate("none", {}) == frozenset()


def test_2000_sequential_evaluations_stay_under_the_session_limit(adapter):
    adapter.register("seq", {"even": {"n": 0}})
    for i in range(2000):
        assert adapter.evaluate("seq", {"n": i % 2}) == ({"even"} if i % 2 == 0 else frozenset())
    for i in range(2000):
        adapter.raw_post("seq", {"n": i % 2})
    assert adapter.evaluate("seq", {"n": 0}) == {"even"}


def test_register_same_content_is_a_no_op_different_content_raises(adapter):
    adapter.register("rs", {"a": {"n": 1}, "b": {"n": 2}})
    adapter.register("rs", {"b": {"n": 2}, "a": {"n": 1}})  # same content, other key order
    assert adapter.is_registered("rs")
    assert not adapter.is_registered("other")
    with pytest.raises(ValueError, match="different rules"):
        adapter.register("rs", {"a": {"n": 3}})
    assert adapter.evaluate("rs", {"n": 1}) == {"a"}


def test_ruleset_name_is_a_stable_content_hash():
    name = ruleset_name("draft.110101", {"a": {"n": 1}, "b": {"地": "征"}})
    assert name == ruleset_name("draft.110101", {"b": {"地": "征"}, "a": {"n": 1}})
    assert name.startswith("draft.110101@") and len(name) == len("draft.110101@") + 12
    assert name != ruleset_name("draft.110101", {"a": {"n": 2}, "b": {"地": "征"}})


@pytest.mark.parametrize("value", [
    {"nested": 1}, (1, 2), {"a"}, Decimal("1.5"), date(2025, 1, 1), b"bytes",
    math.nan, math.inf, ["ok", 3], 2**63, object(),
])
def test_untyped_fact_values_are_refused_naming_the_field(adapter, value):
    adapter.register("typed", {"r": {"n": 1}})
    with pytest.raises(TypeError, match="representatives"):
        adapter.evaluate("typed", {"category": "0101", "representatives": value})


def test_typed_fact_values_are_accepted(adapter):
    adapter.register("typed_ok", {"r": {"$ex": {"n": 1}}})
    for value in ["十", 10, 10.5, True, None, ["a", "征地"], [], -(2**63)]:
        assert adapter.evaluate("typed_ok", {"n": value}) == {"r"}


def test_the_trusted_path_decides_as_evaluate_does_without_checking(adapter):
    # The compiler's path: its facts are typed by construction (rules/decide.py), so they are not checked
    # again; the result is the same, and the facts dict is taken over (session id and marker added).
    adapter.register("petition", PETITION_RULES)
    for facts in ({"category": "0101", "representatives": 6, "kind": "appeal"},
                  {"category": "0102", "representatives": 1, "kind": "accusation", "accused_unit": "某局"}):
        given = dict(facts)
        assert adapter.evaluate_trusted("petition", given) == adapter.evaluate("petition", facts)
        assert set(given) == set(facts) | {"sid", "__xinfang_fact__"}
    with pytest.raises(KeyError, match="not registered"):
        adapter.evaluate_trusted("nope", {"n": 1})


@pytest.mark.parametrize("key", ["sid", "__xinfang_fact__", "$s"])
def test_reserved_fact_names_are_refused(adapter, key):
    adapter.register("reserved", {"r": {"n": 1}})
    with pytest.raises(ValueError, match="reserved"):
        adapter.evaluate("reserved", {key: 1})


def test_numeric_comparison_is_numeric_with_typed_numbers(adapter):
    adapter.register("num", {"gt9": {"$gt": {"n": 9}}, "lte9_5": {"$lte": {"n": 9.5}}})
    assert adapter.evaluate("num", {"n": 10}) == {"gt9"}  # as text, "10" < "9"
    assert adapter.evaluate("num", {"n": 9}) == {"lte9_5"}
    assert adapter.evaluate("num", {"n": 9.75}) == {"gt9"}
    assert adapter.evaluate("num", {"n": 100}) == {"gt9"}


def test_rule_ids_may_be_chinese_and_dotted(adapter):
    adapter.register("ids", {"信访.受理.时限": {"n": 1}, "a.b.c": {"n": 1}, "集体访": {"n": 2},
                             'q"uote\\slash': {"n": 1}})
    assert adapter.evaluate("ids", {"n": 1}) == {"信访.受理.时限", "a.b.c", 'q"uote\\slash'}


def test_regex_over_chinese_text(adapter):
    adapter.register("mt", {
        "land": {"$mt": {"text": ".*征地.*"}},
        "land_or_demolition": {"$mt": {"text": ".*(征地|拆迁).*"}},
        "two_chars_after": {"$mt": {"text": "关于..补偿.*"}},  # "." is one character, not one byte
        "one_char_after": {"$mt": {"text": "关于.补偿.*"}},
        "class": {"$mt": {"text": ".*[征拆].*"}},
        "tag": {"$iany": {"tags": {"$mt": {"$i": "征.*"}}}},
    })
    assert adapter.evaluate("mt", {"text": "关于征地补偿的问题", "tags": ["征收"]}) == {
        "land", "land_or_demolition", "two_chars_after", "class", "tag"}
    assert adapter.evaluate("mt", {"text": "因拆迁上访", "tags": []}) == {"land_or_demolition", "class"}
    assert adapter.evaluate("mt", {"text": "征", "tags": ["地"]}) == {"class"}
    assert adapter.evaluate("mt", {"text": "拖欠工资"}) == frozenset()


def test_precomputed_keyword_facts_are_the_documented_alternative(adapter):
    adapter.register("kw", {"land": {"kw_征地": True}, "land_group": {"$and": [
        {"kw_征地": True}, {"$gte": {"representatives": 5}}]}})
    assert adapter.evaluate("kw", {"kw_征地": True, "representatives": 5}) == {"land", "land_group"}
    assert adapter.evaluate("kw", {"kw_征地": False, "representatives": 5}) == frozenset()


def test_conditions_the_engine_would_misread_are_refused(adapter):
    with pytest.raises(ValueError, match="exactly one key"):  # engine would test "a" only
        adapter.register("bad1", {"r": {"a": 1, "b": 2}})
    with pytest.raises(ValueError, match="exactly one key"):
        adapter.register("bad2", {"r": {"$gt": {"a": 1, "b": 1}}})
    with pytest.raises(ValueError, match="non-empty"):
        adapter.register("bad3", {"r": {"$and": []}})
    with pytest.raises(TypeError):
        adapter.register("bad4", {"r": [{"a": 1}]})
    adapter.register("arith", {"r": {"$gt": {"a": {"$add": {"$l": {"$m": "b"}, "$r": 1}}}}})
    assert adapter.evaluate("arith", {"a": 3, "b": 1}) == {"r"}
    assert adapter.evaluate("arith", {"a": 2, "b": 1}) == frozenset()


def test_a_regex_class_that_would_crash_the_engine_is_refused(adapter):
    with pytest.raises(ValueError, match="4096"):
        adapter.register("cjk", {"r": {"$mt": {"text": "[一-龥]+"}}})
    adapter.register("small", {"r": {"$mt": {"text": "[一-二]+"}}})
    assert adapter.evaluate("small", {"text": "一二一"}) == {"r"}


def test_engine_compile_errors_become_value_errors(adapter):
    with pytest.raises(ValueError, match="cannot compile"):
        adapter.register("ne", {"r": {"$ne": {"n": 1}}})  # the operator is $neq
    assert not adapter.is_registered("ne")


def test_unknown_ruleset(adapter):
    with pytest.raises(KeyError, match="not registered"):
        adapter.evaluate("nope", {})


def test_actions_run_in_the_calling_thread_with_no_background_thread(adapter):
    before = threading.active_count()
    adapter.register("sync", {"r": {"n": 1}})
    assert adapter.evaluate("sync", {"n": 1}) == {"r"}
    assert threading.active_count() == before


def test_default_adapter_is_a_singleton():
    assert default_adapter() is default_adapter()


def test_threads_agree_with_the_single_threaded_result(adapter):
    adapter.register("th.petition", PETITION_RULES)
    adapter.register("th.text", {"land": {"$mt": {"text": ".*征地.*"}}, "long": {"$gt": {"length": 100}}})
    adapter.register("th.num", {f"gt{k}": {"$gt": {"n": k}} for k in range(0, 50, 5)})
    cases = [("th.petition", {"category": c, "representatives": r, "kind": k})
             for c in ("0101", "0102", "0201") for r in (1, 6) for k in ("appeal", "accusation")]
    cases += [("th.text", {"text": t, "length": n}) for t in ("关于征地补偿", "工资") for n in (50, 150)]
    cases += [("th.num", {"n": n}) for n in range(0, 60, 7)]
    expected = [adapter.evaluate(name, facts) for name, facts in cases]
    failures = []

    def worker(offset):
        try:
            for i in range(2000):
                k = (i + offset) % len(cases)
                got = adapter.evaluate(*cases[k])
                if got != expected[k]:
                    failures.append((cases[k], got, expected[k]))
        except Exception as error:  # pragma: no cover - reported below
            failures.append(error)

    threads = [threading.Thread(target=worker, args=(t * 7,)) for t in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []


def test_release_frees_a_ruleset_once_its_last_holder_gives_it_back(adapter):
    # a draft compiles under a content-hash name a published version may share: each register holds it
    adapter.register("shared", {"r": {"n": 1}})
    adapter.register("shared", {"r": {"n": 1}})
    assert adapter.release("shared") is False  # the other holder keeps it compiled
    assert adapter.evaluate("shared", {"n": 1}) == {"r"}
    assert adapter.release("shared") is True
    assert not adapter.is_registered("shared")
    with pytest.raises(KeyError, match="not registered"):
        adapter.evaluate("shared", {"n": 1})
    with pytest.raises(KeyError, match="not registered"):
        adapter.release("shared")
    adapter.register("shared", {"r": {"n": 2}})  # the name is free again, for other content
    assert adapter.evaluate("shared", {"n": 2}) == {"r"}


def test_release_is_refused_while_a_session_is_still_open(adapter, monkeypatch):
    import xinfang.rules.durable_adapter as module
    adapter.register("stuck", {"r": {"n": 1}})
    # the engine starting no action leaves the session undeleted (deleting it would segfault)
    monkeypatch.setattr(module._engine, "start_action_for_state", lambda handle, state: None)
    with pytest.raises(RuntimeError, match="left undeleted"):
        adapter.evaluate("stuck", {"n": 1})
    monkeypatch.undo()
    with pytest.raises(RuntimeError, match="in use: 1 session"):
        adapter.release("stuck")
    assert adapter.is_registered("stuck") and adapter.evaluate("stuck", {"n": 1}) == {"r"}


def test_released_drafts_give_their_memory_back_in_a_subprocess():
    # Measured in a fresh process, against a baseline taken in that same process: 300 drafts of 30 rules
    # registered, evaluated and released leave its resident memory where it was (0 KiB measured), while
    # 100 drafts kept in the same process cost ~37 MiB (~370 KiB each): that control proves the measure
    # sees a draft. No absolute figure: a fixed bound on the whole process (interpreter, imports) was
    # once read with ru_maxrss, which the child inherits from the pytest worker through vfork and exec,
    # so under -n 2 it failed whenever the worker had grown (85 MiB) after other tests, and passed alone.
    script = textwrap.dedent("""
        import re
        from xinfang.rules.durable_adapter import DurableAdapter, ruleset_name

        def resident():  # KiB resident now: VmRSS of this process alone
            with open("/proc/self/status") as status:
                return int(re.search(r"VmRSS:\\s+(\\d+) kB", status.read()).group(1))

        a = DurableAdapter()

        def drafts(first, count, release):
            for i in range(first, first + count):
                rules = {f"r{k}": {"$and": [{"category": f"{k}.{i}"}, {"$gt": {"n": k}}]} for k in range(30)}
                name = ruleset_name("draft", rules)
                a.register(name, rules)
                assert a.evaluate(name, {"category": f"1.{i}", "n": 3}) == {"r1"}
                if release:
                    assert a.release(name)

        drafts(0, 20, release=True)  # the allocator's pools grow to their working size first
        before = resident()
        drafts(20, 300, release=True)
        released = resident() - before
        before = resident()
        drafts(320, 100, release=False)
        print(released, resident() - before)
    """)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    released, kept = map(int, done.stdout.split())
    draft = kept / 100
    assert draft > 100, f"100 drafts kept cost {kept} KiB: the measure does not see a draft's memory"
    assert released < 10 * draft, f"300 released drafts left {released} KiB resident (one draft kept: {draft:.0f} KiB)"
