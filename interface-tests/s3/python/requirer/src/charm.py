#!/usr/bin/env python3
"""A small s3 v1 requirer on the published `object_storage.S3Requirer` (object-storage-charmlib).

Asks for the bucket and path of its config and records `py.changed` (with the connection info
the library assembles, credentials as digests) and `py.gone` for the tests.
"""

import hashlib
import logging
import os

import ops
from object_storage import S3Requirer
from peer_record import record

logger = logging.getLogger(__name__)

ENDPOINT = "s3-credentials"
CREDENTIALS = ("access-key", "secret-key")


def digest(value) -> str:
    """A short SHA-256 of a credential, so that tests can match it without it being logged."""
    return hashlib.sha256(str(value).encode()).hexdigest()[:16]


class PyS3Requirer(ops.CharmBase):
    """See the module docstring."""

    def __init__(self, framework: ops.Framework):
        super().__init__(framework)
        self.s3 = S3Requirer(
            self, ENDPOINT, bucket=self.config["bucket"], path=self.config["path"]
        )
        framework.observe(self.s3.on.storage_connection_info_changed, self._on_changed)
        framework.observe(self.s3.on.storage_connection_info_gone, self._on_gone)
        framework.observe(self.on.config_changed, self._on_config_changed)

    def _on_changed(self, event):
        info = self.s3.get_storage_connection_info(event.relation)
        visible = {k: (digest(v) if k in CREDENTIALS else v) for k, v in info.items()}
        record(
            "py.changed",
            hook=os.environ.get("JUJU_HOOK_NAME", ""),
            relation=event.relation.id,
            unit=event.unit.name if event.unit else None,
            info=visible,
        )

    def _on_gone(self, event):
        record("py.gone", relation=event.relation.id)

    def _on_config_changed(self, _event):
        if self.model.relations[ENDPOINT]:
            self.s3.update_requests(
                bucket=self.config["bucket"] or None, path=self.config["path"] or None
            )


if __name__ == "__main__":  # pragma: nocover
    ops.main(PyS3Requirer)
