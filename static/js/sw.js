/* Campaign Desk service worker: the pages a reporter uses open without a connection once visited.
 * Pages: network first, the last copy when offline. Versioned static files (?v=…): cache first.
 * Pages are per user: the page cache is emptied when anyone logs in or out. */
"use strict";

const STATIC_CACHE = "campaign-static-v1";
const PAGE_CACHE = "campaign-pages";  // also emptied by outbox.js when the logged-in user changes
const PAGE_LIMIT = 80;
const PAGE_PREFIXES = ["/reports/", "/water/", "/outbox", "/offline"];
const NO_CACHE_PREFIXES = ["/reports/review", "/water/export", "/water/import", "/water/forms", "/api/"];
const THUMBNAIL = /^\/(files\/evidence|water\/photos)\/\d+\/thumb$/;
const OFFLINE_PAGE = "/offline";
const OUTBOX_PAGE = "/outbox";

self.addEventListener("install", () => self.skipWaiting());

self.addEventListener("activate", (event) => {
  event.waitUntil((async () => {
    const names = await caches.keys();
    await Promise.all(names.filter((name) => name.startsWith("campaign-static-") && name !== STATIC_CACHE)
      .map((name) => caches.delete(name)));
    await self.clients.claim();
  })());
});

const expectedPosts = new Map();  // form URL → {user, label, until}: data-outbox forms sent while "online"
const EXPECT_MS = 10000;

self.addEventListener("message", (event) => {
  const data = event.data || {};
  if (data.type === "warm" && Array.isArray(data.urls)) {
    event.waitUntil(warm(data.urls));
  } else if (data.type === "expect-post" && data.user) {
    expectedPosts.set(new URL(data.url, self.location.origin).href,
      { user: data.user, label: data.label, until: Date.now() + EXPECT_MS });
  }
});

function isCachedPage(url) {
  const path = url.pathname;
  if (NO_CACHE_PREFIXES.some((prefix) => path.startsWith(prefix))) return false;
  return path === "/" || PAGE_PREFIXES.some((prefix) => path.startsWith(prefix));
}

self.addEventListener("fetch", (event) => {
  const request = event.request;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  if (request.method === "POST" && (url.pathname === "/logout" || url.pathname === "/login")) {
    event.respondWith(caches.delete(PAGE_CACHE).then(() => fetch(request)));
    return;
  }
  const expected = expectedPosts.get(url.href);
  if (request.method === "POST" && request.mode === "navigate" && expected && expected.until > Date.now()) {
    expectedPosts.delete(url.href);
    event.respondWith(postOrKeep(request, expected));
    return;
  }
  if (request.method !== "GET") return;
  if (url.pathname.startsWith("/static/")) {
    event.respondWith(url.searchParams.has("v") ? cacheFirst(request) : networkFirst(request, STATIC_CACHE));
  } else if (request.mode === "navigate" && isCachedPage(url)) {
    event.respondWith(networkFirst(request, PAGE_CACHE).catch(() => offlinePage()));
  } else if (THUMBNAIL.test(url.pathname)) {
    event.respondWith(networkFirst(request, PAGE_CACHE));
  }
});

function storable(response) {
  return response.ok && !response.redirected && response.type === "basic";
}

async function cacheFirst(request) {
  const cached = await caches.match(request, { ignoreVary: true });
  if (cached) return cached;
  const response = await fetch(request);
  if (storable(response)) {
    const cache = await caches.open(STATIC_CACHE);
    await cache.put(request, response.clone());
  }
  return response;
}

async function networkFirst(request, cacheName) {
  let response;
  try {
    response = await fetch(request);
  } catch (error) {
    const cached = await caches.match(request, { cacheName, ignoreVary: true });
    if (cached) return cached;
    throw error;
  }
  if (storable(response)) {
    const cache = await caches.open(cacheName);
    await cache.put(request, response.clone());
    if (cacheName === PAGE_CACHE) await trim(cache);
  }
  return response;
}

async function offlinePage() {
  const cached = await caches.match(OFFLINE_PAGE, { cacheName: PAGE_CACHE, ignoreVary: true });
  return cached || new Response("<!doctype html><meta charset=utf-8><title>离线</title><p>无网络连接 / offline</p>",
    { status: 503, headers: { "Content-Type": "text/html; charset=utf-8" } });
}

async function trim(cache) {
  const keys = await cache.keys();
  await Promise.all(keys.slice(0, Math.max(0, keys.length - PAGE_LIMIT)).map((key) => cache.delete(key)));
}

async function warm(urls) {
  const cache = await caches.open(PAGE_CACHE);
  for (const url of urls) {
    if (await cache.match(url)) continue;
    try {
      const response = await fetch(url, { credentials: "same-origin" });
      if (storable(response)) await cache.put(url, response);
    } catch (error) {
      return;  // offline: try again on the next page
    }
  }
}

/* A data-outbox form sent while the phone believed it was online, on a link that then failed: keep it in
 * the outbox (the same IndexedDB store as outbox.js) and show the outbox, instead of the browser's error. */
async function postOrKeep(request, { user, label }) {
  const copy = request.clone();
  try {
    return await fetch(request);
  } catch (error) {
    const fields = [];
    for (const [name, value] of await copy.formData()) {
      if (typeof value === "string") fields.push([name, value]);
      else if (value.name || value.size) fields.push([name, value, value.name]);
    }
    const url = new URL(request.url);
    await keep({ user, url: url.pathname + url.search, label, fields, state: "waiting",
      savedAt: new Date().toISOString(), attempts: 0, message: "", theirs: null, errors: null });
    return Response.redirect(OUTBOX_PAGE, 303);
  }
}

function keep(item) {
  return new Promise((resolve, reject) => {
    const opening = indexedDB.open("campaign-outbox", 1);
    opening.onupgradeneeded = () => opening.result.createObjectStore("items", { keyPath: "id", autoIncrement: true });
    opening.onerror = () => reject(opening.error);
    opening.onsuccess = () => {
      const transaction = opening.result.transaction("items", "readwrite");
      transaction.objectStore("items").add(item);
      transaction.oncomplete = resolve;
      transaction.onerror = () => reject(transaction.error);
    };
  });
}
