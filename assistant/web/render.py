"""Turn Rasa's messages and tracker events into the API's chat messages.

Markdown is rendered on the server with raw HTML disabled, so answer text can
never inject markup or script into the page.
"""
from __future__ import annotations

import json
import re
from functools import lru_cache
from typing import Any, Dict, Iterable, List, Optional

from markdown_it import MarkdownIt

from assistant.web.schemas import Button, ChatMessage

FAQ_PAYLOAD = re.compile(r'^/faq\{"faq_key": ?"([a-z][a-z0-9_]{1,63})"\}$')
# Button payloads the page may send on the user's behalf (anything else is refused)
ALLOWED_PAYLOADS = [
    FAQ_PAYLOAD,
    re.compile(r"^/(affirm|deny|start_reflection|leave|change)$"),
    re.compile(r'^/(inform|start_reflection)\{"reflection_set": ?"[a-z][a-z0-9_]{1,63}"\}$'),
    re.compile(r'^/start_reflection\{"prompt_id": ?"\d{1,12}"\}$'),
]
PAYLOAD_LABELS = {"/affirm": "Yes", "/deny": "No", "/start_reflection": "Start a reflection", "/leave": "Stop for now",
                  "/change": "Change something"}


@lru_cache(maxsize=1)
def _markdown() -> MarkdownIt:
    return MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False})


def markdown_html(text: str) -> str:
    """Safe HTML for Markdown ``text`` (raw HTML escaped, unsafe link schemes refused)."""
    return _markdown().render(text or "")


def allowed_payload(payload: Optional[str]) -> bool:
    """True if ``payload`` is one of the buttons the assistant offers."""
    return any(p.fullmatch(payload or "") for p in ALLOWED_PAYLOADS)  # not match: "$" allows a trailing newline


def payload_key(payload: Optional[str]) -> Optional[str]:
    """The FAQ key of a "Did you mean" button payload, or None if it is not one."""
    match = FAQ_PAYLOAD.match(payload or "")
    return match.group(1) if match else None


def bot_message(text: Optional[str], buttons: Optional[list], custom: Optional[dict]) -> Optional[ChatMessage]:
    """One bot message for the API from Rasa's text/buttons/custom parts."""
    if isinstance(custom, dict) and custom.get("type") == "faq_answer":
        return ChatMessage(
            sender="bot", type="faq_answer", text=custom.get("text"),
            html=markdown_html(custom.get("text") or ""), faq_key=custom.get("faq_key"),
            question=custom.get("question"), source=custom.get("source"),
            answer_id=custom.get("answer_id"),
        )
    if not text and not buttons:
        return None
    return ChatMessage(
        sender="bot", text=text, html=markdown_html(text or ""),
        buttons=[Button(title=b.get("title", ""), payload=b.get("payload", "")) for b in buttons or []
                 if isinstance(b, dict)],
    )


def from_webhook(items: Iterable[Dict[str, Any]]) -> List[ChatMessage]:
    """Messages from Rasa's REST channel reply."""
    out = []
    for item in items:
        msg = bot_message(item.get("text"), item.get("buttons"), item.get("custom"))
        if msg:
            out.append(msg)
    return out


def user_message(text: str, questions: Dict[str, str]) -> ChatMessage:
    """A user's message as shown in the chat (a button press shows the button's question)."""
    key = payload_key(text)
    if key:
        text = questions.get(key, key.replace("_", " "))
    elif text in PAYLOAD_LABELS:
        text = PAYLOAD_LABELS[text]
    elif text.startswith("/start_reflection"):
        text = PAYLOAD_LABELS["/start_reflection"]
    elif text.startswith("/inform"):
        text = "Chose a question set"
    return ChatMessage(sender="user", text=text)


def from_events(events: Iterable[Dict[str, Any]], questions: Dict[str, str]) -> List[ChatMessage]:
    """The whole conversation, from a Rasa tracker's events (the route pages it)."""
    out: List[ChatMessage] = []
    for event in events:
        kind = event.get("event")
        if kind == "user" and event.get("text"):
            out.append(user_message(event["text"], questions))
        elif kind == "bot":
            data = event.get("data") or {}
            custom = data.get("custom")
            if isinstance(custom, str):
                try:
                    custom = json.loads(custom)
                except ValueError:
                    custom = None
            msg = bot_message(event.get("text"), data.get("buttons"), custom)
            if msg:
                out.append(msg)
    return out
