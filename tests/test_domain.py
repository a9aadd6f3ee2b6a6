"""domain.yml, stories/rules.yml and the action server agree (the form's questions are
generated from MAX_QUESTIONS, so a mismatch would only show at run time)."""
import yaml
from rasa_sdk.executor import ActionExecutor

from assistant import dialogue
from assistant.reflection_flow import MAX_QUESTIONS, QUESTION_SLOTS
from tests.conftest import ROOT

DOMAIN = yaml.safe_load((ROOT / "domain.yml").read_text())
RULES = yaml.safe_load((ROOT / "stories" / "rules.yml").read_text())["rules"]
NEVER_ANSWERS = {dialogue.LEAVE_INTENT, *dialogue.ASIDE_INTENTS}


def registered_actions():
    executor = ActionExecutor()
    executor.register_package("actions")
    return set(executor.actions)


def test_the_reflection_form_has_one_slot_and_ask_action_per_question():
    assert DOMAIN["forms"]["reflection_form"]["required_slots"] == ["reflection_set"] + QUESTION_SLOTS
    assert len(QUESTION_SLOTS) == MAX_QUESTIONS
    asks = {f"action_ask_q{n}" for n in range(1, MAX_QUESTIONS + 1)}
    assert asks <= set(DOMAIN["actions"]) and asks <= registered_actions()
    assert not {f"action_ask_q{MAX_QUESTIONS + 1}", "action_ask_q0"} & registered_actions()


def test_every_custom_action_is_in_the_domain_and_served():
    assert set(DOMAIN["actions"]) == registered_actions()


def test_every_from_text_mapping_has_conditions_and_every_form_ignores_asides():
    for name, slot in DOMAIN["slots"].items():
        for mapping in slot["mappings"]:
            if mapping["type"] in ("from_text", "from_entity") and name != "faq_key":
                assert mapping.get("conditions"), f"{name}: a {mapping['type']} mapping needs conditions"
    for form in DOMAIN["forms"].values():
        assert set(form["ignored_intents"]) == NEVER_ANSWERS


def test_every_form_has_an_aside_rule_and_a_leave_rule():
    for form in DOMAIN["forms"]:
        conditioned = [r for r in RULES if {"active_loop": form} in r.get("condition", [])]
        aside = [r for r in conditioned if "or" in r["steps"][0]]
        leave = [r for r in conditioned if r["steps"][0] == {"intent": "leave"}]
        assert len(aside) == 1 and len(leave) == 1, form
        assert {step["intent"] for step in aside[0]["steps"][0]["or"]} == set(dialogue.ASIDE_INTENTS)
        assert aside[0]["steps"][1:] == [{"action": "action_flow_aside"}, {"action": form}, {"active_loop": form}]
        assert leave[0]["steps"][1:] == [{"action": "action_leave_flow"}, {"active_loop": None}]
