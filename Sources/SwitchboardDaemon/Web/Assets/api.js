// Talks to the API (JSON calls, uploads, the error a refusal carries) and builds DOM and time text safely.

export const API = "/api/v1";

let unauthorized = () => {};
/** What the page does when the session is gone (show the sign-in form). */
export function onUnauthorized(handler) { unauthorized = handler; }

/** A JSON call; answers {ok, status, json} and never throws for an HTTP error. */
export async function call(method, path, body) {
  const init = { method, headers: {}, credentials: "same-origin" };
  if (body !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  return answer(path, await send(path, init));
}

/** A file's bytes as the body, its type as Content-Type (POST /media). */
export async function upload(path, file) {
  const init = { method: "POST", credentials: "same-origin", headers: { "Content-Type": file.type || "application/octet-stream" }, body: file };
  return answer(path, await send(path, init));
}

async function send(path, init) {
  try {
    return await fetch(path, init);
  } catch (error) {
    return { status: 0, text: async () => JSON.stringify({ error: { code: "network", message: "Switchboard cannot be reached; check your connection." } }) };
  }
}

async function answer(path, response) {
  const text = await response.text();
  let json = null;
  try { json = text ? JSON.parse(text) : null; } catch { json = null; }
  if (response.status === 401 && !path.startsWith("/auth/")) unauthorized();
  return { ok: response.status >= 200 && response.status < 300, status: response.status, json };
}

/** The message a refusal carries, for the user. */
export function problem(result, fallback = "That did not work") {
  return result.json?.error?.message ?? `${fallback} (${result.status || "no answer"})`;
}

/** A query string of the non-empty values (the API refuses empty parameters). */
export function query(params) {
  const parts = Object.entries(params).filter(([, value]) => value !== undefined && value !== null && value !== "");
  return parts.length ? "?" + new URLSearchParams(parts).toString() : "";
}

export const ref = (reference) => `${API}/tickets/${encodeURIComponent(reference)}`;

/** An element: props set as properties/attributes (text via textContent), children appended as nodes or text. */
export function h(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (value === undefined || value === null || value === false) continue;
    if (key === "class") node.className = value;
    else if (key === "text") node.textContent = String(value);
    else if (key === "data") Object.assign(node.dataset, value);
    else if (key.startsWith("on") && typeof value === "function") node.addEventListener(key.slice(2), value);
    else if (typeof value === "boolean") node.toggleAttribute(key, value);
    else node.setAttribute(key, String(value));
  }
  for (const child of children.flat()) {
    if (child !== undefined && child !== null && child !== false) node.append(child);
  }
  return node;
}

/** "45s", "12m", "3h 12m", "2d 4h". */
export function duration(seconds) {
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m`;
  const hours = Math.floor(m / 60);
  if (hours < 48) return m % 60 ? `${hours}h ${m % 60}m` : `${hours}h`;
  return `${Math.floor(hours / 24)}d ${hours % 24}h`;
}

/** "4m 05s" under an hour (for live countdowns), else as duration(). */
export function preciseDuration(seconds) {
  const s = Math.max(0, Math.floor(seconds));
  if (s >= 3600) return duration(s);
  const m = Math.floor(s / 60);
  return m ? `${m}m ${String(s % 60).padStart(2, "0")}s` : `${s}s`;
}

export const secondsUntil = (iso) => (Date.parse(iso) - Date.now()) / 1000;

/** Today "14:05", this year "12 Mar", else "12 Mar 2025". */
export function shortTime(iso) {
  if (!iso) return "";
  const date = new Date(iso), now = new Date();
  if (date.toDateString() === now.toDateString()) return date.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
  const options = { day: "numeric", month: "short" };
  if (date.getFullYear() !== now.getFullYear()) options.year = "numeric";
  return date.toLocaleDateString([], options);
}

export const fullTime = (iso) => (iso ? new Date(iso).toLocaleString() : "");

export const CLOCKS = { first_response: "FRT", next_response: "NRT", resolution: "Resolve" };

/** An SLA clock as a row shows it: {text, tone} with tone "", "warn" or "breach". */
export function slaText(sla) {
  if (!sla) return null;
  const label = CLOCKS[sla.clock] ?? sla.clock;
  if (sla.breached) return { text: `${label} breached`, tone: "breach" };
  if (sla.paused) return { text: `${label} paused`, tone: "" };
  const left = secondsUntil(sla.deadline);
  if (left <= 0) return { text: `${label} breached`, tone: "breach" };
  return { text: `${label} ${duration(left)}`, tone: sla.warned ? "warn" : "" };
}

/** A short-lived message in the page's toast area (aria-live); `action` makes it a button. */
export function toast(text, { action, tone = "", sticky = false } = {}) {
  const area = document.getElementById("toasts");
  if (!area) return;
  const body = action ? h("button", { type: "button", class: "toast-body", onclick: () => { action(); item.remove(); } }, text)
                      : h("span", { class: "toast-body" }, text);
  const item = h("div", { class: `toast ${tone}`, role: tone === "error" ? "alert" : "status" }, body,
                 h("button", { type: "button", class: "toast-close", "aria-label": "Dismiss", onclick: () => item.remove() }, "×"));
  area.append(item);
  if (!sticky) setTimeout(() => item.remove(), 8000);
}
