"""The search index's assets, resource, job and schedule."""
