"""One module per endpoint family; each declares its paths, paging plan, argument checks, expands and columns."""
