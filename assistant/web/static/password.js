// The password page: with a one-time link (#token=... in the address; never sent to the server
// as part of a URL) it sets a password without logging in; otherwise the logged-in user changes
// theirs (also the only thing they can do while a temporary password must be changed).
"use strict";
(function () {
  const { api, showErrors, showNav, notify } = window.PA;
  const $ = (id) => document.getElementById(id);
  const token = new URLSearchParams(window.location.hash.slice(1)).get("token");
  const errors = $("password-errors");

  if (token) {
    $("current-field").hidden = true;
    $("intro").textContent = "Set the password for your account (this link works once). At least 10 characters.";
    history.replaceState(null, "", window.location.pathname);  // the token leaves the address bar
  } else {
    api("/api/me/password").then(async (r) => {
      if (!r.ok) { window.location.href = "/"; return; }
      if (r.data.must_change_password) $("intro").textContent = "Your password was reset: choose your own before you go on (at least 10 characters).";
      else { const me = await api("/api/me"); if (me.ok) showNav(me.data); }
    });
  }

  $("password-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const fresh = $("new-password").value;
    const problems = [];
    if (!token && !$("current-password").value) problems.push({ href: "#current-password", text: "Enter your current password" });
    if (fresh.length < 10) problems.push({ href: "#new-password", text: "Enter a new password of at least 10 characters" });
    else if (fresh !== $("repeat-password").value) problems.push({ href: "#repeat-password", text: "The two new passwords are not the same" });
    if (problems.length) { showErrors(errors, problems); return; }
    const r = token
      ? await api("/api/password/reset", { token: token, new_password: fresh })
      : await api("/api/me/password", { current_password: $("current-password").value, new_password: fresh });
    if (!r.ok) {
      const field = r.data.code && /current/.test(r.data.error || "") ? "#current-password" : "#new-password";
      showErrors(errors, [{ href: token ? "#new-password" : field, text: r.data.error }]);
      return;
    }
    showErrors(errors, []);
    notify($("status"), token ? "Your password is set. You can now sign in." : "Your password is changed.");
    $("password-form").hidden = true;
    window.setTimeout(() => { window.location.href = "/"; }, 1500);
  });
})();
