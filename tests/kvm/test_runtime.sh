#!/usr/bin/env bash
# KVM test of husk, the OCI runtime, driven as an engine drives runc: a
# container created, started, listed, signalled and deleted (nothing left
# behind); execs in it (attached, detached with --pid-file, a missing
# program, with a terminal of husk's and one through --console-socket);
# `husk run` with the workload's exit status and each kind of OCI hook (its
# state on stdin, in order, in the right network namespace); host networking
# refused; c1 and c4 in a network namespace that outlives them (as Podman's
# /run/netns/...): attached to its veth, the guest has the veth's address and
# reaches the host, and delete leaves no tap, qdisc or filter there, after a
# VMM killed outright too; a terminal container whose
# pty master goes over --console-socket and whose resizes reach the guest;
# a VMM killed outright leaves nothing after delete (its bind staging
# included); refusals of bad input. Every refusal an engine reads (an
# unknown id, a stopped, running or paused container) has runc's exit
# status and the words engines test for, on stderr and in the JSON log.
# Directory roots, so virtio-fs serves them.
# Skips (77) only where /dev/kvm does not exist.
set -euo pipefail
husk=${1:?usage: test_runtime.sh BUILD_DIR}/husk
rootfs=$1/guest/rootfs.dir
helper=$(dirname "$0")/console_helper.py
[ -e /dev/kvm ] || { echo "SKIP: /dev/kvm does not exist on this host"; exit 77; }

work=$(mktemp -d /tmp/husk-runtime-XXXXXX)
root=$work/state
cg=/husk-test-$$ # the host cgroup parent of c1's VM
ns=husk-t-$$     # the network namespace c1 and c4 join, and the host's end of its veth
hveth=hk$$
cleanup() {
	for id in c1 c2 c3 c4; do "$husk" --root "$root" delete --force $id >/dev/null 2>&1 || true; done
	ip netns del $ns 2>/dev/null || true
	ip link del $hveth 2>/dev/null || true
	rmdir /sys/fs/cgroup$cg /sys/fs/cgroup/*$cg 2>/dev/null || true
	rm -rf "$work"
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
h() { "$husk" --root "$root" --log "$work/log.json" --log-format json "$@"; }
touch "$work/log.json"
# expect STATUS WORDS ARGS...: husk ARGS fails as runc would, with STATUS and
# one line on stderr holding WORDS, which the JSON log's new error line holds
# too; WORDS "": it succeeds or fails without a word
expect() {
	local want=$1 words=$2 got n
	shift 2
	n=$(wc -l <"$work/log.json")
	set +e
	h "$@" >/dev/null 2>"$work/e" </dev/null
	got=$?
	set -e
	[ "$got" = "$want" ] || fail "husk $*: status $got, not $want: $(cat "$work/e")"
	if [ -z "$words" ]; then
		[ ! -s "$work/e" ] || fail "husk $*: said $(cat "$work/e")"
		return 0
	fi
	[ "$(wc -l <"$work/e")" = 1 ] && grep -qF -- "$words" "$work/e" ||
		fail "husk $*: \"$words\" not in: $(cat "$work/e")"
	tail -n +$((n + 1)) "$work/log.json" | grep -F '"level":"error"' | grep -qF -- "$words" ||
		fail "husk $*: \"$words\" not in the log: $(tail -n +$((n + 1)) "$work/log.json")"
}

bundle() { # DIR ARGS-JSON [TERMINAL] [MORE-LINUX-JSON] [MORE-MOUNTS-JSON] [MORE-TOP-JSON]
	mkdir -p "$1"
	cp -a "$rootfs" "$1/rootfs"
	cat >"$1/config.json" <<JSON
{"ociVersion": "1.0.2", ${6:-}
 "process": {"terminal": ${3:-false}, "args": $2, "env": ["PATH=/bin"], "cwd": "/"},
 "root": {"path": "rootfs"}, "hostname": "husk-test",
 "annotations": {"org.husk.test": "yes"},
 "mounts": [{"destination": "/proc", "type": "proc", "source": "proc"}${5:+, $5}],
 "linux": {${4:-}"namespaces": [{"type": "pid"}, {"type": "mount"}, {"type": "network"}]}}
JSON
}

# --- an unknown id: runc's statuses and words -----------------------------------
# containerd's shim takes "does not exist" from kill and delete as gone, Podman
# from state as exited, Docker "container does not exist" as not found
expect 1 'container does not exist' state nope
expect 1 'container does not exist' kill nope 9
expect 1 'container does not exist' kill --all nope 9
expect 1 'container does not exist' delete nope
# containerd's shim follows every delete with delete --force: as runc, that succeeds
expect 0 '' delete --force nope
expect 1 'container does not exist' start nope
expect 255 'exec failed: container does not exist' exec nope true
expect 1 'container does not exist' pause nope
expect 1 'container does not exist' resume nope
expect 1 'container does not exist' ps nope

# --- bad input: runc-style messages, non-zero, nothing made ---------------
h create --bundle "$work/none" x 2>/dev/null && fail "create without a bundle succeeded"
mkdir -p "$work/badjson" && echo '{"process":' >"$work/badjson/config.json"
h create --bundle "$work/badjson" x 2>/dev/null && fail "create with bad JSON succeeded"
grep -q '"level":"error"' "$work/log.json" || fail "no JSON error log"
# a terminal goes with a console socket, and the reverse
bundle "$work/b3" '["sh", "-c", "stty size; tty; while [ \"$(stty size)\" != \"50 132\" ]; do sleep 0.2; done; echo resized; read l; echo \"line=$l\"; exit 4"]' true
h create --bundle "$work/b3" x 2>"$work/e" && fail "a terminal without --console-socket was accepted"
grep -q 'console socket' "$work/e" || fail "terminal without socket: $(cat "$work/e")"
h create --bundle "$work/b3" --console-socket "$work/none.sock" x 2>"$work/e" &&
	fail "create with a console socket nobody listens on succeeded"
grep -q 'none.sock' "$work/e" || fail "absent console socket: $(cat "$work/e")"
# host networking (no network namespace, or the host's own) is refused before anything is made
mkdir -p "$work/hostnet"
sed 's/, {"type": "network"}//' "$work/b3/config.json" | sed 's/"terminal": true/"terminal": false/' \
	>"$work/hostnet/config.json"
expect 1 'host networking is not possible' create --bundle "$work/hostnet" x
sed 's|{"type": "network"}|{"type": "network", "path": "/proc/self/ns/net"}|' "$work/b3/config.json" |
	sed 's/"terminal": true/"terminal": false/' >"$work/hostnet/config.json"
expect 1 'host networking is not possible' create --bundle "$work/hostnet" x
# every command parses its options as runc takes them; an unknown one is refused
expect 1 'unknown option --bogus' list --bogus
expect 1 'unknown option --bogus' spec --bogus
expect 1 'unknown option --bogus' state --bogus nope
expect 1 'unknown option -z' start -z nope
expect 1 '--format must be table or json' list -f yaml
expect 1 'option --bundle needs a value' spec --bundle
for f in '--format=json' '--format json' '-f json' '-fjson'; do
	[ "$(h list $f)" = "[]" ] || fail "list $f: $(h list $f)"
done
h list -q >/dev/null || fail "list -q failed"
mkdir -p "$work/spec"
(cd "$work" && h spec -b "$work/spec") && [ -f "$work/spec/config.json" ] && [ ! -e "$work/config.json" ] ||
	fail "spec -b did not write into its bundle"
expect 1 'exists' spec --bundle="$work/spec"
rm "$work/spec/config.json"
# unlike runc's, husk's rootless spec keeps its network namespace: without one, husk refuses it
h spec --rootless --bundle "$work/spec" && grep -q '"user"' "$work/spec/config.json" &&
	grep -q '"network"' "$work/spec/config.json" || fail "spec --rootless: $(cat "$work/spec/config.json")"
[ -z "$(ls -A "$root" 2>/dev/null)" ] || fail "bad input left state behind: $(ls "$root")"

# --- a network namespace that outlives the containers in it -------------------
ip netns add $ns
ip link add $hveth type veth peer name veth0 netns $ns
ip addr add 10.213.77.1/24 dev $hveth
ip link set $hveth up
ip -n $ns addr add 10.213.77.2/24 dev veth0
ip -n $ns link set veth0 up
ip -n $ns route add default via 10.213.77.1
vmac=$(ip -n $ns -o link show veth0 | sed -n 's|.*link/ether \([0-9a-f:]*\).*|\1|p')
in_ns() { ip netns exec $ns "$@"; }
# mirrored: ingress qdisc and filters on the veth, husk's tap beside it
attached() {
	in_ns tc qdisc show dev veth0 | grep -q 'qdisc ingress' &&
		in_ns tc filter show dev veth0 ingress | grep -q mirred &&
		ip -n $ns link show husktap0 >/dev/null 2>&1 || fail "$1: not attached: $(in_ns tc qdisc show)"
}
# nothing of husk's left in the namespace (PID: the VMM, gone too)
detached() {
	! in_ns tc qdisc show dev veth0 | grep -q 'qdisc ingress' || fail "$1 left the ingress qdisc"
	[ -z "$(in_ns tc filter show dev veth0 ingress)" ] || fail "$1 left filters on veth0"
	! ip -n $ns link show husktap0 >/dev/null 2>&1 || fail "$1 left husktap0"
	[ ! -e "/proc/$2" ] || fail "$1: husk-vmm $2 outlived delete"
	ip -n $ns -o link show veth0 | grep -q 'state UP' || fail "$1: veth0 is not up"
}
in_netns() { sed -i "s|{\"type\": \"network\"}|{\"type\": \"network\", \"path\": \"/run/netns/$ns\"}|" "$1"; }

# --- create, start, state, kill, delete --------------------------------------
bundle "$work/b1" '["sh", "-c", "trap \"echo got TERM; exit 7\" TERM; echo up; i=0; while :; do i=$((i+1)); echo $i >/n; sleep 1; done"]' \
	false "\"cgroupsPath\": \"$cg/c1\", \"resources\": {\"memory\": {\"limit\": 201326592}, \"cpu\": {\"shares\": 512}}, "
in_netns "$work/b1/config.json"
h create --bundle "$work/b1" --pid-file "$work/pid" c1 >"$work/out" 2>"$work/err"
attached c1
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
expect 1 'container with given ID already exists' create --bundle "$work/b1" c1
h start c1
expect 1 'cannot start an already running container' start c1
h list | grep -q '^c1 .* running' || fail "list: $(h list)"
for _ in $(seq 60); do grep -q up "$work/out" && break; sleep 1; done
grep -q up "$work/out" || fail "c1's workload did not start: $(cat "$work/out")"
# the guest kernel boots quietly: no info messages in the console log
[ -s "$root/c1/console.log" ] || fail "no console log for c1"
grep -q 'Run /init as init process' "$root/c1/console.log" &&
	fail "c1's console log has the kernel's info messages"
# the guest's veth0 is the namespace's: its name, MAC, address, route; the host's end reaches it
out=$(h exec c1 sh -c 'ip -o link show veth0; ip -o -4 addr show veth0; ip route' </dev/null)
echo "$out" | grep -q "link/ether $vmac" && echo "$out" | grep -q 'inet 10.213.77.2/24' &&
	echo "$out" | grep -q 'default via 10.213.77.1 dev veth0' || fail "c1's network: $out"
"$rootfs/bin/busybox" ping -c 1 -W 20 10.213.77.2 >"$work/e" 2>&1 || fail "the host's ping of c1: $(cat "$work/e")"
# ps: the guest's processes; the host PID that stands for them
h ps c1 | grep -q 'sh -c trap' || fail "ps: $(h ps c1)"
[ "$(h ps --format json c1)" = "[$(cat "$work/pid")]" ] || fail "ps json: $(h ps --format json c1)"
# pause stops the guest (its counter stands still), resume lets it run on
h pause c1
[ "$(h state c1 | sed -n 's/.*"status": "\(.*\)".*/\1/p')" = paused ] || fail "not paused"
h kill c1 TERM 2>/dev/null && fail "a paused container took SIGTERM"
expect 1 'cannot start a container in the paused state' start c1
expect 255 'exec failed: cannot exec in a paused container' exec c1 true
expect 1 'container not running' pause c1
n1=$(cat "$work/b1/rootfs/n"); sleep 3; n2=$(cat "$work/b1/rootfs/n")
[ "$n1" = "$n2" ] || fail "the guest ran on while paused: $n1 -> $n2"
h resume c1
for _ in $(seq 30); do [ "$(cat "$work/b1/rootfs/n")" != "$n2" ] && break; sleep 1; done
[ "$(cat "$work/b1/rootfs/n")" != "$n2" ] || fail "the guest did not run on after resume"
expect 1 'container not paused' resume c1
# update: limits inside the VM and on its host cgroup; what the VM cannot do is refused
h update --memory 64M --pids-limit 50 c1
h update --memory 1G c1 2>"$work/e" && fail "a memory limit beyond the VM's RAM was taken"
grep -q 'fixed when it is created' "$work/e" || fail "update: $(cat "$work/e")"
echo '{"cpu": {"quota": 200000, "period": 100000}}' | h update --resources - c1
for f in "/sys/fs/cgroup/cpu$cg/c1/cpu.cfs_quota_us" "/sys/fs/cgroup$cg/c1/cpu.max"; do
	[ -e "$f" ] && { grep -q '^200000' "$f" || fail "$f: $(cat "$f")"; }
done
expect 1 'cannot delete container c1 that is not stopped: running' delete c1

# --- exec in the running c1 ---------------------------------------------------
set +e
out=$(h exec -u 1000 -e X=y --cwd /tmp c1 sh -c 'echo hi $(id -u) $X $(pwd); echo oops >&2; exit 5' \
	2>"$work/exec.err" </dev/null)
status=$?
set -e
[ "$status" = 5 ] || fail "exec: status $status: $(cat "$work/exec.err")"
[ "$out" = "hi 1000 y /tmp" ] || fail "exec: stdout $out"
[ "$(cat "$work/exec.err")" = oops ] || fail "exec: stderr $(cat "$work/exec.err")"
# detached, as conmon and containerd's shim call it: the pid file's process
# relays the stdio and exits with the process's status
cat >"$work/p.json" <<'JSON'
{"args": ["sh", "-c", "read x; echo detached $x; exit 6"], "env": ["PATH=/bin"], "cwd": "/"}
JSON
out=$(echo in | python3 "$helper" reap "$work/epid" "$husk" --root "$root" exec --process "$work/p.json" \
	--detach --pid-file "$work/epid" c1)
[ "$out" = "$(printf 'detached in\nstatus 6')" ] || fail "exec --detach: $out"
# a missing program fails the exec itself and leaves nothing
h exec --pid-file "$work/epid2" -d c1 nope 2>"$work/e" </dev/null && fail "exec of a missing program succeeded"
grep -q 'executable file not found' "$work/e" || fail "exec nope: $(cat "$work/e")"
[ ! -e "$work/epid2" ] || fail "a failed exec wrote its pid file"
! pgrep -f -- "--pid-file $work/epid2" >/dev/null || fail "a failed exec left a process"
h exec -d -t c1 true 2>"$work/e" && fail "a detached terminal without --console-socket was accepted"
grep -q 'console socket' "$work/e" || fail "exec -d -t: $(cat "$work/e")"
# --tty with husk's own stdio: the process has a terminal
out=$(h exec -t c1 sh -c 'tty; exit 2' </dev/null) && fail "exec -t: status 0"
echo "$out" | grep -q '^/dev/pts/[0-9]' || fail "exec -t: $out"
# --tty through --console-socket, detached: the size and its change reach the guest
cat >"$work/pt.json" <<'JSON'
{"terminal": true, "consoleSize": {"height": 30, "width": 90}, "env": ["PATH=/bin"], "cwd": "/",
 "args": ["sh", "-c", "stty size; tty; while [ \"$(stty size)\" != \"45 100\" ]; do sleep 0.2; done; echo resized; exit 7"]}
JSON
python3 "$helper" console "$work/ec.sock" "$work/ec.out" 'expect:30 90' 'resize:45x100' 'expect:resized' &
hp=$!
for _ in $(seq 50); do [ -S "$work/ec.sock" ] && break; sleep 0.1; done
out=$(python3 "$helper" reap "$work/epid3" "$husk" --root "$root" exec --process "$work/pt.json" \
	--detach --tty --console-socket "$work/ec.sock" --pid-file "$work/epid3" c1 </dev/null)
wait $hp || fail "exec --tty --console-socket: $(cat -A "$work/ec.out")"
[ "$out" = "status 7" ] || fail "exec --tty --console-socket: $out"
grep -q '^/dev/pts/' "$work/ec.out.name" || fail "console socket message: $(cat "$work/ec.out.name")"
grep -q '^/dev/pts/[0-9]' "$work/ec.out" || fail "exec tty: $(cat -A "$work/ec.out")"

h kill c1 SIGTERM
for _ in $(seq 60); do h state c1 | grep -q '"stopped"' && break; sleep 1; done
h state c1 | grep -q '"stopped"' || fail "SIGTERM did not end the workload"
# at once, while its VM may still be going down: containerd's CRI stops a pod
# with kill ID 9, then kill --all ID 9, and takes only "container not
# running" as done (anything else it retries for minutes)
[ -e "/proc/$(cat "$work/pid")" ] && echo "c1 stopped, its VMM still up"
expect 1 'container not running' kill c1 9
expect 0 '' kill --all c1 9
expect 1 'container not running' kill c1 TERM
expect 1 'cannot start a container that has stopped' start c1
expect 255 'exec failed: cannot exec in a stopped container: container not running' exec c1 true
expect 1 'container not running' pause c1
expect 1 'container not paused' resume c1
expect 1 'container not running' update --memory 64M c1
[ "$(h ps --format json c1)" = "[]" ] || fail "ps json of a stopped c1: $(h ps --format json c1)"
expect 0 '' ps c1
[ "$(cat "$work/out")" = "$(printf 'up\ngot TERM')" ] || fail "stdout: $(cat "$work/out")"
h delete c1
[ ! -e "$root/c1" ] || fail "delete left $root/c1"
pid=$(cat "$work/pid")
[ ! -e "/proc/$pid" ] || fail "husk-vmm $pid outlived delete"
for d in /sys/fs/cgroup$cg /sys/fs/cgroup/*$cg; do
	[ ! -e "$d/c1" ] || fail "delete left the cgroup $d/c1"
done
detached c1 "$pid"

# --- run: the workload's exit status, and the OCI hooks -----------------------
# nothing is lost when the workload writes a lot and exits at once; each kind
# of hook writes its name, the state it got on stdin, its own network
# namespace and that of the state's pid (husk-vmm's) to hooks.log
cat >"$work/hook.sh" <<SH
#!/bin/sh
state=\$(cat)
pid=\$(echo "\$state" | sed -n 's/.*"pid":\\([0-9]*\\).*/\\1/p')
echo "\$1 \$state \$(readlink /proc/self/ns/net) \$(readlink /proc/\$pid/ns/net 2>/dev/null)" >>"$work/hooks.log"
echo "hook output is not the container's"
SH
chmod +x "$work/hook.sh"
hooks=
for k in prestart createRuntime createContainer startContainer poststart poststop; do
	hooks="$hooks${hooks:+, }\"$k\": [{\"path\": \"$work/hook.sh\", \"args\": [\"hook.sh\", \"$k\"], \"timeout\": 60}]"
done
bundle "$work/b2" '["sh", "-c", "echo hello from $(hostname); seq 1 100000; exit 3"]' false "" "" \
	"\"hooks\": {$hooks},"
set +e
h run --bundle "$work/b2" c2 >"$work/out2" 2>"$work/err2" </dev/null
status=$?
set -e
[ "$status" = 3 ] || fail "run: status $status: $(cat "$work/err2")"
[ "$(head -1 "$work/out2")" = "hello from husk-test" ] || fail "run: stdout $(head -3 "$work/out2")"
[ "$(tail -n +2 "$work/out2" | md5sum)" = "$(seq 1 100000 | md5sum)" ] ||
	fail "run: stdout lost bytes: $(wc -lc <"$work/out2"), ends $(tail -c 20 "$work/out2")"
[ ! -e "$root/c2" ] || fail "run left $root/c2"
# the hooks: in order, each with its state; the container's kinds in husk-vmm's
# network namespace, which is not the host's; the others in husk's
hostns=$(readlink /proc/self/ns/net)
[ "$(cut -d' ' -f1 "$work/hooks.log" | tr '\n' ' ')" = \
	"prestart createRuntime createContainer startContainer poststart poststop " ] ||
	fail "hooks: $(cat "$work/hooks.log")"
while read -r kind state self vmmns; do
	case $kind in
	prestart | createRuntime | createContainer) want=creating ;;
	startContainer) want=created ;; poststart) want=running ;; poststop) want=stopped ;;
	esac
	echo "$state" | grep -q "\"status\":\"$want\"" && echo "$state" | grep -q '"id":"c2"' &&
		echo "$state" | grep -qF "\"bundle\":\"$work/b2\"" || fail "$kind hook's state: $state"
	case $kind in
	createContainer | startContainer) [ "$self" = "$vmmns" ] && [ "$self" != "$hostns" ] ;;
	poststop) [ "$self" = "$hostns" ] && echo "$state" | grep -q '"pid":0' ;;
	*) [ "$self" = "$hostns" ] && [ -n "$vmmns" ] && [ "$vmmns" != "$hostns" ] ;;
	esac || fail "$kind hook's namespaces: $self, husk-vmm's $vmmns, the host's $hostns"
done <"$work/hooks.log"

# --- a terminal container: the master over --console-socket -------------------
python3 "$helper" console "$work/c3.sock" "$work/c3.out" 'resize:40x120' 'expect:40 120' \
	'resize:50x132' 'expect:resized' 'send:hello\r' &
hp=$!
for _ in $(seq 50); do [ -S "$work/c3.sock" ] && break; sleep 0.1; done
# husk-vmm's status, as conmon sees it: it waits on the pid file's process
python3 "$helper" reap "$work/pid3" "$husk" --root "$root" create --bundle "$work/b3" \
	--console-socket "$work/c3.sock" --pid-file "$work/pid3" c3 >"$work/reap3" </dev/null &
rp=$!
for _ in $(seq 600); do [ -s "$work/pid3" ] && break; sleep 1; done
h start c3
wait $hp || fail "terminal container: $(cat -A "$work/c3.out")"
wait $rp || fail "terminal container: $(cat "$work/reap3")"
[ "$(cat "$work/reap3")" = "status 4" ] || fail "terminal container: $(cat "$work/reap3")"
tr -d '\r' <"$work/c3.out" >"$work/c3.txt"
grep -q '^/dev/pts/0$' "$work/c3.txt" || fail "terminal container: no tty: $(cat "$work/c3.txt")"
grep -q '^line=hello$' "$work/c3.txt" || fail "terminal container: input: $(cat "$work/c3.txt")"
h delete c3
[ ! -e "$root/c3" ] || fail "delete left $root/c3"

# --- a VMM killed outright (as Docker does when a container outlives its kill) --
echo "from the host" >"$work/hostfile"
bundle "$work/b4" '["sh", "-c", "cat /etc/hostfile; while :; do sleep 1; done"]' \
	false "" "{\"destination\": \"/etc/hostfile\", \"type\": \"bind\", \"source\": \"$work/hostfile\", \"options\": [\"rbind\", \"ro\"]}"
in_netns "$work/b4/config.json" # the namespace c1 had: attached again
h --debug create --bundle "$work/b4" --pid-file "$work/pid4" c4 >"$work/out4" 2>"$work/err4" </dev/null
pid4=$(cat "$work/pid4")
attached c4
# the host's binds are staged in the container's state directory, in the VMM's mount namespace
grep -q " $root/c4/binds/0 " "/proc/$pid4/mounts" || fail "the bind is not staged under $root/c4"
h start c4
for _ in $(seq 60); do grep -q 'from the host' "$work/out4" && break; sleep 1; done
[ "$(cat "$work/out4")" = "from the host" ] || fail "bind mount: $(cat "$work/out4")"
# --debug: the guest kernel's whole boot log
grep -q 'Run /init as init process' "$root/c4/console.log" ||
	fail "--debug: no kernel info messages in the console log"
kill -KILL "$pid4"
for _ in $(seq 60); do h state c4 | grep -q '"stopped"' && break; sleep 0.5; done
h state c4 | grep -q '"stopped"' || fail "a killed VMM is not stopped: $(h state c4)"
expect 1 'container not running' kill c4 9
expect 0 '' kill --all c4 9
h delete c4
[ ! -e "$root/c4" ] || fail "delete after a killed VMM left: $(ls -AR "$root/c4")"
detached c4 "$pid4"
ip netns del $ns
echo "PASS"
