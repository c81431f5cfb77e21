#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "husk/path.h"
#include "log.h"

void config_usage(FILE *f)
{
	fputs("usage: husk-vmm --kernel IMAGE [options]\n"
	      "Boot a Linux kernel (ELF vmlinux or bzImage) in a KVM micro-VM.\n\n"
	      "  --kernel PATH        kernel image (ELF vmlinux or bzImage)\n"
	      "  --initrd PATH        initramfs (uncompressed newc cpio)\n"
	      "  --cmdline STRING     appended to the kernel command line\n"
	      "  --mem SIZE           guest RAM, e.g. 128M or 1G (default 128M)\n"
	      "  --cpus N             vCPUs (default 1)\n"
	      "  --console PATH       console output file (default stdout)\n"
	      "  --console-device D   the guest's console: virtio (hvc0, with early\n"
	      "                       messages on the UART; default) or serial (ttyS0)\n"
	      "  --timings PATH       write boot timing points as one JSON line\n"
	      "                       at exit ('-' for stderr)\n"
	      "  --kvm-device PATH    KVM device (default /dev/kvm)\n"
	      "  --kvm-flavour KIND   auto, hardware or pvm (default auto)\n"
	      "  --disk PATH[,ro]     a virtio-blk disk backed by a raw image (repeatable)\n"
	      "  --fs TAG=DIR         share DIR with the guest over virtio-fs (mount -t\n"
	      "                       virtiofs TAG), served by a virtiofsd of its own\n"
	      "                       (repeatable)\n"
	      "  --net tap=NAME[,mac=MAC][,mtu=N]\n"
	      "                       a virtio-net device on tap NAME (created if absent,\n"
	      "                       gone with husk-vmm); MAC XX:XX:XX:XX:XX:XX (default\n"
	      "                       02:68:75:73:6b:<index>), MTU 68-65535 (default 1500)\n"
	      "                       (repeatable, up to 4)\n"
	      "  --no-rng             no virtio-rng entropy device\n"
	      "  --vsock-uds PATH     a virtio-vsock device bridged to Unix sockets:\n"
	      "                       clients of PATH send \"CONNECT <port>\\n\"; the guest's\n"
	      "                       connects to host port P reach PATH_P\n"
	      "  --vsock-cid N        the guest's vsock CID (default 3)\n"
	      "  --print-cmdline      print the kernel command line (without the\n"
	      "                       devices' entries) and exit\n"
	      "  --help, --version\n",
	      f);
}

int config_parse_size(const char *s, uint64_t *out)
{
	char *end;

	if (!s || !isdigit((unsigned char)s[0]))
		return -EINVAL;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno)
		return -EINVAL;
	unsigned shift = 0;
	switch (*end) {
	case '\0': break;
	case 'k':
	case 'K':
		shift = 10;
		end++;
		break;
	case 'm':
	case 'M':
		shift = 20;
		end++;
		break;
	case 'g':
	case 'G':
		shift = 30;
		end++;
		break;
	case 't':
	case 'T':
		shift = 40;
		end++;
		break;
	default: return -EINVAL;
	}
	if (shift && end[0] == 'i' && end[1] == 'B')
		end += 2; /* 128MiB */
	if (*end != '\0')
		return -EINVAL;
	if (shift && v > (UINT64_MAX >> shift))
		return -EINVAL;
	*out = (uint64_t)v << shift;
	return 0;
}

int config_parse_count(const char *s, unsigned *out)
{
	char *end;

	if (!s || !isdigit((unsigned char)s[0]))
		return -EINVAL;
	errno = 0;
	unsigned long v = strtoul(s, &end, 10);
	if (errno || *end || v > UINT32_MAX)
		return -EINVAL;
	*out = (unsigned)v;
	return 0;
}

/* "PATH" or "PATH,ro". */
static int config_parse_disk(const char *s, struct disk_config *d)
{
	size_t n = strlen(s);
	d->read_only = n > 3 && !strcmp(s + n - 3, ",ro");
	if (d->read_only)
		n -= 3;
	struct husk_err e = { 0 };
	if (path_fmt(&e, d->path, sizeof(d->path), "%.*s", (int)n, s) < 0) {
		log_err("config", "--disk: %s", e.msg);
		return -ENAMETOOLONG;
	}
	return 0;
}

/* "XX:XX:XX:XX:XX:XX", exactly. */
static int config_parse_mac(const char *s, size_t len, uint8_t mac[6])
{
	if (len != 17)
		return -EINVAL;
	for (unsigned i = 0; i < 6; i++) {
		const char *p = s + 3 * i;
		if (!isxdigit((unsigned char)p[0]) || !isxdigit((unsigned char)p[1]) ||
		    (i < 5 && p[2] != ':'))
			return -EINVAL;
		char hex[3] = { p[0], p[1], '\0' };
		mac[i] = (uint8_t)strtoul(hex, NULL, 16);
	}
	if (mac[0] & 1) /* a multicast address cannot be a station's */
		return -EINVAL;
	return 0;
}

int config_parse_net(const char *s, unsigned index, struct net_config *n)
{
	const uint8_t prefix[] = { CONFIG_NET_MAC_PREFIX };
	bool have_tap = false;

	memset(n, 0, sizeof(*n));
	memcpy(n->mac, prefix, sizeof(prefix));
	n->mac[5] = (uint8_t)index;
	n->mtu = CONFIG_NET_MTU_DEFAULT;
	for (const char *p = s; *p;) {
		size_t len = strcspn(p, ",");
		const char *eq = memchr(p, '=', len);
		size_t klen = eq ? (size_t)(eq - p) : len;
		const char *v = eq ? eq + 1 : p + len;
		size_t vlen = eq ? len - klen - 1 : 0;
		if (klen == 3 && !strncmp(p, "tap", 3)) {
			if (!vlen || vlen >= IFNAMSIZ || memchr(v, '/', vlen) ||
			    memchr(v, ' ', vlen) || (vlen == 1 && v[0] == '.') ||
			    (vlen == 2 && !strncmp(v, "..", 2))) {
				log_err("config",
					"--net '%s': tap= needs an interface name of 1 to "
					"%d bytes",
					s, IFNAMSIZ - 1);
				return -EINVAL;
			}
			memcpy(n->tap, v, vlen);
			n->tap[vlen] = '\0';
			have_tap = true;
		} else if (klen == 3 && !strncmp(p, "mac", 3)) {
			if (config_parse_mac(v, vlen, n->mac) < 0) {
				log_err("config",
					"--net '%s': mac= needs a unicast XX:XX:XX:XX:XX:XX", s);
				return -EINVAL;
			}
		} else if (klen == 3 && !strncmp(p, "mtu", 3)) {
			char num[12] = "";
			unsigned mtu = 0;
			if (vlen < sizeof(num))
				memcpy(num, v, vlen);
			if (config_parse_count(num, &mtu) < 0 || mtu < CONFIG_NET_MTU_MIN ||
			    mtu > CONFIG_NET_MTU_MAX) {
				log_err("config", "--net '%s': mtu= needs a number from %d to %d",
					s, CONFIG_NET_MTU_MIN, CONFIG_NET_MTU_MAX);
				return -EINVAL;
			}
			n->mtu = mtu;
		} else {
			log_err("config", "--net '%s': unknown setting '%.*s' (tap=, mac=, mtu=)",
				s, (int)len, p);
			return -EINVAL;
		}
		p += len;
		if (*p == ',' && *++p == '\0') {
			log_err("config", "--net '%s': ends with a comma", s);
			return -EINVAL;
		}
	}
	if (!have_tap) {
		log_err("config", "--net '%s': tap=NAME is required", s);
		return -EINVAL;
	}
	return 0;
}

enum {
	OPT_KERNEL = 256,
	OPT_INITRD,
	OPT_CMDLINE,
	OPT_MEM,
	OPT_CPUS,
	OPT_CONSOLE,
	OPT_TIMINGS,
	OPT_KVM_DEVICE,
	OPT_FLAVOUR,
	OPT_HELP,
	OPT_VERSION,
	OPT_PRINT_CMDLINE,
	OPT_DISK,
	OPT_NO_RNG,
	OPT_VSOCK_UDS,
	OPT_VSOCK_CID,
	OPT_CONSOLE_DEVICE,
	OPT_FS,
	OPT_NET
};

int config_parse(struct vmm_config *c, int argc, char **argv, const struct config_extra *extra)
{
	static const struct option vm_opts[] = {
		{ "kernel", required_argument, NULL, OPT_KERNEL },
		{ "initrd", required_argument, NULL, OPT_INITRD },
		{ "cmdline", required_argument, NULL, OPT_CMDLINE },
		{ "mem", required_argument, NULL, OPT_MEM },
		{ "cpus", required_argument, NULL, OPT_CPUS },
		{ "console", required_argument, NULL, OPT_CONSOLE },
		{ "timings", required_argument, NULL, OPT_TIMINGS },
		{ "kvm-device", required_argument, NULL, OPT_KVM_DEVICE },
		{ "kvm-flavour", required_argument, NULL, OPT_FLAVOUR },
		{ "help", no_argument, NULL, OPT_HELP },
		{ "version", no_argument, NULL, OPT_VERSION },
		{ "print-cmdline", no_argument, NULL, OPT_PRINT_CMDLINE },
		{ "disk", required_argument, NULL, OPT_DISK },
		{ "no-rng", no_argument, NULL, OPT_NO_RNG },
		{ "vsock-uds", required_argument, NULL, OPT_VSOCK_UDS },
		{ "vsock-cid", required_argument, NULL, OPT_VSOCK_CID },
		{ "console-device", required_argument, NULL, OPT_CONSOLE_DEVICE },
		{ "fs", required_argument, NULL, OPT_FS },
		{ "net", required_argument, NULL, OPT_NET },
	};
	struct option opts[sizeof(vm_opts) / sizeof(vm_opts[0]) + CONFIG_MAX_EXTRA + 1];
	size_t nopts = sizeof(vm_opts) / sizeof(vm_opts[0]);

	memcpy(opts, vm_opts, sizeof(vm_opts));
	for (const struct option *xo = extra ? extra->opts : NULL; xo && xo->name; xo++) {
		if (nopts == sizeof(vm_opts) / sizeof(vm_opts[0]) + CONFIG_MAX_EXTRA || xo->flag ||
		    xo->val < CONFIG_OPT_EXTRA) {
			log_err("config", "option --%s cannot be added", xo->name);
			return -EINVAL;
		}
		opts[nopts++] = *xo;
	}
	memset(&opts[nopts], 0, sizeof(opts[nopts]));

	memset(c, 0, sizeof(*c));
	c->mem_bytes = CONFIG_DEFAULT_MEM;
	c->vcpus = 1;
	c->kvm_device = "/dev/kvm";
	c->vsock.cid = 3;
	optind = 1;
	opterr = 0;

	for (;;) {
		int o = getopt_long(argc, argv, ":", opts, NULL);
		if (o == -1)
			break;
		switch (o) {
		case OPT_KERNEL: c->kernel = optarg; break;
		case OPT_INITRD: c->initrd = optarg; break;
		case OPT_CMDLINE: c->cmdline = optarg; break;
		case OPT_CONSOLE: c->console = optarg; break;
		case OPT_TIMINGS: c->timings = optarg; break;
		case OPT_KVM_DEVICE: c->kvm_device = optarg; break;
		case OPT_HELP: c->help = true; return 0;
		case OPT_VERSION: c->version = true; return 0;
		case OPT_PRINT_CMDLINE: c->print_cmdline = true; break;
		case OPT_NO_RNG: c->no_rng = true; break;
		case OPT_CONSOLE_DEVICE:
			if (!strcmp(optarg, "virtio"))
				c->console_device = CONSOLE_VIRTIO;
			else if (!strcmp(optarg, "serial"))
				c->console_device = CONSOLE_SERIAL;
			else {
				log_err("config", "--console-device must be virtio or serial");
				return -EINVAL;
			}
			break;
		case OPT_VSOCK_UDS: c->vsock.uds_path = optarg; break;
		case OPT_VSOCK_CID: {
			unsigned cid;
			if (config_parse_count(optarg, &cid) < 0 || cid < 3) {
				log_err("config", "--vsock-cid '%s': a number from 3 up", optarg);
				return -EINVAL;
			}
			c->vsock.cid = cid;
			break;
		}
		case OPT_FS: {
			const char *eq = strchr(optarg, '=');
			if (!eq || eq == optarg || eq - optarg >= CONFIG_FS_TAG_MAX || !eq[1]) {
				log_err("config", "--fs '%s': TAG=DIR with a tag of 1 to 35 bytes",
					optarg);
				return -EINVAL;
			}
			if (c->nfs == CONFIG_MAX_FS) {
				log_err("config", "at most %d --fs options", CONFIG_MAX_FS);
				return -EINVAL;
			}
			struct fs_config *fs = &c->fs[c->nfs++];
			snprintf(fs->tag, sizeof(fs->tag), "%.*s", (int)(eq - optarg), optarg);
			fs->dir = eq + 1;
			break;
		}
		case OPT_NET:
			if (c->nnet == CONFIG_MAX_NET) {
				log_err("config", "at most %d --net options", CONFIG_MAX_NET);
				return -EINVAL;
			}
			if (config_parse_net(optarg, c->nnet, &c->net[c->nnet]) < 0)
				return -EINVAL;
			for (unsigned i = 0; i < c->nnet; i++)
				if (!strcmp(c->net[i].tap, c->net[c->nnet].tap)) {
					log_err("config", "--net: tap %s given twice",
						c->net[i].tap);
					return -EINVAL;
				}
			c->nnet++;
			break;
		case OPT_DISK:
			if (c->ndisks == CONFIG_MAX_DISKS) {
				log_err("config", "at most %d --disk options", CONFIG_MAX_DISKS);
				return -EINVAL;
			}
			if (config_parse_disk(optarg, &c->disks[c->ndisks]) < 0)
				return -EINVAL;
			c->ndisks++;
			break;
		case OPT_MEM:
			if (config_parse_size(optarg, &c->mem_bytes) < 0) {
				log_err("config", "--mem '%s' is not a size (e.g. 128M, 1G)",
					optarg);
				return -EINVAL;
			}
			break;
		case OPT_CPUS:
			if (config_parse_count(optarg, &c->vcpus) < 0) {
				log_err("config", "--cpus '%s' is not a number", optarg);
				return -EINVAL;
			}
			break;
		case OPT_FLAVOUR:
			if (!strcmp(optarg, "auto"))
				c->flavour = FLAVOUR_AUTO;
			else if (!strcmp(optarg, "hardware"))
				c->flavour = FLAVOUR_HARDWARE;
			else if (!strcmp(optarg, "pvm"))
				c->flavour = FLAVOUR_PVM;
			else {
				log_err("config", "--kvm-flavour must be auto, hardware or pvm");
				return -EINVAL;
			}
			break;
		case ':':
			log_err("config", "option %s needs a value", argv[optind - 1]);
			return -EINVAL;
		default:
			if (o < CONFIG_OPT_EXTRA || !extra) {
				log_err("config", "unknown option '%s' (see --help)",
					argv[optind - 1]);
				return -EINVAL;
			}
			int r = extra->option(extra->ctx, o, optarg);
			if (r < 0)
				return r;
			break;
		}
	}
	if (optind < argc) {
		log_err("config", "unexpected argument '%s'", argv[optind]);
		return -EINVAL;
	}
	if (extra && extra->check) {
		int r = extra->check(extra->ctx);
		if (r < 0)
			return r;
	}
	if (!c->kernel && !c->print_cmdline) {
		log_err("config", "--kernel is required");
		return -EINVAL;
	}
	if (c->mem_bytes < (32ULL << 20) || c->mem_bytes > CONFIG_MAX_MEM) {
		log_err("config", "--mem must be between 32M and 1T");
		return -EINVAL;
	}
	if (c->vcpus < 1 || c->vcpus > CONFIG_MAX_VCPUS) {
		log_err("config", "--cpus must be between 1 and %d", CONFIG_MAX_VCPUS);
		return -EINVAL;
	}
	return 0;
}
