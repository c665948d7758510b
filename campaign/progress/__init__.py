"""Progress of a campaign by task and township, and chasing the units that are late."""
