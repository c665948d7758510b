"""Forms filled in the field: idempotency keys and the JSON answers scripts and the offline outbox rely on."""
