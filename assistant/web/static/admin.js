// User administration (the admin role): find accounts, create, change role and line manager,
// reset a password, deactivate and reactivate; the audit log. Text is always inserted as text.
"use strict";
(function () {
  const { api, el, requireUser, showErrors, notify } = window.PA;
  const $ = (id) => document.getElementById(id);
  const ROLE_NAMES = { practitioner: "Practitioner", manager: "Manager", programme: "Programme team", admin: "Administrator" };
  const ROLE_TAGS = { practitioner: "govuk-tag--blue", manager: "govuk-tag--purple", programme: "govuk-tag--turquoise", admin: "govuk-tag--orange" };
  let selected = null;  // { account, reflections } being managed
  let sso = false;  // single sign-on is set up: accounts can be linked to the provider's identifier

  const cell = (...content) => el("td", { class: "govuk-table__cell" }, ...content);
  const roleTag = (role) => el("strong", { class: "govuk-tag " + (ROLE_TAGS[role] || "") }, ROLE_NAMES[role] || role);
  const statusTag = (a) => a.active ? el("strong", { class: "govuk-tag govuk-tag--green" }, "Active")
    : el("strong", { class: "govuk-tag govuk-tag--grey" }, "Deactivated");
  const method = (name) => document.querySelector("input[name=" + name + "]:checked").value;

  function problem(error, href) {
    notify($("admin-status"), "", false);
    showErrors($("admin-errors"), [{ href: href || "#main", text: error }]);
  }

  // Success: the message, and a one-time credential (shown once) to hand on.
  function done(message, credential) {
    showErrors($("admin-errors"), []);
    const shown = $("credential");
    shown.hidden = !credential;
    if (credential) {
      shown.textContent = credential.method === "temporary" ? "Temporary password: " + credential.temporary_password
        : "One-time link: " + window.location.origin + credential.link_path;
      if (credential.expires_at) shown.textContent += " (until " + credential.expires_at.replace("T", " ").slice(0, 16) + " UTC)";
    }
    notify($("admin-status"), message);
  }

  async function loadManagers() {
    const r = await api("/api/admin/users?role=manager&active=true&per_page=100");
    if (!r.ok) return;
    ["a-manager", "c-manager"].forEach((id) => $(id).replaceChildren(el("option", { value: "" }, "No line manager"),
      ...r.data.accounts.map((m) => el("option", { value: m.id }, m.display_name + " (" + m.username + ")"))));
  }

  async function loadAccounts() {
    const params = new URLSearchParams({ q: $("q").value, per_page: "100" });
    if ($("filter-role").value) params.set("role", $("filter-role").value);
    if ($("filter-active").value) params.set("active", $("filter-active").value);
    const r = await api("/api/admin/users?" + params);
    if (!r.ok) { problem(r.data.error, "#q"); return; }
    $("accounts-caption").textContent = r.data.total + (r.data.total === 1 ? " account" : " accounts");
    $("accounts").querySelector("tbody").replaceChildren(...r.data.accounts.map((a) => el("tr", { class: "govuk-table__row", "data-user-id": a.id },
      cell(a.display_name), cell(a.username), cell(roleTag(a.role)), cell(a.manager_name || "None"), cell(statusTag(a)),
      cell(el("button", { type: "button", class: "app-link-button", onclick: () => manage(a.id) },
        "Manage", el("span", { class: "govuk-visually-hidden" }, " " + a.display_name))))));
  }

  async function manage(id) {
    const r = await api("/api/admin/users/" + id);
    if (!r.ok) { problem(r.data.error); return; }
    selected = r.data;
    const a = selected.account, held = selected.reflections;
    const row = (key, ...value) => el("div", { class: "govuk-summary-list__row" },
      el("dt", { class: "govuk-summary-list__key" }, key), el("dd", { class: "govuk-summary-list__value" }, ...value));
    $("account").hidden = false;
    $("account-title").textContent = "Manage " + a.display_name;
    $("account-summary").replaceChildren(row("Username", a.username), row("Role", roleTag(a.role)),
      row("Line manager", a.manager_name || "None"), row("Status", statusTag(a)),
      row("Reflections held", held.count + (held.kept_until ? " (kept until " + held.kept_until.slice(0, 10) + ")" : "")),
      ...(sso ? [row("Single sign-on", a.sso_id || "Not linked")] : []));
    $("a-sso-id").value = a.sso_id || "";
    $("a-role").value = a.role;
    $("a-manager").value = a.manager_id || "";
    $("export-group").hidden = !a.active || !held.count;
    $("a-export-offered").checked = false;
    $("export-label").textContent = "They have been offered the export of their " + held.count +
      (held.count === 1 ? " reflection" : " reflections") + " (My reflections, Export)";
    $("active-button").textContent = a.active ? "Deactivate" : "Reactivate";
    $("active-button").classList.toggle("govuk-button--warning", a.active);
    $("account-title").focus();
  }

  async function change(path, body, message, href, method) {
    const r = await api("/api/admin/users/" + selected.account.id + path, body, method);
    if (!r.ok) { problem(r.data.error, href); return null; }
    const id = selected.account.id;
    done(message, r.data.method ? r.data : null);
    await Promise.all([loadAccounts(), loadManagers(), loadAudit()]);
    await manage(id);
    $("admin-status").focus();
    return r;
  }

  $("role-form").addEventListener("submit", (e) => {
    e.preventDefault();
    change("/role", { role: $("a-role").value }, "Role changed.", "#a-role");
  });
  $("manager-form").addEventListener("submit", (e) => {
    e.preventDefault();
    const value = $("a-manager").value;
    change("/manager", { manager_id: value ? Number(value) : null }, "Line manager changed.", "#a-manager");
  });
  $("reset-form").addEventListener("submit", (e) => {
    e.preventDefault();
    change("/password-reset", { method: method("reset-method") }, "Password reset: their sessions have ended. Give them this, once:",
      "#reset-method-link");
  });
  $("sso-form").addEventListener("submit", (e) => {
    e.preventDefault();
    const value = $("a-sso-id").value.trim();
    change("/sso-id", { sso_id: value || null }, value ? "Linked to single sign-on." : "Unlinked from single sign-on.",
      "#a-sso-id", "PUT");
  });
  $("active-form").addEventListener("submit", (e) => {
    e.preventDefault();
    if (selected.account.active) {
      if (selected.reflections.count && !$("a-export-offered").checked) {
        problem("Offer them the export of their reflections first, then tick the box", "#a-export-offered");
        return;
      }
      change("/deactivate", { export_offered: $("a-export-offered").checked }, "Account deactivated: their sessions have ended.",
        "#a-export-offered");
    } else {
      change("/reactivate", {}, "Account reactivated.", "#active-button");
    }
  });

  $("create-form").addEventListener("submit", async (e) => {
    e.preventDefault();
    const username = $("c-username").value.trim();
    if (!username) { notify($("admin-status"), "", false); showErrors($("admin-errors"), [{ href: "#c-username", text: "Enter a username" }]); return; }
    const manager = $("c-manager").value;
    const r = await api("/api/admin/users", { username, display_name: $("c-display-name").value.trim() || null,
      role: $("c-role").value, manager_id: manager ? Number(manager) : null, method: method("c-method") });
    if (!r.ok) { problem(r.data.error, "#c-username"); return; }
    $("c-username").value = ""; $("c-display-name").value = "";
    done("Account created for " + r.data.account.display_name + ". Give them this, once:", r.data.credential);
    loadAccounts(); loadManagers(); loadAudit();
  });

  $("search-form").addEventListener("submit", (e) => { e.preventDefault(); loadAccounts(); });

  async function loadAudit() {
    const r = await api("/api/admin/audit");
    if (!r.ok) return;
    $("audit").querySelector("tbody").replaceChildren(...r.data.entries.map((x) => el("tr", { class: "govuk-table__row" },
      cell(el("time", { datetime: x.at }, x.at.replace("T", " ").slice(0, 16))), cell(x.action.replace(/^account\./, "").replace(/_/g, " ")),
      cell(x.target || ""), cell((x.detail && x.detail.by) || ""))));
  }

  requireUser("admin").then(async (u) => {
    if (!u) return;
    loadManagers(); loadAccounts(); loadAudit();
    const options = await api("/api/login-options");
    sso = !!(options.ok && options.data.sso);
    $("sso-form").hidden = !sso;
  });
})();
