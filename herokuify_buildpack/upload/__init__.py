"""The asset upload: the local files and their ETags, the plan, the build cache, the transfer."""
