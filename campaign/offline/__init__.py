"""Offline capture on a phone: the service worker, the web app manifest, a fresh CSRF token for
replaying saved forms, and the outbox page (the outbox itself lives in the browser's IndexedDB)."""
