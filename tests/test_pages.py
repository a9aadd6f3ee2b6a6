"""The HTML pages: GOV.UK / MoJ Frontend markup from one layout, served under the strict
Content-Security-Policy (no inline script or style), the design systems' built files at /assets,
and the accessibility statement linked from every page."""
from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest
from fastapi.testclient import TestClient

from assistant.config import Settings
from assistant.web.app import create_app
from assistant.web.pages import PAGES
from tests.conftest import ROOT


class Tags(HTMLParser):
    """Every start tag of a page, with its attributes."""

    def __init__(self) -> None:
        super().__init__()
        self.tags = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))


def tags_of(html: str):
    parser = Tags()
    parser.feed(html)
    return parser.tags


@pytest.fixture
def client(tmp_path):
    assets = tmp_path / "assets"
    assets.mkdir()
    (assets / "probe.css").write_text("body {}")
    settings = Settings(env="test", database_url=f"sqlite:///{tmp_path / 'pages.db'}", training_worker=False,
                        secrets_dir=tmp_path / "secrets", assets_dir=assets)
    return TestClient(create_app(settings))


@pytest.mark.parametrize("path", sorted(PAGES))
def test_every_page_is_the_design_systems_layout_under_the_strict_policy(client, path):
    resp = client.get(path)
    assert resp.status_code == 200 and resp.headers["content-type"].startswith("text/html")
    policy = resp.headers["content-security-policy"]
    assert "script-src 'self';" in policy and "style-src 'self';" in policy and "unsafe" not in policy
    tags = tags_of(resp.text)
    scripts = [attrs for tag, attrs in tags if tag == "script"]
    assert scripts and all(a.get("src", "").startswith("/static/") for a in scripts), scripts  # no inline script
    assert {"type": "module", "src": "/static/init.js"} in scripts  # GOV.UK Frontend's initAll
    assert "<style" not in resp.text and not any("style" in attrs for _, attrs in tags)
    assert not any(k.startswith("on") for _, attrs in tags for k in attrs)  # no inline handlers
    sheets = [a["href"] for tag, a in tags if tag == "link" and a.get("rel") == "stylesheet"]
    assert sheets == ["/assets/govuk-frontend.min.css", "/assets/moj-frontend.min.css", "/static/app.css"]
    html_attrs = dict(tags[0][1]) if tags[0][0] == "html" else {}
    assert html_attrs.get("lang") == "en-GB" and "govuk-template" in html_attrs.get("class", "")
    classes = " ".join(a.get("class", "") for _, a in tags)
    for component in ("govuk-skip-link", "moj-header", "govuk-service-navigation", "govuk-main-wrapper",
                      "govuk-footer"):
        assert component in classes, component
    assert ("a", {"class": "govuk-footer__link", "id": "link-accessibility", "href": "/accessibility"}) in tags
    ids = [a["id"] for _, a in tags if "id" in a]
    assert len(ids) == len(set(ids)), sorted(i for i in ids if ids.count(i) > 1)
    assert ("main", {"class": "govuk-main-wrapper", "id": "main", "tabindex": "-1"}) in tags
    for _, attrs in tags:  # every label and aria reference points at an element of the page
        refs = [attrs.get("for")] + (attrs.get("aria-describedby") or "").split() + [attrs.get("aria-labelledby")]
        assert all(ref in ids for ref in refs if ref), attrs


def test_the_current_section_is_marked_in_the_service_navigation(client):
    tags = tags_of(client.get("/admin").text)
    current = [a["id"] for tag, a in tags if tag == "a" and a.get("aria-current") == "page"]
    assert current == ["link-admin"]
    assert not [a for tag, a in tags_of(client.get("/accessibility").text) if a.get("aria-current")]


def test_the_chat_keeps_its_live_region_and_its_ids(client):
    tags = dict((a.get("id"), a) for _, a in tags_of(client.get("/").text) if a.get("id"))
    assert tags["log"]["role"] == "log" and tags["log"]["aria-live"] == "polite"
    for element_id in ("login-view", "login-form", "username", "password", "login-errors", "chat-view",
                       "chat-form", "message", "send", "chat-error", "typing", "prompts", "whoami",
                       "link-reflections", "link-manager", "link-programme", "link-admin", "logout"):
        assert element_id in tags, element_id


def test_the_accessibility_statement_follows_the_model_statement(client):
    text = re.sub(r"\s+", " ", client.get("/accessibility").text)
    for heading in ("How accessible this service is", "Feedback and contact information",
                    "Reporting accessibility problems with this service", "Enforcement procedure",
                    "Compliance status", "Non-accessible content", "Preparation of this accessibility statement"):
        assert f">{heading}</h" in text, heading
    assert "Equality and Human Rights Commission" in text and "Equality Advisory and Support Service" in text
    assert "axe-core" in text and "keyboard" in text and re.search(r"prepared on \d{1,2} \w+ 20\d\d", text)


def test_assets_are_served_from_the_settings_folder(client):
    assert client.get("/assets/probe.css").text == "body {}"
    assert client.get("/assets/nope.css").status_code == 404


def test_the_built_assets_hold_what_the_pages_use():
    """`make assets` (npm ci) copies the design systems' files: the stylesheets, the ES module
    scripts init.js imports, and every font and image the stylesheets refer to."""
    built = Settings(env="test").assets_dir
    assert (built / ".built").exists(), f"{built} is not built: run `make assets`"
    init = (ROOT / "assistant" / "web" / "static" / "init.js").read_text()
    for module in re.findall(r'from "/assets/([^"]+)"', init):
        assert "initAll" in (built / module).read_text()[-2000:], module  # exported
    for sheet in ("govuk-frontend.min.css", "moj-frontend.min.css"):
        for url in set(re.findall(r"url\((/assets/[^)]+)\)", (built / sheet).read_text())):
            assert (built / url[len("/assets/"):]).exists(), (sheet, url)
    layout = (ROOT / "assistant" / "web" / "templates" / "base.html").read_text()
    for url in re.findall(r'"/assets/([^"]+)"', layout):
        assert (built / url).exists(), url


def test_a_message_page_is_in_the_layout_and_escapes_its_message():
    from assistant.web.pages import message_page

    resp = message_page("You could not be signed in", "No <b>account</b> here", status=403, code="unknown_user",
                        message_id="sso-error")
    html = resp.body.decode()
    assert resp.status_code == 403 and "No &lt;b&gt;account&lt;/b&gt; here" in html and "<b>" not in html
    tags = tags_of(html)
    assert ("p", {"class": "govuk-body", "id": "sso-error", "data-code": "unknown_user"}) in tags
    assert ("a", {"class": "govuk-footer__link", "id": "link-accessibility", "href": "/accessibility"}) in tags
    assert all(a.get("src") for tag, a in tags if tag == "script")
