#!/usr/bin/env bash
# Podman driving husk as its OCI runtime, with a local busybox image (no
# registry): uname -r shows the guest's kernel and 42 is computed inside;
# exit 3 is podman's exit status; run -d, ps, exec (output, status, a
# terminal), pause and unpause, update, logs, stop (SIGTERM reaches the workload), rm; run -it on a
# terminal (script(1)) whose size reaches the guest; nothing is left behind. Skips (77) only where
# /dev/kvm does not exist.
# Networking: Podman's default network reaches the VM (eth0 has podman's address and MAC, the
# host's server on the gateway answers, -p publishes the guest's httpd, a second container
# reaches the first); --network host is refused. Two networks, the second with IPv6: eth0 and eth1
# with podman's MACs and addresses, its default routes, the host reached over IPv6.
set -euo pipefail
build=$(cd "${1:?usage: test_podman.sh BUILD_DIR}" && pwd)
husk=$build/husk
[ -e /dev/kvm ] || { echo "SKIP: /dev/kvm does not exist on this host"; exit 77; }
command -v podman >/dev/null || { echo "FAIL: podman is not installed" >&2; exit 1; }

img=localhost/husk-test-bb-$$:latest
name=husk-test-$$
work=$(mktemp -d /tmp/husk-podman-XXXXXX)
root=/run/husk # podman's cleanup process calls the runtime without --runtime-flag
net=husk-net-$$
net2=husk-net2-$$ # a second network, with IPv6
sub4=10.89.$((40 + $$ % 200)).0/24 sub6=fd00:4855:534b:$(printf %x $(($$ % 65536)))::/64
cleanup() {
	podman rm -f $name $net $net2 >/dev/null 2>&1 || true
	podman network rm -f $net2 >/dev/null 2>&1 || true
	podman rmi -f $img >/dev/null 2>&1 || true
	[ -z "${srv:-}" ] || kill $srv 2>/dev/null || true
	rm -rf "$work"
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
# this host's open-files hard limit is below podman's default ulimits
p() { podman --runtime "$husk" "$@"; }
run() { p run --network none --ulimit nofile=1024:1024 --ulimit nproc=1024:1024 "$@"; }

tar -C "$build/guest/rootfs.dir" -czf "$work/rootfs.tar.gz" .
podman import --change 'CMD ["/bin/sh"]' --change 'ENV PATH=/bin' "$work/rootfs.tar.gz" $img >/dev/null

# host networking: refused by husk before any VM, in its words
p run --rm --network host --ulimit nofile=1024:1024 --ulimit nproc=1024:1024 $img true \
	>/dev/null 2>"$work/e" && fail "run --network host succeeded"
grep -q 'host networking is not possible' "$work/e" || fail "run --network host: $(cat "$work/e")"

out=$(run --rm --cidfile "$work/cid1" $img sh -c 'uname -r; echo $((6*7))')
[ "$(echo "$out" | tail -1)" = 42 ] || fail "run: $out"
[ "$(echo "$out" | head -1)" != "$(uname -r)" ] || fail "uname -r is the host's: $out"
echo "$out" | head -1 | grep -q '^6\.1\.' || fail "not the guest kernel: $out"

set +e
run --rm --cidfile "$work/cid2" $img sh -c 'exit 3'
status=$?
set -e
[ "$status" = 3 ] || fail "exit 3 gave $status"

run -d --name $name --cidfile "$work/cid3" $img sh -c 'trap "echo got TERM; exit 0" TERM; echo up; while :; do sleep 1; done' >/dev/null
p ps --format '{{.Names}} {{.Status}}' | grep -q "^$name Up" || fail "ps: $(p ps)"
# exec, pause and stop below need the workload running: wait for it to say so
for _ in $(seq 60); do p logs $name | grep -q up && break; sleep 1; done
p logs $name | grep -q up || fail "the workload did not start: $(p logs $name 2>&1)"
set +e
out=$(p exec $name sh -c 'echo hi from $(uname -r); exit 5' </dev/null)
status=$?
set -e
[ "$status" = 5 ] || fail "exec: status $status: $out"
echo "$out" | grep -q '^hi from 6\.1\.' || fail "exec: $out"
out=$(p exec -t $name tty </dev/null | tr -d '\r')
echo "$out" | grep -q '^/dev/pts/[0-9]' || fail "exec -t: $out"
set +e
p exec $name nope 2>"$work/e" </dev/null
status=$?
set -e
[ "$status" = 127 ] || fail "exec of a missing program: status $status: $(cat "$work/e")"
# pause stops the VM's vCPUs, unpause lets them run on
p pause $name >/dev/null
[ "$(p inspect $name --format '{{.State.Status}}')" = paused ] || fail "pause: $(p ps -a)"
p unpause $name >/dev/null
[ "$(p inspect $name --format '{{.State.Status}}')" = running ] || fail "unpause: $(p ps -a)"
# a memory limit the VM can honour is set in the guest; one beyond its RAM is refused
p update --memory 64m $name >/dev/null || fail "update --memory 64m"
! p update --memory 4g $name >/dev/null 2>&1 || fail "update beyond the VM's RAM succeeded"
p stop -t 60 $name >/dev/null
[ "$(p logs $name)" = "$(printf 'up\ngot TERM')" ] || fail "logs: $(p logs $name)"
[ "$(p inspect $name --format '{{.State.ExitCode}}')" = 0 ] || fail "exit code after stop"
p rm $name >/dev/null

# run -it on a terminal of 33x99: the guest's tty gets its size
cat >"$work/it.sh" <<SH
stty rows 33 cols 99
podman --runtime "$husk" run -it --rm --cidfile "$work/cid4" --network none \\
	--ulimit nofile=1024:1024 --ulimit nproc=1024:1024 $img \\
	sh -c 'uname -r; tty; for i in \$(seq 100); do [ "\$(stty size)" = "33 99" ] && break; sleep 0.2; done; stty size; exit 4'
SH
set +e
script -qec "bash $work/it.sh" /dev/null </dev/null >"$work/it.out"
status=$?
set -e
# script(1) sends its end of input as a NUL, which the guest's tty echoes as ^@
tr -d '\r' <"$work/it.out" | sed 's/\^@//g' >"$work/it.txt"
[ "$status" = 4 ] || fail "run -it: status $status: $(cat "$work/it.txt")"
grep -q '^6\.1\.' "$work/it.txt" || fail "run -it: not the guest kernel: $(cat "$work/it.txt")"
grep -q '^/dev/pts/0$' "$work/it.txt" || fail "run -it: no terminal: $(cat "$work/it.txt")"
grep -q '^33 99$' "$work/it.txt" || fail "run -it: size: $(cat "$work/it.txt")"
# --- Podman's default network (CNI bridge): the engine's veth mirrored into the VM --------
mkdir "$work/www"
echo hello-from-host >"$work/www/index.html"
hport=$((20000 + $$ % 10000)) pport=$((30000 + $$ % 10000))
python3 -m http.server --directory "$work/www" --bind 0.0.0.0 $hport >/dev/null 2>&1 &
srv=$!
python3 -m http.server --directory "$work/www" --bind :: $((hport + 1)) >/dev/null 2>&1 &
srv="$srv $!"
lim=(--ulimit nofile=1024:1024 --ulimit nproc=1024:1024)
p run -d --name $net --cidfile "$work/cid5" -p $pport:80 "${lim[@]}" $img \
	sh -c 'mkdir -p /www && echo hello-from-guest >/www/index.html && exec httpd -f -p 80 -h /www' \
	>/dev/null
# the published port: the host's DNAT, the bridge, the veth, the tap, the guest's httpd
for _ in $(seq 120); do
	[ "$(curl -s --max-time 2 http://127.0.0.1:$pport/)" = hello-from-guest ] && break
	sleep 1
done
out=$(curl -s --max-time 5 http://127.0.0.1:$pport/) || true
[ "$out" = hello-from-guest ] || fail "-p $pport:80: '$out'"
ip=$(p inspect $net --format '{{.NetworkSettings.IPAddress}}')
mac=$(p inspect $net --format '{{.NetworkSettings.MacAddress}}')
gw=$(p inspect $net --format '{{.NetworkSettings.Gateway}}')
out=$(p exec $net ip -o -4 addr show dev eth0 </dev/null)
echo "$out" | grep -q "inet $ip/" || fail "eth0 has not podman's address $ip: $out"
out=$(p exec $net cat /sys/class/net/eth0/address </dev/null)
[ "$out" = "$mac" ] || fail "eth0's MAC $out is not podman's $mac"
out=$(p exec $net wget -qO- http://$gw:$hport/ </dev/null) || true
[ "$out" = hello-from-host ] || fail "the host's server on the gateway $gw: '$out'"
# a second container on the same network reaches the first by its address
out=$(p run --rm --cidfile "$work/cid6" "${lim[@]}" $img wget -qO- http://$ip/) || true
[ "$out" = hello-from-guest ] || fail "from a second container to $ip: '$out'"
vmm=$(p inspect $net --format '{{.State.Pid}}')
netns=$(readlink /proc/$vmm/ns/net)
p rm -f $net >/dev/null
! ls -l /proc/[0-9]*/ns/net 2>/dev/null | grep -qF "$netns" ||
	fail "the container's namespace $netns outlived it"

# --- two networks, the second with IPv6: eth0 and eth1 as podman made them ----------------------
podman network create --subnet $sub4 --ipv6 --subnet $sub6 $net2 >/dev/null
p run -d --name $net2 --cidfile "$work/cid7" --network podman,$net2 "${lim[@]}" $img \
	sh -c 'echo up; while :; do sleep 1; done' >/dev/null
for _ in $(seq 120); do p logs $net2 2>/dev/null | grep -q up && break; sleep 1; done
p logs $net2 | grep -q up || fail "two networks: the workload did not start: $(p logs $net2 2>&1)"
links=$(p exec $net2 ip -o link </dev/null)
addrs=$(p exec $net2 ip -o addr </dev/null)
# each network of podman's: an interface with its MAC and its addresses
p inspect $net2 --format '{{range $k, $v := .NetworkSettings.Networks}}{{$k}} {{$v.MacAddress}} {{$v.IPAddress}} {{$v.GlobalIPv6Address}} {{$v.IPv6Gateway}}
{{end}}' >"$work/nets"
[ "$(grep -c . "$work/nets")" = 2 ] || fail "two networks: podman inspect: $(cat "$work/nets")"
while read -r n m a4 a6 g6; do
	[ -n "$n" ] || continue
	dev=$(echo "$links" | grep "link/ether $m " | sed -n 's/^[0-9]*: \([^:@]*\).*/\1/p')
	[ -n "$dev" ] || fail "network $n: no interface with podman's MAC $m: $links"
	echo "$addrs" | grep -q "^[0-9]*: $dev *inet $a4/" || fail "network $n: $dev has not $a4: $addrs"
	[ "$n" = $net2 ] || continue
	dev2=$dev ip6=$a6 gw6=$g6
	[ -n "$a6" ] && echo "$addrs" | grep -q "^[0-9]*: $dev *inet6 $a6/64" ||
		fail "network $n: $dev has not its IPv6 address '$a6': $addrs"
done <"$work/nets"
[ "$(echo "$links" | grep -c ': eth[01][:@]')" = 2 ] || fail "two networks: not eth0 and eth1: $links"
# as many default routes as podman made in the namespace, each way
vmm=$(p inspect $net2 --format '{{.State.Pid}}')
for f in -4 -6; do
	want=$(nsenter -t "$vmm" -n ip $f route show default | grep -c . || true)
	got=$(p exec $net2 ip $f route show default </dev/null | grep -c . || true)
	[ "$got" = "$want" ] && [ "$want" -ge 1 ] ||
		fail "ip $f default routes: $got in the guest, $want in podman's namespace"
done
# the host's server, reached over IPv6 on the second network's gateway
for _ in $(seq 30); do
	out=$(p exec $net2 timeout 10 wget -qO- "http://[$gw6]:$((hport + 1))/" </dev/null) || true
	[ "$out" = hello-from-host ] && break
	sleep 1
done
[ "$out" = hello-from-host ] || fail "over IPv6 to the host's [$gw6] from $dev2 ($ip6): '$out'"
p rm -f -t 0 $net2 >/dev/null
podman network rm $net2 >/dev/null

for f in "$work"/cid*; do
	cid=$(cat "$f")
	[ ! -e "$root/$cid" ] || fail "state left in $root/$cid"
	! grep -qsaP -- "--id\x00$cid\x00" /proc/[0-9]*/cmdline || fail "husk-vmm of $cid is still running"
done
echo PASS
