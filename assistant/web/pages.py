"""The web app's HTML pages: Jinja2 templates in the GOV.UK / MoJ design systems' markup, one
layout (``base.html``: header, service navigation, footer), no inline script or style.

The pages hold no user data: each page's script asks the API (who is logged in, what to show),
so a page is the same for everyone and the service navigation shows links by role."""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Callable, Dict, NamedTuple

from fastapi import FastAPI
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles
from jinja2 import Environment, FileSystemLoader, select_autoescape

TEMPLATES = Path(__file__).resolve().parent / "templates"


class Page(NamedTuple):
    """A page: its template, its title, the service navigation item it belongs to."""

    template: str
    title: str
    section: str


PAGES: Dict[str, Page] = {
    "/": Page("index.html", "Chat", "chat"),
    "/reflections": Page("reflections.html", "My reflections", "reflections"),
    "/manager": Page("manager.html", "My team", "manager"),
    "/programme": Page("programme.html", "FAQs", "programme"),
    "/admin": Page("admin.html", "Users", "admin"),
    "/password": Page("password.html", "Your password", ""),
    "/accessibility": Page("accessibility.html", "Accessibility statement", ""),
}


def environment() -> Environment:
    """The templates' Jinja2 environment (HTML autoescaped)."""
    return Environment(loader=FileSystemLoader(str(TEMPLATES)), autoescape=select_autoescape(["html"]),
                       trim_blocks=True, lstrip_blocks=True)


@lru_cache(maxsize=1)
def _shared_environment() -> Environment:
    return environment()


def message_page(heading: str, message: str, *, status: int, code: str, message_id: str = "message",
                 link_text: str = "Back to the sign-in page") -> HTMLResponse:
    """A page in the layout that only says something (e.g. why a sign-in failed), with a link
    back to the start; ``message`` is escaped, ``code`` is kept in ``data-code``."""
    html = _shared_environment().get_template("message.html").render(
        title=heading, section="", heading=heading, message=message, code=code, message_id=message_id,
        link_text=link_text)
    return HTMLResponse(html, status_code=status)


def render(env: Environment, page: Page) -> str:
    """The HTML of ``page``."""
    return env.get_template(page.template).render(title=page.title, section=page.section)


def _route(env: Environment, page: Page) -> Callable[[], HTMLResponse]:
    def route() -> HTMLResponse:
        return HTMLResponse(render(env, page))

    return route


def install(app: FastAPI, assets_dir: Path) -> None:
    """Add the pages and serve the design systems' built files at /assets (``make assets``).

    A missing assets folder is not fatal (the API works without it); the pages then look plain."""
    env = environment()
    for path, page in PAGES.items():
        app.add_api_route(path, _route(env, page), methods=["GET"], include_in_schema=False,
                          response_class=HTMLResponse)
    app.mount("/assets", StaticFiles(directory=assets_dir, check_dir=False), name="assets")
