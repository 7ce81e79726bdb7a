// The agents' inbox: signs in, lists the agent's tickets, shows a thread, sends replies, and follows
// the event stream so that new messages and assignments appear without a reload. Everything a
// customer wrote is put in the page as text (textContent), never as HTML.

const api = "/api/v1";
const $ = (id) => document.getElementById(id);
let current = null;       // the open ticket's reference
let shown = new Set();    // message ids shown in the open thread
let lastTyping = 0;

async function call(method, path, body) {
  const init = { method, headers: {}, credentials: "same-origin" };
  if (body !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  const response = await fetch(path, init);
  const text = await response.text();
  const json = text ? JSON.parse(text) : null;
  if (response.status === 401 && path !== "/auth/sign-in") showSignIn();
  return { status: response.status, json };
}

function element(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined && text !== null) node.textContent = String(text);
  return node;
}

function time(iso) {
  return iso ? new Date(iso).toLocaleString() : "";
}

// Signing in and out.

function showSignIn() {
  $("inbox").hidden = true;
  $("sign-in").hidden = false;
  $("handle").focus();
}

async function signIn(event) {
  event.preventDefault();
  $("sign-in-error").textContent = "";
  const answer = await call("POST", "/auth/sign-in", { handle: $("handle").value, password: $("password").value });
  if (answer.status === 200) {
    $("password").value = "";
    await start();
  } else {
    $("sign-in-error").textContent = answer.json?.error?.message ?? `sign-in failed (${answer.status})`;
  }
}

async function signOut() {
  await call("POST", "/auth/sign-out");
  stream?.close();
  showSignIn();
}

// The list of tickets.

async function loadTickets() {
  const answer = await call("GET", `${api}/tickets?assignee=me&status=open`);
  if (answer.status !== 200) return;
  const list = $("tickets");
  list.replaceChildren(...answer.json.tickets.map(row));
}

function row(ticket) {
  const item = element("li");
  item.dataset.reference = ticket.reference;
  if (ticket.reference === current) item.classList.add("open");
  item.append(element("span", "customer", ticket.customer ?? ticket.reference),
              element("span", "meta", `${ticket.reference} · ${ticket.status} · ${ticket.priority} · ${time(ticket.updated_at)}`));
  item.addEventListener("click", () => openTicket(ticket.reference));
  return item;
}

function markUnread(reference) {
  const item = document.querySelector(`#tickets li[data-reference="${CSS.escape(reference)}"]`);
  if (item && reference !== current) item.classList.add("unread");
  if (item) item.parentNode.prepend(item);
  return item !== null;
}

// A thread.

async function openTicket(reference) {
  const answer = await call("GET", `${api}/tickets/${encodeURIComponent(reference)}`);
  if (answer.status !== 200) return;
  current = reference;
  shown = new Set();
  for (const item of document.querySelectorAll("#tickets li")) {
    item.classList.toggle("open", item.dataset.reference === reference);
    if (item.dataset.reference === reference) item.classList.remove("unread");
  }
  const ticket = answer.json;
  const head = element("div", "thread-head");
  head.append(element("strong", null, ticket.customer ?? ""), document.createTextNode(` ${ticket.reference} · ${ticket.status}`));
  const messages = element("div", "messages");
  messages.id = "messages";
  const form = replyBox(ticket);
  $("thread").replaceChildren(head, messages, form);
  for (const message of ticket.messages) addMessage(message);
}

function sentLine(message) {
  const sender = message.direction === "outbound" ? ` · ${message.sent_by ?? ""} · ${message.status ?? ""}` : "";
  const failed = message.error ? ` · ${message.error.title ?? "failed"}` : "";
  return `${time(message.at)}${sender}${failed}`;
}

// A message shown already changed (delivery ticks): its line says so.
function updateMessage(message) {
  const line = document.querySelector(`.message[data-id="${message.id}"] .when`);
  if (line) line.textContent = sentLine(message);
}

function addMessage(message) {
  if (shown.has(message.id)) return updateMessage(message);
  shown.add(message.id);
  const box = element("div", `message ${message.direction}`);
  box.dataset.id = message.id;
  const media = message.media;
  if (media && media.state === "stored" && ["image", "sticker"].includes(media.kind)) {
    const image = element("img");
    image.src = media.url;
    image.alt = media.file_name ?? media.kind;
    box.append(image);
  } else if (media && media.state === "stored") {
    const link = element("a", null, media.file_name ?? `${media.kind} (${media.mime_type ?? "file"})`);
    link.href = media.url;
    box.append(link);
  } else if (media) {
    box.append(element("em", null, `[${media.kind}: ${media.state}]`));
  }
  if (message.body) box.append(element("span", "body", message.body));
  box.append(element("span", "when", sentLine(message)));
  const list = $("messages");
  list.append(box);
  list.scrollTop = list.scrollHeight;
}

function replyBox(ticket) {
  const form = element("form", "reply");
  const text = element("textarea");
  text.id = "reply-text";
  text.placeholder = "Reply to the customer";
  const send = element("button", null, "Send");
  send.type = "submit";
  const note = element("p", "window");
  if (!ticket.customer_window_open) {
    text.disabled = true;
    send.disabled = true;
    note.textContent = "The 24-hour window is closed: only a template can be sent.";
  } else {
    note.textContent = `Window open until ${time(ticket.customer_window_expires_at)}`;
  }
  text.addEventListener("input", () => {
    if (Date.now() - lastTyping > 5000) {
      lastTyping = Date.now();
      call("POST", `${api}/tickets/${encodeURIComponent(ticket.reference)}/typing`);
    }
  });
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (!text.value.trim()) return;
    send.disabled = true;
    const answer = await call("POST", `${api}/tickets/${encodeURIComponent(ticket.reference)}/messages`, { type: "text", text: text.value });
    send.disabled = false;
    if (answer.status === 202) {
      text.value = "";
      note.textContent = "Sent to the outbox.";
    } else {
      note.textContent = answer.json?.error?.message ?? `not sent (${answer.status})`;
    }
  });
  form.append(text, send, note);
  return form;
}

// Live: the event stream.

let stream = null;

function follow() {
  stream?.close();
  stream = new EventSource(`${api}/events`);
  stream.onopen = () => $("live").classList.add("on");
  stream.onerror = () => $("live").classList.remove("on");
  stream.addEventListener("message", (event) => {
    const data = JSON.parse(event.data);
    if (data.ticket === current && data.message) addMessage(data.message);
    if (data.ticket && !markUnread(data.ticket)) loadTickets();
  });
  stream.addEventListener("message_status", (event) => {
    const data = JSON.parse(event.data);
    if (data.ticket === current && data.message) updateMessage(data.message);
  });
  for (const kind of ["assigned", "unassigned", "moved", "status_changed"]) stream.addEventListener(kind, () => loadTickets());
  stream.addEventListener("reset", () => loadTickets());
}

// Start.

async function start() {
  const me = await call("GET", `${api}/me`);
  if (me.status !== 200) return showSignIn();
  $("sign-in").hidden = true;
  $("inbox").hidden = false;
  $("me").textContent = `${me.json.name} (${me.json.role})`;
  $("presence").value = me.json.presence;
  await loadTickets();
  follow();
}

$("sign-in-form").addEventListener("submit", signIn);
$("sign-out").addEventListener("click", signOut);
$("presence").addEventListener("change", (event) => call("PUT", `${api}/me/presence`, { presence: event.target.value }));
start();
