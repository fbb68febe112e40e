#!/usr/bin/env python3
"""The ops probe: a real `ops` 3.9 charm that makes the hook-tool calls ops makes in normal use.

Every observation is printed as a `CHARM_EVENT` line (see `peer_record.py`) or returned as the
JSON action result `observed`; the Rust test in `interface-tests/ops-probe/tests` asserts them.
Whatever juju-local answers differently from Juju shows up as a wrong observation or as an ops
exception (a failed hook).
"""

import datetime
import json
import logging
import os

import ops
from ops import hookcmds
from peer_record import record

logger = logging.getLogger(__name__)

SHARED_LABEL = "probe-shared"
CONSUMER_LABEL = "upstream-token"
OWNER_LABEL = "owner-a"
UNIT_LABEL = "unit-owned"
ENDPOINTS = ("db", "upstream", "cluster")


def names(units) -> list:
    """Sorted unit names."""
    return sorted(u.name for u in units)


def error_of(call) -> str:
    """Runs `call`; returns `<ExceptionClass>: <message>` or `ok`."""
    try:
        call()
    except ops.ModelError as e:
        return f"{type(e).__name__}: {str(e).strip()}"
    return "ok"


class ProbeCharm(ops.CharmBase):
    """See the module docstring."""

    _stored = ops.StoredState()

    def __init__(self, framework: ops.Framework):
        super().__init__(framework)
        self._stored.set_default(dispatches=0, deferred_once=False, broken_deferred=False)
        self._stored.dispatches += 1
        record(
            "dispatch",
            path=os.environ.get("JUJU_DISPATCH_PATH", ""),
            count=self._stored.dispatches,
        )
        on = self.on
        for event in (
            on.install,
            on.start,
            on.config_changed,
            on.leader_elected,
            on.leader_settings_changed,
            on.stop,
            on.remove,
        ):
            framework.observe(event, self._on_lifecycle)
        framework.observe(on.update_status, self._on_update_status)
        for endpoint in ENDPOINTS:
            for kind in ("created", "joined", "changed", "departed", "broken"):
                framework.observe(getattr(on[endpoint], f"relation_{kind}"), self._on_relation)
        framework.observe(on.secret_changed, self._on_secret_changed)
        framework.observe(on.secret_remove, self._on_secret_remove)
        framework.observe(on.secret_rotate, self._on_secret_rotate)
        framework.observe(on.secret_expired, self._on_secret_expired)
        framework.observe(on.collect_unit_status, self._on_collect_unit_status)
        framework.observe(on.collect_app_status, self._on_collect_app_status)
        framework.observe(on.inspect_action, self._on_inspect)
        framework.observe(on.fail_action, self._on_fail)
        framework.observe(on.owner_secrets_action, self._on_owner_secrets)
        framework.observe(on.rotate_action, self._on_rotate)

    # ------------------------------------------------------------------ lifecycle

    def _on_lifecycle(self, event: ops.EventBase):
        kind = event.handle.kind
        fields = {}
        if kind == "install":
            self.unit.set_workload_version("1.2.3")
            self.unit.open_port("tcp", 8080)
            self.unit.open_port("udp", 9000)
            self.unit.open_port("icmp")
            self.unit.status = ops.MaintenanceStatus("installing")
        elif kind == "config_changed":
            fields["config"] = dict(self.config)
            fields["types"] = {k: type(v).__name__ for k, v in self.config.items()}
            # set_ports: closes udp/9000 and icmp, keeps tcp/8080, opens tcp/8081.
            if self.config["count"] == 4:
                self.unit.set_ports(8080, 8081)
        elif kind == "start":
            fields["leader"] = self.unit.is_leader()
        logger.info("lifecycle %s", kind)
        record(kind, **fields)

    def _on_update_status(self, event: ops.UpdateStatusEvent):
        if self.config["defer-updates"] and not self._stored.deferred_once:
            self._stored.deferred_once = True
            record("deferred", kind="update_status")
            event.defer()
            return
        fields = {
            "unit_status": [self.unit.status.name, self.unit.status.message],
            "ports": sorted(f"{p.port}/{p.protocol}" for p in self.unit.opened_ports()),
        }
        if self.unit.is_leader():
            fields["app_status"] = [self.app.status.name, self.app.status.message]
        record("update_status", **fields)

    # ------------------------------------------------------------------ relations

    def _on_relation(self, event: ops.RelationEvent):
        rel = event.relation
        kind = event.handle.kind.removeprefix(f"{rel.name}_")
        fields = {
            "endpoint": rel.name,
            "id": rel.id,
            "app": event.app.name if event.app else None,
            "unit": event.unit.name if event.unit else None,
            "units": names(rel.units),
            "active": rel.active,
        }
        if isinstance(event, ops.RelationDepartedEvent):
            fields["departing"] = event.departing_unit.name if event.departing_unit else None
        if rel.app is not None:
            fields["remote_app_data"] = dict(rel.data[rel.app])
        # ops keeps a departing remote unit's bag readable, except on peer relations.
        if event.unit is not None and event.unit in rel.data:
            fields["remote_unit_data"] = dict(rel.data[event.unit])
        if kind == "relation_broken":
            if self.config["defer-broken"] and not self._stored.broken_deferred:
                self._stored.broken_deferred = True
                record("deferred", kind=event.handle.kind)
                event.defer()
                return
            record(event.handle.kind, **fields)
            return
        if kind in ("relation_joined", "relation_changed"):
            rel.data[self.unit].update({"hello": self.unit.name})
            if self.unit.is_leader():
                rel.data[self.app].update({"leader": self.unit.name})
        if rel.name == "cluster":
            fields["peer_app_data"] = dict(rel.data[self.app])
        if rel.name == "db" and kind == "relation_joined" and self.unit.is_leader():
            fields["shared"] = self._share_secret(rel)
        if rel.name == "upstream" and kind == "relation_changed":
            secret_id = rel.data[rel.app].get("secret-id") if rel.app else None
            if secret_id:
                secret = self.model.get_secret(id=secret_id, label=CONSUMER_LABEL)
                fields["secret_content"] = secret.get_content()
        record(event.handle.kind, **fields)

    def _share_secret(self, rel: ops.Relation) -> str:
        try:
            secret = self.model.get_secret(label=SHARED_LABEL)
            how = "found"
        except ops.SecretNotFoundError:
            secret = self.app.add_secret(
                {"token": "first-token"}, label=SHARED_LABEL, description="shared with upstream"
            )
            how = "created"
        secret.grant(rel)
        rel.data[self.app]["secret-id"] = secret.id or ""
        return how

    # ------------------------------------------------------------------ secrets

    def _on_secret_changed(self, event: ops.SecretChangedEvent):
        peeked = event.secret.peek_content()
        refreshed = event.secret.get_content(refresh=True)
        tracked = self.model.get_secret(label=CONSUMER_LABEL).get_content()
        record(
            "secret_changed",
            label=event.secret.label,
            id_matches=event.secret.id is not None and event.secret.id.startswith("secret:"),
            peek=peeked,
            refreshed=refreshed,
            tracked=tracked,
        )

    def _on_secret_remove(self, event: ops.SecretRemoveEvent):
        record("secret_remove", label=event.secret.label, revision=event.revision)
        event.remove_revision()

    def _on_secret_rotate(self, event: ops.SecretRotateEvent):
        record("secret_rotate", label=event.secret.label)
        event.secret.set_content({"token": "rotated-token"})

    def _on_secret_expired(self, event: ops.SecretExpiredEvent):
        record("secret_expired", label=event.secret.label, revision=event.revision)
        event.remove_revision()

    # ------------------------------------------------------------------ status

    def _on_collect_unit_status(self, event: ops.CollectStatusEvent):
        if self.config["greeting"] == "block":
            event.add_status(ops.BlockedStatus("greeting says block"))
        event.add_status(ops.ActiveStatus(f"{self.config['greeting']} from {self.unit.name}"))

    def _on_collect_app_status(self, event: ops.CollectStatusEvent):
        event.add_status(ops.ActiveStatus(f"{self.app.planned_units()} planned"))

    # ------------------------------------------------------------------ actions

    def _on_inspect(self, event: ops.ActionEvent):
        event.log("inspecting")
        leader = self.unit.is_leader()
        relations = {}
        for endpoint in ENDPOINTS:
            relations[endpoint] = []
            for rel in self.model.relations[endpoint]:
                view = {
                    "id": rel.id,
                    "app": rel.app.name if rel.app else None,
                    "units": names(rel.units),
                    "unit_bag": dict(rel.data[self.unit]),
                    "remote_model": rel.remote_model.uuid,
                    "bind_address": str(self.model.get_binding(rel).network.bind_address),
                }
                if leader or endpoint == "cluster":
                    view["app_bag"] = dict(rel.data[self.app])
                relations[endpoint].append(view)
        binding = self.model.get_binding("db")
        observed = {
            "params": dict(event.params),
            "id": event.id,
            "leader": leader,
            "config": dict(self.config),
            "juju_version": str(self.model.juju_version),
            "model": [self.model.name, self.model.uuid],
            "relations": relations,
            "unit_status": [self.unit.status.name, self.unit.status.message],
            "ports": sorted(f"{p.port}/{p.protocol}" for p in self.unit.opened_ports()),
            "planned_units": self.app.planned_units(),
            "bind_address": str(binding.network.bind_address),
            "ingress_address": str(binding.network.ingress_address),
            "secret_ids": hookcmds.secret_ids(),
            "cloud_spec": error_of(self.model.get_cloud_spec),
            "missing_secret": error_of(lambda: self.model.get_secret(label="no-such-label")),
        }
        if leader:
            observed["app_status"] = [self.app.status.name, self.app.status.message]
        event.set_results({"observed": json.dumps(observed), "nested": {"depth": event.params["depth"]}})

    def _on_fail(self, event: ops.ActionEvent):
        event.log("about to fail")
        if event.params["crash"]:
            raise RuntimeError(event.params["message"])
        event.set_results({"partial": "yes"})
        event.fail(event.params["message"])

    def _on_owner_secrets(self, event: ops.ActionEvent):
        """One step per run: reads after writes in the same hook are not what this checks."""
        step = event.params["step"]
        observed = {"step": step}
        try:
            observed.update(getattr(self, f"_secrets_{step}")())
        except ops.ModelError as e:
            observed["error"] = f"{type(e).__name__}: {str(e).strip()}"
        event.set_results({"observed": json.dumps(observed)})

    def _secrets_create(self) -> dict:
        app_secret = self.app.add_secret(
            {"alpha": "one"},
            label=OWNER_LABEL,
            description="first",
            expire=datetime.timedelta(days=1),
            rotate=ops.SecretRotate.DAILY,
        )
        unit_secret = self.unit.add_secret({"beta": "b-one"}, label=UNIT_LABEL)
        return {"app_id": app_secret.id is not None, "unit_id": unit_secret.id is not None}

    def _secrets_update(self) -> dict:
        app_secret = self.model.get_secret(label=OWNER_LABEL)
        before = app_secret.get_content()
        info = app_secret.get_info()
        created = {
            "revision": info.revision,
            "rotation": info.rotation.value if info.rotation else None,
            "expires": info.expires is not None,
            "description": info.description,
        }
        app_secret.set_content({"alpha": "two"})
        app_secret.set_info(description="second")
        unit_secret = self.model.get_secret(label=UNIT_LABEL)
        unit_secret.set_content({"beta": "b-two"})
        return {"before": before, "created": created}

    def _secrets_inspect(self) -> dict:
        app_secret = self.model.get_secret(label=OWNER_LABEL)
        info = app_secret.get_info()
        out = {
            "info": {
                "label": info.label,
                "revision": info.revision,
                "rotation": info.rotation.value if info.rotation else None,
                "expires": info.expires is not None,
                "description": info.description,
            },
            "tracked": app_secret.get_content(),
            "peek": app_secret.peek_content(),
            "refreshed": app_secret.get_content(refresh=True),
            "unit_peek": self.model.get_secret(label=UNIT_LABEL).peek_content(),
            "owned": len(hookcmds.secret_ids()),
        }
        rel = self.model.get_relation("db")
        if rel is not None and rel.units:
            unit = sorted(rel.units, key=lambda u: u.name)[0]
            app_secret.grant(rel, unit=unit)
            app_secret.revoke(rel, unit=unit)
            out["granted_and_revoked"] = unit.name
        return out

    def _secrets_remove(self) -> dict:
        self.model.get_secret(label=OWNER_LABEL).remove_all_revisions()
        self.model.get_secret(label=UNIT_LABEL).remove_all_revisions()
        return {"removed": True}

    def _secrets_gone(self) -> dict:
        return {
            "app": error_of(lambda: self.model.get_secret(label=OWNER_LABEL)),
            "unit": error_of(lambda: self.model.get_secret(label=UNIT_LABEL)),
        }

    def _on_rotate(self, event: ops.ActionEvent):
        secret = self.model.get_secret(label=SHARED_LABEL)
        secret.set_content({"token": event.params["token"]})
        event.set_results({"done": "yes"})


if __name__ == "__main__":  # pragma: nocover
    ops.main(ProbeCharm, use_juju_for_storage=os.environ.get("PROBE_JUJU_STORAGE") == "1")
