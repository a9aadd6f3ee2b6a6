// Chat page: login, send messages, render replies, feedback. No third-party code.
"use strict";
(function () {
  const $ = (id) => document.getElementById(id);
  const log = $("log"), form = $("chat-form"), box = $("message"), typing = $("typing");
  let busy = false;

  const { api, el, showNav, showErrors, notify } = window.PA;

  // The sign-in form; ``message`` (signed out, session expired) in a notification banner.
  function showLogin(message) {
    $("chat-view").hidden = true; showNav(null); $("login-view").hidden = false;
    showErrors($("login-errors"), []);
    notify($("login-notice"), message || "", false);
    $("username").focus();
  }

  function chatError(message, field) {
    $("chat-error").textContent = message || "";
    $("message-group").classList.toggle("govuk-form-group--error", !!(message && field));
    box.classList.toggle("govuk-textarea--error", !!(message && field));
  }

  async function showChat(user) {
    $("login-view").hidden = true; $("chat-view").hidden = false;
    showNav(user);
    log.textContent = "";

    const r = await api("/api/history");
    if (r.ok) {
      if (r.data.earlier) showEarlier(r.data.earlier);
      r.data.messages.forEach(addMessage);
      if (!r.data.messages.length) {
        addMessage({ sender: "bot", html: "<p>Hello " + escapeHtml(user.display_name) +
          ". Ask me about the new Probation Rules, professional discretion, or the programme's practice models (SEED, RSM, SPA, desistance). My answers describe the programme and the rules as they stood in 2011-13: ask \"is this still current?\" for what has changed since and where to check today's rules.</p>" });
      }
    } else if (r.status === 401) { return showLogin(r.data.error); }
    else { chatError(r.data.error); }
    if (user.role === "practitioner") loadPrompts(true);
    box.focus();
  }

  // Older messages are fetched a page at a time, never silently dropped.
  function showEarlier(count) {
    const more = document.createElement("button");
    more.type = "button"; more.className = "govuk-button govuk-button--secondary earlier";
    more.textContent = "Show earlier messages (" + count + " more)";
    more.addEventListener("click", async () => {
      const r = await api("/api/history?limit=200&before=" + count);
      if (!r.ok) { chatError(r.data.error); return; }
      const first = more.nextSibling;
      more.remove();
      if (r.data.earlier) showEarlier(r.data.earlier);
      r.data.messages.forEach((m) => { const node = addMessage(m); if (first) log.insertBefore(node, first); });
    });
    log.insertBefore(more, log.firstChild);
  }

  async function loadPrompts(announce) {
    const r = await api("/api/prompts");
    const list = $("prompt-list");
    list.textContent = "";
    if (!r.ok || !r.data.length) { $("prompts").hidden = true; return; }
    $("prompts").hidden = false;
    if (announce) {
      const who = r.data[0].from_name ? r.data[0].from_name + " has asked you" : "It's time";
      addMessage({ sender: "bot", html: "<p>" + escapeHtml(who + " to reflect" + (r.data.length > 1 ? " (" + r.data.length + " requests)" : "") +
        ". Use \u201cStart now\u201d above when you're ready, or snooze or dismiss it.") + "</p>" });
    }
    r.data.forEach((p) => {
      const li = document.createElement("li");
      const text = document.createElement("p");
      text.className = "govuk-body govuk-!-margin-bottom-2";
      text.textContent = (p.from_name ? p.from_name + " asked you to reflect" : "Time to reflect") +
        (p.set_name ? " (" + p.set_name + ")" : "") + (p.due_date ? ", due " + p.due_date : "") +
        (p.note ? ": “" + p.note + "”" : ".");
      li.appendChild(text);
      const start = document.createElement("button");
      start.type = "button"; start.className = "govuk-button"; start.textContent = "Start now";
      start.addEventListener("click", () => send({ payload: '/start_reflection{"prompt_id": "' + p.id + '"}' }, "Start a reflection"));
      const later = document.createElement("button");
      later.type = "button"; later.className = "govuk-button govuk-button--secondary"; later.textContent = "Remind me tomorrow";
      later.addEventListener("click", async () => { await api("/api/prompts/" + p.id + "/snooze", { hours: 24 }); loadPrompts(); });
      const dismiss = document.createElement("button");
      dismiss.type = "button"; dismiss.className = "govuk-button govuk-button--secondary"; dismiss.textContent = "Dismiss";
      dismiss.addEventListener("click", async () => { await api("/api/prompts/" + p.id + "/dismiss", {}); loadPrompts(); });
      li.appendChild(el("div", { class: "govuk-button-group" }, start, later, dismiss));
      list.appendChild(li);
    });
  }

  function escapeHtml(s) {
    const d = document.createElement("div"); d.textContent = s; return d.innerHTML;
  }

  // A message in MoJ Frontend's messages pattern; a bot message starts with who said it (for
  // screen readers: the log announces each new message).
  function addMessage(m) {
    const div = document.createElement("div");
    const mine = m.sender === "user";
    div.className = "msg " + (mine ? "user moj-message-item moj-message-item--sent" : "bot moj-message-item moj-message-item--received") +
      (m.type === "notice" ? " notice" : "");
    if (mine) {
      div.textContent = m.text;
    } else {
      div.appendChild(el("span", { class: "govuk-visually-hidden" }, "The assistant: "));
      const body = document.createElement("div");
      body.className = "body moj-message-item__text";
      body.innerHTML = m.html || "";  // rendered server-side with raw HTML disabled
      div.appendChild(body);
      if (m.type === "faq_answer") {
        div.dataset.faqKey = m.faq_key || "";
        if (m.source) {
          const src = document.createElement("p");
          src.className = "source govuk-body-s"; src.textContent = "Source: " + m.source;
          div.appendChild(src);
        }
        if (m.answer_id) div.appendChild(feedbackControls(m));
      }
      if (m.buttons && m.buttons.length) {
        const wrap = document.createElement("div");
        wrap.className = "buttons govuk-button-group";
        m.buttons.forEach((b) => {
          const btn = document.createElement("button");
          btn.type = "button"; btn.className = "govuk-button govuk-button--secondary"; btn.textContent = b.title;
          btn.addEventListener("click", () => send({ payload: b.payload }, b.title));
          wrap.appendChild(btn);
        });
        div.appendChild(wrap);
      }
    }
    log.appendChild(div);
    log.scrollTop = log.scrollHeight;
    return div;
  }

  function feedbackControls(m) {
    const wrap = document.createElement("div");
    wrap.className = "feedback govuk-button-group";
    wrap.setAttribute("role", "group");
    wrap.setAttribute("aria-label", "Was this answer helpful?");
    const thanks = document.createElement("span");
    thanks.className = "thanks govuk-body-s"; thanks.setAttribute("aria-live", "polite");
    [[true, "Helpful"], [false, "Not helpful"]].forEach(([value, label]) => {
      const btn = document.createElement("button");
      btn.type = "button"; btn.className = "govuk-button govuk-button--secondary app-feedback-button"; btn.textContent = label;
      btn.dataset.helpful = String(value);
      btn.setAttribute("aria-pressed", String(m.feedback === value));
      btn.addEventListener("click", async () => {
        const r = await api("/api/feedback", { answer_id: m.answer_id, helpful: value });
        if (r.ok) {
          wrap.querySelectorAll("button").forEach((b) => b.setAttribute("aria-pressed", String(b === btn)));
          thanks.textContent = "Thanks for your feedback.";
        } else if (r.status === 401) { showLogin(r.data.error); }
        else { thanks.textContent = r.data.error || "Feedback could not be saved."; }
      });
      wrap.appendChild(btn);
    });
    wrap.appendChild(thanks);
    return wrap;
  }

  // Each message has an id; a message sent again after a failure keeps it, so if the first
  // try was in fact answered, the server answers from that turn instead of a second time.
  let unanswered = null;  // { key, id } of the last message that got no answer
  function messageId(body) {
    const key = JSON.stringify(body);
    if (unanswered && unanswered.key === key) return unanswered.id;
    const id = (window.crypto && crypto.randomUUID) ? crypto.randomUUID() :
      Date.now().toString(36) + Math.random().toString(36).slice(2, 12);
    unanswered = { key, id };
    return id;
  }

  async function send(body, shownText) {
    if (busy) return;
    busy = true;
    chatError("");
    const pending = addMessage({ sender: "user", text: shownText });
    typing.hidden = false; $("send").disabled = true;
    const request = Object.assign({ client_message_id: messageId(body) }, body);
    let r = await api("/api/chat", request);
    if (!r.ok && (r.status === 0 || r.status === 503)) {  // one quiet retry: the same id, so never twice
      await new Promise((done) => setTimeout(done, 1500));
      r = await api("/api/chat", request);
    }
    typing.hidden = true; $("send").disabled = false; busy = false;
    if (r.ok) {
      unanswered = null;
      if (body.message !== undefined) box.value = "";
      if (r.data.sent && body.message !== undefined) pending.textContent = r.data.sent;  // as stored
      r.data.messages.forEach(addMessage);
      if (body.payload && body.payload.indexOf("/start_reflection") === 0) loadPrompts();
    } else {
      pending.remove();  // not answered: the text stays in the box to send again (with the same id)
      if (r.status === 401) return showLogin(r.data.error);
      chatError(r.data.error || "Something went wrong. Please try again.");
    }
    box.focus();
  }

  form.addEventListener("submit", (e) => {
    e.preventDefault();
    const text = box.value.trim();
    if (!text) { chatError("Type a question or a reply", true); box.focus(); return; }
    send({ message: text }, text);
  });
  box.addEventListener("keydown", (e) => {
    if (e.key === "Enter" && !e.shiftKey) { e.preventDefault(); form.requestSubmit(); }
  });

  $("login-form").addEventListener("submit", async (e) => {
    e.preventDefault();
    notify($("login-notice"), "", false);
    const blank = [["username", "Enter your username"], ["password", "Enter your password"]]
      .filter(([id]) => !$(id).value).map(([id, text]) => ({ href: "#" + id, text }));
    if (blank.length) { showErrors($("login-errors"), blank); return; }
    const r = await api("/api/login", { username: $("username").value, password: $("password").value });
    if (r.ok) { $("password").value = ""; showErrors($("login-errors"), []); showChat(r.data); return; }
    showErrors($("login-errors"), [{ href: "#username", text: r.data.error || "Sign-in failed. Please try again." }]);
  });
  $("logout").addEventListener("click", async () => { await api("/api/logout", {}); showLogin("You have signed out."); });

  (async function start() {
    const r = await api("/api/me");
    if (r.ok) showChat(r.data); else showLogin(r.status === 401 && r.data.code === "session_expired" ? r.data.error : "");
  })();
})();
