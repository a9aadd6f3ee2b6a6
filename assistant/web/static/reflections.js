// "My reflections": list, share / unshare, delete. Text is always inserted as text.
"use strict";
(function () {
  const { api, el, requireUser } = window.PA;
  const list = document.getElementById("list"), status = document.getElementById("status");

  function card(r) {
    const when = (r.completed_at || r.started_at).slice(0, 10);
    const answers = el("dl");
    r.answers.forEach((a) => answers.append(el("dt", {}, a.question), el("dd", {}, a.skipped ? "(skipped)" : a.answer)));
    const share = el("button", { type: "button", class: "secondary", onclick: async () => {
      const res = await api("/api/reflections/" + r.id + "/share", { shared: !r.shared });
      status.textContent = res.ok ? (res.data.shared ? "Shared with your line manager." : "No longer shared.") : res.data.error;
      load();
    } }, r.shared ? "Stop sharing" : "Share with my line manager");
    const del = el("button", { type: "button", class: "secondary", onclick: async () => {
      if (!window.confirm("Delete this reflection? This can't be undone.")) return;
      const res = await api("/api/reflections/" + r.id, {}, "DELETE");
      status.textContent = res.ok ? "Reflection deleted." : res.data.error;
      load();
    } }, "Delete");
    return el("div", { class: "card", "data-reflection-id": r.id },
      el("h3", {}, when + ": " + r.set_name),
      el("p", { class: "muted" }, (r.status === "completed" ? "Completed" : "In progress") + " · " +
        (r.shared ? "shared with your line manager" : "private")),
      answers, r.status === "completed" ? share : "", del);
  }

  async function load() {
    const r = await api("/api/reflections");
    list.replaceChildren();
    if (!r.ok) { status.textContent = r.data.error; return; }
    if (!r.data.length) list.append(el("p", {}, "You have no reflections yet. Say \u201cI'd like to reflect on a session\u201d in the chat."));
    r.data.forEach((x) => list.append(card(x)));
  }

  requireUser("practitioner").then((u) => { if (u) load(); });
})();
