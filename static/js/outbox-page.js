/* The outbox page: every saved record with its state, what the server said, the other person's
 * values on a conflict; send again or discard. All user text goes in with textContent. */
(function () {
  "use strict";

  const outbox = window.CampaignOutbox;
  const list = document.getElementById("outbox-list");
  const empty = document.getElementById("outbox-empty");
  const config = JSON.parse(document.getElementById("outbox-config").dataset.config);
  const messages = config.messages || {};
  const say = (key) => messages[key] || key;

  function element(tag, className, content) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (content !== undefined) node.textContent = content;
    return node;
  }

  function size(bytes) {
    return bytes >= 1048576 ? `${(bytes / 1048576).toFixed(1)} MB` : `${Math.max(1, Math.round(bytes / 1024))} KB`;
  }

  function pairs(values, className = "values") {
    const facts = element("dl", className);
    for (const [key, value] of Object.entries(values)) {
      facts.append(element("dt", "", key), element("dd", "", Array.isArray(value) ? value.join("；") : String(value ?? "—")));
    }
    return facts;
  }

  function button(label, className, action) {
    const node = element("button", className, label);
    node.type = "button";
    node.addEventListener("click", action);
    return node;
  }

  function row(item) {
    const entry = element("li", `card outbox-item state-${item.state}`);
    entry.dataset.id = item.id;
    const head = element("div", "outbox-head");
    head.append(element("strong", "", item.label), element("span", `badge outbox-state state-${item.state}`, say(`state_${item.state}`)));
    entry.append(head);
    entry.append(element("div", "muted", `${say("savedAt")} ${new Date(item.savedAt).toLocaleString(document.documentElement.lang)}`));
    const files = item.fields.filter((field) => field[1] instanceof Blob);
    if (files.length) {
      entry.append(element("div", "muted", `${say("files")}: ${files.map((field) => `${field[2]} (${size(field[1].size)})`).join("、")}`));
    }
    if (item.message) entry.append(element("p", item.state === "attention" ? "error" : "hint", item.message));
    if (item.errors) entry.append(pairs(item.errors, "values error"));
    if (item.theirs) {
      entry.append(element("p", "outbox-theirs", say("theirs")), pairs(item.theirs));
    }
    if (item.state !== "sending") {
      const actions = element("div", "actions");
      if (item.state !== "waiting") actions.append(button(say("sendAgain"), "", () => outbox.retry(item.id)));
      actions.append(button(say("discard"), "danger", () => {
        if (window.confirm(say("confirmDiscard"))) outbox.remove(item.id);
      }));
      entry.append(actions);
    }
    return entry;
  }

  async function render() {
    const items = await outbox.list();
    list.replaceChildren(...items.map(row));
    empty.hidden = items.length > 0;
  }

  document.getElementById("outbox-send").addEventListener("click", () => outbox.flush());
  window.addEventListener("campaign-outbox:change", render);
  render();
})();
