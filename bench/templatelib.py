"""VM templates for bench/boot: husk-vmm --snapshot once, then restores timed to
the agent's first answer, beside QEMU microvm restoring the same guest from
its own saved state; and what a template costs on disk for a small and a
large guest."""
import json, os, socket, struct, subprocess, tempfile, time

PROTO_MAGIC, PROTO_HELLO, PROTO_OK = 0x4B535548, 1, 0x100

def agent_hello(uds, deadline):
    """Connect through husk-vmm's vsock socket to the agent and get HELLO's answer."""
    while time.monotonic() < deadline:
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            s.settimeout(max(0.1, deadline - time.monotonic()))
            s.connect(uds)
            s.sendall(b"CONNECT 1024\n")
            line = b""
            while not line.endswith(b"\n"):
                c = s.recv(1)
                if not c:
                    raise OSError("closed")
                line += c
            if not line.startswith(b"OK"):
                raise OSError(line.decode(errors="replace"))
            body = b'{"version": 1}'
            s.sendall(struct.pack("<IHHII", PROTO_MAGIC, 1, PROTO_HELLO, 1, len(body)) + body)
            hdr = b""
            while len(hdr) < 16:
                c = s.recv(16 - len(hdr))
                if not c:
                    raise OSError("closed")
                hdr += c
            if struct.unpack("<IHHII", hdr)[2] == PROTO_OK:
                return True
        except OSError:
            time.sleep(0.002)
        finally:
            s.close()
    return False

def husk_snapshot(husk, vmlinux, initrd, mem, cpus, tdir, timeout):
    """Make a template in tdir; seconds it took."""
    t0 = time.monotonic()
    subprocess.run([husk, "--kernel", vmlinux, "--initrd", initrd, "--mem", mem, "--cpus", cpus,
                    "--cmdline", "quiet", "--vsock-uds", tdir + ".sock", "--snapshot", tdir],
                   check=True, timeout=timeout, stdout=subprocess.DEVNULL)
    return time.monotonic() - t0

def husk_restore(husk, vmlinux, initrd, mem, cpus, tdir, timeout):
    """Seconds from spawning husk-vmm --restore to its vCPUs running (the
    first KVM_RUN), and to the agent's answer over vsock."""
    uds = tempfile.mktemp(prefix="husk-bench-", suffix=".sock")
    timings = uds + ".json"
    t0_real_ns = time.time_ns()
    t0 = time.monotonic()
    p = subprocess.Popen([husk, "--kernel", vmlinux, "--initrd", initrd, "--mem", mem,
                          "--cpus", cpus, "--cmdline", "quiet", "--vsock-uds", uds,
                          "--console", "/dev/null", "--timings", timings, "--restore", tdir],
                         stdout=subprocess.DEVNULL, stdin=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL)
    ok = agent_hello(uds, t0 + timeout)
    t = time.monotonic() - t0
    p.terminate()
    p.wait()
    if not ok:
        raise SystemExit("bench/boot: the restored guest's agent never answered")
    with open(timings) as f:
        running = (json.load(f)["first_kvm_run_ns"] - t0_real_ns) / 1e9
    os.unlink(timings)
    return running, t

def on_disk(path):
    st = os.stat(path)
    return st.st_blocks * 512, st.st_size

class Qmp:
    def __init__(self, path, deadline):
        while True:
            try:
                self.s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                self.s.connect(path)
                break
            except OSError:
                self.s.close()
                if time.monotonic() > deadline:
                    raise SystemExit("bench/boot: QEMU's monitor never came up")
                time.sleep(0.001)
        self.f = self.s.makefile("rwb")
        self.f.readline()  # greeting
        self.cmd("qmp_capabilities")

    def cmd(self, name, **args):
        self.f.write(json.dumps({"execute": name, "arguments": args}).encode() + b"\n")
        self.f.flush()
        while True:
            r = json.loads(self.f.readline())
            if "return" in r or "error" in r:
                return r

    def close(self):
        self.s.close()

def qemu_argv(qemu_cpu, mem, cpus, vmlinux, initrd, cmdline, qmp):
    return ["qemu-system-x86_64", "-M", "microvm,acpi=off", "-enable-kvm", "-cpu", qemu_cpu,
            "-m", mem, "-smp", cpus, "-nodefaults", "-no-user-config", "-display", "none",
            "-serial", "stdio", "-no-reboot", "-kernel", vmlinux, "-initrd", initrd,
            "-append", cmdline, "-qmp", "unix:%s,server=on,wait=off" % qmp]

def qemu_save(argv, qmp, marker, state, timeout):
    """Boot QEMU to the agent's line, then save the stopped VM to state."""
    p = subprocess.Popen(argv, stdout=subprocess.PIPE, stdin=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + timeout
    for line in p.stdout:
        if marker in line:
            break
    m = Qmp(qmp, deadline)
    m.cmd("stop")
    m.cmd("migrate", uri="exec:cat > %s" % state)
    while m.cmd("query-migrate")["return"].get("status") not in ("completed", "failed"):
        time.sleep(0.01)
    m.cmd("quit")
    m.close()
    p.wait()

def qemu_restore(argv, qmp, state, timeout):
    """Seconds from spawning QEMU -incoming to its monitor reporting the VM
    restored: out of "inmigrate", paused as it was saved."""
    t0 = time.monotonic()
    p = subprocess.Popen(argv + ["-incoming", "exec:cat %s" % state], stdout=subprocess.DEVNULL,
                         stdin=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    m = Qmp(qmp, t0 + timeout)
    while m.cmd("query-status")["return"].get("status") in ("inmigrate", None):
        if time.monotonic() - t0 > timeout:
            raise SystemExit("bench/boot: QEMU never restored its VM")
        time.sleep(0.001)
    t = time.monotonic() - t0
    m.cmd("quit")
    m.close()
    p.wait()
    return t
