"""Bucket access: the S3 client and how its refusals read, the listing, the lister, releases."""
