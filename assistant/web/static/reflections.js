// "My reflections": list, share / unshare, delete (GOV.UK summary cards). Text is always inserted as text.
"use strict";
(function () {
  const { api, el, requireUser, notify, showErrors } = window.PA;
  const list = document.getElementById("list"), status = document.getElementById("status");

  // What happened: a success banner, or the error summary.
  function outcome(res, success) {
    if (res.ok) { showErrors(document.getElementById("reflection-errors"), []); notify(status, success); }
    else { notify(status, "", false); showErrors(document.getElementById("reflection-errors"), [{ href: "#list", text: res.data.error }]); }
  }

  function tag(r) {
    if (r.status !== "completed") return el("strong", { class: "govuk-tag govuk-tag--yellow" }, "In progress");
    return r.shared ? el("strong", { class: "govuk-tag govuk-tag--blue" }, "Shared with your line manager")
      : el("strong", { class: "govuk-tag govuk-tag--grey" }, "Private");
  }

  function card(r) {
    const when = (r.completed_at || r.started_at).slice(0, 10);
    const rows = r.answers.map((a) => el("div", { class: "govuk-summary-list__row" },
      el("dt", { class: "govuk-summary-list__key" }, a.question),
      el("dd", { class: "govuk-summary-list__value app-dl" }, a.skipped ? "(skipped)" : a.answer)));
    const share = el("button", { type: "button", class: "govuk-button govuk-button--secondary", onclick: async () => {
      const res = await api("/api/reflections/" + r.id + "/share", { shared: !r.shared });
      outcome(res, res.ok && res.data.shared ? "Shared with your line manager." : "No longer shared.");
      load();
    } }, r.shared ? "Stop sharing" : "Share with my line manager");
    const del = el("button", { type: "button", class: "govuk-button govuk-button--warning", onclick: async () => {
      if (!window.confirm("Delete this reflection? This can't be undone.")) return;
      const res = await api("/api/reflections/" + r.id, {}, "DELETE");
      outcome(res, "Reflection deleted.");
      load();
    } }, "Delete");
    return el("div", { class: "govuk-summary-card", "data-reflection-id": r.id },
      el("div", { class: "govuk-summary-card__title-wrapper" },
        el("h2", { class: "govuk-summary-card__title" }, when + ": " + r.set_name), tag(r)),
      el("div", { class: "govuk-summary-card__content" },
        rows.length ? el("dl", { class: "govuk-summary-list" }, ...rows) : el("p", { class: "govuk-body" }, "No answers yet."),
        el("div", { class: "govuk-button-group" }, r.status === "completed" ? share : "", del)));
  }

  async function load() {
    const r = await api("/api/reflections");
    list.replaceChildren();
    if (!r.ok) { outcome(r, ""); return; }
    if (!r.data.length) list.append(el("p", { class: "govuk-body" }, "You have no reflections yet. Say \u201cI'd like to reflect on a session\u201d in the chat."));
    r.data.forEach((x) => list.append(card(x)));
  }

  requireUser("practitioner").then((u) => { if (u) load(); });
})();
