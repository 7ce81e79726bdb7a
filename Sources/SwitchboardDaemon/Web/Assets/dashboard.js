// The supervisor's dashboard: queues, agents, at-risk tickets and the chart, read again within a second of any event; the levers.
import { API, call, h, problem, toast, onUnauthorized, duration, preciseDuration, secondsUntil, CLOCKS } from "./api.js";
import { follow } from "./live.js";
import { draw } from "./chart.js";

const $ = (id) => document.getElementById(id);
let data = null, me = null, reassigning = null, lastChart = "";

// Reading: at most once a second, however many events arrive (the first at once).

let timer = null, inflight = false, again = false, last = 0;
function soon() {
  if (timer || inflight) { again = true; return; }
  timer = setTimeout(run, Math.max(0, 1000 - (Date.now() - last)));
}
async function run() {
  timer = null; inflight = true; again = false; last = Date.now();
  await refresh();
  inflight = false;
  if (again) soon();
}

async function refresh() {
  const result = await call("GET", `${API}/dashboard`);
  if (!result.ok) {
    $("dash-error").textContent = result.status === 403 ? "The dashboard is for supervisors and admins." : problem(result, "The dashboard could not be read");
    return;
  }
  $("dash-error").textContent = "";
  data = result.json;
  $("updated").textContent = `Updated ${new Date(data.generated_at ?? Date.now()).toLocaleTimeString()}`;
  rows($("queues").tBodies[0], data.queues, (q) => q.name, queueRow, null,
       ({ longest_wait_seconds, ...q }) => q, (node, q) => { node.querySelector("[data-waiting-since]").dataset.waitingSince = waitingSince(q); });
  rows($("agents").tBodies[0], data.agents, (a) => a.id, agentRow);
  rows($("at-risk"), data.at_risk, (r) => `${r.ticket}/${r.clock}`, riskRow, h("li", { class: "muted none" }, "Nothing at risk."));
  const chart = JSON.stringify(data.arrivals);
  if (chart !== lastChart) { lastChart = chart; draw($("chart"), data.arrivals ?? []); }
  tick();
}

/**
 * Replaces only the rows whose data changed, so a control being used elsewhere keeps its focus and a
 * click on it is not lost. `same` leaves out what moves with time alone (the tick shows that).
 */
const built = new WeakMap();
function rows(parent, items = [], key, build, empty = null, same = (item) => item, refresh = null) {
  const known = built.get(parent) ?? new Map(), next = new Map();
  items.forEach((item, index) => {
    const id = key(item), json = JSON.stringify(same(item));
    let entry = known.get(id);
    if (!entry || entry.json !== json) {
      const node = build(item);
      node.dataset.key = id;
      if (entry) entry.node.replaceWith(node);
      entry = { json, node };
    } else if (refresh) {
      refresh(entry.node, item);
    }
    next.set(id, entry);
    if (parent.children[index] !== entry.node) parent.insertBefore(entry.node, parent.children[index] ?? null);
  });
  for (const [id, entry] of known) if (!next.has(id)) entry.node.remove();
  for (const child of [...parent.children]) if (!child.dataset.key || !next.has(child.dataset.key)) child.remove();
  if (!items.length && empty) parent.append(empty);
  built.set(parent, next);
}

// Rows.

/** When the queue's oldest ticket started waiting (ms), for the tick; "" when none waits. */
function waitingSince(q) {
  return q.waiting > 0 ? String(Date.parse(data.generated_at) - q.longest_wait_seconds * 1000) : "";
}

function queueRow(q) {
  const attainment = q.first_response_attainment_today;
  const toggle = h("button", { type: "button", class: q.paused ? "primary" : "secondary", "data-lever": "pause",
                              onclick: () => lever(`${API}/queues/${encodeURIComponent(q.name)}/${q.paused ? "resume" : "pause"}`, "POST") },
                  q.paused ? "Resume" : "Pause");
  return h("tr", { data: { queue: q.name }, class: q.paused ? "paused" : "" },
    h("th", { scope: "row" }, q.name, q.paused ? h("span", { class: "chip paused-chip" }, "paused") : null),
    h("td", { class: `num waiting ${q.waiting > 0 ? "busy" : ""}` }, String(q.waiting)),
    h("td", { class: "num", data: { waitingSince: waitingSince(q) } },
      q.waiting > 0 ? duration(q.longest_wait_seconds) : "—"),
    h("td", { class: "num" }, String(q.agents_online)),
    h("td", { class: "num" }, String(q.agents_free)),
    h("td", { class: `num ${q.at_risk ? "warn" : ""}` }, String(q.at_risk)),
    h("td", { class: `num ${q.breached_today ? "breach" : ""}` }, String(q.breached_today ?? 0)),
    h("td", { class: "num" }, attainment == null ? "—" : `${Math.round(attainment * 100)}%`),
    h("td", {}, toggle));
}

function agentRow(a) {
  const presence = h("select", { "aria-label": `Presence of ${a.name}`, class: "presence-select" },
    ["online", "away", "offline"].map((p) => h("option", { value: p, selected: p === a.presence }, p)));
  presence.addEventListener("change", () => lever(`${API}/agents/${encodeURIComponent(a.id)}/presence`, "PUT", { presence: presence.value }));
  const load = a.capacity ? Math.min(1, a.open_tickets / a.capacity) : 0;
  const bar = h("span", { class: "bar-fill" });
  bar.style.width = `${Math.round(load * 100)}%`;
  if (load >= 1) bar.classList.add("full");
  const tickets = a.tickets ?? [];
  return h("tr", { data: { agent: a.id }, class: a.draining ? "draining" : "" },
    h("th", { scope: "row" }, h("span", {}, a.name), h("span", { class: "muted small" }, ` @${a.id}`)),
    h("td", {}, h("div", { class: "presence-cell" }, h("span", { class: `presence-dot ${a.presence}`, "aria-hidden": "true" }), presence,
      h("span", { class: "muted small since", data: { since: a.presence_since ?? "" } }))),
    h("td", {}, h("div", { class: "load", title: `${a.open_tickets} of ${a.capacity}` },
      h("span", { class: "bar-track", role: "meter", "aria-valuemin": "0", "aria-valuemax": String(a.capacity), "aria-valuenow": String(a.open_tickets),
                  "aria-label": `Load of ${a.name}` }, bar), h("span", { class: "num small" }, `${a.open_tickets}/${a.capacity}`))),
    h("td", {}, a.draining ? h("span", { class: "chip draining-chip" }, "draining") : null,
      h("button", { type: "button", class: "secondary small-button", "data-lever": "drain",
                    onclick: () => lever(`${API}/agents/${encodeURIComponent(a.id)}/drain`, "POST", { draining: !a.draining }) },
        a.draining ? "Undrain" : "Drain")),
    h("td", {}, tickets.length ? h("div", { class: "ticket-chips" }, tickets.map(ticketChip)) : h("span", { class: "muted" }, "none")));
}

function ticketChip(reference) {
  return h("span", { class: "ticket-chip", data: { ticket: reference } },
    h("a", { href: `/#${encodeURIComponent(reference)}` }, reference),
    h("button", { type: "button", class: "link reassign", "aria-label": `Reassign ${reference}`, title: "Reassign", onclick: () => openReassign(reference) }, "⇄"));
}

function riskRow(r) {
  return h("li", { class: r.breached ? "breached" : r.warned ? "warned" : "", data: { ticket: r.ticket } },
    h("span", { class: "countdown num", data: { deadline: r.deadline, clock: CLOCKS[r.clock] ?? r.clock, breached: r.breached ? "1" : "" } }),
    h("a", { href: `/#${encodeURIComponent(r.ticket)}` }, r.ticket),
    h("span", { class: "muted" }, `${r.queue ?? "no queue"} · ${r.assignee ?? "waiting"}`),
    h("button", { type: "button", class: "secondary small-button", onclick: () => openReassign(r.ticket) }, "Reassign"));
}

/** Every second: countdowns, waits and presence durations move without asking the server. */
function tick() {
  for (const node of document.querySelectorAll("[data-deadline]")) {
    const left = secondsUntil(node.dataset.deadline);
    node.textContent = node.dataset.breached || left <= 0 ? `${node.dataset.clock} breached ${duration(-left)} ago` : `${node.dataset.clock} ${preciseDuration(left)}`;
    node.classList.toggle("breach", Boolean(node.dataset.breached) || left <= 0);
    node.classList.toggle("warn", !node.dataset.breached && left > 0 && left < 300);
  }
  for (const node of document.querySelectorAll("[data-waiting-since]")) {
    if (node.dataset.waitingSince) node.textContent = duration((Date.now() - Number(node.dataset.waitingSince)) / 1000);
  }
  for (const node of document.querySelectorAll("[data-since]")) {
    if (node.dataset.since) node.textContent = `for ${duration(-secondsUntil(node.dataset.since))}`;
  }
}

// Levers.

async function lever(path, method, body) {
  const result = await call(method, path, body);
  if (!result.ok) {
    const text = problem(result, "Refused");
    $("dash-error").textContent = text;
    toast(text, { tone: "error" });
  }
  soon();
  return result;
}

function openReassign(reference) {
  reassigning = reference;
  $("reassign-title").textContent = `Reassign ${reference}`;
  $("reassign-error").textContent = "";
  const holder = data.agents.find((a) => (a.tickets ?? []).includes(reference))?.id;
  $("reassign-agent").replaceChildren(h("option", { value: "" }, "Choose an agent…"),
    ...data.agents.filter((a) => a.id !== holder).map((a) => h("option", { value: a.id }, `${a.name} · ${a.presence} · ${a.open_tickets}/${a.capacity}${a.draining ? " · draining" : ""}`)));
  $("reassign").showModal();
}

async function reassign(event) {
  event.preventDefault();
  const agent = $("reassign-agent").value;
  if (!agent || !reassigning) return;
  const result = await call("POST", `${API}/tickets/${encodeURIComponent(reassigning)}/assign`, { agent });
  if (!result.ok) { $("reassign-error").textContent = problem(result, "Not reassigned"); return; }
  toast(`${reassigning} is now with ${agent}`);
  $("reassign").close();
  soon();
}

// Start.

async function start() {
  const result = await call("GET", `${API}/me`);
  if (!result.ok) return;
  me = result.json;
  $("me").replaceChildren(h("strong", {}, me.name), h("span", { class: "muted" }, ` @${me.id} · ${me.role}`));
  await run();
  follow(() => soon(), (on) => $("live").classList.toggle("on", on));
  setInterval(tick, 1000);
  // Events make it live; this only brings in what time alone changes (clocks coming due, the chart's buckets).
  setInterval(soon, 300000);
}

onUnauthorized(() => { location.href = "/"; });
$("sign-out").addEventListener("click", async () => { await call("POST", "/auth/sign-out"); location.href = "/"; });
$("reassign-form").addEventListener("submit", reassign);
$("reassign-cancel").addEventListener("click", () => $("reassign").close());
start();
