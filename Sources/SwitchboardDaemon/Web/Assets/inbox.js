// The agent's inbox page: sign-in, header and presence, the list and the thread wired to the event stream, deep links (#T-1042), keyboard, mention toasts.
import { API, call, h, problem, toast, onUnauthorized } from "./api.js";
import { follow } from "./live.js";
import * as list from "./list.js";
import * as thread from "./thread.js";

const $ = (id) => document.getElementById(id);
let me = null, stream = null, heartbeat = null, started = false;

// Signing in and out.

function showSignIn() {
  stream?.close();
  stream = null;
  clearInterval(heartbeat);
  $("inbox").hidden = true;
  $("sign-in").hidden = false;
  $("handle").focus();
}

async function signIn(event) {
  event.preventDefault();
  const button = event.target.querySelector("button");
  $("sign-in-error").textContent = "";
  button.disabled = true;
  const result = await call("POST", "/auth/sign-in", { handle: $("handle").value.trim(), password: $("password").value });
  button.disabled = false;
  if (result.ok) {
    $("password").value = "";
    await start();
  } else {
    $("sign-in-error").textContent = problem(result, "Sign-in failed");
  }
}

async function signOut() {
  await call("POST", "/auth/sign-out");
  history.replaceState(null, "", "/");
  thread.empty();
  showSignIn();
}

// Presence: chosen in the header, kept alive by a heartbeat, changed by others (a supervisor, silence) through the stream.

function showPresence(presence) {
  $("presence").value = presence;
  $("presence-dot").className = `presence-dot ${presence}`;
}

async function setPresence() {
  const wanted = $("presence").value;
  const result = await call("PUT", `${API}/me/presence`, { presence: wanted });
  if (result.ok) { me.presence = result.json?.presence ?? wanted; showPresence(me.presence); } else {
    toast(problem(result, "Presence not changed"), { tone: "error" });
    showPresence(me.presence);
  }
}

// Opening tickets: the URL's hash names the open ticket, so a link or the back button opens it.

function openTicket(reference) {
  if (location.hash.slice(1) !== reference) location.hash = reference;
  else show(reference);
}

async function show(reference) {
  if (!reference) return thread.empty();
  list.select(reference);
  await thread.open(reference);
}

// Live.

function onEvent(kind, data) {
  // The thread first: it reads where its view is before the list's changes need a layout.
  thread.event(kind, data);
  list.event(kind, data);
  if (kind === "mentioned") {
    const d = data.details ?? {};
    toast(`@${d.author ?? "someone"} mentioned you on ${data.ticket}: ${d.text ?? ""}`,
          { sticky: true, tone: "mention", action: () => openTicket(data.ticket) });
  } else if (kind === "presence" && data.agent === me.id && data.details?.presence) {
    me.presence = data.details.presence;
    showPresence(me.presence);
  } else if (kind === "reset" && thread.reference()) {
    show(thread.reference());
  }
}

// Filters and views.

function wireFilters() {
  const views = document.querySelectorAll(".views [role=tab]");
  const chooseView = (view) => {
    for (const tab of views) tab.setAttribute("aria-selected", String(tab.dataset.view === view));
    localStorage.setItem("switchboard.view", view);
    list.set({ view });
  };
  for (const tab of views) tab.addEventListener("click", () => chooseView(tab.dataset.view));
  const saved = localStorage.getItem("switchboard.view");
  if (saved && saved !== "mine") for (const tab of views) tab.setAttribute("aria-selected", String(tab.dataset.view === saved));
  $("filters").addEventListener("submit", (event) => event.preventDefault());
  $("filter-status").addEventListener("change", (event) => list.set({ status: event.target.value }));
  $("filter-queue").addEventListener("change", (event) => list.set({ queue: event.target.value }));
  $("filter-priority").addEventListener("change", (event) => list.set({ priority: event.target.value }));
  $("filter-tag").addEventListener("change", (event) => list.set({ tag: event.target.value.trim() }));
  let searchTimer = null;
  $("search").addEventListener("input", (event) => {
    clearTimeout(searchTimer);
    const q = event.target.value.trim();
    if (q.length > 0 && q.length < 3) return;
    searchTimer = setTimeout(() => list.set({ q }), 300);
  });
  return saved || "mine";
}

// Keyboard: j/k, r, n, e, /, ?, Escape — never while typing in a field (except Escape).

function keyboard(event) {
  const field = event.target.closest?.("input, textarea, select, [contenteditable=true]");
  if (event.key === "Escape") {
    if (field) field.blur();
    return;
  }
  if (field || event.ctrlKey || event.metaKey || event.altKey || $("inbox").hidden || $("help").open) return;
  const go = (delta) => { const next = list.neighbour(delta); if (next) openTicket(next); };
  const keys = { j: () => go(1), k: () => go(-1), r: thread.focusReply, n: thread.focusNote, e: thread.resolve,
                 "/": () => $("search").focus(), "?": () => $("help").showModal() };
  const action = keys[event.key];
  if (!action) return;
  event.preventDefault();
  action();
}

// Start.

async function start() {
  const result = await call("GET", `${API}/me`);
  if (!result.ok) return showSignIn();
  me = result.json;
  $("sign-in").hidden = true;
  $("inbox").hidden = false;
  $("me").replaceChildren(h("strong", {}, me.name), h("span", { class: "muted" }, ` @${me.id} · ${me.role}`));
  showPresence(me.presence);
  $("dashboard-link").hidden = me.role === "agent";
  const queues = me.role === "agent" ? me.queues.map((name) => ({ name })) : ((await call("GET", `${API}/queues`)).json?.queues ?? []);
  $("filter-queue").replaceChildren(h("option", { value: "" }, "Queue"), ...queues.map((q) => h("option", { value: q.name }, q.name)));
  thread.init({ section: $("thread"), me });
  if (!started) {
    started = true;
    list.init({ list: $("tickets"), scroller: $("list-scroll"), status: $("list-status"), onOpen: openTicket });
    list.set({ view: wireFilters() });
  } else list.reload();
  stream?.close();
  stream = follow(onEvent, (on) => $("live").classList.toggle("on", on));
  clearInterval(heartbeat);
  heartbeat = setInterval(() => call("POST", `${API}/me/heartbeat`), 60000);
  const reference = location.hash.slice(1);
  if (reference) show(decodeURIComponent(reference)); else thread.empty();
}

onUnauthorized(showSignIn);
$("sign-in-form").addEventListener("submit", signIn);
$("sign-out").addEventListener("click", signOut);
$("presence").addEventListener("change", setPresence);
$("help-button").addEventListener("click", () => $("help").showModal());
$("help-close").addEventListener("click", () => $("help").close());
window.addEventListener("hashchange", () => { if (me) show(decodeURIComponent(location.hash.slice(1))); });
document.addEventListener("keydown", keyboard);
start();
