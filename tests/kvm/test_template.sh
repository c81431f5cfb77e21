#!/usr/bin/env bash
# KVM test of VM templates. husk-vmm --snapshot boots the guest to its agent
# and saves it; two clones restored from it at the same time each run a
# container printing its kernel version, `date +%s` and 16 bytes of
# /dev/urandom: the version right, the time within 1 s of the host's (the
# template was saved seconds earlier), the random bytes different. A damaged
# template (truncated, a flipped byte, no memory file) and a template of
# another kernel are refused with status 1 and a message. Through the cache
# (--template-dir): the first container makes the template, the next
# restores it, "cold" in the io.husk.template annotation boots, and a
# template that fails its checks is made again.
# Skips (77) only where /dev/kvm does not exist.
set -euo pipefail
b=${1:?usage: test_template.sh BUILD_DIR}
vmm=$b/husk-vmm
kernel=$b/guest/vmlinux
initrd=$b/guest/initramfs.cpio
[ -e /dev/kvm ] || { echo "SKIP: /dev/kvm does not exist on this host"; exit 77; }

work=$(mktemp -d /tmp/husk-template-XXXXXX)
trap 'rm -rf "$work"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
vm() { "$vmm" --kernel "$kernel" --initrd "$initrd" --cmdline quiet "$@"; }

mkdir -p "$work/b"
cp -a "$b/guest/rootfs.dir" "$work/b/rootfs"
cat >"$work/b/config.json" <<'JSON'
{"ociVersion": "1.0.2",
 "process": {"args": ["/bin/sh", "-c",
   "uname -r; date +%s; head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \\n'; echo"],
   "env": ["PATH=/bin"], "cwd": "/"},
 "root": {"path": "rootfs"},
 "mounts": [{"destination": "/proc", "type": "proc", "source": "proc"}],
 "linux": {"namespaces": [{"type": "pid"}, {"type": "mount"}]}}
JSON
sed 's/"ociVersion"/"annotations": {"io.husk.template": "cold"}, "ociVersion"/' \
	"$work/b/config.json" >"$work/b/cold.json"

# check_output FILE BEFORE AFTER: a kernel version, a time in [BEFORE-1, AFTER+1], 32 hex digits
check_output() {
	local f=$1 before=$2 after=$3 version t rnd
	[ "$(wc -l <"$f")" = 3 ] || fail "$f: not three lines: $(cat "$f")"
	version=$(sed -n 1p "$f")
	t=$(sed -n 2p "$f")
	rnd=$(sed -n 3p "$f")
	[[ $version == 6.1.* ]] || fail "$f: kernel version '$version'"
	[ "$t" -ge $((before - 1)) ] && [ "$t" -le $((after + 1)) ] ||
		fail "$f: the guest's time $t is not the host's ($before..$after)"
	[[ $rnd =~ ^[0-9a-f]{32}$ ]] || fail "$f: random bytes '$rnd'"
}

# --- a template, by hand: the layout --spec gives a directory root -----------
vm --fs rootfs --vsock-uds "$work/t.sock" --snapshot "$work/t" >"$work/snap.out" 2>&1 ||
	fail "--snapshot: $(cat "$work/snap.out")"
[ -s "$work/t/state" ] && [ -e "$work/t/memory" ] || fail "no state or memory in $work/t"
[ ! -e "$work/t.sock" ] || fail "the template VM's socket was left behind"
ram=$(stat -c %s "$work/t/memory")
disk=$(($(stat -c %b "$work/t/memory") * $(stat -c %B "$work/t/memory")))
[ "$ram" = $((128 << 20)) ] || fail "memory file of $ram bytes, not 128 MiB"
[ "$disk" -lt "$ram" ] || fail "the memory file is not sparse ($disk bytes on disk)"
echo "template: $((disk >> 20)) MiB on disk for $((ram >> 20)) MiB of RAM"

# --- two clones at once, seconds later ---------------------------------------
sleep 3
before=$(date +%s)
for i in 1 2; do
	vm --restore "$work/t" --spec "$work/b/config.json" --id c$i >"$work/out$i" 2>"$work/err$i" &
done
wait %1 || fail "clone 1: status $?: $(cat "$work/err1")"
wait %2 || fail "clone 2: status $?: $(cat "$work/err2")"
after=$(date +%s)
check_output "$work/out1" "$before" "$after"
check_output "$work/out2" "$before" "$after"
[ "$(sed -n 3p "$work/out1")" != "$(sed -n 3p "$work/out2")" ] ||
	fail "two clones printed the same random bytes"
echo "clones: $(tr '\n' ' ' <"$work/out1") / $(tr '\n' ' ' <"$work/out2")"

# --- refusals ------------------------------------------------------------------
# refused DIR WORDS [OPTIONS...]: a restore from DIR ends with status 1, saying WORDS
refused() {
	local dir=$1 words=$2 st=0
	shift 2
	vm --restore "$dir" --spec "$work/b/config.json" "$@" >"$work/r.out" 2>"$work/r.err" ||
		st=$?
	[ "$st" = 1 ] || fail "restore from $dir: status $st, not 1: $(cat "$work/r.err")"
	grep -qiF -- "$words" "$work/r.err" || fail "restore from $dir: '$words' not in: $(cat "$work/r.err")"
	[ ! -s "$work/r.out" ] || fail "restore from $dir ran something: $(cat "$work/r.out")"
}
cp -a "$work/t" "$work/trunc"
truncate -s 100 "$work/trunc/state"
refused "$work/trunc" "truncated"
cp -a "$work/t" "$work/flip"
size=$(stat -c %s "$work/flip/state")
printf '\xff' | dd of="$work/flip/state" bs=1 seek=$((size - 9)) conv=notrunc status=none
printf '\x00' | dd of="$work/flip/state" bs=1 seek=$((size - 10)) conv=notrunc status=none
refused "$work/flip" "checksum"
cp -a "$work/t" "$work/nomem"
rm "$work/nomem/memory"
refused "$work/nomem" "memory"
refused "$work/t" "another kernel" --kernel "$b/guest/bzImage"
refused "$work/t" "RAM" --mem 256M
refused "$work/nothing" "$work/nothing"

# --- the cache -------------------------------------------------------------------
cache=$work/cache
vm --spec "$work/b/config.json" --template-dir "$cache" >"$work/c1" 2>"$work/c1.err" ||
	fail "first container with a cache: $(cat "$work/c1.err")"
check_output "$work/c1" "$before" "$(date +%s)"
made=$(find "$cache" -mindepth 1 -maxdepth 1 -type d)
[ "$(echo "$made" | wc -l)" = 1 ] && [ -s "$made/state" ] || fail "no template in $cache: $(ls -la "$cache")"
stamp=$(stat -c %Y.%i "$made/state")
start=$(date +%s)
vm --spec "$work/b/config.json" --template-dir "$cache" >"$work/c2" 2>"$work/c2.err" ||
	fail "second container with a cache: $(cat "$work/c2.err")"
check_output "$work/c2" "$start" "$(date +%s)"
[ "$(stat -c %Y.%i "$made/state")" = "$stamp" ] || fail "the template was made again"
# cold: no template is used or made
rm -rf "$cache"
vm --spec "$work/b/cold.json" --template-dir "$cache" >"$work/c3" 2>"$work/c3.err" ||
	fail "a cold container: $(cat "$work/c3.err")"
check_output "$work/c3" "$start" "$(date +%s)"
[ -z "$(find "$cache" -mindepth 1 -maxdepth 1 -type d 2>/dev/null)" ] ||
	fail "a cold container made a template"
# a template that fails its checks is made again, with a line saying so
vm --spec "$work/b/config.json" --template-dir "$cache" >/dev/null 2>&1 || fail "a template for the next step"
made=$(find "$cache" -mindepth 1 -maxdepth 1 -type d)
truncate -s 100 "$made/state"
start=$(date +%s)
vm --spec "$work/b/config.json" --template-dir "$cache" >"$work/c4" 2>"$work/c4.err" ||
	fail "a container on a broken template: $(cat "$work/c4.err")"
check_output "$work/c4" "$start" "$(date +%s)"
grep -qi "rebuild\|again" "$work/c4.err" || fail "no line about the template made again: $(cat "$work/c4.err")"
[ "$(stat -c %s "$made/state")" -gt 100 ] || fail "the broken template was not made again"
echo "PASS"
