#!/usr/bin/env bash
# KVM test of husk-vmm's seccomp filters (vmm/seccomp/). A running VMM has
# every thread filtered (/proc/PID/task/*/status: Seccomp 2, at least one
# filter) and still ends cleanly on SIGTERM (the teardown runs under the main
# thread's filter). A forbidden call, forced in each thread class with the
# test hook HUSK_TEST_FORBIDDEN_SYSCALL, ends the VMM with status 159 and one
# line naming the class and the call, on stderr and in the console log.
# --no-seccomp leaves the threads unfiltered. No guest needs to boot: each
# VMM is checked or ends within seconds of its start.
# Skips (77) only where /dev/kvm does not exist.
set -euo pipefail
b=${1:?usage: test_seccomp.sh BUILD_DIR}
vmm=$b/husk-vmm
kernel=$b/guest/vmlinux
initrd=$b/guest/initramfs.cpio
[ -e /dev/kvm ] || { echo "SKIP: /dev/kvm does not exist on this host"; exit 77; }

work=$(mktemp -d /tmp/husk-seccomp-XXXXXX)
pid=
trap '[ -z "$pid" ] || kill -KILL "$pid" 2>/dev/null || true; rm -rf "$work"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
vm=("$vmm" --kernel "$kernel" --initrd "$initrd" --cmdline quiet --console "$work/console")

# a container's VM: --spec with a directory root and a control socket; its
# vsock socket in the work directory, as husk puts it in its state directory
# (a VMM that a report ends cleans up nothing)
mkdir -p "$work/b"
ln -s "$(cd "$b/guest/rootfs.dir" && pwd)" "$work/b/rootfs"
cat >"$work/b/config.json" <<'JSON'
{"ociVersion": "1.0.2", "process": {"args": ["/bin/true"], "env": ["PATH=/bin"], "cwd": "/"},
 "root": {"path": "rootfs"}, "linux": {"namespaces": [{"type": "mount"}]}}
JSON
spec=(--spec "$work/b/config.json" --id s1 --control "$work/ctl.sock" --vsock-uds "$work/v.sock"
	--no-template)

# --- a running VMM: every thread filtered, SIGTERM still ends it cleanly ------
"${vm[@]}" >"$work/out" 2>&1 &
pid=$!
for _ in $(seq 600); do
	grep -q '^Seccomp:[[:space:]]*2$' /proc/$pid/status 2>/dev/null && break
	sleep 0.1
done
grep -q '^Seccomp:[[:space:]]*2$' /proc/$pid/status ||
	fail "the main thread has no filter: $(grep Seccomp /proc/$pid/status || true) $(cat "$work/out")"
n=$(sed -n 's/^Seccomp_filters:[[:space:]]*//p' /proc/$pid/status)
[ "${n:-0}" -ge 1 ] || fail "Seccomp_filters: '$n'"
classes=
for t in /proc/$pid/task/*; do
	name=$(cat "$t/comm")
	case $name in husk-*) ;; *) continue ;; esac # kvm's own kernel threads
	grep -q '^Seccomp:[[:space:]]*2$' "$t/status" || fail "thread $name has no filter"
	classes="$classes $name"
done
[[ $classes == *husk-vcpu* && $classes == *husk-event* ]] || fail "threads:$classes"
kill -TERM $pid
st=0
wait $pid || st=$?
pid=
[ "$st" = 143 ] || fail "SIGTERM: status $st, not 143: $(cat "$work/out")"
! grep -q "forbidden" "$work/out" || fail "the teardown broke a filter: $(cat "$work/out")"

# --- a forbidden call in each class: status 159 and the line ------------------
forbidden() { # CLASS [husk-vmm OPTIONS...]
	local class=$1 st=0 line
	shift
	rm -f "$work/console"
	HUSK_TEST_FORBIDDEN_SYSCALL=$class timeout 120 "${vm[@]}" "$@" >"$work/out" 2>"$work/err" ||
		st=$?
	[ "$st" = 159 ] || fail "$class: status $st, not 159: $(cat "$work/err")"
	line="husk-vmm: seccomp: the $class thread made a forbidden system call: 135 (personality); the VMM ends"
	grep -qxF "$line" "$work/err" || fail "$class: not on stderr: $(cat "$work/err")"
	[ "$class" = setup ] || grep -qxF "$line" "$work/console" ||
		fail "$class: not in the console log: $(cat "$work/console")"
}
forbidden setup
forbidden vcpu
forbidden event
forbidden main
forbidden runner "${spec[@]}"
forbidden control "${spec[@]}"

# --- --no-seccomp: no filter, the hook's call is let through ------------------
HUSK_TEST_FORBIDDEN_SYSCALL=vcpu "${vm[@]}" --no-seccomp >"$work/out" 2>&1 &
pid=$!
sleep 2
grep -q '^Seccomp:[[:space:]]*0$' /proc/$pid/status || fail "--no-seccomp: $(grep Seccomp /proc/$pid/status)"
kill -TERM $pid
st=0
wait $pid || st=$?
pid=
[ "$st" = 143 ] || fail "--no-seccomp: status $st, not 143: $(cat "$work/out")"
echo "PASS: seccomp"
