// The manager's team page. Text is always inserted as text.
"use strict";
(function () {
  const { api, el, requireUser } = window.PA;
  const $ = (id) => document.getElementById(id);

  async function load() {
    const [team, sets] = await Promise.all([api("/api/team"), api("/api/reflection-sets")]);
    if (!team.ok) { $("main").replaceChildren(el("p", { class: "error" }, team.data.error)); return; }
    $("members").replaceChildren(...(team.data.members.length ? team.data.members.map((m) =>
      el("label", {}, el("input", { type: "checkbox", name: "member", value: m.id }), " " + m.display_name)) :
      [el("p", {}, "You don't have anyone in your team yet.")]));
    if (sets.ok) {
      $("set").replaceChildren(...sets.data.map((s) => {
        const o = el("option", { value: s.key }, s.name + " (" + s.questions.length + " questions)");
        if (s.default) o.selected = true;
        return o;
      }));
    }
    const rows = [];
    team.data.weekly.forEach((p) => {
      if (!p.weeks.length) rows.push(el("tr", {}, el("td", {}, p.display_name), el("td", {}, "-"), el("td", {}, "0"), el("td", {}, "0")));
      p.weeks.forEach((w) => rows.push(el("tr", {}, el("td", {}, p.display_name), el("td", {}, w.week),
        el("td", {}, w.prompted), el("td", {}, w.completed))));
    });
    $("counts").querySelector("tbody").replaceChildren(...rows);
    $("outstanding").replaceChildren(...(team.data.outstanding.length ? team.data.outstanding.map((p) =>
      el("li", {}, p.practitioner_name + ": " + (p.set_name || p.set_key) + (p.due_date ? ", due " + p.due_date : "") +
        " (" + p.status + ")")) : [el("li", {}, "None.")]));
    $("shared").replaceChildren(...(team.data.shared.length ? team.data.shared.map((r) => {
      const dl = el("dl");
      r.answers.forEach((a) => dl.append(el("dt", {}, a.question), el("dd", {}, a.skipped ? "(skipped)" : a.answer)));
      return el("div", { class: "card shared-reflection" },
        el("h3", {}, r.author_name + ", " + (r.completed_at || r.started_at).slice(0, 10) + ": " + r.set_name), dl);
    }) : [el("p", {}, "Nothing has been shared with you yet.")]));
  }

  $("prompt-form").addEventListener("submit", async (e) => {
    e.preventDefault();
    const ids = Array.from(document.querySelectorAll("input[name=member]:checked")).map((x) => Number(x.value));
    if (!ids.length) { $("prompt-status").textContent = "Choose at least one person."; return; }
    const body = { practitioner_ids: ids, set_key: $("set").value, note: $("note").value || null,
      due_date: $("due").value || null };
    const r = await api("/api/team/prompts", body);
    $("prompt-status").textContent = r.ok ? "Sent to " + r.data.length + (r.data.length === 1 ? " person." : " people.") : r.data.error;
    if (r.ok) { $("note").value = ""; load(); }
  });

  requireUser("manager").then((u) => { if (u) load(); });
})();
