// Shared by every page: JSON API calls, small DOM helpers, the service navigation and the
// GOV.UK error summary. No third-party code here (the design systems' scripts start in init.js).
"use strict";
window.PA = (function () {
  const SECTIONS = { practitioner: "reflections", manager: "manager", programme: "programme", admin: "admin" };

  async function api(path, body, method) {
    const opts = body === undefined && !method ? { method: "GET" } :
      { method: method || "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body || {}) };
    let resp;
    try {
      resp = await fetch(path, Object.assign({ credentials: "same-origin" }, opts));
    } catch (e) {
      return { ok: false, status: 0, data: { error: "Can't reach the server. Check your connection and try again." } };
    }
    let data = {};
    try { data = await resp.json(); } catch (e) { data = { error: "Unexpected response from the server." }; }
    if (resp.status === 403 && data.code === "must_change_password" && window.location.pathname !== "/password") {
      window.location.href = "/password";  // a temporary password: choose your own first
    }
    return { ok: resp.ok, status: resp.status, data };
  }

  // el("button", {type: "button", class: "x"}, "text", child...) - text is always set as text, never HTML
  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    Object.entries(attrs || {}).forEach(([k, v]) => {
      if (k === "class") node.className = v;
      else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
      else node.setAttribute(k, v);
    });
    children.forEach((c) => node.append(c instanceof Node ? c : document.createTextNode(c == null ? "" : String(c))));
    return node;
  }

  // The service navigation: the user's name and the links their role may use (null: hide it).
  function showNav(user) {
    const nav = document.getElementById("whoami");
    if (!nav) return;
    nav.hidden = !user;
    document.getElementById("user-name").textContent = user ? user.display_name + " (" + user.role + ")" : "";
    Object.values(SECTIONS).forEach((section) => {
      const link = document.getElementById("link-" + section);
      if (link) link.closest("li").hidden = !user || SECTIONS[user.role] !== section;
    });
  }

  // The GOV.UK error summary in ``summary`` (its list is .govuk-error-summary__list), linking
  // each error to its field ([{href: "#field", text}]), marking the fields, and focused.
  function showErrors(summary, errors) {
    const list = summary.querySelector(".govuk-error-summary__list");
    list.replaceChildren(...errors.map((e, i) => el("li", {},
      el("a", Object.assign({ href: e.href || "#main" }, i === 0 && summary.dataset.firstId ? { id: summary.dataset.firstId } : {}), e.text))));
    summary.hidden = !errors.length;
    document.querySelectorAll(".govuk-form-group--error").forEach((g) => g.classList.remove("govuk-form-group--error"));
    document.querySelectorAll(".app-field-error").forEach((m) => { m.hidden = true; m.textContent = ""; });
    document.querySelectorAll(".govuk-input--error, .govuk-textarea--error, .govuk-select--error").forEach((f) =>
      f.classList.remove("govuk-input--error", "govuk-textarea--error", "govuk-select--error"));
    errors.forEach((e) => markField(e.href, e.text));
    if (errors.length) summary.focus();
  }

  function markField(href, text) {
    const field = href && href.startsWith("#") && document.getElementById(href.slice(1));
    let group = field && field.closest(".govuk-form-group");
    while (group && !group.querySelector(".app-field-error") && group.parentElement.closest(".govuk-form-group")) {
      group = group.parentElement.closest(".govuk-form-group");  // a date's day field: the date's group
    }
    if (!group) return;
    group.classList.add("govuk-form-group--error");
    field.classList.add({ TEXTAREA: "govuk-textarea--error", SELECT: "govuk-select--error" }[field.tagName] || "govuk-input--error");
    const message = group.querySelector(".app-field-error");
    if (message) {
      message.hidden = false;
      message.replaceChildren(el("span", { class: "govuk-visually-hidden" }, "Error: "), text);
    }
  }

  // A GOV.UK date input's date (day, month and year fields "<id>-day" ...): "YYYY-MM-DD", "" when
  // all three are empty, null when it is not a real date.
  function readDate(id) {
    const [d, m, y] = ["day", "month", "year"].map((p) => document.getElementById(id + "-" + p).value.trim());
    if (!d && !m && !y) return "";
    if (!/^\d{1,2}$/.test(d) || !/^\d{1,2}$/.test(m) || !/^\d{4}$/.test(y)) return null;
    const iso = y + "-" + m.padStart(2, "0") + "-" + d.padStart(2, "0");
    const date = new Date(iso + "T00:00:00Z");
    return !isNaN(date) && date.toISOString().slice(0, 10) === iso ? iso : null;
  }

  function writeDate(id, iso) {
    const [y, m, d] = (iso || "").split("-");
    document.getElementById(id + "-day").value = d ? String(Number(d)) : "";
    document.getElementById(id + "-month").value = m ? String(Number(m)) : "";
    document.getElementById(id + "-year").value = y || "";
  }

  // A notification banner (success or information) in ``banner``: its content is ``text``; focused.
  function notify(banner, text, focus) {
    banner.querySelector(".govuk-notification-banner__heading").textContent = text;
    banner.hidden = !text;
    if (text && focus !== false) banner.focus();
  }

  // For pages other than the chat: the current user, or back to the chat page to log in.
  async function requireUser(role) {
    const r = await api("/api/me");
    if (!r.ok) { window.location.href = "/"; return null; }
    showNav(r.data);
    if (role && r.data.role !== role) {
      document.getElementById("main").replaceChildren(
        el("h1", { class: "govuk-heading-l" }, "You don't have access to this page"),
        el("p", { class: "govuk-body" }, "This page is for " + role + "s."));
      return null;
    }
    return r.data;
  }

  document.addEventListener("DOMContentLoaded", () => {
    // every page but the chat (which shows its login form) goes to the chat page once signed out
    const logout = document.getElementById("logout");
    if (logout && document.body.dataset.section !== "chat") {
      logout.addEventListener("click", async () => { await api("/api/logout", {}); window.location.href = "/"; });
    }
  });

  return { api, el, requireUser, showNav, showErrors, notify, readDate, writeDate };
})();
