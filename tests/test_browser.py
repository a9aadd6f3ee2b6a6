"""Browser test: headless Chromium (Debian's chromium + chromium-driver) drives the chat page."""
from __future__ import annotations

import pytest

from tests.browser_support import click, wait_for, wait_text, wait_text_css
from tests.e2e_stack import USERS, launch, make_database, model_available

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    if not model_available():
        pytest.fail("no trained model in models/: run `make train` first")
    tmp = tmp_path_factory.mktemp("browser")
    running = launch(make_database("sqlite", tmp), tmp)
    yield running
    running.stop_all()


def test_log_in_ask_see_the_answer_and_give_feedback(stack, browser, tmp_path):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    browser.get(stack.web_url)
    wait_for(browser, "#login-view:not([hidden]) #username")  # shown once /api/me says 401
    browser.find_element(By.ID, "username").send_keys("pat.e2e")
    browser.find_element(By.ID, "password").send_keys("wrong password" + Keys.ENTER)
    wait_text(browser, "login-error", "Incorrect username or password.")
    browser.find_element(By.ID, "password").clear()
    browser.find_element(By.ID, "password").send_keys(USERS["pat.e2e"][1] + Keys.ENTER)

    box = wait_for(browser, "#chat-view:not([hidden]) #message")[0]
    box.send_keys("what does SEED stand for?" + Keys.ENTER)  # keyboard only
    answer = wait_for(browser, ".msg.bot[data-faq-key='seed_what_is']")[0]
    assert "Skills for Effective Engagement and Development" in answer.text
    assert "Source:" in answer.text
    buttons = answer.find_elements(By.CSS_SELECTOR, ".feedback button")
    assert [b.text for b in buttons] == ["Helpful", "Not helpful"]
    buttons[0].click()
    wait_for(browser, ".feedback button[aria-pressed='true']")
    browser.save_screenshot(str(tmp_path / "chat.png"))

    # script typed into the chat is shown as text, never run
    box = browser.find_element(By.ID, "message")
    box.send_keys("<img src=x onerror=alert(1)> what is RSM" + Keys.ENTER)
    wait_for(browser, ".msg.bot[data-faq-key]", count=2)
    users = browser.find_elements(By.CSS_SELECTOR, ".msg.user")
    assert users[-1].text.startswith("<img src=x")
    assert not browser.find_elements(By.CSS_SELECTOR, ".msg img")

    # the conversation is shown again after a reload, with the feedback given
    browser.refresh()
    wait_for(browser, ".msg.bot[data-faq-key='seed_what_is']")
    assert wait_for(browser, ".feedback button[aria-pressed='true']")


def test_reflect_with_sharing_then_the_manager_sees_it(stack, browser):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    def log_in(username):
        browser.delete_all_cookies()
        browser.get(stack.web_url)
        wait_for(browser, "#login-view:not([hidden]) #username")
        browser.find_element(By.ID, "username").send_keys(username)
        browser.find_element(By.ID, "password").send_keys(USERS[username][1] + Keys.ENTER)
        return wait_for(browser, "#chat-view:not([hidden]) #message")[0]

    def say(text, count):
        browser.find_element(By.ID, "message").send_keys(text + Keys.ENTER)
        return wait_for(browser, ".msg.bot", count=count)

    log_in("pat.e2e")
    start = len(browser.find_elements(By.CSS_SELECTOR, ".msg.bot"))
    say("I'd like to reflect on a session", start + 2)
    choice = wait_for(browser, ".msg.bot .buttons button")
    [b for b in choice if "Two-minute check" in b.text][0].click()
    wait_text_css(browser, "Question 1 of 2")
    n = len(browser.find_elements(By.CSS_SELECTOR, ".msg.bot"))
    say("Mr Jones arrived on time and we set two goals", n + 2)
    notice = wait_for(browser, ".msg.bot.notice")[-1]
    assert "privacy" in notice.text
    assert browser.find_elements(By.CSS_SELECTOR, ".msg.user")[-1].text == "[name] arrived on time and we set two goals"
    wait_text_css(browser, "Question 2 of 2")
    say("Ask about the job centre earlier", n + 4)
    wait_text_css(browser, "share this reflection with your line manager")
    yes = [b for b in browser.find_elements(By.CSS_SELECTOR, ".msg.bot .buttons button") if b.text == "Yes, share it"]
    yes[-1].click()
    wait_text_css(browser, "Shared with")

    log_in("mgr.e2e")
    browser.find_element(By.ID, "link-manager").click()
    card = wait_for(browser, ".card.shared-reflection")[0]
    assert "[name] arrived on time and we set two goals" in card.text
    assert "Jones" not in browser.page_source


def test_programme_team_edits_and_publishes_an_answer(stack, browser):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    from assistant.db import session_scope
    from assistant.users import create_user, get_user_by_username

    with session_scope(stack.env["ASSISTANT_DATABASE_URL"]) as s:
        if get_user_by_username("prog.browser", session=s) is None:
            create_user(username="prog.browser", password="prog browser password", role="programme", session=s)
    browser.delete_all_cookies()
    browser.get(stack.web_url)
    wait_for(browser, "#login-view:not([hidden]) #username")
    browser.find_element(By.ID, "username").send_keys("prog.browser")
    browser.find_element(By.ID, "password").send_keys("prog browser password" + Keys.ENTER)
    wait_for(browser, "#whoami:not([hidden]) li:not([hidden]) > #link-programme")[0].click()
    browser.find_element(By.ID, "q").send_keys("jolliffe" + Keys.ENTER)
    click(browser, "li[data-key='omfq'] button")  # the list re-renders with the search results
    answer = wait_for(browser, "#editor:not([hidden]) #f-answer")[0]
    answer.clear()
    answer.send_keys("Edited in the browser: the **OMFQ-r** questionnaire. <script>alert(1)</script>")
    wait_text_css(browser, "Edited in the browser", css="#preview")
    assert browser.find_elements(By.CSS_SELECTOR, "#preview strong")[0].text == "OMFQ-r"
    assert not browser.find_elements(By.CSS_SELECTOR, "#preview script")
    browser.find_element(By.ID, "save").click()
    wait_text_css(browser, "live in the chat now", css="#edit-status")
    assert "edit" in wait_for(browser, "#history .moj-timeline__item")[0].text

    # the very next chat reply uses the new answer, without retraining
    browser.delete_all_cookies()
    browser.get(stack.web_url)
    wait_for(browser, "#login-view:not([hidden]) #username")
    browser.find_element(By.ID, "username").send_keys("pat.e2e")
    browser.find_element(By.ID, "password").send_keys(USERS["pat.e2e"][1] + Keys.ENTER)
    wait_for(browser, "#chat-view:not([hidden]) #message")[0].send_keys(
        "what is the offender management feedback questionnaire" + Keys.ENTER)
    wait_text_css(browser, "Edited in the browser", css=".msg.bot[data-faq-key='omfq']")
