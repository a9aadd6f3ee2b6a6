"""Single sign-on in a real browser: headless Chromium presses "Sign in with ...", signs in at
the test provider (panva's oidc-provider, tests/oidc/) and lands in the chat.

The web app (uvicorn, no Rasa needed to sign in) is on 127.0.0.1 and the provider on
``localhost``: different sites, so the browser applies its SameSite rules as it would in
production (the sign-in cookie is Lax so it comes back with the provider's redirect; the
session cookie is Strict and is used from the chat's own requests). axe-core checks the login
view with the button and the page that says why a sign-in failed.
"""
from __future__ import annotations

import os
import subprocess
import sys
import time

import httpx
import pytest

from assistant.db import session_scope
from assistant.migrations import upgrade
from assistant.sso import set_sso_id
from assistant.users import create_user
from tests.a11y import axe_violations
from tests.conftest import ROOT
from tests.oidc_support import free_port, run_provider

pytestmark = pytest.mark.browser

CLIENT_ID = "probation-assistant"
CLIENT_SECRET = "browser-test-client-secret-" + "y" * 16
ACCOUNTS = {"pat": {"claims": {"email": "pat@example.org", "email_verified": True}},
            "stranger": {"claims": {"email": "stranger@example.org", "email_verified": True}}}


@pytest.fixture(scope="module")
def web(tmp_path_factory):
    """The web app's URL, with single sign-on pointed at a running provider."""
    tmp = tmp_path_factory.mktemp("sso-browser")
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    database = f"sqlite:///{tmp / 'sso.db'}"
    upgrade(database)
    with session_scope(database) as session:
        create_user(username="sam", password="correct horse sam", role="manager", session=session)
        pat = create_user(username="pat", password="correct horse pat", role="practitioner",
                          display_name="Pat Practitioner", manager_username="sam", session=session)
        set_sso_id(pat.id, "pat@example.org", claim="email", actor=None, session=session)
    with run_provider(tmp, client_id=CLIENT_ID, client_secret=CLIENT_SECRET, accounts=ACCOUNTS,
                      redirect_uris=[url + "/sso/callback"], host="localhost") as issuer:
        env = {**os.environ, "ASSISTANT_ENV": "test", "ASSISTANT_DATABASE_URL": database,
               "ASSISTANT_SECRETS_DIR": str(tmp / "secrets"), "ASSISTANT_TRAINING_WORKER": "false",
               "ASSISTANT_RASA_URL": f"http://127.0.0.1:{free_port()}", "ASSISTANT_SSO_ISSUER": issuer,
               "ASSISTANT_SSO_CLIENT_ID": CLIENT_ID, "ASSISTANT_SSO_CLIENT_SECRET": CLIENT_SECRET,
               "ASSISTANT_SSO_PROVIDER_NAME": "Test Sign-In"}
        log = open(tmp / "web.log", "w")
        process = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "assistant.web.app:create_app", "--factory", "--host", "127.0.0.1",
             "--port", str(port), "--ws", "none"], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
        try:
            deadline = time.monotonic() + 60
            while True:
                try:
                    if httpx.get(url + "/healthz", timeout=1).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                if process.poll() is not None or time.monotonic() > deadline:
                    pytest.fail("the web app did not start:\n" + (tmp / "web.log").read_text()[-3000:])
                time.sleep(0.3)
            yield url
        finally:
            process.terminate()
            process.wait(timeout=20)
            log.close()


def _wait(driver, css, timeout=30):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(driver, timeout).until(lambda d: d.find_elements(By.CSS_SELECTOR, css))[0]


def _sign_in_at_provider(driver, login):
    from selenium.webdriver.common.by import By

    _wait(driver, "input[name=login]").send_keys(login)
    driver.find_element(By.CSS_SELECTOR, "input[name=password]").send_keys("anything")
    driver.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    _wait(driver, "input[name=prompt][value=consent]")
    driver.find_element(By.CSS_SELECTOR, "button[type=submit]").click()


def test_sign_in_with_the_provider_lands_in_the_chat(web, browser):
    browser.execute_cdp_cmd("Network.clearBrowserCookies", {})  # the provider's too (another site)
    browser.get(web + "/")
    button = _wait(browser, "#login-view:not([hidden]) #sso-login:not([hidden]) a")
    assert button.text == "Sign in with Test Sign-In"
    assert axe_violations(browser) == []
    button.click()
    _sign_in_at_provider(browser, "pat")
    _wait(browser, "#chat-view:not([hidden])")
    assert "Pat Practitioner (practitioner)" in _wait(browser, "#user-name").text
    assert browser.current_url == web + "/"


def test_a_refused_sign_in_says_why(web, browser):
    browser.execute_cdp_cmd("Network.clearBrowserCookies", {})  # the provider's too (another site)
    browser.get(web + "/")
    _wait(browser, "#sso-login:not([hidden]) a").click()
    _sign_in_at_provider(browser, "stranger")
    message = _wait(browser, "#sso-error")
    assert "no account here is linked" in message.text
    assert axe_violations(browser) == []
