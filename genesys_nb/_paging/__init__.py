"""Streams over paged listings: the loop (which knows no paging style), the paginators, resume tokens, dedupe."""
