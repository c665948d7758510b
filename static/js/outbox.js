/* The outbox: forms saved on the phone while offline (photos included), sent by themselves when the
 * connection returns, one at a time, in order, each exactly once (the server accepts each
 * idempotency_key once; an item is always resent with the same fields).
 *
 * window.CampaignOutbox = { enqueue({url, label, fields}), count(), list(), flush(), remove(id), retry(id) }
 * fields: [[name, string]] or [[name, Blob, filename]]. Fires "campaign-outbox:change" on window. */
(function () {
  "use strict";

  const DB_NAME = "campaign-outbox";
  const STORE = "items";
  const PAGE_CACHE = "campaign-pages";  // the service worker's page cache (sw.js)
  const RETRY_MS = 30000;
  const configNode = document.getElementById("outbox-config");
  const config = configNode ? JSON.parse(configNode.dataset.config) : { user: "" };
  const messages = config.messages || {};
  let flushing = null;

  function text(key, values) {
    return (messages[key] || key).replace(/\{(\w+)\}/g, (whole, name) => (values && name in values ? values[name] : whole));
  }

  // --- storage ------------------------------------------------------------------------------
  let database = null;

  function open() {
    if (!database) {
      database = new Promise((resolve, reject) => {
        const request = indexedDB.open(DB_NAME, 1);
        request.onupgradeneeded = () => request.result.createObjectStore(STORE, { keyPath: "id", autoIncrement: true });
        request.onsuccess = () => resolve(request.result);
        request.onerror = () => reject(request.error);
      });
    }
    return database;
  }

  async function transact(mode, work) {
    const db = await open();
    return new Promise((resolve, reject) => {
      const transaction = db.transaction(STORE, mode);
      const result = work(transaction.objectStore(STORE));
      transaction.oncomplete = () => resolve(result && "result" in result ? result.result : result);
      transaction.onerror = () => reject(transaction.error);
      transaction.onabort = () => reject(transaction.error);
    });
  }

  async function allItems() {
    const items = await transact("readonly", (store) => store.getAll());
    return items.filter((item) => item.user === config.user).sort((a, b) => a.id - b.id);
  }

  const put = (item) => transact("readwrite", (store) => store.put(item));
  const get = (id) => transact("readonly", (store) => store.get(id));

  function changed() {
    window.dispatchEvent(new CustomEvent("campaign-outbox:change"));
  }

  // --- the public API ------------------------------------------------------------------------
  async function enqueue({ url, label, fields }) {
    const target = new URL(url, location.href);
    if (target.origin !== location.origin) throw new Error("outbox: only this site's forms can be saved");
    if (!config.user) throw new Error("outbox: nobody is logged in");
    const item = {
      user: config.user, url: target.pathname + target.search, label: label || document.title,
      fields: fields.map((field) => field.slice(0, 3)), state: "waiting", savedAt: new Date().toISOString(),
      attempts: 0, message: "", theirs: null, errors: null,
    };
    const id = await transact("readwrite", (store) => store.add(item));
    if (navigator.storage && navigator.storage.persist) navigator.storage.persist();  // not evicted when space runs low
    changed();
    if (navigator.onLine) setTimeout(flush, 0);
    return id;
  }

  const count = async () => (await allItems()).length;
  const list = () => allItems();

  async function remove(id) {
    await transact("readwrite", (store) => store.delete(id));
    changed();
  }

  async function retry(id) {
    const item = await get(id);
    if (item && item.user === config.user) {
      Object.assign(item, { state: "waiting", message: "", theirs: null, errors: null });
      await put(item);
      changed();
    }
    return flush();
  }

  /** Send what waits, in order. Resolves to {delivered, waiting, attention}. One sender at a time,
   * across tabs too (Web Locks), so no item is sent twice in parallel. */
  function flush() {
    if (!flushing) {
      const run = navigator.locks
        ? navigator.locks.request("campaign-outbox-flush", { ifAvailable: true }, (lock) => (lock ? sendAll() : null))
        : sendAll();
      flushing = run.finally(() => { flushing = null; changed(); });
    }
    return flushing;
  }

  async function sendAll() {
    const summary = { delivered: 0, waiting: 0, attention: 0 };
    let stopped = false;
    for (const { id } of await allItems()) {
      const item = await get(id);  // another tab may have sent or removed it meanwhile
      if (!item) continue;
      if (item.state === "attention" || stopped) {
        summary[item.state === "attention" ? "attention" : "waiting"] += 1;
        continue;
      }
      const outcome = await send(item);
      if (outcome === "delivered") {
        summary.delivered += 1;
      } else if (outcome === "attention") {
        summary.attention += 1;
      } else {
        summary.waiting += 1;
        stopped = true;  // offline, server down or logged out: keep the order, try later
      }
    }
    return summary;
  }

  async function freshToken() {
    const response = await fetch(config.csrfUrl, { headers: { Accept: "application/json" }, credentials: "same-origin" });
    if (loggedOut(response)) return null;
    if (!response.ok) throw new Error(`csrf ${response.status}`);
    return (await response.json()).csrf_token;
  }

  function loggedOut(response) {
    return response.status === 401 || (response.redirected && new URL(response.url).pathname === config.loginPath);
  }

  function body(fields, token) {
    const data = new FormData();
    for (const [name, value, filename] of fields) {
      if (name === "csrf_token") continue;
      if (value instanceof Blob) data.append(name, value, filename || "file");
      else data.append(name, value);
    }
    data.append("csrf_token", token);
    return data;
  }

  async function readJson(response) {
    if (!(response.headers.get("Content-Type") || "").includes("json")) return null;
    try { return await response.json(); } catch (error) { return null; }
  }

  async function settle(item, state, details) {
    Object.assign(item, { state, message: "", theirs: null, errors: null }, details);
    await put(item);
    changed();
    return state;
  }

  async function send(item) {
    item.attempts += 1;
    await settle(item, "sending");
    let response;
    try {
      const token = await freshToken();
      if (token === null) return settle(item, "login", { message: text("loginNeeded") });
      response = await fetch(item.url, {
        method: "POST", body: body(item.fields, token), credentials: "same-origin",
        headers: { Accept: "application/json" },
      });
    } catch (error) {
      return settle(item, "waiting", { message: text("noConnection") });
    }
    if (loggedOut(response)) return settle(item, "login", { message: text("loginNeeded") });
    const answer = await readJson(response);
    if (response.ok && (answer ? answer.ok !== false : response.redirected)) {
      await remove(item.id);
      return "delivered";
    }
    if (response.ok) return settle(item, "attention", { message: text("formAgain") });  // a page form re-shown with its errors
    if (response.status >= 500 || response.status === 408 || response.status === 429) {
      return settle(item, "waiting", { message: text("serverBusy") });
    }
    return settle(item, "attention", {
      message: (answer && answer.message) || text(response.status === 409 ? "conflict" : "refused", { status: response.status }),
      theirs: (answer && answer.theirs) || null,
      errors: answer && answer.errors ? labelled(answer.errors, answer.labels || {}) : null,
    });
  }

  /** The outbox page has no form to mark: it names each refused field by its label, as the form does. */
  function labelled(errors, labels) {
    return Object.fromEntries(Object.entries(errors).map(([name, texts]) => [labels[name] || name, texts]));
  }

  window.CampaignOutbox = { enqueue, count, list, flush, remove, retry };

  // --- the page: badge, capture of plain forms, logout question -------------------------------
  async function showBadge() {
    const badge = document.getElementById("outbox-badge");
    if (!badge) return;
    const items = await allItems();
    const attention = items.filter((item) => item.state !== "waiting" && item.state !== "sending").length;
    badge.hidden = items.length === 0;
    badge.textContent = text("badge", { n: items.length });
    badge.classList.toggle("attention", attention > 0);
  }

  function fieldsOf(form, submitter) {
    const fields = [];
    for (const [name, value] of new FormData(form, submitter)) {
      if (value instanceof File) {
        if (value.name || value.size) fields.push([name, value, value.name]);
      } else {
        fields.push([name, value]);
      }
    }
    return fields;
  }

  function newKey() {
    const bytes = crypto.getRandomValues(new Uint8Array(16));
    return Array.from(bytes, (byte) => byte.toString(16).padStart(2, "0")).join("");
  }

  function formUrl(form) {  // form.action is shadowed by a field named "action"
    return new URL(form.getAttribute("action") || location.href, location.href).href;
  }

  /** Plain forms marked data-outbox are saved to the outbox when the phone is offline; sent "online", the
   * service worker keeps them if the link fails on the way. */
  async function capture(event) {
    const form = event.target;
    if (!(form instanceof HTMLFormElement) || !form.hasAttribute("data-outbox") || event.defaultPrevented) return;
    const label = form.dataset.outboxLabel || document.title;
    if (navigator.onLine) {
      const worker = navigator.serviceWorker && navigator.serviceWorker.controller;
      if (worker && config.user) worker.postMessage({ type: "expect-post", url: formUrl(form), user: config.user, label });
      return;
    }
    event.preventDefault();
    let saved = true;
    try {
      await enqueue({ url: formUrl(form), label, fields: fieldsOf(form, event.submitter) });
    } catch (error) {
      saved = false;  // storage blocked or full: the form keeps what was typed
    }
    if (saved) {
      form.reset();
      const key = form.elements.namedItem("idempotency_key");
      if (key) key.value = newKey();  // the next capture from this page is a different submission
    }
    let notice = form.querySelector(".outbox-saved");
    if (!notice) {
      notice = document.createElement("p");
      notice.setAttribute("role", "status");
      form.prepend(notice);
    }
    notice.className = `flash outbox-saved ${saved ? "flash-success" : "flash-error"}`;
    notice.textContent = text(saved ? "saved" : "notSaved");
  }

  async function confirmLogout(event) {
    const form = event.target;
    if (!(form instanceof HTMLFormElement) || !form.hasAttribute("data-outbox-logout")) return;
    event.preventDefault();
    const waiting = await count().catch(() => 0);
    if (waiting === 0 || window.confirm(text("confirmLogout", { n: waiting }))) form.submit();
  }

  async function forgetOtherUsersPages() {
    const key = "campaign-outbox-user";
    try {
      const previous = localStorage.getItem(key);
      // After a login the service worker has already emptied the cache, and the page just shown is in it.
      if (previous !== config.user && !(previous === "" && config.user)) {
        if (window.caches) await caches.delete(PAGE_CACHE);
        localStorage.setItem(key, config.user);
      }
    } catch (error) {
      // storage blocked: nothing was cached either
    }
  }

  async function startServiceWorker() {
    if (!("serviceWorker" in navigator) || !config.serviceWorker) return;
    try {
      await navigator.serviceWorker.register(config.serviceWorker, { scope: "/" });
      const { active } = await navigator.serviceWorker.ready;
      if (config.user && config.warm && navigator.onLine) active.postMessage({ type: "warm", urls: config.warm });
    } catch (error) {
      // no service worker (plain http, private mode): pages simply need the network
    }
  }

  /** A page opened from the cache is the same HTML each time: each page view gets its own keys, so two
   * submissions from a cached page never share one (the server accepts each key once). */
  function freshKeys() {
    for (const input of document.querySelectorAll("input[name=idempotency_key]")) input.value = newKey();
  }

  freshKeys();
  document.addEventListener("submit", confirmLogout);
  document.addEventListener("submit", capture);
  window.addEventListener("campaign-outbox:change", showBadge);
  window.addEventListener("online", flush);
  forgetOtherUsersPages().then(startServiceWorker);
  if (config.user && window.indexedDB) {
    showBadge();
    if (navigator.onLine) flush();
    setInterval(() => { if (navigator.onLine) flush(); }, RETRY_MS);
  }
})();
