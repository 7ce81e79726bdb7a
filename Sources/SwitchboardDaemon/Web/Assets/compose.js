// The reply box: free text, canned responses (/shortcut) and files while the 24-hour window is open, only templates once it closed
// (or the queue's fallback template, confirmed, in place of a text the closed window refused); and internal notes with @mentions.
import { API, call, upload, h, ref, query, problem, duration, secondsUntil } from "./api.js";
import { attachPicker } from "./canned.js";

let slot, ticket, me, noted = () => {}, mode = "reply", open = null, lastTyping = 0, file = null, templates = null, canned = null;

const windowOpen = (t) => Boolean(t.customer_window_expires_at) && secondsUntil(t.customer_window_expires_at) > 0;

export function render(container, t, caller, options) {
  slot = container; ticket = t; me = caller; noted = options.noted; file = null; canned = null;
  if (mode !== "note") mode = "reply";
  draw();
}

/** The ticket was read again: redraw only if the window opened or closed (a draft stays). */
export function update(t) {
  const was = open;
  ticket = t;
  if (windowOpen(t) !== was) draw();
}

/** Every second: the window's time left; when it runs out, the box turns into the template picker. */
export function tick() {
  if (!slot || !ticket) return;
  if (windowOpen(ticket) !== open) return draw();
  const note = slot.querySelector(".window-note");
  if (note && open) note.textContent = `Window closes in ${duration(secondsUntil(ticket.customer_window_expires_at))}`;
}

export function focus(which) {
  if (!slot) return;
  select(which);
  const target = which === "note" ? slot.querySelector("#note-text") : slot.querySelector("#reply-text, #template");
  target?.focus();
}

function select(which) {
  mode = which;
  for (const tab of slot.querySelectorAll("[role=tab]")) tab.setAttribute("aria-selected", String(tab.dataset.mode === which));
  slot.querySelector("#reply-form").hidden = which !== "reply";
  slot.querySelector("#note-form").hidden = which !== "note";
  slot.querySelector(".composer").classList.toggle("noting", which === "note");
}

function status(text, tone = "") {
  const line = slot.querySelector(".compose-status");
  line.textContent = text;
  line.className = `compose-status ${tone}`;
}

function draw() {
  const draft = slot.querySelector("#reply-text")?.value ?? "", noteDraft = slot.querySelector("#note-text")?.value ?? "";
  open = windowOpen(ticket);
  const tab = (which, label) => h("button", { type: "button", role: "tab", id: `tab-${which}`, data: { mode: which }, "aria-controls": `${which}-form`,
                                               onclick: () => focus(which) }, label);
  const reply = open ? freeText(draft) : templatePicker();
  const noteForm = noteBox(noteDraft);
  slot.replaceChildren(h("div", { class: "composer" },
    h("div", { class: "tabs", role: "tablist", "aria-label": "Write" }, tab("reply", "Reply"), tab("note", "Note")),
    reply, noteForm, h("p", { class: "compose-status", role: "status", "aria-live": "polite" })));
  select(mode);
}

function freeText(draft) {
  const text = h("textarea", { id: "reply-text", rows: "3", "aria-label": "Reply to the customer",
                               placeholder: `Reply to ${ticket.customer || "the customer"}… (Ctrl+Enter sends)` });
  text.value = draft;
  const picker = h("input", { type: "file", id: "reply-file", class: "visually-hidden", tabindex: "-1", "aria-hidden": "true" });
  const chip = h("span", { class: "attachment" });
  picker.addEventListener("change", () => {
    file = picker.files[0] ?? null;
    chip.replaceChildren(...(file ? [h("span", {}, `Attached: ${file.name}`), h("button", { type: "button", class: "link", "aria-label": "Remove the file",
                                                                                    onclick: () => { file = null; picker.value = ""; chip.replaceChildren(); } }, "×")] : []));
  });
  const send = h("button", { type: "submit", id: "reply-send", class: "primary" }, "Send");
  // A chosen canned response stands in for the text until it is sent or dropped.
  const chosen = h("div", { class: "canned-chosen", id: "canned-chosen", hidden: true });
  const drop = () => { canned = null; chosen.hidden = true; chosen.replaceChildren(); text.hidden = false; text.focus(); };
  const form = h("form", { class: "reply", id: "reply-form" }, text, chosen,
    h("div", { class: "compose-bar" },
      h("button", { type: "button", id: "attach", class: "secondary", onclick: () => picker.click() }, "Attach file"), picker, chip,
      h("span", { class: "window-note" }, `Window closes in ${duration(secondsUntil(ticket.customer_window_expires_at))}`), send));
  text.addEventListener("input", () => {
    if (Date.now() - lastTyping > 10000 && text.value) {
      lastTyping = Date.now();
      call("POST", `${ref(ticket.reference)}/typing`);
    }
  });
  text.addEventListener("keydown", (event) => { if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) { event.preventDefault(); form.requestSubmit(); } });
  attachPicker(text, () => ticket.reference, (item) => {
    canned = item;
    text.hidden = true;
    chosen.replaceChildren(
      h("div", { class: "canned-head" }, h("span", { class: "canned-shortcut" }, `/${item.shortcut}`), h("span", { class: "canned-title" }, item.title),
        h("button", { type: "button", class: "link", id: "canned-drop", "aria-label": "Drop the canned response", onclick: drop }, "×")),
      h("p", { class: "template-preview", id: "canned-preview" }, h("span", { class: "label" }, "Preview"), item.preview ?? item.body));
    chosen.hidden = false;
    send.focus();
  });
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (!canned && !text.value.trim() && !file) return;
    send.disabled = true;
    const ok = canned ? await sendBody({ type: "canned", canned: canned.id }, ticket.reference) : await sendReply(text.value.trim());
    send.disabled = false;
    if (ok) {
      text.value = "";
      file = null;
      picker.value = "";
      chip.replaceChildren();
      if (canned) drop();
    }
  });
  return form;
}

async function sendReply(text) {
  const at = ticket.reference;
  let body = { type: "text", text };
  if (file) {
    status(`Uploading ${file.name}…`);
    const uploaded = await upload(`${API}/media${query({ ticket: at, filename: file.name })}`, file);
    if (!uploaded.ok) { status(problem(uploaded, "The file was not uploaded"), "error"); return false; }
    body = { type: "media", media: uploaded.json.id };
    if (text) body.caption = text;
  }
  return sendBody(body, at);
}

/** Sends a reply; a text the closed window refuses may go as the queue's fallback template, once the agent confirms it. */
async function sendBody(body, at) {
  let result = await call("POST", `${ref(at)}/messages`, body);
  const fallback = result.json?.error?.fallback_template;
  if (!result.ok && fallback && await confirmFallback(fallback)) {
    result = await call("POST", `${ref(at)}/messages`, { ...body, confirm_template_fallback: true });
    if (result.ok) {
      closed(null);
      status(`The window had closed: template ${fallback.name} was sent instead, and your text kept as a note.`);
      return true;
    }
  }
  if (result.ok) { status("Queued for sending."); return true; }
  status(problem(result, "Not sent"), "error");
  if (result.json?.error?.code === "customer_window_closed") {
    closed(result.json.error.window_closed_at);
    status(problem(result), "error");
  }
  return false;
}

/** The window turned out closed: the box offers templates from now on. */
function closed(at) {
  ticket.customer_window_expires_at = at ?? new Date(Date.now() - 1000).toISOString();
  canned = null;
  draw();
}

/** "Send the template instead?" with what the customer would read; true when the agent confirms. */
function confirmFallback(fallback) {
  return new Promise((resolve) => {
    const answer = (yes) => { dialog.close(); dialog.remove(); resolve(yes); };
    const dialog = h("dialog", { class: "fallback-dialog", id: "fallback-dialog", "aria-labelledby": "fallback-title" },
      h("h3", { id: "fallback-title" }, "The 24-hour window has closed"),
      h("p", {}, `Send the template “${fallback.name}” instead? Your text will be kept as an internal note.`),
      h("p", { class: "template-preview", id: "fallback-preview" }, h("span", { class: "label" }, "Preview"), fallback.preview),
      h("div", { class: "compose-bar end" },
        h("button", { type: "button", class: "secondary", id: "fallback-cancel", onclick: () => answer(false) }, "Cancel"),
        h("button", { type: "button", class: "primary", id: "fallback-confirm", onclick: () => answer(true) }, "Send template")));
    dialog.addEventListener("cancel", (event) => { event.preventDefault(); answer(false); });
    document.body.append(dialog);
    dialog.showModal();
  });
}

function templatePicker() {
  const closed = ticket.customer_window_expires_at;
  const form = h("form", { class: "reply templates", id: "reply-form" },
    h("p", { class: "window-note closed" }, closed ? `The 24-hour window closed ${duration(-secondsUntil(closed))} ago: only an approved template can reach the customer.`
                                                   : "The customer has not written within 24 hours: only an approved template can reach them."));
  const choose = h("select", { id: "template", "aria-label": "Template" }, h("option", { value: "" }, "Loading templates…"));
  const params = h("div", { class: "template-params", id: "template-params" });
  const preview = h("p", { class: "template-preview", id: "template-preview", "aria-live": "polite" });
  const send = h("button", { type: "submit", id: "template-send", class: "primary", disabled: true }, "Send template");
  form.append(h("label", { class: "field" }, h("span", {}, "Template"), choose), params, preview, h("div", { class: "compose-bar end" }, send));
  let list = [];
  const chosen = () => list[Number(choose.value)] ?? null;
  const values = () => [...params.querySelectorAll("input")].map((i) => i.value);
  const show = () => {
    const template = chosen();
    send.disabled = !template || values().some((v) => !v.trim());
    if (!template) return preview.replaceChildren();
    const filled = values();
    preview.replaceChildren(h("span", { class: "label" }, "Preview"),
      template.text ? template.text.replace(/\{\{(\d+)\}\}/g, (whole, n) => filled[n - 1]?.trim() || whole)
                    : `${template.name} (${template.language}) with ${template.parameters} parameter(s)`);
  };
  choose.addEventListener("change", () => {
    const template = chosen();
    params.replaceChildren(...Array.from({ length: template?.parameters ?? 0 }, (_, i) =>
      h("label", { class: "field" }, h("span", {}, `{{${i + 1}}}`), h("input", { id: `template-param-${i + 1}`, autocomplete: "off", oninput: show }))));
    show();
  });
  (templates ??= call("GET", `${API}/templates`)).then((result) => {
    if (!result.ok) { templates = null; choose.replaceChildren(h("option", { value: "" }, "Templates unavailable")); status(problem(result), "error"); return; }
    list = result.json.templates;
    choose.replaceChildren(h("option", { value: "" }, list.length ? "Choose a template…" : "No templates configured"),
      ...list.map((t, i) => h("option", { value: String(i) }, `${t.name} (${t.language})`)));
  });
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const template = chosen();
    if (!template) return;
    send.disabled = true;
    const result = await call("POST", `${ref(ticket.reference)}/messages`,
                              { type: "template", name: template.name, language: template.language, parameters: values().map((v) => v.trim()) });
    send.disabled = false;
    if (result.ok) {
      status(`Template ${template.name} queued for sending.`);
      choose.value = "";
      choose.dispatchEvent(new Event("change"));
    } else status(problem(result, "Not sent"), "error");
  });
  return form;
}

function noteBox(draft) {
  const text = h("textarea", { id: "note-text", rows: "3", "aria-label": "Internal note",
                               placeholder: "Internal note: only your team sees it. @handle mentions a colleague. (Ctrl+Enter adds)" });
  text.value = draft;
  const form = h("form", { class: "note-form", id: "note-form", hidden: true }, text,
    h("div", { class: "compose-bar end" }, h("button", { type: "submit", id: "note-send", class: "primary note-button" }, "Add note")));
  text.addEventListener("keydown", (event) => { if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) { event.preventDefault(); form.requestSubmit(); } });
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (!text.value.trim()) return;
    const result = await call("POST", `${ref(ticket.reference)}/notes`, { text: text.value.trim() });
    if (!result.ok) return status(problem(result, "The note was not added"), "error");
    text.value = "";
    noted(result.json);
    const said = ["Note added."];
    if (result.json.mentioned?.length) said.push(`Notified ${result.json.mentioned.map((a) => `@${a}`).join(", ")}.`);
    for (const missed of result.json.not_notified ?? []) said.push(`@${missed.agent} not notified: ${missed.reason}.`);
    status(said.join(" "), result.json.not_notified?.length ? "warn" : "");
  });
  return form;
}
