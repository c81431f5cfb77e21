#!/usr/bin/env bash
# KVM test of husk, the OCI runtime, driven as an engine drives runc: a
# container created, started, listed, signalled and deleted (nothing left
# behind), `husk run` with the workload's exit status, and refusals of bad
# input (a forced delete of an unknown id succeeds, as with runc); a VMM
# killed outright leaves nothing after delete (its bind staging included).
# Directory roots, so virtio-fs serves them. Skips (77) only where /dev/kvm
# does not exist.
set -euo pipefail
husk=${1:?usage: test_runtime.sh BUILD_DIR}/husk
rootfs=$1/guest/rootfs.dir
[ -e /dev/kvm ] || { echo "SKIP: /dev/kvm does not exist on this host"; exit 77; }

work=$(mktemp -d /tmp/husk-runtime-XXXXXX)
root=$work/state
trap 'for id in c1 c2 c3; do "$husk" --root "$root" delete --force $id >/dev/null 2>&1 || true; done; rm -rf "$work"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
h() { "$husk" --root "$root" --log "$work/log.json" --log-format json "$@"; }

bundle() { # DIR ARGS-JSON [MORE-MOUNTS-JSON]
	mkdir -p "$1"
	cp -a "$rootfs" "$1/rootfs"
	cat >"$1/config.json" <<JSON
{"ociVersion": "1.0.2",
 "process": {"args": $2, "env": ["PATH=/bin"], "cwd": "/"},
 "root": {"path": "rootfs"}, "hostname": "husk-test",
 "mounts": [{"destination": "/proc", "type": "proc", "source": "proc"}${3:+, $3}],
 "linux": {"namespaces": [{"type": "pid"}, {"type": "mount"}, {"type": "network"}]}}
JSON
}

# --- bad input: runc-style messages, non-zero, nothing made ---------------
h state nope 2>"$work/e" && fail "state of an unknown id succeeded"
grep -q 'does not exist' "$work/e" || fail "state nope: $(cat "$work/e")"
h delete nope 2>/dev/null && fail "delete of an unknown id succeeded"
# containerd's shim follows every delete with delete --force: as runc, that succeeds
h delete --force nope 2>"$work/e" || fail "delete --force of an unknown id: $(cat "$work/e")"
[ ! -s "$work/e" ] || fail "delete --force of an unknown id said: $(cat "$work/e")"
h create --bundle "$work/none" x 2>/dev/null && fail "create without a bundle succeeded"
mkdir -p "$work/badjson" && echo '{"process":' >"$work/badjson/config.json"
h create --bundle "$work/badjson" x 2>/dev/null && fail "create with bad JSON succeeded"
grep -q '"level":"error"' "$work/log.json" || fail "no JSON error log"
[ -z "$(ls -A "$root" 2>/dev/null)" ] || fail "bad input left state behind: $(ls "$root")"

# --- create, start, state, kill, delete --------------------------------------
bundle "$work/b1" '["sh", "-c", "trap \"echo got TERM; exit 7\" TERM; echo up; while :; do sleep 1; done"]'
h create --bundle "$work/b1" --pid-file "$work/pid" c1 >"$work/out" 2>"$work/err"
[ "$(h state c1 | sed -n 's/.*"status": "\(.*\)".*/\1/p')" = created ] || fail "not created"
[ "$(h state c1 | sed -n 's/.*"pid": \([0-9]*\).*/\1/p')" = "$(cat "$work/pid")" ] || fail "pid"
h create --bundle "$work/b1" c1 2>/dev/null && fail "a duplicate id was accepted"
h start c1
h list | grep -q '^c1 .* running' || fail "list: $(h list)"
for _ in $(seq 60); do grep -q up "$work/out" && break; sleep 1; done
h delete c1 2>/dev/null && fail "a running container was deleted without --force"
h kill c1 SIGTERM
for _ in $(seq 60); do h state c1 | grep -q '"stopped"' && break; sleep 1; done
h state c1 | grep -q '"stopped"' || fail "SIGTERM did not end the workload"
[ "$(cat "$work/out")" = "$(printf 'up\ngot TERM')" ] || fail "stdout: $(cat "$work/out")"
h delete c1
[ ! -e "$root/c1" ] || fail "delete left $root/c1"
pid=$(cat "$work/pid")
[ ! -e "/proc/$pid" ] || fail "husk-vmm $pid outlived delete"

# --- run: the workload's exit status -------------------------------------------
bundle "$work/b2" '["sh", "-c", "echo hello from $(hostname); exit 3"]'
set +e
h run --bundle "$work/b2" c2 >"$work/out2" 2>"$work/err2" </dev/null
status=$?
set -e
[ "$status" = 3 ] || fail "run: status $status: $(cat "$work/err2")"
[ "$(cat "$work/out2")" = "hello from husk-test" ] || fail "run: stdout $(cat "$work/out2")"
[ ! -e "$root/c2" ] || fail "run left $root/c2"

# --- a VMM killed outright (as Docker does when a container outlives its kill) --
echo "from the host" >"$work/hostfile"
bundle "$work/b3" '["sh", "-c", "cat /etc/hostfile; while :; do sleep 1; done"]' \
	"{\"destination\": \"/etc/hostfile\", \"type\": \"bind\", \"source\": \"$work/hostfile\", \"options\": [\"rbind\", \"ro\"]}"
h create --bundle "$work/b3" --pid-file "$work/pid3" c3 >"$work/out3" 2>"$work/err3" </dev/null
pid3=$(cat "$work/pid3")
# the host's binds are staged in the container's state directory, in the VMM's mount namespace
grep -q " $root/c3/binds/0 " "/proc/$pid3/mounts" || fail "the bind is not staged under $root/c3"
h start c3
for _ in $(seq 60); do grep -q 'from the host' "$work/out3" && break; sleep 1; done
[ "$(cat "$work/out3")" = "from the host" ] || fail "bind mount: $(cat "$work/out3")"
kill -KILL "$pid3"
for _ in $(seq 60); do h state c3 | grep -q '"stopped"' && break; sleep 0.5; done
h state c3 | grep -q '"stopped"' || fail "a killed VMM is not stopped: $(h state c3)"
h delete c3
[ ! -e "$root/c3" ] || fail "delete after a killed VMM left: $(ls -AR "$root/c3")"
echo "PASS"
