// The manager's team page. Text is always inserted as text.
"use strict";
(function () {
  const { api, el, requireUser, showErrors, notify, readDate, writeDate } = window.PA;
  const $ = (id) => document.getElementById(id);
  const cell = (text, numeric) => el("td", { class: "govuk-table__cell" + (numeric ? " govuk-table__cell--numeric" : "") }, text);

  function checkbox(m, i) {
    const id = "member-" + m.id;
    return el("div", { class: "govuk-checkboxes__item" },
      el("input", Object.assign({ class: "govuk-checkboxes__input", id, type: "checkbox", name: "member", value: m.id },
        i === 0 ? { "data-first": "" } : {})),
      el("label", { class: "govuk-label govuk-checkboxes__label", for: id }, m.display_name));
  }

  async function load() {
    const [team, sets] = await Promise.all([api("/api/team"), api("/api/reflection-sets")]);
    if (!team.ok) { $("main").replaceChildren(el("p", { class: "govuk-body" }, team.data.error)); return; }
    $("members").replaceChildren(...(team.data.members.length ? team.data.members.map(checkbox) :
      [el("p", { class: "govuk-body" }, "You don't have anyone in your team yet.")]));
    if (sets.ok) {
      $("set").replaceChildren(...sets.data.map((s) => {
        const o = el("option", { value: s.key }, s.name + " (" + s.questions.length + " questions)");
        if (s.default) o.selected = true;
        return o;
      }));
    }
    const rows = [];
    team.data.weekly.forEach((p) => {
      if (!p.weeks.length) rows.push(el("tr", { class: "govuk-table__row" }, cell(p.display_name), cell("-"), cell("0", true), cell("0", true)));
      p.weeks.forEach((w) => rows.push(el("tr", { class: "govuk-table__row" }, cell(p.display_name), cell(w.week),
        cell(w.prompted, true), cell(w.completed, true))));
    });
    $("counts").querySelector("tbody").replaceChildren(...rows);
    $("outstanding").replaceChildren(...(team.data.outstanding.length ? team.data.outstanding.map((p) =>
      el("li", {}, p.practitioner_name + ": " + (p.set_name || p.set_key) + (p.due_date ? ", due " + p.due_date : "") + " ",
        el("strong", { class: "govuk-tag govuk-tag--grey" }, p.status))) : [el("li", {}, "None.")]));
    $("shared").replaceChildren(...(team.data.shared.length ? team.data.shared.map((r) => {
      const dl = el("dl", { class: "govuk-summary-list" });
      r.answers.forEach((a) => dl.append(el("div", { class: "govuk-summary-list__row" },
        el("dt", { class: "govuk-summary-list__key" }, a.question),
        el("dd", { class: "govuk-summary-list__value app-dl" }, a.skipped ? "(skipped)" : a.answer))));
      return el("div", { class: "govuk-summary-card shared-reflection card" },
        el("div", { class: "govuk-summary-card__title-wrapper" },
          el("h3", { class: "govuk-summary-card__title" }, r.author_name + ", " + (r.completed_at || r.started_at).slice(0, 10) + ": " + r.set_name)),
        el("div", { class: "govuk-summary-card__content" }, dl));
    }) : [el("p", { class: "govuk-body" }, "Nothing has been shared with you yet.")]));
  }

  $("prompt-form").addEventListener("submit", async (e) => {
    e.preventDefault();
    notify($("prompt-status"), "", false);
    const ids = Array.from(document.querySelectorAll("input[name=member]:checked")).map((x) => Number(x.value));
    const first = document.querySelector("input[name=member]");
    const due = readDate("due");
    const problems = [];
    if (!ids.length) problems.push({ href: "#" + (first ? first.id : "members"), text: "Choose at least one person" });
    if (due === null) problems.push({ href: "#due-day", text: "Enter a real due date, for example 27 3 2027" });
    if (problems.length) { showErrors($("prompt-errors"), problems); return; }
    const body = { practitioner_ids: ids, set_key: $("set").value, note: $("note").value || null, due_date: due || null };
    const r = await api("/api/team/prompts", body);
    if (!r.ok) { showErrors($("prompt-errors"), [{ href: "#set", text: r.data.error }]); return; }
    showErrors($("prompt-errors"), []);
    notify($("prompt-status"), "Sent to " + r.data.length + (r.data.length === 1 ? " person." : " people."));
    $("note").value = ""; writeDate("due", ""); load();
  });

  requireUser("manager").then((u) => { if (u) load(); });
})();
