"""The relay to Rasa against a local stand-in server: replies, errors, bad bodies and hangs."""
import asyncio

import pytest
from aiohttp import web

from assistant.web.rasa_client import AssistantUnavailable, RasaClient
from tests.stand_ins import http_stand_in


async def _with_server(routes, check):
    app = web.Application()
    app.add_routes(routes)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]
    client = RasaClient([f"http://127.0.0.1:{port}"], "tok", f"http://127.0.0.1:{port}", timeout=0.5,
                        channel_token="chan-secret")
    try:
        await check(client)
    finally:
        await client.close()
        await runner.cleanup()


def test_reply_events_and_health_pass_through():
    seen = {}

    async def webhook(request):
        seen["body"] = await request.json()
        seen["channel_token"] = request.headers.get("X-Channel-Token")
        return web.json_response([{"recipient_id": "7", "text": "hi"}])

    async def tracker(request):
        seen["query"] = dict(request.query)
        return web.json_response({"events": [{"event": "user", "text": "x"}]})

    async def health(_request):
        return web.json_response({"status": "ok"})

    async def check(client):
        assert await client.send("7", "hello", "msg-id-0001") == [{"recipient_id": "7", "text": "hi"}]
        assert await client.events("7") == [{"event": "user", "text": "x"}]
        assert await client.actions_healthy() is True

    asyncio.run(_with_server([web.post("/webhooks/webapp/webhook", webhook),
                              web.get("/conversations/7/tracker", tracker),
                              web.get("/health", health)], check))
    assert seen["body"] == {"sender": "7", "message": "hello", "message_id": "msg-id-0001"}
    assert seen["channel_token"] == "chan-secret"  # our channel refuses messages without it
    assert seen["query"] == {"token": "tok", "include_events": "ALL"}


@pytest.mark.parametrize("handler", [
    lambda r: web.Response(status=500, text="boom"),
    lambda r: web.Response(status=200, text="not json", content_type="text/plain"),
])
def test_errors_and_bad_bodies_mean_unavailable(handler):
    async def reply(request):
        return handler(request)

    async def check(client):
        with pytest.raises(AssistantUnavailable):
            await client.send("7", "hello", "msg-id-0001")
        assert await client.actions_healthy() is False  # no /health route: 404

    asyncio.run(_with_server([web.post("/webhooks/webapp/webhook", reply)], check))


def test_a_hanging_rasa_times_out_instead_of_hanging_the_page():
    async def hang(_request):
        await asyncio.sleep(5)
        return web.json_response([])

    async def check(client):
        loop = asyncio.get_running_loop()
        start = loop.time()
        with pytest.raises(AssistantUnavailable):
            await client.send("7", "hello", "msg-id-0001")
        assert loop.time() - start < 2

    asyncio.run(_with_server([web.post("/webhooks/webapp/webhook", hang)], check))


async def _servers(handlers):
    """Start one stand-in Rasa server per handler; returns (runners, urls)."""
    started = [await http_stand_in("/webhooks/webapp/webhook", handler) for handler in handlers]
    return [runner for runner, _ in started], [url for _, url in started]


def test_messages_are_spread_evenly_over_the_servers():
    seen = []

    def handler(name):
        async def webhook(request):
            seen.append(name)
            await asyncio.sleep(0.01)
            return web.json_response([{"text": name}])
        return webhook

    async def main():
        runners, urls = await _servers([handler("first"), handler("second")])
        client = RasaClient(urls, "tok", urls[0], timeout=2, channel_token="chan-secret")
        try:
            # one at a time they alternate; 20 at once split 10/10 by messages in flight
            for n in range(10):
                await client.send(str(n % 3), "hi", f"msg-one-{n:04d}")
            await asyncio.gather(*(client.send(str(n), "hi", f"msg-many-{n:04d}") for n in range(20)))
        finally:
            await client.close()
            for runner in runners:
                await runner.cleanup()

    asyncio.run(main())
    assert seen[:10].count("first") == 5 and seen[10:].count("first") == 10, seen


def test_a_server_that_is_down_or_failing_is_passed_over_with_the_same_message_id():
    bodies = []

    async def failing(request):
        bodies.append(("failing", await request.json()))
        return web.Response(status=503)

    async def working(request):
        bodies.append(("working", await request.json()))
        return web.json_response([{"text": "ok"}])

    async def main():
        runners, urls = await _servers([failing, working])
        dead = "http://127.0.0.1:9"  # nothing listens on the discard port
        client = RasaClient([dead] + urls, "tok", urls[0], timeout=2, channel_token="chan-secret")
        try:
            for n in range(4):
                assert await client.send("7", "hello", f"msg-id-{n:04d}") == [{"text": "ok"}]
        finally:
            await client.close()
            for runner in runners:
                await runner.cleanup()

    asyncio.run(main())
    assert [name for name, _ in bodies].count("working") == 4
    assert [name for name, _ in bodies].count("failing") == 1  # then skipped for a while
    assert {b["message_id"] for _, b in bodies if b["message_id"] == "msg-id-0000"}  # same id on the retry
    assert all(b["sender"] == "7" for _, b in bodies)


def test_when_every_server_fails_the_user_is_told_unavailable():
    async def failing(_request):
        return web.Response(status=503)

    async def main():
        runners, urls = await _servers([failing, failing])
        client = RasaClient(urls, "tok", urls[0], timeout=2, channel_token="chan-secret")
        try:
            with pytest.raises(AssistantUnavailable):
                await client.send("7", "hello", "msg-id-0001")
        finally:
            await client.close()
            for runner in runners:
                await runner.cleanup()

    asyncio.run(main())


def test_one_users_messages_reach_rasa_one_at_a_time_and_others_are_not_held_up():
    in_flight = {"7": 0, "8": 0}
    most = {"7": 0, "8": 0}
    order = []

    async def webhook(request):
        body = await request.json()
        who = body["sender"]
        in_flight[who] += 1
        most[who] = max(most[who], in_flight[who])
        order.append(body["message_id"])
        await asyncio.sleep(0.05)
        in_flight[who] -= 1
        return web.json_response([{"text": body["message_id"]}])

    async def main():
        runners, urls = await _servers([webhook, webhook])
        client = RasaClient(urls, "tok", urls[0], timeout=5, channel_token="chan-secret")
        try:
            loop = asyncio.get_running_loop()
            start = loop.time()
            replies = await asyncio.gather(*(client.send("7", "hi", f"msg-seven-{n}") for n in range(6)),
                                           client.send("8", "hi", "msg-eight-0"))
            other_user = loop.time() - start
        finally:
            await client.close()
            for runner in runners:
                await runner.cleanup()
        return replies, other_user

    replies, _ = asyncio.run(main())
    assert most == {"7": 1, "8": 1}  # never two of user 7's messages at Rasa at once
    assert [r[0]["text"] for r in replies[:6]] == [f"msg-seven-{n}" for n in range(6)]
    sevens = [m for m in order if m.startswith("msg-seven")]
    assert sevens == [f"msg-seven-{n}" for n in range(6)]  # in the order they were sent
    assert order.index("msg-eight-0") < 3  # user 8 did not wait behind user 7's queue


def test_waiting_longer_than_the_timeout_for_ones_own_earlier_message_is_unavailable():
    async def slow(_request):
        await asyncio.sleep(0.4)
        return web.json_response([{"text": "ok"}])

    async def check(client):  # timeout 0.5 s: the second waits 0.4 s, then gets 0.5 s itself
        first, second, third = await asyncio.gather(
            client.send("7", "a", "msg-a-0001"), client.send("7", "b", "msg-b-0001"),
            client.send("7", "c", "msg-c-0001"), return_exceptions=True)
        assert first == [{"text": "ok"}] and second == [{"text": "ok"}]
        assert isinstance(third, AssistantUnavailable)  # waited 0.8 s > 0.5 s for the others
        assert client._user_locks == {}  # nothing kept once nobody waits

    asyncio.run(_with_server([web.post("/webhooks/webapp/webhook", slow)], check))
