#!/usr/bin/env bash
# KVM test of husk, the OCI runtime, driven as an engine drives runc: a
# container created, started, listed, signalled and deleted (nothing left
# behind), `husk run` with the workload's exit status, and refusals of bad
# input. Directory roots, so virtio-fs serves them. Skips (77) only where
# /dev/kvm does not exist.
set -euo pipefail
husk=${1:?usage: test_runtime.sh BUILD_DIR}/husk
rootfs=$1/guest/rootfs.dir
[ -e /dev/kvm ] || { echo "SKIP: /dev/kvm does not exist on this host"; exit 77; }

work=$(mktemp -d /tmp/husk-runtime-XXXXXX)
root=$work/state
cg=/husk-test-$$ # the host cgroup parent of c1's VM
cleanup() {
	for id in c1 c2; do "$husk" --root "$root" delete --force $id >/dev/null 2>&1 || true; done
	rmdir /sys/fs/cgroup$cg /sys/fs/cgroup/*$cg 2>/dev/null || true
	rm -rf "$work"
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
h() { "$husk" --root "$root" --log "$work/log.json" --log-format json "$@"; }

bundle() { # DIR ARGS-JSON [MORE-LINUX-JSON]
	mkdir -p "$1"
	cp -a "$rootfs" "$1/rootfs"
	cat >"$1/config.json" <<JSON
{"ociVersion": "1.0.2",
 "process": {"args": $2, "env": ["PATH=/bin"], "cwd": "/"},
 "root": {"path": "rootfs"}, "hostname": "husk-test",
 "annotations": {"org.husk.test": "yes"},
 "mounts": [{"destination": "/proc", "type": "proc", "source": "proc"}],
 "linux": {${3:-}"namespaces": [{"type": "pid"}, {"type": "mount"}, {"type": "network"}]}}
JSON
}

# --- bad input: runc-style messages, non-zero, nothing made ---------------
h state nope 2>"$work/e" && fail "state of an unknown id succeeded"
grep -q 'does not exist' "$work/e" || fail "state nope: $(cat "$work/e")"
h create --bundle "$work/none" x 2>/dev/null && fail "create without a bundle succeeded"
mkdir -p "$work/badjson" && echo '{"process":' >"$work/badjson/config.json"
h create --bundle "$work/badjson" x 2>/dev/null && fail "create with bad JSON succeeded"
grep -q '"level":"error"' "$work/log.json" || fail "no JSON error log"
[ -z "$(ls -A "$root" 2>/dev/null)" ] || fail "bad input left state behind: $(ls "$root")"

# --- create, start, state, kill, delete --------------------------------------
bundle "$work/b1" '["sh", "-c", "trap \"echo got TERM; exit 7\" TERM; echo up; i=0; while :; do i=$((i+1)); echo $i >/n; sleep 1; done"]' \
	"\"cgroupsPath\": \"$cg/c1\", \"resources\": {\"memory\": {\"limit\": 201326592}, \"cpu\": {\"shares\": 512}}, "
h create --bundle "$work/b1" --pid-file "$work/pid" c1 >"$work/out" 2>"$work/err"
# the VM is in the cgroup the engine asked for, in every hierarchy, with the VM's memory bound
while IFS=: read -r _ ctl path; do
	[ "$path" = "$cg/c1" ] || fail "husk-vmm in cgroup $ctl:$path, not $cg/c1"
	case $ctl in *memory*) mem=$(cat "/sys/fs/cgroup/memory$cg/c1/memory.limit_in_bytes") ;; "")
		[ -e "/sys/fs/cgroup$cg/c1/memory.max" ] && mem=$(cat "/sys/fs/cgroup$cg/c1/memory.max") ;;
	esac
done <"/proc/$(cat "$work/pid")/cgroup"
# 192 MiB asked: a VM of 192 + 32 MiB, and 64 MiB for husk-vmm and virtiofsd
[ "${mem:-}" = $(((192 + 32 + 64) << 20)) ] || fail "host memory limit ${mem:-none}"
[ "$(h state c1 | sed -n 's/.*"status": "\(.*\)".*/\1/p')" = created ] || fail "not created"
[ "$(h state c1 | sed -n 's/.*"pid": \([0-9]*\).*/\1/p')" = "$(cat "$work/pid")" ] || fail "pid"
h state c1 | grep -q '"org.husk.test": "yes"' || fail "state: the bundle's annotations"
h create --bundle "$work/b1" c1 2>/dev/null && fail "a duplicate id was accepted"
h start c1
h list | grep -q '^c1 .* running' || fail "list: $(h list)"
for _ in $(seq 60); do grep -q up "$work/out" && break; sleep 1; done
# ps: the guest's processes; the host PID that stands for them
h ps c1 | grep -q 'sh -c trap' || fail "ps: $(h ps c1)"
[ "$(h ps --format json c1)" = "[$(cat "$work/pid")]" ] || fail "ps json: $(h ps --format json c1)"
# pause stops the guest (its counter stands still), resume lets it run on
h pause c1
[ "$(h state c1 | sed -n 's/.*"status": "\(.*\)".*/\1/p')" = paused ] || fail "not paused"
h kill c1 TERM 2>/dev/null && fail "a paused container took SIGTERM"
n1=$(cat "$work/b1/rootfs/n"); sleep 3; n2=$(cat "$work/b1/rootfs/n")
[ "$n1" = "$n2" ] || fail "the guest ran on while paused: $n1 -> $n2"
h resume c1
for _ in $(seq 30); do [ "$(cat "$work/b1/rootfs/n")" != "$n2" ] && break; sleep 1; done
[ "$(cat "$work/b1/rootfs/n")" != "$n2" ] || fail "the guest did not run on after resume"
h resume c1 2>/dev/null && fail "resume of a running container succeeded"
# update: limits inside the VM and on its host cgroup; what the VM cannot do is refused
h update --memory 64M --pids-limit 50 c1
h update --memory 1G c1 2>"$work/e" && fail "a memory limit beyond the VM's RAM was taken"
grep -q 'fixed when it is created' "$work/e" || fail "update: $(cat "$work/e")"
echo '{"cpu": {"quota": 50000, "period": 100000}}' | h update --resources - c1
for f in "/sys/fs/cgroup/cpu$cg/c1/cpu.cfs_quota_us" "/sys/fs/cgroup$cg/c1/cpu.max"; do
	[ -e "$f" ] && { grep -q '^50000' "$f" || fail "$f: $(cat "$f")"; }
done
h delete c1 2>/dev/null && fail "a running container was deleted without --force"
h kill c1 SIGTERM
for _ in $(seq 60); do h state c1 | grep -q '"stopped"' && break; sleep 1; done
h state c1 | grep -q '"stopped"' || fail "SIGTERM did not end the workload"
[ "$(cat "$work/out")" = "$(printf 'up\ngot TERM')" ] || fail "stdout: $(cat "$work/out")"
h delete c1
[ ! -e "$root/c1" ] || fail "delete left $root/c1"
pid=$(cat "$work/pid")
[ ! -e "/proc/$pid" ] || fail "husk-vmm $pid outlived delete"
for d in /sys/fs/cgroup$cg /sys/fs/cgroup/*$cg; do
	[ ! -e "$d/c1" ] || fail "delete left the cgroup $d/c1"
done

# --- run: the workload's exit status -------------------------------------------
# nothing is lost when the workload writes a lot and exits at once
bundle "$work/b2" '["sh", "-c", "echo hello from $(hostname); seq 1 100000; exit 3"]'
set +e
h run --bundle "$work/b2" c2 >"$work/out2" 2>"$work/err2" </dev/null
status=$?
set -e
[ "$status" = 3 ] || fail "run: status $status: $(cat "$work/err2")"
[ "$(head -1 "$work/out2")" = "hello from husk-test" ] || fail "run: stdout $(head -3 "$work/out2")"
[ "$(tail -n +2 "$work/out2" | md5sum)" = "$(seq 1 100000 | md5sum)" ] ||
	fail "run: stdout lost bytes: $(wc -lc <"$work/out2"), ends $(tail -c 20 "$work/out2")"
[ ! -e "$root/c2" ] || fail "run left $root/c2"
echo "PASS"
