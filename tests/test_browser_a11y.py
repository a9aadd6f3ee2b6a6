"""Accessibility, kept: axe-core finds no WCAG 2.0/2.1/2.2 A or AA violation on any page or key
state, and a keyboard alone (Tab, Shift+Tab, Enter, Space; no clicks) completes a reflection and
an FAQ edit, with the focus always visible and new chat messages in a live region."""
from __future__ import annotations

import pytest

from tests.a11y import axe_violations, focused
from tests.browser_support import log_in, wait_for, wait_text, wait_text_css
from tests.e2e_stack import USERS, launch, make_database, model_available

pytestmark = pytest.mark.browser

MORE_USERS = {  # username: (role, password, line manager)
    "prog.a11y": ("programme", "prog a11y password", None),
    "admin.a11y": ("admin", "admin a11y password", None),
    "kay.a11y": ("practitioner", "kay a11y password", "mgr.e2e"),
}
PASSWORDS = {name: user[1] for name, user in {**USERS, **MORE_USERS}.items()}
KEYBOARD_USER = "kay.a11y"  # reflects with the keyboard alone


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    if not model_available():
        pytest.fail("no trained model in models/: run `make train` first")
    from assistant.db import session_scope
    from assistant.users import create_user

    tmp = tmp_path_factory.mktemp("a11y")
    url = make_database("sqlite", tmp)
    with session_scope(url) as s:
        for username, (role, password, manager) in MORE_USERS.items():
            create_user(username=username, password=password, role=role, manager_username=manager, session=s)
    running = launch(url, tmp)
    yield running
    running.stop_all()


def say(browser, text, replies=1):
    """Type ``text`` in the message box and wait for ``replies`` more bot messages."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    before = len(browser.find_elements(By.CSS_SELECTOR, ".msg.bot"))
    browser.find_element(By.ID, "message").send_keys(text + Keys.ENTER)
    wait_for(browser, ".msg.bot", count=before + replies, timeout=60)
    wait_for(browser, "#typing[hidden]")


def test_no_wcag_a_or_aa_violations_on_any_page_or_key_state(stack, browser):
    from selenium.webdriver.common.by import By

    found = {}

    def check(state, ready_css):
        wait_for(browser, ready_css)
        found[state] = axe_violations(browser)

    def submit(form_css):
        browser.find_element(By.CSS_SELECTOR, form_css + " button[type=submit]").click()

    browser.delete_all_cookies()
    browser.get(stack.web_url)
    check("sign in", "#login-view:not([hidden])")
    submit("#login-form")
    check("sign in: form errors", "#login-errors:not([hidden])")
    browser.get(stack.web_url + "/accessibility")
    check("accessibility statement", "#link-accessibility")

    log_in(browser, stack.web_url, "pat.e2e", PASSWORDS["pat.e2e"])
    check("chat: empty", ".msg.bot")
    submit("#chat-form")
    check("chat: form error", "#message-group.govuk-form-group--error")
    say(browser, "what does SEED stand for?")
    check("chat: an answer with feedback buttons", ".msg.bot[data-faq-key] .feedback button")
    browser.find_element(By.CSS_SELECTOR, ".msg.bot[data-faq-key] .feedback button").click()
    check("chat: feedback given", ".feedback button[aria-pressed='true']")
    say(browser, "targets")
    check("chat: did you mean", ".msg.bot .buttons button")
    say(browser, "I'd like to reflect on a session", replies=2)
    wait_text_css(browser, "Which questions")
    [b for b in browser.find_elements(By.CSS_SELECTOR, ".msg.bot .buttons button") if "Two-minute" in b.text][-1].click()
    wait_text_css(browser, "Question 1 of 2")
    say(browser, "We set two goals for the month")
    wait_text_css(browser, "Question 2 of 2")
    check("chat: a reflection in progress", "#typing[hidden]")
    browser.get(stack.web_url + "/reflections")
    check("my reflections", "[data-reflection-id]")
    browser.get(stack.web_url + "/password")
    check("your password", "#password-form")
    submit("#password-form")
    check("your password: form errors", "#password-errors:not([hidden])")

    log_in(browser, stack.web_url, "mgr.e2e", PASSWORDS["mgr.e2e"])
    browser.get(stack.web_url + "/manager")
    check("my team", "#members .govuk-checkboxes__item")
    submit("#prompt-form")
    check("my team: form error", "#prompt-errors:not([hidden])")

    log_in(browser, stack.web_url, "prog.a11y", PASSWORDS["prog.a11y"])
    browser.get(stack.web_url + "/programme")
    check("FAQs", "li[data-key='omfq'] button")
    browser.find_element(By.CSS_SELECTOR, "li[data-key='omfq'] button").click()
    check("FAQs: the edit form", "#editor:not([hidden]) #preview p")
    browser.find_element(By.ID, "f-source").clear()
    submit("#edit-form")
    check("FAQs: the edit form with an error", "#edit-errors:not([hidden])")

    log_in(browser, stack.web_url, "admin.a11y", PASSWORDS["admin.a11y"])
    browser.get(stack.web_url + "/admin")
    check("users", "#accounts tbody tr button")
    browser.find_element(By.CSS_SELECTOR, "#accounts tbody tr button").click()
    check("users: managing an account", "#account:not([hidden]) #account-summary div")
    submit("#create-form")
    check("users: form error", "#admin-errors:not([hidden])")
    browser.find_element(By.ID, "c-username").send_keys("new.a11y")
    submit("#create-form")
    check("users: account created", "#admin-status:not([hidden]) #credential:not([hidden])")

    print("\naxe-core WCAG A/AA violations per page and state:")
    for state, violations in found.items():
        print(f"  {state}: {len(violations)}")
    assert len(found) == 21  # every state above was reached
    assert {state: v for state, v in found.items() if v} == {}
    # and the check does find a violation when there is one (an image without a text alternative)
    browser.execute_script("document.getElementById('main').append(document.createElement('img'))")
    assert any(v.startswith("image-alt") for v in axe_violations(browser))


def test_keyboard_alone_completes_a_reflection_and_an_faq_edit(stack, browser):
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.keys import Keys

    def keys(*sequence, hold=None):
        """Type ``sequence`` on the focused element, holding the modifier key ``hold`` down."""
        chain = ActionChains(browser)
        if hold:
            chain.key_down(hold)
        chain.send_keys(*sequence)
        if hold:
            chain.key_up(hold)
        chain.perform()

    def focus_on(predicate, back=False, limit=60):
        """Press Tab (Shift+Tab if ``back``) until the focused element matches; the focus is
        visible at every stop."""
        for _ in range(limit):
            keys(Keys.TAB, hold=Keys.SHIFT if back else None)
            now = focused(browser)
            assert now["visible"], f"no visible focus on {now}"
            if predicate(now):
                return now
        raise AssertionError(f"never reached the element after {limit} presses of Tab")

    def focus_is(element_id):
        now = focused(browser)
        assert now["id"] == element_id and now["visible"], now

    def reply(wait_for_text, *sequence, hold=None):
        """Type ``sequence`` (a message and Enter, or a key on a reply's button), wait for a new
        reply with ``wait_for_text``; the focus is then back in the message box."""
        from selenium.webdriver.support.ui import WebDriverWait

        before = len(browser.find_elements("css selector", ".msg.bot"))
        keys(*sequence, hold=hold)
        WebDriverWait(browser, 60).until(lambda d: any(
            wait_for_text in e.text for e in d.find_elements("css selector", ".msg.bot")[before:]))
        wait_for(browser, "#typing[hidden]")
        focus_is("message")

    # sign in: the page puts the focus in the username box
    browser.delete_all_cookies()
    browser.get(stack.web_url)
    wait_for(browser, "#login-view:not([hidden])")
    focus_is("username")
    keys(KEYBOARD_USER, Keys.TAB, PASSWORDS[KEYBOARD_USER], Keys.ENTER)
    wait_for(browser, "#chat-view:not([hidden])")
    wait_for(browser, ".msg.bot")
    focus_is("message")

    # new messages land in the live region (role=log, polite), which announces additions
    log = browser.find_element("id", "log")
    assert (log.get_attribute("role"), log.get_attribute("aria-live")) == ("log", "polite")
    browser.execute_script("""
        window.announced = [];
        new MutationObserver((changes) => changes.forEach((c) => c.addedNodes.forEach((n) =>
          window.announced.push(n.textContent)))).observe(document.getElementById("log"), {childList: true});""")

    reply("Which questions", "I'd like to reflect on a session", Keys.ENTER)
    focus_on(lambda f: "Two-minute check" in f["text"], back=True)  # the reply's buttons come just before
    reply("Question 1 of 2", Keys.ENTER)
    reply("Question 2 of 2", "We agreed two goals for the next month", Keys.ENTER)
    reply("share this reflection with your line manager", "Check in about the goals next time", Keys.ENTER)
    focus_on(lambda f: f["text"] == "Yes, share it", back=True)
    reply("Shared with", Keys.SPACE)
    announced = " ".join(browser.execute_script("return window.announced"))
    assert "Question 1 of 2" in announced and "Shared with" in announced
    assert "We agreed two goals for the next month" in announced

    # an FAQ edit: sign in, the FAQs link, search, open, change the answer, save
    browser.delete_all_cookies()
    browser.get(stack.web_url)
    wait_for(browser, "#login-view:not([hidden])")
    keys("prog.a11y", Keys.TAB, PASSWORDS["prog.a11y"], Keys.ENTER)
    wait_for(browser, "#chat-view:not([hidden])")
    wait_for(browser, ".msg.bot")
    focus_on(lambda f: f["id"] == "link-programme", back=True)
    keys(Keys.ENTER)
    wait_for(browser, "li[data-key='omfq'] button")
    focus_on(lambda f: f["id"] == "q")
    keys("jolliffe", Keys.ENTER)
    wait_for(browser, "#faq-list li[data-key='omfq']:only-child")
    focus_on(lambda f: "OMFQ-r" in f["text"])
    keys(Keys.ENTER)
    wait_for(browser, "#editor:not([hidden])")
    wait_text(browser, "editor-title", "omfq")
    focus_is("f-question")  # the editor puts the focus in its first field
    focus_on(lambda f: f["id"] == "f-answer")
    keys("a", hold=Keys.CONTROL)
    keys("Edited with the keyboard alone: the **OMFQ-r** questionnaire.")
    wait_text_css(browser, "Edited with the keyboard alone", css="#preview")
    focus_on(lambda f: f["id"] == "save")
    keys(Keys.ENTER)
    wait_text_css(browser, "live in the chat now", css="#edit-status")
    focus_is("edit-status")  # the success banner takes the focus, so it is read out
    assert "edit" in wait_for(browser, "#history .moj-timeline__item")[0].text
