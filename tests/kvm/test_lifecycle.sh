#!/usr/bin/env bash
# KVM test: 20 containers in a row through husk's create, start, kill and
# delete, as an engine drives them (at most two booting at once), each one's
# state checked at every step: created, running (its workload's output
# seen), stopped after the kill (SIGTERM to a trapped workload, or SIGKILL),
# gone after delete. Afterwards nothing of theirs is left: no husk-vmm or
# virtiofsd, no mount, no Unix socket, no extra descriptor in this shell, an
# empty state root, no new /tmp/husk-binds-* or /tmp/husk-vmm-* directory.
# Each bundle bind-mounts a host file, so each VMM stages binds too. Prints
# the total time. Skips (77) only where /dev/kvm does not exist.
set -euo pipefail
build=$(cd "${1:?usage: test_lifecycle.sh BUILD_DIR}" && pwd)
husk=$build/husk
rootfs=$build/guest/rootfs.dir
count=20
[ -e /dev/kvm ] || { echo "SKIP: /dev/kvm does not exist on this host"; exit 77; }

# this shell's descriptors below 10 (bash keeps its own, saved copies and
# the like, at 10 and above, and may hold one for a while after a job ends)
shell_fds() { ls /proc/$$/fd | awk '$1 < 10' | sort -n | tr '\n' ' '; }
fds_before=$(shell_fds)
tmp_before=$(ls -d /tmp/husk-binds-* /tmp/husk-vmm-* 2>/dev/null | sort || true)
work=$(mktemp -d /tmp/husk-lifecycle-XXXXXX)
root=$work/state
trap 'for i in $(seq $count); do "$husk" --root "$root" delete --force c$i >/dev/null 2>&1 || true; done; rm -rf "$work"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
h() { "$husk" --root "$root" "$@"; }
status_of() { h state "$1" | sed -n 's/.*"status": "\([a-z]*\)".*/\1/p'; }
echo "bound from the host" >"$work/hostfile"

bundle() { # DIR
	mkdir -p "$1"
	cp -a "$rootfs" "$1/rootfs"
	cat >"$1/config.json" <<JSON
{"ociVersion": "1.0.2",
 "process": {"args": ["sh", "-c", "trap \"echo got TERM; exit 0\" TERM; cat /etc/hostfile; echo up; while :; do sleep 1; done"],
             "env": ["PATH=/bin"], "cwd": "/"},
 "root": {"path": "rootfs"}, "hostname": "husk-lifecycle",
 "mounts": [{"destination": "/proc", "type": "proc", "source": "proc"},
            {"destination": "/etc/hostfile", "type": "bind", "source": "$work/hostfile",
             "options": ["rbind", "ro"]}],
 "linux": {"namespaces": [{"type": "pid"}, {"type": "mount"}, {"type": "network"}]}}
JSON
}

# One container's life, every transition checked. Odd ones get SIGTERM, even ones SIGKILL.
life() { # N
	local id=c$1 b=$work/b$1 sig=TERM expect
	bundle "$b"
	h create --bundle "$b" --pid-file "$b/pid" $id >"$b/out" 2>"$b/err" </dev/null ||
		fail "$id: create: $(cat "$b/err")"
	local pid
	pid=$(cat "$b/pid")
	[ "$(status_of $id)" = created ] || fail "$id: not created: $(h state $id)"
	[ "$(h state $id | sed -n 's/.*"pid": \([0-9]*\).*/\1/p')" = "$pid" ] || fail "$id: pid"
	grep -qsaP -- "--id\x00$id\x00" "/proc/$pid/cmdline" || fail "$id: $pid is not its husk-vmm"
	# the VMM stages the bind in the state directory, in its own mount namespace
	grep -q " $root/$id/binds/0 " "/proc/$pid/mounts" || fail "$id: the bind is not staged"
	h start $id 2>"$b/err" || fail "$id: start: $(cat "$b/err")"
	[ "$(status_of $id)" = running ] || fail "$id: not running after start: $(h state $id)"
	# waits of up to 300 s: where guest kernels run emulated (kvm_pvm) on a loaded
	# host, a guest takes minutes to start its workload, or to end after it
	for _ in $(seq 600); do grep -q '^up$' "$b/out" && break; sleep 0.5; done
	expect=$(printf 'bound from the host\nup')
	[ "$(cat "$b/out")" = "$expect" ] || fail "$id: stdout: $(cat "$b/out")"
	[ $(($1 % 2)) = 1 ] || sig=KILL
	h kill $id $sig || fail "$id: kill $sig"
	for _ in $(seq 600); do [ "$(status_of $id)" = stopped ] && break; sleep 0.5; done
	[ "$(status_of $id)" = stopped ] || fail "$id: not stopped after SIG$sig: $(h state $id)"
	[ $sig = KILL ] || expect=$(printf '%s\ngot TERM' "$expect")
	[ "$(cat "$b/out")" = "$expect" ] || fail "$id: stdout after SIG$sig: $(cat "$b/out")"
	h delete $id || fail "$id: delete"
	[ ! -e "$root/$id" ] || fail "$id: delete left $root/$id"
	h state $id >/dev/null 2>&1 && fail "$id: state after delete"
	[ ! -e "/proc/$pid" ] || fail "$id: husk-vmm $pid outlived delete"
	rm -rf "$b"
	echo "$id: created, running, stopped by SIG$sig, deleted"
}

# Two lanes, each a sequence of whole lives: at most two VMs boot at once.
start=$(date +%s)
lane() { for ((i = $1; i <= count; i += 2)); do life $i; done; }
lane 1 &
l1=$!
lane 2 &
l2=$!
ok=1
wait $l1 || ok=0
wait $l2 || ok=0
[ $ok = 1 ] || fail "a container's life went wrong (above)"
total=$(($(date +%s) - start))

# --- nothing left ----------------------------------------------------------------
for _ in $(seq 20); do # the last VMMs' virtiofsd end with them
	grep -qs -- "$work" /proc/[0-9]*/cmdline || break
	sleep 0.5
done
left=$(grep -ls -- "$work" /proc/[0-9]*/cmdline || true)
[ -z "$left" ] || fail "processes left: $(for f in $left; do tr '\0' ' ' <"$f"; echo; done)"
! grep -q "$work" /proc/mounts || fail "mounts left: $(grep "$work" /proc/mounts)"
[ -z "$(find "$root" -type s)" ] || fail "sockets left: $(find "$root" -type s)"
! grep -q "$work" /proc/net/unix || fail "sockets left: $(grep "$work" /proc/net/unix)"
[ -z "$(ls -A "$root")" ] || fail "the state root is not empty: $(ls -A "$root")"
[ "$(shell_fds)" = "$fds_before" ] ||
	fail "this shell's fds: $(shell_fds), not $fds_before: $(ls -l /proc/$$/fd)"
# husk-vmm's own temporary directories: a new one that no live process mounts or
# names is one this test left
for d in $(comm -13 <(echo "$tmp_before") <(ls -d /tmp/husk-binds-* /tmp/husk-vmm-* 2>/dev/null | sort)); do
	sleep 1 # a VMM that is ending removes its own
	[ -e "$d" ] || continue
	grep -qs -- "$d" /proc/[0-9]*/mounts /proc/[0-9]*/cmdline || fail "$d left behind"
done
echo "PASS: $count containers in ${total} s"
