#!/usr/bin/env python3
"""Make a docker-archive (what `docker load` and `ctr image import` take)
from a root filesystem tarball, by hand: one layer, a config with
PATH=/bin and CMD /bin/sh, a manifest naming TAG. No registry needed.

usage: mkimage.py ROOTFS.tar TAG OUT.tar
"""
import hashlib, io, json, sys, tarfile

rootfs, tag, out = sys.argv[1:4]
layer = open(rootfs, "rb").read()
diff = "sha256:" + hashlib.sha256(layer).hexdigest()
config = json.dumps({"architecture": "amd64", "os": "linux",
                     "config": {"Env": ["PATH=/bin"], "Cmd": ["/bin/sh"]},
                     "rootfs": {"type": "layers", "diff_ids": [diff]}}).encode()
cname = hashlib.sha256(config).hexdigest() + ".json"
manifest = json.dumps([{"Config": cname, "RepoTags": [tag], "Layers": ["layer.tar"]}]).encode()
with tarfile.open(out, "w") as t:
    for name, data in (("layer.tar", layer), (cname, config), ("manifest.json", manifest)):
        info = tarfile.TarInfo(name)
        info.size = len(data)
        t.addfile(info, io.BytesIO(data))
