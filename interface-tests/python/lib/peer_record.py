"""How the Python peer charms tell the tests what they saw.

Each observation is one line `CHARM_EVENT {"event": <name>, "fields": {...}}` on stdout, the form
juju-local turns into the `events` of the dispatch's timeline record (as the Rust charms print
their library events). Values must be JSON-serialisable; secret content is never recorded by the
s3 peers (only digests), the ops probe records its own test values.
"""

import json
import sys


def record(event: str, **fields) -> None:
    """Prints one observation for the test that drives this charm."""
    line = json.dumps({"event": event, "fields": fields}, sort_keys=True, default=str)
    sys.stdout.write(f"CHARM_EVENT {line}\n")
    sys.stdout.flush()
