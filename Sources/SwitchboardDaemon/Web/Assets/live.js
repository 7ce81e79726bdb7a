// The event stream (/api/v1/events): one EventSource per page, each event kind handed to one handler; resumes without losing events.

const KINDS = ["assigned", "accepted", "unassigned", "moved", "tagged", "untagged", "priority_changed", "note_added", "mentioned", "message",
               "message_status", "status_changed", "presence", "sla_warning", "sla_breach", "queue_paused", "agent_draining", "queued", "customer_tags", "reset"];

/**
 * Follows the stream: handler(kind, data) for every event, onState(connected) on open and loss.
 * The browser reconnects by itself with Last-Event-ID; when it gives up (an HTTP error, say a
 * restart), a new stream starts from the last id seen, so the server replays what was missed.
 */
export function follow(handler, onState = () => {}) {
  let source = null, lastId = "", stopped = false, retry = null;
  const open = () => {
    const url = "/api/v1/events" + (lastId ? `?last_event_id=${encodeURIComponent(lastId)}` : "");
    source = new EventSource(url);
    source.onopen = () => onState(true);
    source.onerror = () => {
      onState(false);
      if (source.readyState === EventSource.CLOSED && !stopped && !retry) {
        retry = setTimeout(() => { retry = null; if (!stopped) open(); }, 3000);
      }
    };
    for (const kind of KINDS) {
      source.addEventListener(kind, (event) => {
        if (event.lastEventId) lastId = event.lastEventId;
        let data = {};
        try { data = event.data ? JSON.parse(event.data) : {}; } catch { return; }
        try { handler(kind, data); } catch (error) { console.error(error); }
      });
    }
  };
  open();
  return { close() { stopped = true; clearTimeout(retry); source?.close(); } };
}
