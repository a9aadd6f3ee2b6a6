// Single sign-on on the sign-in view (/api/login-options): offers "Sign in with <provider>"
// when it is set up, and leaves only that when local passwords are switched off.
(async () => {
  "use strict";
  const box = document.getElementById("sso-login");
  if (!box) return;
  let options;
  try {
    const r = await fetch("/api/login-options", { credentials: "same-origin" });
    if (!r.ok) return;
    options = await r.json();
  } catch (e) {
    return;
  }
  if (options.sso) {
    document.getElementById("sso-name").textContent = options.sso.name;
    box.querySelector("a").setAttribute("href", options.sso.url);
    box.hidden = false;
  }
  if (!options.password_login) {
    document.getElementById("login-form").hidden = true;
    document.getElementById("sso-or").hidden = true;
  }
})();
