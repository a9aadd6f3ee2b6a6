"""The relay to Rasa against a local stand-in server: replies, errors, bad bodies and hangs."""
import asyncio

import pytest
from aiohttp import web

from assistant.web.rasa_client import AssistantUnavailable, RasaClient, server_for


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
        assert await client.send("7", "hello") == [{"recipient_id": "7", "text": "hi"}]
        assert await client.events("7") == [{"event": "user", "text": "x"}]
        assert await client.actions_healthy() is True

    asyncio.run(_with_server([web.post("/webhooks/webapp/webhook", webhook),
                              web.get("/conversations/7/tracker", tracker),
                              web.get("/health", health)], check))
    assert seen["body"] == {"sender": "7", "message": "hello"}
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
            await client.send("7", "hello")
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
            await client.send("7", "hello")
        assert loop.time() - start < 2

    asyncio.run(_with_server([web.post("/webhooks/webapp/webhook", hang)], check))


def test_each_user_always_goes_to_the_same_rasa_server_and_users_are_shared_out():
    urls = ["http://a", "http://b"]
    chosen = {str(user_id): server_for(str(user_id), urls) for user_id in range(1, 201)}
    assert all(server_for(u, urls) == url for u, url in chosen.items())  # stable
    counts = [list(chosen.values()).count(u) for u in urls]
    assert min(counts) > 60, counts  # roughly even
    assert {server_for(u, ["http://only"]) for u in chosen} == {"http://only"}


def test_messages_and_history_of_a_user_go_to_that_users_server():
    seen = []

    def routes(name):
        async def webhook(request):
            seen.append((name, "send", (await request.json())["sender"]))
            return web.json_response([{"text": name}])

        async def tracker(request):
            seen.append((name, "events", request.match_info["sender"]))
            return web.json_response({"events": []})

        return [web.post("/webhooks/webapp/webhook", webhook), web.get("/conversations/{sender}/tracker", tracker)]

    async def main():
        runners, urls = [], []
        for name in ("first", "second"):
            app = web.Application()
            app.add_routes(routes(name))
            runner = web.AppRunner(app)
            await runner.setup()
            site = web.TCPSite(runner, "127.0.0.1", 0)
            await site.start()
            runners.append(runner)
            urls.append(f"http://127.0.0.1:{site._server.sockets[0].getsockname()[1]}")
        client = RasaClient(urls, "tok", urls[0], timeout=2, channel_token="chan-secret")
        try:
            for user in ("1", "2", "3", "4", "5", "6"):
                [reply] = await client.send(user, "hi")
                await client.events(user)
                expected = "first" if server_for(user, urls) == urls[0] else "second"
                assert reply["text"] == expected
        finally:
            await client.close()
            for runner in runners:
                await runner.cleanup()

    asyncio.run(main())
    assert {name for name, _, _ in seen} == {"first", "second"}  # both servers were used
    by_user = {}
    for name, _, user in seen:
        by_user.setdefault(user, set()).add(name)
    assert all(len(names) == 1 for names in by_user.values())
