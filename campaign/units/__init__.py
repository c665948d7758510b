"""The unit tree: browsing, editing and importing units."""
