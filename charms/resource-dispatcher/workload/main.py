#!/usr/bin/env python3
"""A stand-in for the resource-dispatcher image's `main.py`, for local runs (juju-local).

Same command line as upstream (`--port`, `--label`, `--folder`). It does not talk to Kubernetes:
it lists the manifest files under the folder every second (into `dispatcher.log` next to this
file) and answers `GET /healthz` on the port with the files it sees, as JSON. The container's `/`
is this file's directory (juju-local's Pebble runs services there), so the folder, a container
path, is read under it. A port already in use (several units on one host) only disables serving.
"""

import argparse
import http.server
import json
import os
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))


def files(folder):
    found = []
    for top, _dirs, names in os.walk(folder):
        for name in sorted(names):
            if name.endswith(".yaml"):
                found.append(os.path.relpath(os.path.join(top, name), folder))
    return sorted(found)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--label", required=True)
    parser.add_argument("--folder", required=True)
    args = parser.parse_args()
    folder = os.path.join(HERE, args.folder.lstrip("/"))

    class Health(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            body = json.dumps({"label": args.label, "files": files(folder)}).encode()
            self.send_response(200 if self.path == "/healthz" else 404)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *_):
            pass

    try:
        server = http.server.ThreadingHTTPServer(("127.0.0.1", args.port), Health)
        threading.Thread(target=server.serve_forever, daemon=True).start()
    except OSError as e:
        print(f"not serving on port {args.port}: {e}", flush=True)
    log = os.path.join(HERE, "dispatcher.log")
    last = None
    while True:
        now = files(folder)
        if now != last:
            with open(log, "a") as f:
                f.write(json.dumps({"label": args.label, "files": now}) + "\n")
            last = now
        time.sleep(1)


if __name__ == "__main__":
    main()
