#!/usr/bin/env bash
# containerd's runc shim driving husk (ctr run --runc-binary), with its own
# containerd started by the test and an image imported from a tarball (no
# registry): uname -r shows the guest's kernel and 42 is computed inside;
# exit 3 is ctr's exit status 3; task exec in a running task (output and
# exit status, through the shim's exec --detach --pid-file); run -t on a
# terminal (script(1)), the shim taking the pty over --console-socket;
# nothing is left behind. Networking: `ctr run --cni` (Podman's CNI network,
# set up after create and before start) reaches the host's server. Skips (77) only
# where /dev/kvm does not exist.
set -euo pipefail
build=$(cd "${1:?usage: test_containerd.sh BUILD_DIR}" && pwd)
husk=$build/husk
[ -e /dev/kvm ] || { echo "SKIP: /dev/kvm does not exist on this host"; exit 77; }
command -v containerd >/dev/null || { echo "FAIL: containerd is not installed" >&2; exit 1; }

work=$(mktemp -d /tmp/husk-ctrd-XXXXXX)
sock=$work/containerd.sock
fail() { echo "FAIL: $*" >&2; exit 1; }
c() { ctr --address "$sock" "$@"; }
t3=t3-$$ # the shim's state root is shared with other containerds
cleanup() {
	if [ -n "${pid:-}" ] && c task ls -q 2>/dev/null | grep -qx "$t3"; then
		c task kill -s SIGKILL "$t3" >/dev/null 2>&1
		sleep 2
		c task delete -f "$t3" >/dev/null 2>&1
		c container delete "$t3" >/dev/null 2>&1
	fi
	[ -n "${pid:-}" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
	[ -z "${srv:-}" ] || kill "$srv" 2>/dev/null || true
	rm -rf "$work"
}
trap cleanup EXIT

# a containerd of our own: state, content and socket in $work, stopped by its PID
setsid containerd --root "$work/root" --state "$work/state" --address "$sock" \
	>"$work/containerd.log" 2>&1 &
pid=$!
for _ in $(seq 100); do [ -S "$sock" ] && c version >/dev/null 2>&1 && break; sleep 0.1; done
c version >/dev/null || fail "containerd did not start: $(tail -5 "$work/containerd.log")"

tar -C "$build/guest/rootfs.dir" -cf "$work/rootfs.tar" .
# a docker-archive is what ctr imports: one layer and a config, made by hand
python3 "$(dirname "$0")/mkimage.py" "$work/rootfs.tar" localhost/husk-test-bb:latest "$work/image.tar"
c image import "$work/image.tar" >/dev/null || fail "image import"
img=localhost/husk-test-bb:latest
run() { c run --rm --runtime io.containerd.runc.v2 --runc-binary "$husk" "$@"; }

# host networking: refused by husk before any VM, in its words
run --net-host $img t0 true >/dev/null 2>"$work/e" </dev/null && fail "run --net-host succeeded"
grep -q 'host networking is not possible' "$work/e" || fail "run --net-host: $(cat "$work/e")"

out=$(run $img t1 sh -c 'uname -r; echo $((6*7))' </dev/null)
[ "$(echo "$out" | tail -1)" = 42 ] || fail "run: $out"
echo "$out" | head -1 | grep -q '^6\.1\.' || fail "not the guest kernel: $out"
[ "$(echo "$out" | head -1)" != "$(uname -r)" ] || fail "uname -r is the host's"

set +e
run $img t2 sh -c 'exit 3' </dev/null
status=$?
set -e
[ "$status" = 3 ] || fail "exit 3 gave $status"

c run -d --runtime io.containerd.runc.v2 --runc-binary "$husk" $img "$t3" \
	sh -c 'touch /tmp/up; while :; do sleep 1; done' </dev/null >/dev/null
# the exec needs the workload running: wait for the task's state and the
# workload's own mark, not for a time
for _ in $(seq 60); do
	c task ls | grep -q "^$t3 .*RUNNING" && c task exec --exec-id up "$t3" test -e /tmp/up \
		</dev/null >/dev/null 2>&1 && break
	sleep 1
done
c task ls | grep -q "^$t3 .*RUNNING" || fail "task $t3 is not running: $(c task ls)"
set +e
out=$(c task exec --exec-id e1 "$t3" sh -c 'echo hi from $(uname -r); exit 5' </dev/null)
status=$?
set -e
[ "$status" = 5 ] || fail "task exec: status $status: $out"
echo "$out" | grep -q '^hi from 6\.1\.' || fail "task exec: $out"
c task kill -s SIGKILL "$t3"
for _ in $(seq 60); do c task ls | grep -q "^$t3 .*STOPPED" && break; sleep 1; done
c task delete "$t3" >/dev/null
c container delete "$t3"

# run -t on a terminal: the shim gets the pty's master over --console-socket
set +e
script -qec "ctr --address '$sock' run -t --rm --runtime io.containerd.runc.v2 \
	--runc-binary '$husk' $img t4-$$ sh -c 'tty; uname -r; exit 6'" /dev/null </dev/null >"$work/t4.out"
status=$?
set -e
# script(1) sends its end of input as a NUL, which the guest's tty echoes as ^@
tr -d '\r' <"$work/t4.out" | sed 's/\^@//g' >"$work/t4.txt"
[ "$status" = 6 ] || fail "run -t: status $status: $(cat "$work/t4.txt")"
grep -q '^/dev/pts/0$' "$work/t4.txt" || fail "run -t: no terminal: $(cat "$work/t4.txt")"
grep -q '^6\.1\.' "$work/t4.txt" || fail "run -t: not the guest kernel: $(cat "$work/t4.txt")"
# ctr run --cni: an empty namespace at create, CNI's veth in it before start
[ -x /opt/cni/bin/bridge ] || fail "no CNI plugins in /opt/cni/bin (scripts/lib.sh links them)"
conf=/etc/cni/net.d/87-podman-bridge.conflist
gw=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["plugins"][0]["ipam"]["ranges"][0][0]["gateway"])' $conf) ||
	fail "no gateway in $conf"
mkdir "$work/www"
echo hello-from-host >"$work/www/index.html"
hport=$((20000 + $$ % 10000))
python3 -m http.server --directory "$work/www" --bind 0.0.0.0 $hport >/dev/null 2>&1 &
srv=$!
out=$(run --cni $img t5-$$ sh -c "ip -o -4 addr show dev eth0; wget -qO- http://$gw:$hport/" </dev/null) ||
	fail "run --cni: $out"
echo "$out" | grep -q "inet ${gw%.*}\." || fail "run --cni: eth0 has no address of CNI's network: $out"
echo "$out" | grep -q '^hello-from-host$' || fail "run --cni: the host's server: $out"
kill "$srv"
srv=
[ -z "$(c containers ls -q)" ] || fail "containers left: $(c containers ls -q)"
! grep -qsaP -- "--id\x00(t[12]|$t3|t[45]-$$)\x00" /proc/[0-9]*/cmdline || fail "a husk-vmm is still running"
echo PASS
