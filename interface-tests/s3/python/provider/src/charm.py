#!/usr/bin/env python3
"""A small s3 v1 provider on the published `object_storage.S3Provider` (object-storage-charmlib).

Publishes the credentials of its config (in the library's Juju secret for v1 requirers, plain for
v0 ones) with its configured bucket, else the bucket a v1 requirer asked for (as s3-integrator 2/
does). Records `py.*` events for the tests; credentials only as digests.
"""

import hashlib
import logging
import os

import ops
from object_storage import PrematureDataAccessError, S3Provider
from peer_record import record

logger = logging.getLogger(__name__)

ENDPOINT = "s3-credentials"


def digest(value: str) -> str:
    """A short SHA-256 of a credential, so that tests can match it without it being logged."""
    return hashlib.sha256(value.encode()).hexdigest()[:16]


class PyS3Provider(ops.CharmBase):
    """See the module docstring."""

    def __init__(self, framework: ops.Framework):
        super().__init__(framework)
        self.s3 = S3Provider(self, ENDPOINT)
        framework.observe(self.s3.on.storage_connection_info_requested, self._on_requested)
        framework.observe(self.on.config_changed, self._on_config_changed)

    def _requested(self, relation: ops.Relation) -> dict:
        # The library's override hides the bucket a v0 requirer sends (always `relation-<id>`).
        return dict(self.s3.fetch_relation_data([relation.id], ["bucket", "path"]).get(relation.id, {}))

    def _on_requested(self, event):
        relation = event.relation
        requested = self._requested(relation)
        record(
            "py.requested",
            hook=os.environ.get("JUJU_HOOK_NAME", ""),
            relation=relation.id,
            unit=event.unit.name if event.unit else None,
            requested=requested,
            requirer_v0=self.s3.is_requirer_schema_v0(relation.id),
        )
        self._publish(relation, requested)

    def _on_config_changed(self, _event):
        if not self.unit.is_leader():
            return
        for relation in self.model.relations[ENDPOINT]:
            if self.s3.is_protocol_ready(relation):
                self._publish(relation, self._requested(relation))

    def _publish(self, relation: ops.Relation, requested: dict):
        config = self.config
        if not config["access-key"] or not config["secret-key"]:
            record("py.no_credentials", relation=relation.id)
            return
        data = {
            "access-key": config["access-key"],
            "secret-key": config["secret-key"],
            "endpoint": config["endpoint"],
        }
        bucket = config["bucket"] or requested.get("bucket", "")
        path = config["path"] or requested.get("path", "")
        if bucket:
            data["bucket"] = bucket
        if path:
            data["path"] = path
        try:
            self.s3.set_storage_connection_info(relation.id, data)
        except PrematureDataAccessError:
            record("py.premature", relation=relation.id)
            return
        record(
            "py.published",
            relation=relation.id,
            bucket=bucket,
            path=path,
            access_key=digest(config["access-key"]),
        )


if __name__ == "__main__":  # pragma: nocover
    ops.main(PyS3Provider)
