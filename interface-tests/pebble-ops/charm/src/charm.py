#!/usr/bin/env python3
"""A sidecar charm that drives its `web` container through ops' Pebble client.

Every workload event appends one JSON document to `$JUJU_CHARM_DIR/observed.jsonl`; the
pebble-ops tests assert them. `PROBE_FLAG` (deploy env) names a host file: the `up` check passes
while it exists.
"""

import json
import os

import ops


class PebbleProbe(ops.CharmBase):
    def __init__(self, framework):
        super().__init__(framework)
        framework.observe(self.on.web_pebble_ready, self._on_ready)
        framework.observe(self.on.web_pebble_custom_notice, self._on_notice)
        framework.observe(self.on.web_pebble_check_failed, self._on_check)
        framework.observe(self.on.web_pebble_check_recovered, self._on_check)
        framework.observe(self.on.update_status, self._on_update_status)

    def _record(self, doc):
        with open(os.path.join(str(self.charm_dir), "observed.jsonl"), "a") as f:
            f.write(json.dumps(doc, sort_keys=True) + "\n")

    def _on_ready(self, event):
        c = event.workload
        flag = os.environ.get("PROBE_FLAG", "/nonexistent")
        layer = {
            "summary": "probe",
            "services": {
                "web": {
                    "override": "replace",
                    "command": "sleep 1000",
                    "startup": "enabled",
                    "environment": {"GREETING": "hello"},
                }
            },
            "checks": {
                "up": {
                    "override": "replace",
                    "period": "300ms",
                    "threshold": 1,
                    "exec": {"command": "test -f " + flag},
                }
            },
        }
        c.add_layer("probe", layer, combine=True)
        c.replan()
        c.push("/etc/web/config.yaml", "port: 8080\n", make_dirs=True, permissions=0o640)
        pulled = c.pull("/etc/web/config.yaml").read()
        listed = [
            [f.name, f.type.value, oct(f.permissions)] for f in c.list_files("/etc/web")
        ]
        proc = c.exec(
            ["sh", "-c", "cat etc/web/config.yaml; echo $GREETING; read x; echo got $x"],
            working_dir="/",
            environment={"GREETING": "hi"},
            stdin="line\n",
        )
        out, _err = proc.wait_output()
        try:
            c.exec(["sh", "-c", "echo oops >&2; exit 3"]).wait_output()
            failed = None
        except ops.pebble.ExecError as e:
            failed = {"exit_code": e.exit_code, "stderr": e.stderr}
        try:
            c.pull("/etc/web/missing.yaml")
            missing = None
        except ops.pebble.PathError as e:
            missing = e.kind
        self._record(
            {
                "event": "pebble-ready",
                "can_connect": c.can_connect(),
                "plan_command": c.get_plan().services["web"].command,
                "service": c.get_service("web").current.value,
                "pulled": pulled,
                "listed": listed,
                "exec_stdout": out,
                "exec_failed": failed,
                "missing_kind": missing,
            }
        )
        self.unit.status = ops.ActiveStatus("web running")

    def _on_notice(self, event):
        self._record(
            {
                "event": "custom-notice",
                "id": event.notice.id,
                "type": event.notice.type.value,
                "key": event.notice.key,
                # Beyond id/type/key ops fetches the notice: GET /v1/notices/<id>.
                "occurrences": event.notice.occurrences,
                "data": dict(event.notice.last_data),
            }
        )

    def _on_check(self, event):
        kind = (
            "check-failed"
            if isinstance(event, ops.PebbleCheckFailedEvent)
            else "check-recovered"
        )
        # event.info is lazy: GET /v1/checks?names=<name>.
        self._record(
            {
                "event": kind,
                "check": event.info.name,
                "status": event.info.status.value,
            }
        )

    def _on_update_status(self, event):
        c = self.unit.get_container("web")
        self._record({"event": "update-status", "can_connect": c.can_connect()})
        if not c.can_connect():
            self.unit.status = ops.WaitingStatus("waiting for Pebble")


if __name__ == "__main__":
    ops.main(PebbleProbe)
