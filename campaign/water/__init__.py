"""Water points (水域), their patrols and hazards, on the map and in the two official forms."""
