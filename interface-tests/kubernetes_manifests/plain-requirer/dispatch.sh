#!/bin/sh
# plain-requirer: the LIBPATCH 1 form of the kubernetes_manifest interface, with nothing but hook
# tools. On config-changed, leader-elected and config-maps-relation-created the leader writes its
# `manifests-json` option, unchanged, into every config-maps relation's application bag (and
# `is-secret` into is_secret, when set). Other hooks do nothing. The tests copy this file to a
# charm directory as `dispatch` and make it executable.
set -eu
hook=${JUJU_DISPATCH_PATH#hooks/}
case "$hook" in
  config-changed | leader-elected | config-maps-relation-created) ;;
  *) exit 0 ;;
esac
if [ "$(is-leader --format=json)" != "true" ]; then
  status-set active "follower"
  exit 0
fi
manifests=$(config-get manifests-json)
is_secret=$(config-get is-secret)
relations=$(relation-ids config-maps)
if [ "$hook" = config-maps-relation-created ]; then
  relations="$JUJU_RELATION_ID"
fi
for rel in $relations; do
  relation-set -r "$rel" --app "kubernetes_manifests=$manifests" "is_secret=$is_secret"
done
status-set active "sent on: $(echo $relations)"
