"""The build: what bin/compile runs inside the slug's Python."""
