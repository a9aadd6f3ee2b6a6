"""Accessibility checks for the browser tests: axe-core (the npm package `make assets` installs,
never downloaded at run time) against the WCAG 2.0, 2.1 and 2.2 A and AA rules, and focus checks."""
from __future__ import annotations

from typing import List

from tests.conftest import ROOT

AXE_JS = ROOT / "node_modules" / "axe-core" / "axe.min.js"
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
RUN_AXE = """
const done = arguments[arguments.length - 1];
axe.run(document, {runOnly: {type: "tag", values: arguments[0]}, resultTypes: ["violations"]})
  .then((r) => done(r.violations.map((v) => v.id + " (" + v.impact + "): " + v.help + " at " +
    v.nodes.map((n) => n.target.join(" ")).join(", "))))
  .catch((e) => done(["axe failed: " + e]));
"""
# The focused element, and whether it is visibly marked: a visible outline, or a box-shadow
# or GOV.UK's focus colour behind it (its links and buttons have a transparent outline, for
# Windows' high-contrast mode, a yellow background and a black underline shadow or bar).
FOCUS_STYLE = """
const el = document.activeElement, style = getComputedStyle(el);
const clear = (c) => c === "transparent" || /rgba\(.*, 0\)$/.test(c);
const outline = style.outlineStyle !== "none" && parseFloat(style.outlineWidth) >= 2 && !clear(style.outlineColor);
const shadow = style.boxShadow && style.boxShadow !== "none";
const yellow = style.backgroundColor === "rgb(255, 221, 0)";  // GOV.UK's focus colour
return {id: el.id, tag: el.tagName, text: (el.textContent || "").trim().slice(0, 60),
        outline: style.outlineStyle + " " + style.outlineWidth + " " + style.outlineColor, shadow: style.boxShadow,
        background: style.backgroundColor, visible: outline || !!shadow || yellow};
"""


def axe_violations(driver) -> List[str]:
    """The WCAG A/AA violations axe-core finds on the page as it is now (empty if none)."""
    if not AXE_JS.exists():
        raise AssertionError(f"{AXE_JS} is missing: run `make assets` (npm ci)")
    if not driver.execute_script("return !!window.axe"):
        driver.execute_script(AXE_JS.read_text())
    driver.set_script_timeout(120)
    return driver.execute_async_script(RUN_AXE, WCAG_TAGS)


def focused(driver) -> dict:
    """The focused element (id, tag, text) and its focus style, ``visible`` if it has one."""
    return driver.execute_script(FOCUS_STYLE)
