#!/usr/bin/env bash
# Docker driving husk as a runtime added with `dockerd --add-runtime`, through
# a containerd and a dockerd of the test's own (private roots, sockets and
# pidfile) and an image loaded from a hand-made docker-archive (no registry):
# uname -r shows the guest's kernel and 42 is computed inside; exit 3 is
# docker's exit status 3; run -d, logs, stop (SIGTERM reaches a trapped
# workload), rm. Then nothing is left: no husk-vmm, no state under the
# runtime root Docker gives husk, no daemon, no mount, no directory of the
# test's. Skips (77) only where /dev/kvm does not exist.
# Networking: Docker's default bridge (iptables on) reaches the VM through the
# prestart hook: eth0 has docker's address and MAC, the host's server on the
# gateway answers, -p publishes the guest's httpd; --network host is refused.
set -euo pipefail
build=$(cd "${1:?usage: test_docker.sh BUILD_DIR}" && pwd)
husk=$build/husk
[ -e /dev/kvm ] || { echo "SKIP: /dev/kvm does not exist on this host"; exit 77; }
# Debian's client and daemon (/usr/local/bin/docker, where present, is another client)
docker=/usr/bin/docker dockerd=/usr/sbin/dockerd
[ -x $docker ] && [ -x $dockerd ] || { echo "FAIL: docker.io is not installed" >&2; exit 1; }
command -v containerd >/dev/null || { echo "FAIL: containerd is not installed" >&2; exit 1; }

work=$(mktemp -d /tmp/husk-docker-XXXXXX)
img=localhost/husk-docker-bb-$$:latest
name=husk-docker-$$
fail() { echo "FAIL: $*" >&2; exit 1; }
d() { $docker -H "unix://$work/docker.sock" "$@"; }
# dockerd makes /run/docker/plugins, whatever its exec root: ours to remove if it was not there
had_run_docker=$([ -e /run/docker ] && echo 1 || echo 0)
# dockerd's bridge and iptables rules: ours to remove if there was no docker0
had_docker0=$([ -e /sys/class/net/docker0 ] && echo 1 || echo 0)
net=husk-docker-net-$$

# Take out what dockerd put in iptables (its chains and the rules that use them or docker0).
docker_iptables_undo() {
	local table line
	for table in nat filter; do
		iptables -t $table -S | grep -E 'DOCKER|docker0' | grep '^-A' | sed 's/^-A/-D/' |
			while read -r line; do eval "iptables -t $table $line" 2>/dev/null || true; done
		iptables -t $table -S | awk '/^-N DOCKER/ {print $2}' |
			while read -r line; do iptables -t $table -X "$line" 2>/dev/null || true; done
	done
}

stop_daemon() { # PID: SIGTERM, then wait for it (our child)
	[ -n "$1" ] && kill "$1" 2>/dev/null || return 0
	wait "$1" 2>/dev/null || true
}
cleanup() {
	d rm -f $name $net >/dev/null 2>&1 || true
	[ -z "${srv:-}" ] || kill "$srv" 2>/dev/null || true
	stop_daemon "${dockerd_pid:-}"
	stop_daemon "${ctrd_pid:-}"
	grep -o " $work[^ ]*" /proc/mounts | sort -r | xargs -r -n1 umount -l 2>/dev/null || true
	rm -rf "$work"
	[ "$had_run_docker" = 1 ] || rmdir /run/docker/plugins /run/docker 2>/dev/null || true
	if [ "$had_docker0" = 0 ]; then
		ip link del docker0 2>/dev/null || true
		docker_iptables_undo
	fi
}
trap cleanup EXIT

# --- the daemons, each with its own state, stopped by their PIDs ---------------
setsid containerd --root "$work/containerd" --state "$work/containerd-state" \
	--address "$work/containerd.sock" >"$work/containerd.log" 2>&1 &
ctrd_pid=$!
for _ in $(seq 100); do [ -S "$work/containerd.sock" ] && break; sleep 0.1; done
# a config of its own: no /etc/docker/daemon.json, the trust key in $work
echo "{\"deprecated-key-path\": \"$work/key.json\"}" >"$work/daemon.json"
setsid $dockerd --config-file "$work/daemon.json" --containerd "$work/containerd.sock" \
	--data-root "$work/data" --exec-root "$work/exec" --pidfile "$work/dockerd.pid" \
	-H "unix://$work/docker.sock" --add-runtime husk="$husk" >"$work/dockerd.log" 2>&1 &
dockerd_pid=$!
for _ in $(seq 300); do d version >/dev/null 2>&1 && break; sleep 0.1; done
d version >/dev/null 2>&1 || fail "dockerd did not start: $(tail -5 "$work/dockerd.log")"
[ "$(cat "$work/dockerd.pid")" = "$dockerd_pid" ] || fail "dockerd's pidfile is not our PID"
d info --format '{{json .Runtimes}}' | grep -q "\"husk\":{\"path\":\"$husk\"" ||
	fail "husk is not among dockerd's runtimes: $(d info --format '{{json .Runtimes}}')"

tar -C "$build/guest/rootfs.dir" -cf "$work/rootfs.tar" .
python3 "$(dirname "$0")/mkimage.py" "$work/rootfs.tar" $img "$work/image.tar"
d load -i "$work/image.tar" >/dev/null || fail "docker load"
run() { d run --runtime husk --network none "$@"; }

# --- host networking: refused by husk before any VM, in its words --------------
d run --rm --runtime husk --network host $img true >/dev/null 2>"$work/e" </dev/null &&
	fail "run --network host succeeded"
grep -q 'host networking is not possible' "$work/e" || fail "run --network host: $(cat "$work/e")"

# --- run --rm: the guest's kernel, and the workload's exit status --------------
out=$(run --rm --cidfile "$work/cid1" $img sh -c 'uname -r; echo $((6*7))' </dev/null)
[ "$(echo "$out" | tail -1)" = 42 ] || fail "run: $out"
echo "$out" | head -1 | grep -q '^6\.1\.' || fail "not the guest kernel: $out"
[ "$(echo "$out" | head -1)" != "$(uname -r)" ] || fail "uname -r is the host's: $out"

set +e
run --rm --cidfile "$work/cid2" $img sh -c 'exit 3' </dev/null
status=$?
set -e
[ "$status" = 3 ] || fail "exit 3 gave $status"

# --- run -d, logs, stop, rm -----------------------------------------------------
cid=$(run -d --name $name $img sh -c 'trap "echo got TERM; exit 0" TERM; echo up; while :; do sleep 1; done')
echo "$cid" >"$work/cid3"
[ "$(d inspect -f '{{.State.Running}} {{.HostConfig.Runtime}}' $name)" = "true husk" ] ||
	fail "inspect: $(d inspect -f '{{.State.Status}} {{.HostConfig.Runtime}}' $name)"
# the runtime root dockerd gives husk (--root): found by the container's state in it
state=$(find "$work/exec" -mindepth 2 -maxdepth 4 -type d -name "$cid" -path '*/runtime-*')
[ -n "$state" ] && [ -e "$state/state.json" ] || fail "no husk state for $cid under $work/exec"
runtime_root=$(dirname "$state")
vmm=$(d inspect -f '{{.State.Pid}}' $name)
grep -qsaP -- "--id\x00$cid\x00" "/proc/$vmm/cmdline" ||
	fail "the container's PID $vmm is not its husk-vmm: $(tr '\0' ' ' <"/proc/$vmm/cmdline"); $(cat "$state/state.json")"
for _ in $(seq 60); do d logs $name 2>&1 | grep -q up && break; sleep 1; done
d logs $name 2>&1 | grep -q up || fail "the workload did not start: $(d logs $name 2>&1)"
d stop -t 60 $name >/dev/null
[ "$(d logs $name 2>&1)" = "$(printf 'up\ngot TERM')" ] || fail "logs: $(d logs $name 2>&1)"
[ "$(d inspect -f '{{.State.ExitCode}}' $name)" = 0 ] ||
	fail "exit code after stop: $(d inspect -f '{{.State.ExitCode}}' $name) (SIGKILL?)"
d rm $name >/dev/null
[ -z "$(d ps -aq)" ] || fail "containers left: $(d ps -a)"

# --- Docker's default bridge: the prestart hook's veth mirrored into the VM -------
mkdir "$work/www"
echo hello-from-host >"$work/www/index.html"
hport=$((20000 + $$ % 10000)) pport=$((30000 + $$ % 10000))
python3 -m http.server --directory "$work/www" --bind 0.0.0.0 $hport >/dev/null 2>&1 &
srv=$!
cid=$(d run -d --runtime husk --name $net -p $pport:80 $img \
	sh -c 'mkdir -p /www && echo hello-from-guest >/www/index.html && exec httpd -f -p 80 -h /www' \
	</dev/null)
echo "$cid" >"$work/cid4"
for _ in $(seq 120); do
	[ "$(curl -s --max-time 2 http://127.0.0.1:$pport/)" = hello-from-guest ] && break
	sleep 1
done
out=$(curl -s --max-time 5 http://127.0.0.1:$pport/) || true
[ "$out" = hello-from-guest ] || fail "-p $pport:80: '$out'"
ip=$(d inspect -f '{{.NetworkSettings.IPAddress}}' $net)
mac=$(d inspect -f '{{.NetworkSettings.MacAddress}}' $net)
gw=$(d inspect -f '{{.NetworkSettings.Gateway}}' $net)
out=$(d exec $net ip -o -4 addr show dev eth0 </dev/null)
echo "$out" | grep -q "inet $ip/" || fail "eth0 has not docker's address $ip: $out"
out=$(d exec $net cat /sys/class/net/eth0/address </dev/null)
[ "$out" = "$mac" ] || fail "eth0's MAC $out is not docker's $mac"
out=$(d exec $net wget -qO- http://$gw:$hport/ </dev/null) || true
[ "$out" = hello-from-host ] || fail "the host's server on the gateway $gw: '$out'"
d rm -f $net >/dev/null
kill "$srv"
srv=

# --- nothing left ------------------------------------------------------------------
for f in "$work"/cid*; do
	id=$(cat "$f")
	[ ! -e "$runtime_root/$id" ] || fail "state left in $runtime_root/$id"
	! grep -qsaP -- "--id\x00$id\x00" /proc/[0-9]*/cmdline || fail "husk-vmm of $id is still running"
done
[ -z "$(ls -A "$runtime_root")" ] || fail "$runtime_root is not empty: $(ls -A "$runtime_root")"
d rmi $img >/dev/null
stop_daemon "$dockerd_pid"
stop_daemon "$ctrd_pid"
[ ! -e "/proc/$dockerd_pid" ] && [ ! -e "/proc/$ctrd_pid" ] || fail "a daemon outlived SIGTERM"
# dockerd's own bind of the host's namespace, made for the --network host
# container above and kept past its own end: not husk's to leave or take
! grep -q " $work/exec/netns/default " /proc/mounts || umount "$work/exec/netns/default"
left=$(grep -ls -- "$work" /proc/[0-9]*/cmdline || true)
[ -z "$left" ] || fail "processes of the test left: $left"
! grep -q " $work" /proc/mounts || fail "mounts left: $(grep " $work" /proc/mounts)"
dockerd_pid='' ctrd_pid=''
rm -rf "$work"
[ ! -e "$work" ] || fail "$work could not be removed"
echo PASS
