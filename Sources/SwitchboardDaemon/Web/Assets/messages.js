// Draws one timeline entry: a message of any kind (as the customer sent it, with our ticks), an internal note, or a ticket event line.
import { h, shortTime, fullTime, CLOCKS } from "./api.js";

const TICKS = { queued: ["◔", "queued"], sent: ["✓", "sent"], delivered: ["✓✓", "delivered"], read: ["✓✓", "read"], failed: ["!", "failed"] };

const at = (node, iso) => { node.dataset.at = String(Date.parse(iso) || 0); return node; };

function size(bytes) {
  if (bytes == null) return "";
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${Math.round(bytes / 1024)} KB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}

function media(file) {
  const label = file.file_name || (file.voice ? "voice message" : file.kind);
  if (file.state !== "stored") {
    const why = { pending: "is being fetched…", uploading: "is uploading…", failed: `could not be fetched${file.failure ? `: ${file.failure}` : ""}`,
                  purged: "was removed after the retention period" }[file.state] ?? file.state;
    return h("p", { class: "file-state" }, `${label} ${why}`);
  }
  switch (file.kind) {
    case "image":
    case "sticker":
      return h("a", { href: file.url, target: "_blank", rel: "noopener", class: "image-link" },
               h("img", { src: file.url, alt: file.file_name || file.kind, loading: "lazy", class: file.kind }));
    case "audio":
      return h("audio", { controls: true, preload: "none", src: file.url, "aria-label": label });
    case "video":
      return h("video", { controls: true, preload: "metadata", src: file.url, "aria-label": label });
    default:
      return h("a", { href: file.url, download: file.file_name || "", class: "document" },
               h("span", { class: "doc-icon", "aria-hidden": "true" }, (file.file_name?.split(".").pop() || "file").slice(0, 4)), h("span", {}, label),
               h("span", { class: "muted" }, [file.mime_type, size(file.size)].filter(Boolean).join(" · ")));
  }
}

function location(place) {
  const lat = Number(place.latitude), long = Number(place.longitude);
  const map = `https://www.openstreetmap.org/?mlat=${lat}&mlon=${long}#map=16/${lat}/${long}`;
  return h("div", { class: "location" }, h("span", { class: "label" }, "Location"),
           place.name ? h("strong", {}, place.name) : null, place.address ? h("span", {}, place.address) : null,
           h("span", { class: "muted" }, `${lat}, ${long}`),
           h("a", { href: map, target: "_blank", rel: "noopener noreferrer" }, "Open in OpenStreetMap"));
}

function contacts(list) {
  return h("div", { class: "contacts" }, list.map((card) => h("div", { class: "contact" },
    h("span", { class: "label" }, "Contact"),
    h("strong", {}, (card.name?.formatted_name ?? [card.name?.first_name, card.name?.last_name].filter(Boolean).join(" ")) || "Contact"),
    (card.phones ?? []).map((p) => h("span", {}, [p.phone, p.type].filter(Boolean).join(" · "))),
    (card.emails ?? []).map((e) => h("span", {}, e.email ?? "")),
    card.org?.company ? h("span", { class: "muted" }, card.org.company) : null)));
}

/** A message bubble. */
export function message(m) {
  const node = at(h("div", { class: `message ${m.direction}`, data: { id: m.id, key: `m${m.id}` } }), m.at);
  if (m.context?.forwarded) node.append(h("span", { class: "muted small" }, m.context.frequently_forwarded ? "Forwarded many times" : "Forwarded"));
  if (m.deleted) {
    node.classList.add("deleted");
    node.append(h("em", { class: "body deleted-text" }, "This message was deleted"));
  } else {
    if (m.media) node.append(media(m.media));
    if (m.location) node.append(location(m.location));
    if (Array.isArray(m.contacts) && m.contacts.length) node.append(contacts(m.contacts));
    if (m.choice) node.append(h("div", { class: "choice" }, h("span", { class: "label" }, "Chose"), h("strong", {}, m.choice.title ?? m.choice.id ?? ""),
                                  m.choice.description ? h("span", { class: "muted" }, m.choice.description) : null));
    const shown = !m.location && !(m.contacts?.length) && !m.choice;
    if (m.body && shown) node.append(h("span", { class: "body" }, m.body));
    else if (!m.body && !m.media && shown) node.append(h("span", { class: "body muted" }, m.type === "template" ? "Template message" : `[${m.type}]`));
  }
  if (m.sent_by?.startsWith("automation:")) node.classList.add("automatic");
  const foot = h("span", { class: "when", title: fullTime(m.at) }, shortTime(m.at));
  if (m.direction === "outbound" && m.sent_by) foot.append(` · ${sender(m.sent_by)}`);
  if (m.edited) foot.append(h("span", { class: "edited" }, " · edited"));
  if (m.direction === "outbound" && m.status && TICKS[m.status]) {
    const [mark, word] = TICKS[m.status];
    foot.append(" ", h("span", { class: `tick ${m.status}`, title: word, "aria-label": word }, mark));
  }
  node.append(foot);
  if (m.error) node.append(h("p", { class: "send-error" }, `Not delivered: ${m.error.title ?? "failed"}${m.error.code ? ` (${m.error.code})` : ""}`));
  if (m.customer_reaction?.emoji) node.append(h("span", { class: "reaction", title: "The customer reacted" }, m.customer_reaction.emoji));
  return node;
}

/** An internal note, with its @mentions marked. */
export function note(n) {
  const text = h("p", { class: "note-text" });
  for (const part of String(n.text ?? "").split(/(@[a-z0-9_.-]+)/i)) {
    text.append(part.startsWith("@") ? h("span", { class: "mention" }, part) : part);
  }
  return at(h("div", { class: "note", data: { key: `n${n.id}` } },
    h("span", { class: "note-label" }, h("strong", {}, "Note"), ` · ${n.author} · `, h("span", { title: fullTime(n.at) }, shortTime(n.at))), text), n.at);
}

/** A ticket event's words, from a stored event (data) or a live one (details); null for what the timeline leaves out. */
export function eventText(kind, d = {}, actor = null) {
  const by = actor || d.by ? ` by ${actor ?? d.by}` : "";
  const why = d.reason ?? d.why;
  switch (kind) {
    case "created": return "Ticket opened";
    case "routed": return `Routed to ${d.queue ?? "a queue"}${d.rule ? ` (rule “${d.rule}”)` : ""}`;
    case "assigned": return `Assigned to ${d.agent ?? "an agent"}${why ? ` · ${why}` : ""}`;
    case "unassigned": return `Unassigned from ${d.agent ?? "its agent"}${why ? ` · ${why}` : ""}`;
    case "acceptance_missed": return `${d.agent ?? "The agent"} did not accept in time`;
    case "accepted": return `${d.agent ?? actor ?? "The agent"} accepted`;
    case "moved": return `Moved${d.from ? ` from ${d.from}` : ""} to ${d.to ?? d.queue ?? "another queue"}${why ? ` · ${why}` : ""}`;
    case "status_changed": return `Status ${d.to ?? d.status}${by}`;
    case "reopened": return "Reopened by the customer";
    case "priority_changed": return `Priority ${d.to ?? d.priority}${by}`;
    case "tagged": return `Tagged “${d.tag}”${by}`;
    case "untagged": return `Tag “${d.tag}” removed${by}`;
    case "sla_warning": return `SLA warning: ${CLOCKS[d.clock] ?? d.clock ?? "a clock"} is close to its deadline`;
    case "sla_breach": return `SLA breached: ${CLOCKS[d.clock] ?? d.clock ?? "a clock"}`;
    case "reply_failed": return `A reply failed${d.error ? `: ${d.error}` : ""}`;
    case "triage_started": return `Triage menu sent (“${d.rule ?? "menu"}”): waiting for the customer's choice`;
    case "triage_ended": return d.outcome === "chosen" ? `The customer chose “${d.choice}”` : `No choice from the menu${d.why ? ` · ${d.why}` : ""}`;
    case "auto_resolved": return "Resolved automatically: the customer was quiet";
    case "csat_sent": return `Satisfaction survey sent${d.channel === "template" ? " (template)" : ""}`;
    case "csat_rated": return `The customer rated ${d.rating} of 5`;
    case "automation_skipped": return `Automatic ${String(d.reason ?? "message").replaceAll("_", " ")} not sent${d.why ? ` · ${d.why}` : ""}`;
    case "customer_tagged": return `Customer tagged “${d.tag}”${by}`;
    case "customer_untagged": return `Customer tag “${d.tag}” removed${by}`;
    default: return null;
  }
}

/** A small system line. */
export function system(kind, text, iso, key) {
  return at(h("div", { class: `system ${kind}`, data: { key } }, h("span", {}, text), h("time", { title: fullTime(iso) }, shortTime(iso))), iso);
}

/** Automatic messages say what they were (`automation:out_of_hours` → "automatic · out-of-hours reply"). */
const AUTOMATIC = { greeting: "greeting", out_of_hours: "out-of-hours reply", triage_menu: "triage menu", triage_retry: "triage menu, again",
                    auto_close: "closing message", csat_survey: "satisfaction survey", csat_thanks: "thanks for the rating" };
function sender(sentBy) {
  if (!sentBy.startsWith("automation:")) return sentBy;
  const reason = sentBy.slice("automation:".length);
  return `automatic · ${AUTOMATIC[reason] ?? reason}`;
}
