"""The load generator's pure parts (the runs themselves are `make bench`)."""
import os
import random
import statistics
import time

import pytest

from assistant import loadtest
from assistant.loadtest import Conversation, ProcStat, Sample
from assistant.web.render import allowed_payload

FAQS = ["what is desistance?", "how often should I see someone on a licence", "what is pro-social modelling?"]


def test_percentile_is_nearest_rank():
    values = list(range(1, 101))
    random.Random(1).shuffle(values)
    assert [loadtest.percentile(values, p) for p in (50, 95, 99, 100)] == [50, 95, 99, 100]
    assert loadtest.percentile([7.0], 99) == 7.0
    assert loadtest.percentile([], 50) is None
    assert loadtest.percentile([10, 20], 50) == 10


def test_window_median_is_ten_consecutive_messages_kept_inside_the_run():
    lat = [float(i) for i in range(1, 301)]
    assert loadtest.window_median(lat, 1) == statistics.median(range(1, 11))
    assert loadtest.window_median(lat, 100) == statistics.median(range(95, 105))
    assert loadtest.window_median(lat, 300) == statistics.median(range(291, 301))
    assert loadtest.window_median(lat[:5], 300) == 3.0  # fewer messages than the window
    assert loadtest.window_median([], 1) is None


def test_summary_counts_every_error_and_keeps_them_in_the_latencies():
    samples = [Sample(0.5, 100, 200), Sample(1.5, 1000, 200), Sample(2.5, 900, 503, error="http_503"),
               Sample(3.5, 30000, 0, error="TimeoutError")]
    s = loadtest.summarize(samples, elapsed_s=4.0, bucket_s=2.0)
    assert (s["n"], s["ok"], s["errors"]) == (4, 2, 2)
    assert s["errors_by_kind"] == {"http_503": 1, "TimeoutError": 1}
    assert s["msg_per_s"] == 0.5  # answered messages only
    assert s["p99_ms"] == 30000 and s["p50_ms"] == 900
    assert s["msg_per_s_by_2s"] == [0.5, 0.5]  # by when the reply came: 0.6 s and 2.5 s
    drained = loadtest.summarize([Sample(0.5, 100, 200), Sample(59.9, 600, 200)], elapsed_s=60.5)
    assert drained["msg_per_s_by_10s"] == [0.1, 0, 0, 0, 0, round(1 / 10.5, 1)]  # the drain joins the last 10 s


def test_open_loop_schedule_is_poisson_at_the_rate():
    times = loadtest.poisson_schedule(10, 1000, random.Random(5))
    assert times == sorted(times) and 0 < times[0] and times[-1] < 1000
    assert abs(len(times) - 10_000) < 300  # +-3 sigma
    gaps = [b - a for a, b in zip(times, times[1:])]
    assert abs(statistics.fmean(gaps) - 0.1) < 0.005
    assert abs(statistics.stdev(gaps) - 0.1) < 0.01  # exponential: sd == mean
    assert times == loadtest.poisson_schedule(10, 1000, random.Random(5))
    assert loadtest.poisson_schedule(0, 10, random.Random(1)) == []


def test_proc_stat_parsing_survives_odd_command_names():
    fields = ["S", "77"] + ["0"] * 9 + ["120", "30", "5", "2"] + ["20", "0", "4"]
    line = "4242 (python (x) y) " + " ".join(fields) + "\n"
    assert loadtest.parse_proc_stat(line) == ProcStat(pid=4242, ppid=77, ticks=157)


def test_tree_ticks_sum_the_process_and_its_descendants_only():
    stats = {1: ProcStat(1, 0, 1000), 10: ProcStat(10, 1, 5), 11: ProcStat(11, 10, 7), 12: ProcStat(12, 11, 1),
             20: ProcStat(20, 1, 100)}
    assert loadtest.tree_ticks(10, stats) == 13
    assert loadtest.tree_ticks(20, stats) == 100
    assert loadtest.tree_ticks(99, stats) == 0


def test_cpu_per_message_per_process_and_whole_stack():
    before = {"web": 100, "rasa": 1000, "actions": 50, "loadgen": 0}
    after = {"web": 300, "rasa": 1600, "actions": 150, "loadgen": 400}
    out = loadtest.cpu_per_message(before, after, messages=100, elapsed_s=10, clk_tck=100)
    assert out["web"] == {"cpu_s": 2.0, "ms_per_msg": 20.0, "cores": 0.2}
    assert out["rasa"]["ms_per_msg"] == 60.0
    assert out["stack"] == {"cpu_s": 9.0, "ms_per_msg": 90.0, "cores": 0.9}  # the load generator is not the stack
    assert out["loadgen"]["cpu_s"] == 4.0


def test_cpu_snapshot_reads_this_process_from_proc():
    before = loadtest.cpu_snapshot({"me": os.getpid()})
    end = time.process_time() + 0.3
    while time.process_time() < end:
        pass
    after = loadtest.cpu_snapshot({"me": os.getpid()})
    assert after["me"] - before["me"] >= 0.2 * loadtest.CLK_TCK
    busy, total = loadtest.machine_busy()
    assert 0 <= busy <= total


def random_reply(rng: random.Random) -> list:
    """A reply from an assistant that may offer anything, including buttons the page refuses."""
    texts = ["Which questions would you like to use?", "**Question 2 of 6.** What went well?",
             "Would you like to share this reflection with your line manager, Mo?", "Here's the answer.",
             "Shall I send it?", "I still can't tell which set you'd like.", "Hello!"]
    payloads = ['/inform{"reflection_set": "gibbs"}', '/inform{"reflection_set": "quick_check"}',
                '/faq{"faq_key": "desistance"}', "/affirm", "/deny", "/leave", "/restart", "/session_start",
                '/faq{"faq_key": "X; DROP"}', '/inform{"reflection_set": "../x"}', "", None, "/change",
                '/start_reflection{"prompt_id": "12"}', '/inform{"reflection_set":"gibbs", "x": 1}']
    return [{"text": rng.choice(texts),
             "buttons": [{"title": "b", "payload": rng.choice(payloads)} for _ in range(rng.randint(0, 4))]}
            for _ in range(rng.randint(0, 3))]


@pytest.mark.parametrize("seed", range(20))
def test_scripted_conversations_only_press_buttons_the_page_allows(seed):
    rng = random.Random(seed)
    conv = Conversation(random.Random(seed * 7), FAQS)
    reply = None
    for _ in range(400):
        turn = conv.next_turn(reply)
        if turn.payload is not None:
            assert allowed_payload(turn.payload), turn
            assert turn.body() == {"payload": turn.payload}
        else:
            assert turn.text and turn.text.strip() and turn.body() == {"message": turn.text}
        reply = rng.choice([None, random_reply(rng)])


class FakeAssistant:
    """Just enough of the real reflection flow: set buttons, numbered questions, the share question."""

    SETS = {"quick_check": 2, "what_so_what_now_what": 3, "gibbs": 6, "seed_engagement": 7}

    def __init__(self):
        self.state, self.n, self.total = "none", 0, 0
        self.completed, self.shared, self.faqs = 0, 0, 0

    def question(self):
        return [{"text": f"**Question {self.n} of {self.total}.** Tell me more.", "buttons": []}]

    def reply(self, turn):
        body = turn.body()
        msg, payload = body.get("message", ""), body.get("payload")
        if self.state == "question" and msg in FAQS:
            self.faqs += 1
            return [{"type": "faq_answer", "text": "an answer", "buttons": []}] + self.question()
        if self.state == "set":
            key = payload.split('"')[3] if payload and payload.startswith("/inform") else "what_so_what_now_what"
            self.state, self.n, self.total = "question", 1, self.SETS[key]
            return self.question()
        if self.state == "question":
            if self.n == self.total:
                self.state, self.completed = "share", self.completed + 1
                return [{"text": "Would you like to share this reflection with your line manager, Mo?",
                         "buttons": [{"title": "Yes", "payload": "/affirm"}, {"title": "No", "payload": "/deny"}]}]
            self.n += 1
            return self.question()
        if self.state == "share":
            self.state = "none"
            self.shared += payload == "/affirm"
            return [{"text": "Done.", "buttons": []}]
        if (payload or "").startswith("/start_reflection") or "reflect" in msg:
            self.state = "set"
            return [{"text": "Which questions would you like to use?", "buttons": [
                {"title": k, "payload": '/inform{"reflection_set": "%s"}' % k} for k in self.SETS]}]
        if msg in FAQS:
            self.faqs += 1
            return [{"text": "Did you mean:", "buttons": [{"title": "x", "payload": '/faq{"faq_key": "desistance"}'}]}]
        return [{"text": "Hello!", "buttons": []}]


def test_a_scripted_user_completes_reflections_with_faqs_around_them():
    bot = FakeAssistant()
    conv = Conversation(random.Random(3), FAQS)
    kinds = []
    reply = None
    for _ in range(600):
        turn = conv.next_turn(reply)
        kinds.append(turn.kind)
        reply = bot.reply(turn)
    assert bot.completed >= 15 and 0 < bot.shared < bot.completed
    assert {"faq", "answer", "set_button", "share_button", "faq_button"} <= set(kinds)
    assert kinds.count("answer") > kinds.count("faq") / 2  # reflections are a large part of the chat
    assert "set_typed" not in kinds and "share_typed" not in kinds  # the buttons were there: pressed


def test_growth_questions_are_in_scope_and_one_per_faq():
    dev = [("a", "k1"), ("b", "k1"), ("c", "out_of_scope"), ("d", "k2"), ("e", "k3")]
    assert loadtest.growth_questions(dev, n=2) == ["a", "d"]
    assert loadtest.growth_questions(dev) == ["a", "d", "e"]


def test_top_functions_from_collapsed_stacks():
    raw = ("main (app.py:1);handle (rasa/core/agent.py:10);load (rasa/core/tracker_store.py:5) 6\n"
           "main (app.py:1);handle (rasa/core/agent.py:12);predict (rasa/core/policies/ted.py:9) 3\n"
           "main (app.py:1);idle (asyncio/base_events.py:3) 1\n"
           "garbage line\n")
    top = loadtest.top_functions(raw, n=3)
    assert top["samples"] == 10
    assert top["self"][0] == ("load (core/tracker_store.py)", 0.6)
    assert dict(top["total"])["handle (core/agent.py)"] == 0.9  # two lines of one function merge
    assert dict(top["total"])["main (app.py)"] == 1.0


def test_credentials_file(tmp_path):
    path = tmp_path / "users.txt"
    path.write_text("# load users\nload0 pw one\n\nload1 x\n")
    assert loadtest.read_credentials(path) == [("load0", "pw one"), ("load1", "x")]


def run_against_fake_web_app(coro_factory):
    """Run ``coro_factory(base_url)`` against a tiny stand-in for the web app's login and chat."""
    import asyncio

    from aiohttp import web

    seen = {"bodies": [], "cookies": set(), "count": 0}

    async def login(request):
        data = await request.json()
        resp = web.json_response({"username": data["username"]})
        resp.set_cookie("pa_session", "tok-" + data["username"], httponly=True)
        return resp

    async def chat(request):
        if not request.cookies.get("pa_session", "").startswith("tok-"):
            return web.json_response({"error": "Please log in."}, status=401)
        seen["cookies"].add(request.cookies["pa_session"])
        seen["bodies"].append(await request.json())
        seen["count"] += 1
        n = seen["count"]
        await asyncio.sleep(0.005)
        if n % 5 == 0:
            return web.json_response({"error": "unavailable"}, status=503)
        return web.json_response({"messages": [{"text": "Which questions would you like to use?", "buttons": [
            {"title": "1", "payload": '/inform{"reflection_set": "gibbs"}'}, {"title": "x", "payload": "/restart"}]}]})

    async def main():
        app = web.Application()
        app.add_routes([web.post("/api/login", login), web.post("/api/chat", chat)])
        runner = web.AppRunner(app)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]
        try:
            return await coro_factory(f"http://127.0.0.1:{port}")
        finally:
            await runner.cleanup()

    return asyncio.run(main()), seen


def test_closed_loop_counts_every_error_and_sends_only_allowed_payloads():
    users = [("u1", "p"), ("u2", "p"), ("u3", "p")]
    out, seen = run_against_fake_web_app(
        lambda url: loadtest.closed_loop(url, users, 0.5, FAQS, pids={"me": os.getpid()}))
    assert out["n"] == seen["count"] > 10
    assert out["errors"] == out["errors_by_kind"]["http_503"] == seen["count"] // 5
    assert seen["cookies"] == {"tok-u1", "tok-u2", "tok-u3"}  # each user's own session
    for body in seen["bodies"]:
        if "payload" in body:
            assert allowed_payload(body["payload"]), body
        else:
            assert body["message"].strip()
        assert 8 <= len(body["client_message_id"]) <= 64
    assert any(b.get("payload") == '/inform{"reflection_set": "gibbs"}' for b in seen["bodies"])
    assert out["cpu"]["me"]["cpu_s"] >= 0 and "machine_busy" in out


def test_open_loop_sends_on_schedule_and_growth_reports_its_marks():
    users = [(f"u{i}", "p") for i in range(5)]
    out, seen = run_against_fake_web_app(lambda url: loadtest.open_loop(url, users, rate=40, duration_s=1.0,
                                                                        faq_questions=FAQS, seed=3))
    assert out["scheduled"] == len(loadtest.poisson_schedule(40, 1.0, random.Random(3))) == out["n"] == seen["count"]
    assert out["p50_ms"] >= 5 and out["errors"] == seen["count"] // 5
    out, seen = run_against_fake_web_app(lambda url: loadtest.growth(url, ("g", "p"), 24, FAQS[:2], marks=(1, 10, 300)))
    assert out["n"] == 24 and list(out["latency_at_ms"]) == ["1", "10", "24"] and out["ratio_last_first"] > 0
    assert [b["message"] for b in seen["bodies"][:4]] == FAQS[:2] * 2
