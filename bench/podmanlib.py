"""What bench/run and bench/net share to drive Podman: the hybrid-cgroup
set-up crun needs, and a busybox image of the run's own.

crun refuses hybrid cgroups while cgroup2 still owns a controller: the
controllers left there are bound to v1 hierarchies first (idempotent, as
root), as /sys/fs/cgroup/<name>. The image is the guest's rootfs.dir (plus
any files given) imported under a name of the caller's own and removed at
exit.
"""
import contextlib, os, shutil, subprocess, sys, tarfile, tempfile

# this host's open-files hard limit is below Podman's default ulimits
ULIMITS = ["--ulimit", "nofile=1024:1024", "--ulimit", "nproc=1024:1024"]
# the controllers a hybrid host may leave on cgroup2, and their v1 mount points
V1_HIERARCHIES = {"hugetlb": "hugetlb", "net_cls": "net_cls,net_prio",
                  "net_prio": "net_cls,net_prio", "perf_event": "perf_event"}


def die(msg):
    sys.exit("bench/%s: %s" % (os.path.basename(sys.argv[0]), msg))


def cgroups_for_crun():
    """Bind what cgroup2 still owns on a hybrid host to v1 hierarchies."""
    v2 = "/sys/fs/cgroup/unified/cgroup.controllers"
    if not os.path.exists(v2):
        return  # pure v1 or pure v2: crun takes either
    with open(v2) as f:
        left = f.read().split()
    for c in left:
        opts = V1_HIERARCHIES.get(c)
        if not opts:
            die("cgroup2 owns %s, which this script does not know how to move to v1" % c)
        d = "/sys/fs/cgroup/" + opts
        if subprocess.run(["mountpoint", "-q", d]).returncode != 0:
            os.makedirs(d, exist_ok=True)
            subprocess.run(["mount", "-t", "cgroup", "-o", opts, "cgroup", d], check=True)
        for name in opts.split(","):
            link = "/sys/fs/cgroup/" + name
            if name != opts and not os.path.exists(link):
                os.symlink(opts, link)
    with open(v2) as f:
        if f.read().split():
            die("cgroup2 still owns controllers: crun would refuse this host")


@contextlib.contextmanager
def busybox_image(build, image, extra=()):
    """Import build/guest/rootfs.dir, plus each (source, path in the image)
    of extra, as image; remove it at exit."""
    tmp = tempfile.mkdtemp(prefix="husk-bench-")
    imported = False
    try:
        tgz = os.path.join(tmp, "rootfs.tar.gz")
        with tarfile.open(tgz, "w:gz") as t:
            t.add(os.path.join(build, "guest", "rootfs.dir"), arcname=".")
            for src, dest in extra:
                t.add(src, arcname="." + dest)
        subprocess.run(["podman", "import", "--change", 'CMD ["/bin/sh"]', "--change", "ENV PATH=/bin",
                        tgz, image], check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        imported = True
        yield image
    finally:
        if imported:
            subprocess.run(["podman", "rmi", "-f", image], stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL)
        shutil.rmtree(tmp, ignore_errors=True)
