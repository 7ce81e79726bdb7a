// The reply box's /shortcut picker: typing "/" at the start of an empty reply lists the canned responses the agent may use on this
// ticket, filtered as they type; arrow keys and Enter (or a click) choose one. The server fills its variables in for the preview, and
// again when it is sent.
import { API, call, h, query } from "./api.js";

/**
 * Watches `text` (the reply's textarea). `reference()` is the open ticket; `chosen(response)` receives the choice
 * ({id, shortcut, title, preview}). Returns { close() }.
 */
export function attachPicker(text, reference, chosen) {
  const list = h("ul", { class: "canned-picker", id: "canned-picker", role: "listbox", "aria-label": "Canned responses", hidden: true });
  text.after(list);
  text.setAttribute("aria-controls", "canned-picker");
  let items = [], active = 0, asked = 0, timer = null;

  const word = () => {
    const match = /^\/([^\s]*)$/.exec(text.value);
    return match ? match[1] : null;
  };
  const close = () => { list.hidden = true; items = []; text.removeAttribute("aria-activedescendant"); };
  const show = () => {
    list.replaceChildren(...(items.length ? items.map((item, i) => {
      const option = h("li", { role: "option", id: `canned-${item.id}`, class: "canned-option", data: { shortcut: item.shortcut },
                               "aria-selected": String(i === active) },
        h("span", { class: "canned-shortcut" }, `/${item.shortcut}`), h("span", { class: "canned-title" }, item.title),
        h("span", { class: "canned-preview" }, item.preview ?? item.body));
      // mousedown, not click: the textarea keeps its focus.
      option.addEventListener("mousedown", (event) => { event.preventDefault(); choose(i); });
      return option;
    }) : [h("li", { class: "canned-none" }, "No canned response matches")]));
    list.hidden = false;
    if (items[active]) text.setAttribute("aria-activedescendant", `canned-${items[active].id}`);
  };
  const choose = (i) => {
    const item = items[i];
    if (!item) return;
    close();
    text.value = "";
    chosen(item);
  };
  const look = async () => {
    const typed = word();
    if (typed === null) return close();
    const mine = ++asked;
    const result = await call("GET", `${API}/canned-responses${query({ q: typed, ticket: reference() })}`);
    if (mine !== asked || word() === null) return;
    items = result.ok ? result.json.canned_responses : [];
    active = 0;
    show();
  };
  text.addEventListener("input", () => {
    clearTimeout(timer);
    if (word() === null) { asked++; return close(); }
    timer = setTimeout(look, 120);
  });
  text.addEventListener("keydown", (event) => {
    if (list.hidden) return;
    if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      event.preventDefault();
      if (!items.length) return;
      active = (active + (event.key === "ArrowDown" ? 1 : items.length - 1)) % items.length;
      show();
    } else if (event.key === "Enter" && !event.ctrlKey && !event.metaKey) {
      event.preventDefault();
      choose(active);
    } else if (event.key === "Escape") {
      event.preventDefault();
      close();
    }
  });
  text.addEventListener("blur", () => setTimeout(close, 150));
  return { close };
}
