// The open ticket's actions (take, accept, pending, resolve, reopen, tags; for supervisors priority, assign, transfer), shown by role, refused by the server.
import { API, call, h, ref, problem } from "./api.js";

let ticket = null, me = null, bar = null, refresh = () => {};
let agents = null, queues = null;

const supervisor = () => me && me.role !== "agent";

/** The agents and queues a supervisor may choose from (read once per page). */
async function choices() {
  if (!agents) agents = call("GET", `${API}/agents`).then((r) => (r.ok ? r.json.agents : []));
  if (!queues) queues = call("GET", `${API}/queues`).then((r) => (r.ok ? r.json.queues : []));
  return { agents: await agents, queues: await queues };
}

function accepted(t) {
  let last = -1;
  t.events.forEach((e, i) => { if (e.kind === "assigned") last = i; });
  return t.events.some((e, i) => e.kind === "accepted" && i > last);
}

export function render(container, t, caller, options) {
  ticket = t; me = caller; bar = container; refresh = options.refresh;
  const buttons = [];
  const button = (name, label, title) => h("button", { type: "button", class: `action ${name}`, "data-action": name, title, onclick: () => run(name) }, label);
  if (!t.assignee && t.status !== "resolved") buttons.push(button("take", "Take", "Assign this waiting ticket to yourself"));
  if (t.assignee === me.id && t.status !== "resolved" && !accepted(t)) buttons.push(button("accept", "Accept", "Tell routing you have it"));
  if (t.status === "open") buttons.push(button("pending", "Pending", "Waiting for the customer"));
  if (t.status === "pending") buttons.push(button("open", "Open", "Back to open"));
  if (t.status !== "resolved") buttons.push(button("resolve", "Resolve", "Resolve (e)"));
  else buttons.push(button("reopen", "Reopen"));
  const line = h("p", { class: "action-error error", role: "alert" });
  container.replaceChildren(h("div", { class: "action-buttons" }, buttons), line);
  if (supervisor()) supervisorTools(container, line);
}

async function supervisorTools(container, line) {
  const mine = ticket;
  const { agents: people, queues: places } = await choices();
  if (mine !== ticket) return;
  const priority = h("select", { "aria-label": "Priority", class: "priority-select" },
    ["low", "normal", "high", "urgent"].map((p) => h("option", { value: p, selected: p === ticket.priority }, `Priority: ${p}`)));
  priority.addEventListener("change", () => act("priority", { priority: priority.value }));
  const agent = h("select", { "aria-label": "Assign to agent", id: "assign-agent" }, h("option", { value: "" }, "Assign to…"),
    people.filter((a) => a.id !== ticket.assignee).map((a) => h("option", { value: a.id }, `${a.name} (${a.presence}, ${a.open_tickets}/${a.capacity})`)));
  agent.addEventListener("change", () => { if (agent.value) act("assign", { agent: agent.value }); });
  const queue = h("select", { "aria-label": "Transfer to queue", id: "transfer-queue" }, h("option", { value: "" }, "Transfer to queue…"),
    places.map((q) => h("option", { value: q.name }, q.name)));
  queue.addEventListener("change", () => { if (queue.value) act("transfer", { queue: queue.value }); });
  container.insertBefore(h("div", { class: "supervisor-tools" }, priority, agent, queue), line);
}

async function act(path, body) {
  if (!ticket) return false;
  const line = bar.querySelector(".action-error");
  line.textContent = "";
  const result = await call("POST", `${ref(ticket.reference)}/${path}`, body);
  if (!result.ok) {
    line.textContent = problem(result);
    refresh();
    return false;
  }
  refresh();
  return true;
}

/** A named action (the buttons, the keyboard's e). */
export function run(name) {
  switch (name) {
    case "take": return act("take");
    case "accept": return act("accept");
    case "pending": return act("status", { status: "pending" });
    case "open":
    case "reopen": return act("status", { status: "open" });
    case "resolve": return act("status", { status: "resolved" });
    default: return false;
  }
}

export const tag = (text) => act("tags", { tag: text });

export async function untag(text) {
  if (!ticket) return;
  const result = await call("DELETE", `${ref(ticket.reference)}/tags/${encodeURIComponent(text)}`);
  if (!result.ok) bar.querySelector(".action-error").textContent = problem(result);
  refresh();
}
