// Programme team page: FAQs, editor with preview and history, review queue, usage,
// import/export and training status. Text is inserted as text; previews come from
// the server's safe Markdown renderer.
"use strict";
(function () {
  const { api, el, requireUser, showErrors, notify, readDate, writeDate } = window.PA;
  const $ = (id) => document.getElementById(id);
  let current = null;  // FAQ being edited (null = new)
  let faqs = [];

  async function loadList() {
    const params = new URLSearchParams({ q: $("q").value, category: $("category").value });
    const r = await api("/api/faqs?" + params);
    if (!r.ok) return;
    faqs = r.data.faqs;
    const chosen = $("category").value;
    $("category").replaceChildren(el("option", { value: "" }, "All"),
      ...r.data.categories.map((c) => { const o = el("option", { value: c }, c); o.selected = c === chosen; return o; }));
    $("faq-list").replaceChildren(...faqs.map((f) => el("li", { "data-key": f.key, class: "app-faq-list__item" },
      el("button", { type: "button", class: "app-link-button govuk-!-font-weight-bold", onclick: () => open(f.key) }, f.question),
      " ", el("strong", { class: "govuk-tag " + (f.status === "published" ? "govuk-tag--green" : "govuk-tag--grey") }, f.status),
      f.overdue ? el("strong", { class: "govuk-tag govuk-tag--red overdue" }, "Review overdue") : "",
      el("br"), el("span", { class: "govuk-body-s app-secondary-text" }, f.key + " · " + f.category +
        (f.review_by ? " · review by " + f.review_by : "")))));
  }

  function fill(f) {
    $("f-key").value = f.key || ""; $("f-key").disabled = !!current;
    $("f-category").value = f.category || ""; $("f-question").value = f.question || "";
    $("f-answer").value = f.answer || ""; $("f-source").value = f.source || "";
    $("f-status").value = f.status || "published";
    writeDate("f-reviewed", f.last_reviewed); writeDate("f-review-by", f.review_by);
    $("f-examples").value = (f.examples || []).join("\n");
    preview();
  }

  async function open(key) {
    const r = await api("/api/faqs/" + encodeURIComponent(key));
    if (!r.ok) return;
    current = r.data;
    $("editor").hidden = false; $("editor-title").textContent = "Edit FAQ: " + key;
    notify($("edit-status"), "", false); showErrors($("edit-errors"), []);
    fill(current);
    // MoJ Frontend's timeline: newest first, who and when, with a revert button
    $("history").replaceChildren(...current.history.map((h) => el("div", { class: "moj-timeline__item" },
      el("div", { class: "moj-timeline__header" },
        el("h4", { class: "moj-timeline__title" }, h.action + " (version " + h.version + ")"),
        el("p", { class: "moj-timeline__byline" }, "by " + (h.changed_by || "the content file"))),
      el("p", { class: "moj-timeline__date" }, el("time", { datetime: h.changed_at }, h.changed_at.replace("T", " ").slice(0, 16))),
      h.before ? el("div", { class: "moj-timeline__description" }, el("button", { type: "button",
        class: "govuk-button govuk-button--secondary govuk-!-margin-bottom-0", onclick: async () => {
          const res = await api("/api/faqs/" + encodeURIComponent(key) + "/revert/" + h.id, {});
          if (!res.ok) { showErrors($("edit-errors"), [{ href: "#f-answer", text: res.data.error }]); return; }
          await open(key); notify($("edit-status"), "Reverted."); loadList(); loadTraining();
        } }, "Revert this change")) : "")));
    $("f-question").focus();
  }

  function startNew(prefill) {
    current = null;
    $("editor").hidden = false; $("editor-title").textContent = "New FAQ";
    notify($("edit-status"), "", false); showErrors($("edit-errors"), []);
    $("history").replaceChildren();
    fill(Object.assign({ status: "published", examples: [] }, prefill || {}));
    $("f-key").focus();
  }

  let previewTimer = null;
  function preview() {
    clearTimeout(previewTimer);
    previewTimer = setTimeout(async () => {
      const r = await api("/api/faqs/preview", { markdown: $("f-answer").value });
      if (r.ok) $("preview").innerHTML = r.data.html;  // server-rendered, raw HTML disabled
    }, 250);
  }
  $("f-answer").addEventListener("input", preview);

  // The fields every FAQ needs, checked before sending (the server checks the rest).
  const REQUIRED = [["f-key", "Enter a key, for example contact_frequency"], ["f-category", "Enter a category"],
    ["f-question", "Enter the question"], ["f-answer", "Enter the answer"], ["f-source", "Enter the source of the answer"]];

  $("edit-form").addEventListener("submit", async (e) => {
    e.preventDefault();
    notify($("edit-status"), "", false);
    const missing = REQUIRED.filter(([id]) => !(id === "f-key" && current) && !$(id).value.trim())
      .map(([id, text]) => ({ href: "#" + id, text }));
    [["f-reviewed", "Last reviewed"], ["f-review-by", "Review by"]].forEach(([id, label]) => {
      if (readDate(id) === null) missing.push({ href: "#" + id + "-day", text: label + " must be a real date, for example 27 3 2027" });
    });
    if (missing.length) { showErrors($("edit-errors"), missing); return; }
    const body = {
      category: $("f-category").value.trim(), question: $("f-question").value.trim(),
      answer: $("f-answer").value, source: $("f-source").value.trim(), status: $("f-status").value,
      last_reviewed: readDate("f-reviewed") || null, review_by: readDate("f-review-by") || null,
      examples: $("f-examples").value.split("\n").map((x) => x.trim()).filter(Boolean),
    };
    let r;
    if (current) r = await api("/api/faqs/" + encodeURIComponent(current.key), Object.assign({ version: current.version }, body), "PUT");
    else r = await api("/api/faqs", Object.assign({ key: $("f-key").value.trim() }, body));
    if (r.ok) {
      await open(r.data.faq.key);
      notify($("edit-status"), r.data.training_job ? "Saved. The assistant is retraining (see above)." : "Saved: live in the chat now.");
      loadList(); loadTraining();
    } else {
      // on a conflict the form keeps your text
      const field = (r.data.details || []).map((d) => "f-" + String(d.field).split(".").pop().replace("_", "-"))
        .find((id) => document.getElementById(id));
      showErrors($("edit-errors"), [{ href: "#" + (field || "f-answer"), text: r.data.error }]);
    }
  });

  $("search-form").addEventListener("submit", (e) => { e.preventDefault(); loadList(); });
  $("category").addEventListener("change", loadList);
  $("new-faq").addEventListener("click", () => startNew());

  async function loadQueue() {
    const r = await api("/api/review-queue");
    if (!r.ok) return;
    const items = r.data.items;
    $("queue").replaceChildren(...(items.length ? items.map((item) => {
      if (item.not_helpful_key) {
        return el("li", { class: "app-queue__item" }, item.count + " \u00d7 \u201cnot helpful\u201d on ",
          el("button", { type: "button", class: "app-link-button", onclick: () => open(item.not_helpful_key) }, item.not_helpful_key));
      }
      const select = el("select", { class: "govuk-select", "aria-label": "FAQ to add this question to" },
        ...faqs.map((f) => { const o = el("option", { value: f.key }, f.key); o.selected = f.key === item.suggested_key; return o; }));
      return el("li", { class: "queue-item app-queue__item" }, el("p", { class: "govuk-body govuk-!-margin-bottom-1" }, "\u201c" + item.text + "\u201d",
        el("span", { class: "app-secondary-text" }, " \u00d7" + item.count + " (" + item.reasons.join(", ") + ")")),
        select, el("div", { class: "govuk-button-group" },
        el("button", { type: "button", class: "govuk-button", onclick: async () => {
          const res = await api("/api/faqs/" + select.value + "/examples", { text: item.text, queue_ids: item.ids });
          if (res.ok) { loadQueue(); loadTraining(); } else window.alert(res.data.error);
        } }, "Add as example"),
        el("button", { type: "button", class: "govuk-button govuk-button--secondary", onclick: () => startNew({ question: item.text, examples: item.examples }) }, "New FAQ from this"),
        el("button", { type: "button", class: "govuk-button govuk-button--secondary", onclick: async () => {
          await api("/api/review-queue/dismiss", { ids: item.ids }); loadQueue();
        } }, "Dismiss")));
    }) : [el("li", { class: "govuk-body" }, "Nothing to review.")]));
  }

  function bars(title, rows, value, label) {
    const max = Math.max(1, ...rows.map(value));
    const svgNS = "http://www.w3.org/2000/svg";
    const svg = document.createElementNS(svgNS, "svg");
    svg.setAttribute("width", "100%"); svg.setAttribute("height", String(rows.length * 22 + 4));
    svg.setAttribute("role", "img"); svg.setAttribute("aria-label", title);
    rows.forEach((row, i) => {
      const rect = document.createElementNS(svgNS, "rect");
      rect.setAttribute("x", "190"); rect.setAttribute("y", String(i * 22 + 2)); rect.setAttribute("height", "16");
      rect.setAttribute("width", String(Math.round(300 * value(row) / max))); rect.setAttribute("fill", "#1d70b8");
      const text = document.createElementNS(svgNS, "text");
      text.setAttribute("x", "0"); text.setAttribute("y", String(i * 22 + 15)); text.setAttribute("font-size", "13");
      text.textContent = label(row);
      svg.append(rect, text);
    });
    return el("figure", { class: "app-figure" }, el("figcaption", { class: "govuk-body" }, title), svg);
  }

  async function loadUsage() {
    const r = await api("/api/usage");
    if (!r.ok) return;
    const u = r.data;
    $("usage").replaceChildren(
      bars("Questions per week", u.weekly, (w) => w.questions, (w) => w.week + ": " + w.questions),
      bars("Decline rate per week", u.weekly, (w) => w.decline_rate, (w) => w.week + ": " + Math.round(100 * w.decline_rate) + "%"),
      bars("Top FAQs", u.top_faqs, (f) => f.answers, (f) => f.key + ": " + f.answers),
      bars("Helpfulness per FAQ", u.helpfulness, (f) => f.rate, (f) => f.key + ": " + Math.round(100 * f.rate) + "% helpful"));
  }

  let trainingTimer = null;
  async function loadTraining() {
    clearTimeout(trainingTimer);
    const r = await api("/api/training");
    if (!r.ok || !r.data.jobs.length) return;
    const job = r.data.jobs[0];
    let text = "Latest training run #" + job.id + ": " + job.status + (job.progress ? " (" + job.progress + ")" : "");
    if (job.metrics && job.metrics.candidate) {
      // candidate vs running model on the gate's held-out questions, and the measured noise
      const c = job.metrics.candidate, run = job.metrics.running, noise = job.metrics.noise || {};
      const fig = (m, n) => m[n + "_n"] + "/" + (n === "out_of_scope_declined" ? m.out_of_scope : m.in_scope);
      const part = (label, n) => label + " " + fig(c, n) + (run ? " (running " + fig(run, n) + ")" : "") +
        (n in noise ? ", noise \u00b1" + noise[n] : "");
      text += ". New model on " + (job.metrics.set || "held-out questions") + ": " +
        [part("answered correctly", "answered_correctly"), part("answered wrongly", "answered_wrongly"),
         part("out-of-scope declined", "out_of_scope_declined")].join("; ");
    }
    if (job.reason) text += ". " + job.reason;
    $("training").textContent = text;
    if (["queued", "training", "evaluating"].includes(job.status)) trainingTimer = setTimeout(loadTraining, 3000);
  }

  $("import-form").addEventListener("submit", async (e) => {
    e.preventDefault();
    const file = $("import-file").files[0];
    if (!file) { showErrors($("import-errors"), [{ href: "#import-file", text: "Choose a YAML or CSV file" }]); return; }
    const content = await file.text();
    const r = await api("/api/faqs/import", { format: /\.csv$/i.test(file.name) ? "csv" : "yaml", content });
    if (r.ok) {
      showErrors($("import-errors"), []);
      $("import-status").textContent = "Imported " + r.data.imported + " FAQs; the assistant is retraining.";
      loadList(); loadTraining();
    } else {
      $("import-status").textContent = "";
      showErrors($("import-errors"), [{ href: "#import-file", text: r.data.error },
        ...(r.data.rows || []).map((x) => ({ href: "#import-file", text: (x.row ? "Row " + x.row + ": " : "") + x.message }))]);
    }
  });

  requireUser("programme").then((u) => { if (u) { loadList().then(loadQueue); loadUsage(); loadTraining(); } });
})();
