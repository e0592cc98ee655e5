"""``make bench``: genesys-nb beside its peers (dlt, the official SDK loop, airbyte-source-genesys), in one run.

Every row runs as its own subprocess against a fresh sandbox process, each peer in its own virtual environment
under the git-ignored ``.bench/``; every ratio printed is between rows measured in the same run. See
``python -m benchmarks --help``.
"""
