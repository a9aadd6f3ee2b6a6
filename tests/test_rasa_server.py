"""The launcher's performance fixes leave Rasa's behaviour exactly as it was."""
import pytest
from hypothesis import given
from hypothesis import settings as hsettings
from hypothesis import strategies as st
from jsonschema import ValidationError
from rasa.core.actions.action import RemoteAction
from rasa.shared.core.events import ActionExecuted, Event, SessionStarted, SlotSet, UserUttered
from rasa.shared.utils.common import all_subclasses

from assistant import rasa_server
from tests.stand_ins import http_stand_in


@pytest.fixture
def patched(monkeypatch):
    """Install both fixes; monkeypatch puts Rasa's originals back afterwards."""
    monkeypatch.setattr(RemoteAction, "_validate_action_result",
                        RemoteAction.__dict__["_validate_action_result"])
    monkeypatch.setattr(Event, "resolve_by_type", Event.__dict__["resolve_by_type"])
    original_resolve = Event.resolve_by_type
    original_validate = RemoteAction._validate_action_result
    rasa_server.install_fixes()
    rasa_server.install_event_type_cache()
    assert Event.resolve_by_type is not original_resolve
    assert RemoteAction._validate_action_result is not original_validate
    return original_resolve, original_validate


def test_every_event_type_resolves_to_the_class_rasa_would_pick(patched):
    original, _ = patched
    names = {cls.type_name for cls in all_subclasses(Event)}
    assert {"user", "action", "slot", "session_started", "bot"} <= names
    for name in names:
        assert Event.resolve_by_type(name) is original(name)
    assert Event.resolve_by_type("topic") is None
    assert Event.resolve_by_type("no_such_event", default=SlotSet) is SlotSet
    with pytest.raises(ValueError, match="Unknown event name 'no_such_event'"):
        Event.resolve_by_type("no_such_event")


def test_events_round_trip_through_the_cached_lookup(patched):
    events = [SessionStarted(), ActionExecuted("action_listen"), SlotSet("faq_key", "omfq"),
              UserUttered("what is SEED", {"name": "faq", "confidence": 0.9})]
    assert [Event.from_parameters(e.as_dict()) for e in events] == events


def test_a_class_defined_later_is_found(patched):
    class LateEvent(SlotSet):
        type_name = "late_event_for_test"

    assert Event.resolve_by_type("late_event_for_test") is LateEvent


@pytest.mark.parametrize("result, ok", [
    ({"events": [{"event": "slot", "name": "x", "value": 1}], "responses": [{"text": "hi"}]}, True),
    ({"events": [], "responses": []}, True),
    ({"events": [{"name": "no event key"}], "responses": []}, False),
    ({"events": "not a list", "responses": []}, False),
])
def test_action_responses_are_judged_as_before_with_the_same_error(patched, result, ok):
    _, original = patched
    action = RemoteAction("action_x", None)
    if ok:
        assert action._validate_action_result(result) is True
        assert original(action, result) is True
        return
    with pytest.raises(ValidationError) as cached_error:
        action._validate_action_result(result)
    with pytest.raises(ValidationError) as original_error:
        original(action, result)
    assert cached_error.value.message == original_error.value.message


async def _action_server_stand_in(handler):
    """A local server answering POST /webhook with ``handler``: (its runner, the URL)."""
    runner, base = await http_stand_in("/webhook", handler)
    return runner, base + "/webhook"


def test_action_calls_reuse_one_connection_with_rasas_headers(monkeypatch):
    """Several calls through one endpoint use one kept-alive connection; each still carries
    the endpoint's headers and gets Rasa's JSON reply or error."""
    import asyncio

    from aiohttp import web
    from rasa.utils.endpoints import ClientResponseError, EndpointConfig

    from assistant.rasa_server.fixes import install_kept_alive_connections

    monkeypatch.setattr(EndpointConfig, "session", EndpointConfig.__dict__["session"])
    install_kept_alive_connections()
    peers, tokens = set(), []

    async def webhook(request):
        peers.add(request.transport.get_extra_info("peername"))
        tokens.append(request.headers.get("X-Action-Token"))
        body = await request.json()
        if body.get("fail"):
            return web.json_response({"error": "no"}, status=400)
        return web.json_response({"echo": body["n"]})

    async def main():
        runner, url = await _action_server_stand_in(webhook)
        endpoint = EndpointConfig(url=url, headers={"X-Action-Token": "t0k"})
        try:
            replies = [await endpoint.request(json={"n": n}) for n in range(5)]
            with pytest.raises(ClientResponseError):
                await endpoint.request(json={"fail": True})
            replies.append(await endpoint.request(json={"n": 5}))
        finally:
            await endpoint._kept_session[1].close()
            await runner.cleanup()
        return replies

    assert asyncio.run(main()) == [{"echo": n} for n in range(6)]
    assert tokens == ["t0k"] * 7
    assert len(peers) == 1  # one connection for all seven calls (Rasa's own: seven)


def test_a_kept_connection_is_given_up_before_the_action_server_would_close_it(monkeypatch):
    import asyncio

    from aiohttp import web
    from rasa.utils.endpoints import EndpointConfig

    from assistant.rasa_server import fixes

    monkeypatch.setattr(EndpointConfig, "session", EndpointConfig.__dict__["session"])
    monkeypatch.setattr(fixes, "KEEP_IDLE_SECONDS", 0.2)
    fixes.install_kept_alive_connections()
    peers = []

    async def webhook(request):
        peers.append(request.transport.get_extra_info("peername"))
        return web.json_response({})

    async def main():
        runner, url = await _action_server_stand_in(webhook)
        endpoint = EndpointConfig(url=url, basic_auth={"username": "u", "password": "p"})
        try:
            await endpoint.request(json={})
            await endpoint.request(json={})
            await asyncio.sleep(0.6)
            await endpoint.request(json={})
            assert endpoint._kept_session[1].auth.login == "u"
        finally:
            await endpoint._kept_session[1].close()
            await runner.cleanup()

    asyncio.run(main())
    assert peers[0] == peers[1] and peers[2] != peers[0]  # reused, then a new one after the idle time


# --------------------------------------------------------------------------- quick validity

def _valid_events():
    from rasa_sdk.events import ActiveLoop, BotUttered, FollowupAction, SessionStarted, SlotSet
    return [SlotSet("faq_key", "omfq"), SlotSet("step_retries", 1.0), ActiveLoop("reflection_form"),
            ActiveLoop(None), FollowupAction("action_listen"), BotUttered("hi", {"buttons": []}),
            SessionStarted(), {"event": "action", "name": "action_listen", "policy": None, "confidence": 1.0}]


JSONISH = st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=4),
                       lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner,
                                                                                   max_size=3), max_leaves=6)


@st.composite
def _action_results(draw):
    """Action-server replies, mostly real events with a random change here and there."""
    events = draw(st.lists(st.sampled_from(_valid_events()), max_size=5))
    events = [dict(e) for e in events]
    for event in events:
        change = draw(st.sampled_from(["keep", "keep", "keep", "drop", "set", "rename"]))
        key = draw(st.sampled_from(sorted(event) + ["timestamp", "metadata", "value", "name"]))
        if change == "drop":
            event.pop(key, None)
        elif change == "set":
            event[key] = draw(JSONISH)
        elif change == "rename":
            event["event"] = draw(st.sampled_from(["slot", "bot", "user", "active_loop", "nonsense", 3, None]))
    result = {"events": events, "responses": draw(st.lists(st.dictionaries(st.text(max_size=3), JSONISH, max_size=2),
                                                           max_size=2))}
    shape = draw(st.sampled_from(["ok", "ok", "ok", "events", "responses", "whole"]))
    if shape != "ok":
        value = draw(JSONISH)
        if shape == "whole":
            return value
        result[shape] = value
    return result


@hsettings(max_examples=400, derandomize=True, database=None, deadline=None)
@given(_action_results())
def test_the_quick_check_agrees_with_the_full_schema(result):
    from jsonschema import validators

    from assistant.rasa_server.fixes import quick_validity

    schema = RemoteAction.action_response_format_spec()
    validator = validators.validator_for(schema)(schema)
    quick = quick_validity(schema, validators.validator_for(schema))
    assert quick(result) == validator.is_valid(result)


# --------------------------------------------------------------------------- short action calls

def test_the_action_server_gets_rasas_call_with_the_events_from_the_latest_message(monkeypatch):
    from rasa.shared.core.domain import Domain
    from rasa.shared.core.trackers import DialogueStateTracker
    from rasa_sdk import Tracker

    from assistant.rasa_server.fixes import install_short_action_calls
    from tests.conftest import ROOT

    original = RemoteAction.__dict__["_action_call_format"]
    monkeypatch.setattr(RemoteAction, "_action_call_format", original)
    install_short_action_calls()
    domain = Domain.load(str(ROOT / "domain.yml"))
    tracker = DialogueStateTracker("someone", domain.slots)
    before = [SessionStarted(), ActionExecuted("action_listen"), UserUttered("hi", {"name": "greet"}, message_id="1"),
              ActionExecuted("utter_greet"), ActionExecuted("action_listen")]
    latest = [UserUttered("gibbs", {"name": "choose_set", "confidence": 0.9}, message_id="2"),
              ActionExecuted("reflection_form"), SlotSet("set_key", "gibbs"), SlotSet("step_retries", 1.0)]
    for event in before + latest:
        tracker.update(event)
    action = RemoteAction("validate_reflection_form", None)
    ours, rasas = action._action_call_format(tracker, domain), original(action, tracker, domain)
    assert ours["tracker"]["events"] == [e.as_dict() for e in latest]
    assert rasas["tracker"]["events"] == [e.as_dict() for e in before + latest]
    assert {**ours, "tracker": {**ours["tracker"], "events": None}} == \
        {**rasas, "tracker": {**rasas["tracker"], "events": None}}  # all else is Rasa's call
    # what the actions read is the same: the latest message, the slots to validate, the slots
    short, full = Tracker.from_dict(ours["tracker"]), Tracker.from_dict(rasas["tracker"])
    assert short.latest_message == full.latest_message and short.slots == full.slots
    assert short.slots_to_validate() == full.slots_to_validate() == {"set_key": "gibbs", "step_retries": 1.0}
    assert short.events[-1] == full.events[-1]


def test_a_call_before_any_message_sends_every_event():
    from assistant.rasa_server.fixes import recent_events

    events = [SessionStarted(), ActionExecuted("action_listen")]
    assert recent_events(events) == events
    assert recent_events([]) == []
