"""One request: hosts and regions, credentials, tokens, pacing, retries, and the mapping of errors."""
