"""Shared by the browser tests: headless Chromium (Debian's chromium + chromium-driver) and waits."""
from __future__ import annotations

import shutil

import pytest


def chrome(user_data_dir):
    """A headless Chromium driver (skips the test when chromium is not installed)."""
    if not (shutil.which("chromium") and shutil.which("chromedriver")):
        pytest.skip("chromium/chromedriver not installed (make browser-deps)")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = shutil.which("chromium")
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--disable-dev-shm-usage", f"--user-data-dir={user_data_dir}"):
        options.add_argument(arg)
    driver = webdriver.Chrome(service=Service(shutil.which("chromedriver")), options=options)
    driver.set_window_size(1200, 900)
    return driver


def wait_for(driver, css, timeout=20, count=1):
    """The elements matching ``css``, once there are at least ``count``."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    WebDriverWait(driver, timeout).until(lambda d: len(d.find_elements(By.CSS_SELECTOR, css)) >= count)
    return driver.find_elements(By.CSS_SELECTOR, css)


def click(driver, css, timeout=20):
    """Click the first element matching ``css``, again if the page re-rendered it meanwhile."""
    from selenium.common.exceptions import StaleElementReferenceException
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    def clicked(d):
        found = d.find_elements(By.CSS_SELECTOR, css)
        if not found:
            return False
        try:
            found[0].click()
        except StaleElementReferenceException:
            return False
        return True

    WebDriverWait(driver, timeout).until(clicked)


def wait_text(driver, element_id, text, timeout=20):
    """Wait until the element ``element_id`` shows ``text``."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    WebDriverWait(driver, timeout).until(lambda d: text in d.find_element(By.ID, element_id).text)


def wait_text_css(driver, text, css=".msg.bot", timeout=30):
    """Wait until an element matching ``css`` shows ``text``."""
    from selenium.webdriver.support.ui import WebDriverWait

    WebDriverWait(driver, timeout).until(lambda d: any(text in e.text for e in d.find_elements("css selector", css)))


def log_in(driver, web_url, username, password):
    """Sign in on the chat page (typing, Enter); the message box once the chat shows."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    driver.delete_all_cookies()
    driver.get(web_url)
    wait_for(driver, "#login-view:not([hidden]) #username")
    driver.find_element(By.ID, "username").send_keys(username)
    driver.find_element(By.ID, "password").send_keys(password + Keys.ENTER)
    return wait_for(driver, "#chat-view:not([hidden]) #message")[0]
