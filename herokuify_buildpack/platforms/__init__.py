"""The platforms' contracts, each in an adapter of its own around the platform-neutral core."""
