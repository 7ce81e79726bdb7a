// The open ticket: its head, the timeline (messages, notes, events in time order, older pages as the agent scrolls up) and live changes.
import { API, call, h, ref, query, problem, duration, secondsUntil, CLOCKS, preciseDuration } from "./api.js";
import { message, note, eventText, system } from "./messages.js";
import * as compose from "./compose.js";
import * as actions from "./actions.js";

const PAGE = 50;
const TICKET_KINDS = ["assigned", "unassigned", "accepted", "moved", "status_changed", "priority_changed", "tagged", "untagged", "sla_warning", "sla_breach"];
let section, me, ticket = null, timeline = null, older = null, head = null;
let oldestId = null, more = false, loadingOlder = false, held = [], opening = 0, refreshTimer = null;

let ticking = null;
export function init(options) {
  ({ section, me } = options);
  ticking ??= setInterval(() => { if (ticket && head?.isConnected) clocks(); }, 1000);
}

export const reference = () => ticket?.reference ?? null;
export const focusReply = () => ticket && compose.focus("reply");
export const focusNote = () => ticket && compose.focus("note");
export const resolve = () => ticket && actions.run("resolve");

export function empty(text = "Choose a ticket from the list.") {
  ticket = null;
  section.replaceChildren(h("div", { class: "empty" }, h("p", {}, text)));
}

/** Opens a ticket (the latest messages); answers false when it does not exist or is not the agent's to see. */
export async function open(reference) {
  const mine = ++opening;
  const result = await call("GET", `${ref(reference)}${query({ messages: PAGE })}`);
  if (mine !== opening) return true;
  if (!result.ok) {
    ticket = null;
    const text = result.status === 404 ? `Ticket ${reference} was not found, or it is not yours to see.` : problem(result, "The ticket could not be opened");
    section.replaceChildren(h("div", { class: "empty not-found", role: "alert" }, h("p", {}, text)));
    return false;
  }
  ticket = result.json;
  timeline = null;   // the previous ticket's: nothing of it may be taken as already shown
  held = [];
  const messages = ticket.messages.filter((m) => m.applies_to == null);
  oldestId = ticket.messages.length ? Math.min(...ticket.messages.map((m) => m.id)) : null;
  more = Boolean(ticket.more_messages);
  const since = more && ticket.messages.length ? Math.min(...ticket.messages.map((m) => Date.parse(m.at))) : -Infinity;
  const entries = [...messages.map(message), ...ticket.notes.map(note), ...storedEvents(ticket.events)];
  const shown = [];
  for (const entry of entries) (Number(entry.dataset.at) >= since ? shown : held).push(entry);
  head = h("header", { class: "thread-head" });
  older = h("div", { class: "older" });
  timeline = h("div", { class: "messages", id: "messages", role: "log", "aria-label": "Conversation", tabindex: "0" }, older);
  timeline.append(sorted(shown));
  timeline.addEventListener("scroll", () => { if (timeline.scrollTop < 150) loadOlder(); }, { passive: true });
  const bar = h("div", { class: "actions", "aria-label": "Ticket actions" });
  const form = h("div", { class: "composer-slot" });
  section.replaceChildren(head, bar, timeline, form);
  drawHead();
  drawOlder();
  actions.render(bar, ticket, me, { refresh: refreshSoon });
  compose.render(form, ticket, me, { noted: addNote });
  timeline.scrollTop = timeline.scrollHeight;
  if (more && timeline.scrollHeight <= timeline.clientHeight + 150) loadOlder();
  return true;
}

function storedEvents(events) {
  return events.map((e) => {
    const text = eventText(e.kind, e.data ?? {}, e.actor);
    return text && !find(`e${e.id}`) ? system(e.kind, text, e.at, `e${e.id}`) : null;
  }).filter(Boolean);
}

function sorted(nodes) {
  const fragment = document.createDocumentFragment();
  fragment.append(...nodes.sort((a, b) => Number(a.dataset.at) - Number(b.dataset.at)));
  return fragment;
}

function drawOlder() {
  older.replaceChildren(more
    ? h("button", { type: "button", class: "link", onclick: loadOlder }, loadingOlder ? "Loading earlier messages…" : "Load earlier messages")
    : h("span", { class: "muted small" }, "Beginning of the conversation"));
}

/** The previous page, put above what is shown without moving what the agent is reading. */
async function loadOlder() {
  if (!more || loadingOlder || !ticket || oldestId == null) return;
  loadingOlder = true;
  drawOlder();
  const open = ticket.reference;
  const result = await call("GET", `${ref(open)}/messages${query({ before: oldestId, limit: PAGE })}`);
  loadingOlder = false;
  if (!ticket || ticket.reference !== open) return;
  if (!result.ok) { drawOlder(); older.append(h("span", { class: "error" }, problem(result))); return; }
  const page = result.json.messages;
  more = Boolean(result.json.more) && page.length > 0;
  if (page.length) oldestId = Math.min(oldestId, ...page.map((m) => m.id));
  const since = more ? Math.min(...page.map((m) => Date.parse(m.at))) : -Infinity;
  // The page's messages and the ticket's events of the same stretch of time.
  const nodes = [...page.filter((m) => m.applies_to == null && !find(`m${m.id}`)).map(message), ...storedEvents(result.json.events ?? [])];
  held = held.filter((entry) => (Number(entry.dataset.at) >= since ? (nodes.push(entry), false) : true));
  const before = timeline.scrollHeight, top = timeline.scrollTop;
  older.after(sorted(nodes));
  timeline.scrollTop = top + (timeline.scrollHeight - before);
  drawOlder();
}

const find = (key) => timeline?.querySelector(`[data-key="${key}"]`) ?? null;

/**
 * Puts an entry in time order (almost always at the end), keeping the view at the bottom if it was
 * there. Where the view is, is read before the insert and the scroll waits for the next frame, so
 * an arriving message costs one layout, not two forced ones.
 */
let scrollFrame = 0;
function place(node, follow = false) {
  const atBottom = follow || timeline.scrollHeight - timeline.scrollTop - timeline.clientHeight < 120;
  const when = Number(node.dataset.at);
  let after = timeline.lastElementChild;
  while (after && after !== older && Number(after.dataset.at) > when) after = after.previousElementSibling;
  (after ?? older).after(node);
  if (atBottom && !scrollFrame) {
    const shown = timeline;
    scrollFrame = requestAnimationFrame(() => { scrollFrame = 0; shown.scrollTop = shown.scrollHeight; });
  }
}

function upsert(m) {
  if (!timeline || m.applies_to != null) return;
  const node = message(m), existing = find(`m${m.id}`);
  if (existing) existing.replaceWith(node);
  else if (!more || Date.parse(m.at) >= Number(timeline.children[1]?.dataset.at ?? 0)) place(node, m.direction === "outbound");
}

/** A note added from this page (the POST's answer) or heard from the stream. */
export function addNote(n) {
  if (!timeline || find(`n${n.id}`)) return;
  place(note(n), true);
}

function drawHead() {
  const t = ticket;
  const tags = h("div", { class: "tags" }, t.tags.map((tag) => h("span", { class: "tag" }, tag,
    h("button", { type: "button", class: "tag-remove", "aria-label": `Remove tag ${tag}`, title: "Remove tag", onclick: () => actions.untag(tag) }, "×"))));
  const add = h("form", { class: "tag-add" }, h("label", { class: "visually-hidden", for: "tag-input" }, "Add a tag"),
    h("input", { id: "tag-input", placeholder: "+ tag", autocomplete: "off", size: "8" }));
  add.addEventListener("submit", (event) => {
    event.preventDefault();
    const input = add.querySelector("input");
    if (input.value.trim()) actions.tag(input.value.trim()).then((ok) => { if (ok) input.value = ""; });
  });
  tags.append(add);
  head.replaceChildren(
    h("div", { class: "title" }, h("h2", {}, t.customer || t.reference), h("span", { class: "ref" }, t.reference),
      h("span", { class: `chip status-${t.status}`, id: "ticket-status" }, t.status),
      h("span", { class: `chip prio-${t.priority}` }, t.priority)),
    h("div", { class: "facts" },
      h("span", {}, "Queue ", h("strong", {}, t.queue ?? "none")),
      h("span", {}, "Agent ", h("strong", { id: "ticket-assignee" }, t.assignee ?? "waiting")),
      (t.customer_tags ?? []).length ? h("span", {}, "Customer ", h("strong", { id: "customer-tags" }, t.customer_tags.join(", "))) : null,
      h("span", { class: "window-left" }), h("span", { class: "clocks" })),
    tags);
  clocks();
}

/** The window and the SLA clocks, counted down every second. */
function clocks() {
  const window = head.querySelector(".window-left"), box = head.querySelector(".clocks");
  const left = ticket.customer_window_expires_at ? secondsUntil(ticket.customer_window_expires_at) : -1;
  window.textContent = left > 0 ? `Window ${duration(left)} left` : "Window closed";
  window.className = `window-left ${left > 0 ? "" : "closed"}`;
  const parts = (ticket.sla ?? []).filter((c) => !c.met_at).map((c) => {
    const label = CLOCKS[c.clock] ?? c.clock;
    if (c.breached_at) return h("span", { class: "clock breach" }, `${label} breached`);
    if (c.paused) return h("span", { class: "clock" }, `${label} paused`);
    if (!c.deadline) return null;
    const s = secondsUntil(c.deadline);
    return h("span", { class: `clock ${s <= 0 ? "breach" : c.warned_at ? "warn" : ""}` }, s <= 0 ? `${label} breached` : `${label} ${preciseDuration(s)}`);
  }).filter(Boolean);
  box.replaceChildren(...parts);
  compose.tick();
}

function refreshSoon() {
  clearTimeout(refreshTimer);
  refreshTimer = setTimeout(refreshHead, 150);
}

/** Reads the ticket again (head, actions, window, notes), leaving the timeline as it is. */
async function refreshHead() {
  if (!ticket) return;
  const open = ticket.reference;
  const result = await call("GET", `${ref(open)}${query({ messages: 1 })}`);
  if (!ticket || ticket.reference !== open) return;
  if (!result.ok) {
    if (result.status === 404) section.querySelector(".composer-slot")?.replaceChildren(h("p", { class: "notice", role: "alert" }, "This ticket is no longer yours to see."));
    return;
  }
  const fresh = result.json;
  ticket = { ...fresh, messages: ticket.messages };
  drawHead();
  actions.render(section.querySelector(".actions"), ticket, me, { refresh: refreshSoon });
  compose.update(ticket);
  for (const n of fresh.notes) addNote(n);
}

/** One event from the stream, when it is about the open ticket. */
export function event(kind, data) {
  if (!ticket || data.ticket !== ticket.reference) return;
  if (kind === "message" || kind === "message_status") {
    if (data.message) upsert(data.message);
    if (data.changed_message) upsert(data.changed_message);
    if (kind === "message" && data.message?.direction === "inbound") {
      ticket.customer_window_expires_at = new Date(Date.now() + 24 * 3600 * 1000).toISOString();
      refreshSoon();
    }
    return;
  }
  if (kind === "customer_tags") return refreshSoon();
  if (kind === "note_added") {
    const d = data.details ?? {};
    if (d.text !== undefined && d.note) addNote({ id: Number(d.note), at: data.at, author: d.author, text: d.text });
    else refreshSoon();
    return;
  }
  if (TICKET_KINDS.includes(kind)) {
    const text = eventText(kind, { ...data.details, queue: data.details?.queue || data.queue, agent: data.details?.agent || data.agent });
    if (text) place(system(kind, text, data.at ?? new Date().toISOString(), `live-${kind}-${data.at}`));
    refreshSoon();
  }
}
