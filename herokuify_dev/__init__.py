"""Developer and test tooling for herokuify-buildpack (not part of the slug)."""
