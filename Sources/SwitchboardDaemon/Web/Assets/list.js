// The ticket list: views and filters, pages fetched only as the agent scrolls, rows kept current from the event stream one row at a time.
import { API, call, h, query, shortTime, slaText, duration, secondsUntil, problem } from "./api.js";

const PAGE = 50;
/** Rows kept while the agent is at the top of the list: a busy queue's new activity must not grow it without end. */
const KEEP = 200;
const rows = new Map();          // reference -> { data, li }
const visible = new Set();       // rows on screen: the only ones whose clocks tick
let list, scroller, sentinel, status, onOpen = () => {};
let params = { view: "mine", status: "open", queue: "", priority: "", tag: "", q: "" };
let cursor = null, loading = false, generation = 0, current = null;
let pending = new Set(), pendingTimer = null;
let seen, more;

export function init(options) {
  ({ list, scroller, status } = options);
  onOpen = options.onOpen;
  sentinel = h("li", { class: "sentinel", "aria-hidden": "true" });
  seen = new IntersectionObserver((entries) => {
    for (const entry of entries) {
      if (entry.isIntersecting) { visible.add(entry.target); times(entry.target); } else visible.delete(entry.target);
    }
  }, { root: scroller });
  more = new IntersectionObserver((entries) => { if (entries.some((e) => e.isIntersecting)) loadPage(); }, { root: scroller, rootMargin: "600px" });
  more.observe(sentinel);
  list.addEventListener("click", (event) => {
    const li = event.target.closest("li.ticket");
    if (li) onOpen(li.dataset.reference);
  });
  list.addEventListener("keydown", (event) => {
    if (event.key !== "ArrowDown" && event.key !== "ArrowUp") return;
    event.preventDefault();
    const next = neighbour(event.key === "ArrowDown" ? 1 : -1);
    if (next) onOpen(next);
  });
  setInterval(() => { for (const li of visible) times(li); }, 5000);
}

/** Changes the view or a filter and loads the list again from its first page. */
export function set(changes) {
  params = { ...params, ...changes };
  reload();
}

export const get = () => ({ ...params });

export function reload() {
  generation += 1;
  rows.clear();
  visible.clear();
  cursor = null;
  loading = false;
  list.replaceChildren(sentinel);
  loadPage(true);
}

async function loadPage(first = false) {
  if (loading || (!first && !cursor)) return;
  loading = true;
  const mine = generation;
  status.textContent = "Loading…";
  const result = await call("GET", `${API}/tickets${query({ ...params, limit: PAGE, cursor: first ? null : cursor })}`);
  if (mine !== generation) return;
  loading = false;
  if (!result.ok) {
    status.textContent = problem(result, "The list could not be loaded");
    return;
  }
  const fragment = document.createDocumentFragment();
  for (const data of result.json.tickets) {
    if (rows.has(data.reference)) continue;
    fragment.append(make(data));
  }
  list.insertBefore(fragment, sentinel);
  cursor = result.json.next_cursor ?? null;
  summarise();
  // A short page on a tall screen leaves the sentinel in view: keep going.
  if (cursor && sentinel.getBoundingClientRect().top < scroller.getBoundingClientRect().bottom + 600) loadPage();
}

function summarise() {
  if (loading) return;
  status.textContent = rows.size === 0 ? "No tickets here." : cursor ? `${rows.size}+ tickets` : `${rows.size} ticket${rows.size === 1 ? "" : "s"}`;
}

const activity = (data) => Math.max(Date.parse(data.updated_at ?? 0) || 0, Date.parse(data.last_message?.at ?? 0) || 0);

function make(data) {
  const li = h("li", { class: "ticket", role: "option", id: `row-${data.reference}`, data: { reference: data.reference } });
  rows.set(data.reference, { data, li });
  fill(li, data);
  seen.observe(li);
  return li;
}

function fill(li, data) {
  const unread = data.reference === current ? 0 : data.unread ?? 0;
  li.classList.toggle("unread", unread > 0);
  li.classList.toggle("open", data.reference === current);
  li.setAttribute("aria-selected", String(data.reference === current));
  const last = data.last_message;
  const preview = last ? (last.preview ?? `[${last.type}]`) : "No messages yet";
  const chips = [h("span", { class: "ref" }, data.reference)];
  if (data.priority && data.priority !== "normal") chips.push(h("span", { class: `chip prio-${data.priority}` }, data.priority));
  if (data.status !== "open") chips.push(h("span", { class: `chip status-${data.status}` }, data.status));
  if (!data.assignee) chips.push(h("span", { class: "chip waiting" }, "waiting"));
  else if (params.view !== "mine") chips.push(h("span", { class: "chip" }, data.assignee));
  chips.push(h("span", { class: "sla" }), h("span", { class: "window" }));
  li.replaceChildren(
    h("div", { class: "line" }, h("span", { class: "customer" }, data.customer || data.customer_phone || data.reference),
      h("time", { class: "when", datetime: last?.at ?? data.updated_at }, shortTime(last?.at ?? data.updated_at))),
    h("div", { class: "line" }, h("span", { class: "preview" }, last?.direction === "outbound" ? `You: ${preview}` : preview),
      unread > 0 ? h("span", { class: "unread-count", "aria-label": `${unread} unread` }, String(unread)) : null),
    h("div", { class: "line chips" }, chips));
  times(li);
}

/** The SLA countdown and the window's time left, the only parts of a row that change by themselves. */
function times(li) {
  const entry = rows.get(li.dataset.reference);
  if (!entry) return;
  const sla = slaText(entry.data.sla), slaNode = li.querySelector(".sla"), windowNode = li.querySelector(".window");
  slaNode.textContent = sla ? sla.text : "";
  slaNode.className = `sla ${sla?.tone ?? ""}`;
  const left = entry.data.window_expires_at ? secondsUntil(entry.data.window_expires_at) : -1;
  windowNode.textContent = left > 0 ? `Window ${duration(left)}` : "Window closed";
  windowNode.classList.toggle("closed", left <= 0);
  windowNode.title = left > 0 ? "Time left to answer with free text" : "Only a template can be sent";
}

function place(li, data) {
  const at = activity(data);
  for (let node = list.firstElementChild; node && node !== sentinel; node = node.nextElementSibling) {
    const other = rows.get(node.dataset.reference);
    if (other && activity(other.data) <= at) return list.insertBefore(li, node);
  }
  // Older than every loaded row: a later page brings it, unless there is none.
  if (!cursor) list.insertBefore(li, sentinel);
  else { rows.delete(data.reference); seen.unobserve(li); }
}

function upsert(data) {
  const entry = rows.get(data.reference);
  if (entry) {
    entry.data = data;
    fill(entry.li, data);
  } else {
    place(make(data), data);
  }
  summarise();
}

function remove(reference) {
  const entry = rows.get(reference);
  if (!entry) return;
  seen.unobserve(entry.li);
  visible.delete(entry.li);
  entry.li.remove();
  rows.delete(reference);
  summarise();
}

/** Marks the open ticket: highlighted, read. */
export function select(reference) {
  const previous = rows.get(current);
  current = reference;
  if (previous) fill(previous.li, previous.data);
  const entry = rows.get(reference);
  if (entry) {
    entry.data.unread = 0;
    fill(entry.li, entry.data);
    entry.li.scrollIntoView({ block: "nearest" });
    list.setAttribute("aria-activedescendant", entry.li.id);
  }
}

/** The ticket `delta` rows from the open one (the first if none is open). */
export function neighbour(delta) {
  const items = [...list.querySelectorAll("li.ticket")];
  if (!items.length) return null;
  const at = items.findIndex((li) => li.dataset.reference === current);
  if (at < 0) return items[0].dataset.reference;
  if (at + delta >= items.length - 3 && cursor) loadPage();
  return items[Math.min(items.length - 1, Math.max(0, at + delta))].dataset.reference;
}

/** One event from the stream: a message moves its loaded row to the top; anything else asks about the row again (batched). */
export function event(kind, data) {
  if (kind === "reset") return reload();
  const reference = data.ticket;
  if (!reference || ["mentioned", "presence", "queue_paused", "agent_draining", "note_added", "message_status"].includes(kind)) return;
  const entry = rows.get(reference);
  if (kind === "message" && entry && data.message) {
    const message = data.message;
    if (message.applies_to == null) {
      entry.data.last_message = { id: message.id, at: message.at ?? data.at, direction: message.direction, type: message.type,
                                  preview: message.body ? message.body.slice(0, 140) : null };
      if (message.direction === "inbound" && reference !== current) entry.data.unread = (entry.data.unread ?? 0) + 1;
      if (message.direction === "inbound") entry.data.window_expires_at = new Date(Date.now() + 24 * 3600 * 1000).toISOString();
    }
    entry.data.updated_at = data.at ?? entry.data.updated_at;
    fill(entry.li, entry.data);
    list.prepend(entry.li);
    return;
  }
  refreshSoon(reference);
}

/** At the top of the list, rows past KEEP go; scrolling down fetches them again from the last row kept. */
function trim() {
  if (rows.size <= KEEP || scroller.scrollTop > 200) return;
  const items = list.querySelectorAll("li.ticket");
  const last = rows.get(items[KEEP - 1]?.dataset.reference);
  if (!last?.data.cursor) return;
  for (let i = items.length - 1; i >= KEEP; i -= 1) remove(items[i].dataset.reference);
  cursor = last.data.cursor;
  summarise();
}

/**
 * Rows events named are asked about again together: one request (`references=`) for every ticket
 * named in the last half second, never one per event, so a busy queue costs the server little.
 */
function refreshSoon(reference) {
  pending.add(reference);
  if (pendingTimer) return;
  pendingTimer = setTimeout(flush, 500);
}

async function flush() {
  const references = [...pending].slice(0, 100);
  for (const reference of references) pending.delete(reference);
  const mine = generation;
  const result = await call("GET", `${API}/tickets${query({ ...params, q: "", references: references.join(","), limit: 100 })}`);
  pendingTimer = pending.size ? setTimeout(flush, 500) : null;
  if (mine !== generation || !result.ok) return;
  const found = new Map(result.json.tickets.map((t) => [t.reference, t]));
  for (const reference of references) {
    const data = found.get(reference);
    if (!data) remove(reference);
    else if (!(params.q && !rows.has(reference))) upsert(data);   // a search's results are not grown by events
  }
  trim();
}
