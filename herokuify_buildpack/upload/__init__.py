"""The asset upload: what is in STATIC_ROOT, what the bucket holds, and the parallel transfer."""
