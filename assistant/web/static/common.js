// Shared by every page: JSON API calls and small DOM helpers. No third-party code.
"use strict";
window.PA = (function () {
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

  // For pages other than the chat: the current user, or back to the chat page to log in.
  async function requireUser(role) {
    const r = await api("/api/me");
    if (!r.ok) { window.location.href = "/"; return null; }
    if (role && r.data.role !== role) {
      document.getElementById("main").replaceChildren(el("p", { class: "error" }, "This page is for " + role + "s."));
      return null;
    }
    document.getElementById("user-name").textContent = r.data.display_name + " (" + r.data.role + ")";
    return r.data;
  }

  return { api, el, requireUser };
})();
