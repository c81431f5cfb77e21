#!/usr/bin/env python3
"""Helpers for the runtime's terminal tests, playing an engine's parts.

console SOCK OUT STEP...  listen on the Unix socket SOCK (the --console-socket),
    take the pty master sent there, then run the steps in order:
      expect:TEXT   read until TEXT has been seen (300 s at most, then exit 1)
      resize:RxC    set the master's window size (TIOCSWINSZ)
      send:TEXT     write TEXT (\\r and \\n escapes) to the master
    then read to the end; everything read goes to OUT. The name that came
    with the fd is written to OUT.name.
reap PIDFILE CMD...  be a child subreaper, run CMD (it must succeed), then
    wait for the process named in PIDFILE and print "status N" (128+N for
    signal N), as conmon and containerd's shim do.
"""
import ctypes
import fcntl
import os
import select
import socket
import struct
import subprocess
import sys
import termios
import time


def console(sock_path, out_path, steps):
    srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    srv.bind(sock_path)
    srv.listen(1)
    srv.settimeout(600)
    conn, _ = srv.accept()
    msg, fds, _, _ = socket.recv_fds(conn, 4096, 1)
    conn.close()
    srv.close()
    os.unlink(sock_path)
    if len(fds) != 1:
        sys.exit("console: no fd came with the message")
    master = fds[0]
    with open(out_path + ".name", "wb") as f:
        f.write(msg)
    seen = b""
    out = open(out_path, "wb", buffering=0)

    def read_some(timeout):
        nonlocal seen
        r, _, _ = select.select([master], [], [], timeout)
        if not r:
            return True
        try:
            data = os.read(master, 65536)
        except OSError:  # EIO: the slave's last holder is gone
            return False
        if not data:
            return False
        out.write(data)
        seen += data
        return True

    for step in steps:
        kind, _, arg = step.partition(":")
        if kind == "expect":
            deadline = time.time() + 300
            want = arg.encode()
            while want not in seen:
                if time.time() > deadline or not read_some(1):
                    sys.exit("console: %r never came; got %r" % (arg, seen))
            seen = seen[seen.index(want) + len(want):]
        elif kind == "resize":
            rows, cols = (int(x) for x in arg.split("x"))
            fcntl.ioctl(master, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
        elif kind == "send":
            os.write(master, arg.replace("\\r", "\r").replace("\\n", "\n").encode())
        else:
            sys.exit("console: unknown step %r" % step)
    deadline = time.time() + 60
    while time.time() < deadline and read_some(1):
        pass
    os.close(master)


def reap(pid_file, cmd):
    libc = ctypes.CDLL(None, use_errno=True)
    PR_SET_CHILD_SUBREAPER = 36
    if libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0:
        sys.exit("reap: prctl: %s" % os.strerror(ctypes.get_errno()))
    rc = subprocess.call(cmd)
    if rc != 0:
        print("command failed %d" % rc, flush=True)
        sys.exit(1)
    with open(pid_file) as f:
        pid = int(f.read())
    _, st = os.waitpid(pid, 0)
    code = os.WEXITSTATUS(st) if os.WIFEXITED(st) else 128 + os.WTERMSIG(st)
    print("status %d" % code, flush=True)


if __name__ == "__main__":
    if len(sys.argv) >= 4 and sys.argv[1] == "console":
        console(sys.argv[2], sys.argv[3], sys.argv[4:])
    elif len(sys.argv) >= 4 and sys.argv[1] == "reap":
        reap(sys.argv[2], sys.argv[3:])
    else:
        sys.exit(__doc__)
