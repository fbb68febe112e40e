//! Contract tests of the `hello-storage` sample charm through juju-local (see `tests/`).
