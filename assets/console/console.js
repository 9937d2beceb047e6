// The schedule editor: gathers the steps table into the schedule's JSON shape, shows a live preview of
// the unsaved edit (debounced), and saves it. Everything else in the console is plain HTML forms.
"use strict";

// Forms that only hold inputs for the scripts below never submit; a handler here rather than an inline
// onsubmit, which the Content-Security-Policy forbids.
document.querySelectorAll("form[data-no-submit]").forEach((form) => {
  form.addEventListener("submit", (event) => event.preventDefault());
});

(function () {
  const editor = document.getElementById("schedule-editor");
  if (!editor) return;
  const csrf = document.querySelector("main").dataset.csrf;
  const name = editor.dataset.name;
  let schedule = JSON.parse(editor.dataset.schedule);
  const status = document.getElementById("editor-status");
  const preview = document.getElementById("preview");

  function edited() {
    const copy = JSON.parse(JSON.stringify(schedule));
    document.querySelectorAll("#steps tbody tr").forEach((row) => {
      const step = copy.steps[Number(row.dataset.index)];
      step.day = Number(row.querySelector('[name="day"]').value);
      step.template = row.querySelector('[name="template"]').value;
      const windowValue = row.querySelector('[name="window"]').value.trim();
      if (windowValue) step.window = windowValue; else delete step.window;
      step.weekdays_only = row.querySelector('[name="weekdays_only"]').checked;
    });
    return copy;
  }

  function post(path, body) {
    return fetch(path, {
      method: "POST",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf },
      body: JSON.stringify(body),
      credentials: "same-origin",
    }).then((response) => response.json().then((json) => ({ ok: response.ok, json })));
  }

  function markInvalid(field) {
    document.querySelectorAll('[aria-invalid="true"]').forEach((el) => el.removeAttribute("aria-invalid"));
    const match = /^steps\[(\d+)\]\.(\w+)$/.exec(field || "");
    if (!match) return;
    const id = { day: "day", template: "template", window: "window", weekdays_only: "weekdays" }[match[2]];
    const input = id && document.getElementById(id + "-" + match[1]);
    if (input) input.setAttribute("aria-invalid", "true");
  }

  function text(tag, content, className) {
    const el = document.createElement(tag);
    el.textContent = content;
    if (className) el.className = className;
    return el;
  }

  function showPreview(steps) {
    preview.replaceChildren();
    steps.forEach((step) => {
      const box = document.createElement("div");
      box.className = "preview-step";
      box.dataset.step = step.step;
      box.appendChild(text("strong", step.step + " · day " + step.day + " · " + step.send_at, "send-at"));
      if (step.warning) box.appendChild(text("p", "Cost warning: " + step.warning, "warning"));
      step.texts.forEach((t) => {
        box.appendChild(text("p", t.language + " (" + t.segments + " segment" + (t.segments === 1 ? "" : "s") + ", " + t.encoding + "): " + t.body));
      });
      preview.appendChild(box);
    });
  }

  let timer = null;
  function refresh() {
    clearTimeout(timer);
    timer = setTimeout(() => {
      post("/console/schedules/" + encodeURIComponent(name) + "/preview", {
        schedule: edited(),
        discharged_at: document.getElementById("preview-discharge").value,
        timezone: document.getElementById("preview-zone").value,
      }).then(({ ok, json }) => {
        markInvalid(ok ? null : json.error.field);
        if (ok) {
          status.textContent = "";
          showPreview(json);
        } else {
          status.textContent = json.error.field + ": " + json.error.message;
        }
      });
    }, 250);
  }

  editor.addEventListener("input", refresh);
  editor.addEventListener("change", refresh);
  const save = document.getElementById("save-schedule");
  if (save) {
    save.addEventListener("click", () => {
      post("/console/schedules/" + encodeURIComponent(name), edited()).then(({ ok, json }) => {
        markInvalid(ok ? null : json.error.field);
        if (ok) {
          schedule = json.schedule;
          save.textContent = "Save as version " + (schedule.version + 1);
          status.textContent = "Saved version " + schedule.version + "; " + json.replanned + " enrolled client(s) now follow it.";
        } else {
          status.textContent = "Not saved. " + json.error.field + ": " + json.error.message;
        }
      });
    });
  }
  refresh();
})();

// The sandbox's phone simulator: shows one phone's conversation (polled each second) and texts the service
// as that phone.
(function () {
  const simulator = document.getElementById("simulator");
  if (!simulator) return;
  const csrf = document.querySelector("main").dataset.csrf;
  const phone = document.getElementById("phone");
  const conversation = document.getElementById("conversation");
  const typed = document.getElementById("typed");
  const status = document.getElementById("simulator-status");
  let shown = "";

  function load() {
    fetch("/console/sandbox/messages?phone=" + encodeURIComponent(phone.value), { credentials: "same-origin" })
      .then((response) => response.json())
      .then((bubbles) => {
        const key = JSON.stringify(bubbles);
        if (key === shown) return;
        shown = key;
        conversation.replaceChildren();
        bubbles.forEach((b) => {
          const li = document.createElement("li");
          li.className = b.direction === "in" ? "out" : "in";
          const meta = document.createElement("span");
          meta.className = "meta";
          meta.textContent = (b.direction === "in" ? "You" : "Service") + " · " + b.at;
          const body = document.createElement("p");
          body.textContent = b.body;
          li.append(meta, body);
          conversation.appendChild(li);
        });
      });
  }

  document.getElementById("type-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const body = typed.value.trim();
    if (!body) return;
    fetch("/console/sandbox/text", {
      method: "POST",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf },
      body: JSON.stringify({ from: phone.value, body }),
      credentials: "same-origin",
    }).then((response) => {
      status.textContent = response.ok ? "Sent." : "Not sent (" + response.status + ").";
      if (response.ok) typed.value = "";
      load();
    });
  });
  phone.addEventListener("change", () => { shown = ""; load(); });
  load();
  setInterval(load, 1000);
})();
