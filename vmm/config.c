#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "devices/device_module.h"
#include "husk/netdev.h"
#include "log.h"

int config_layout(const struct vmm_config *c, char *buf, size_t n)
{
	size_t at = 0;
	int w;

#define CONFIG_LAYOUT_ADD(...)                               \
	do {                                                 \
		w = snprintf(buf + at, n - at, __VA_ARGS__); \
		if (w < 0 || (size_t)w >= n - at)            \
			return -ENOSPC;                      \
		at += (size_t)w;                             \
	} while (0)
	if (!n)
		return -ENOSPC;
	buf[0] = '\0';
	CONFIG_LAYOUT_ADD("console=%s", c->console_device == CONSOLE_VIRTIO ? "virtio" : "serial");
	if (!c->no_rng)
		CONFIG_LAYOUT_ADD(" rng");
	for (unsigned i = 0; i < c->ndisks; i++)
		CONFIG_LAYOUT_ADD(" disk%s", c->disks[i].read_only ? "=ro" : "");
	for (unsigned i = 0; i < c->nfs; i++)
		CONFIG_LAYOUT_ADD(" fs=%s", c->fs[i].tag);
	for (unsigned i = 0; i < c->nnet; i++) {
		const uint8_t *m = c->net[i].mac;
		CONFIG_LAYOUT_ADD(" net=%02x:%02x:%02x:%02x:%02x:%02x/%u", m[0], m[1], m[2], m[3],
				  m[4], m[5], c->net[i].mtu);
	}
	if (c->vsock.uds_path)
		CONFIG_LAYOUT_ADD(" vsock=%llu", (unsigned long long)c->vsock.cid);
#undef CONFIG_LAYOUT_ADD
	return 0;
}

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
	      "  --snapshot DIR       boot until the guest agent is ready, then save\n"
	      "                       the VM to DIR (a template) and exit 0\n"
	      "  --restore DIR        start the VM saved in DIR instead of booting;\n"
	      "                       kernel, initramfs, RAM, vCPUs and devices must\n"
	      "                       be the ones it was saved with\n"
	      "  --no-seccomp         no system call filters on husk-vmm's threads\n"
	      "                       (UNSAFE: for debugging only)\n",
	      f);
	for (const struct device_module *const *dm = device_modules; *dm; dm++)
		fputs((*dm)->usage, f);
	fputs("  --print-cmdline      print the kernel command line (without the\n"
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
	const uint8_t prefix[] = { HUSK_DEVICE_MAC_PREFIX };
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
		if (p == s && len == 4 && !eq && !strncmp(p, "none", 4)) {
			have_tap = true; /* no back end: n->tap stays empty */
		} else if (klen == 3 && !strncmp(p, "tap", 3)) {
			if (have_tap && !n->tap[0]) {
				log_err("config", "--net '%s': none and tap= together", s);
				return -EINVAL;
			}
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
		log_err("config", "--net '%s': tap=NAME or none is required", s);
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
	OPT_CONSOLE_DEVICE,
	OPT_SNAPSHOT,
	OPT_RESTORE,
	OPT_NO_SECCOMP,
};

/* A module's option: CONFIG_OPT_MODULE + its index * DEVICE_MODULE_MAX_OPTS + its own value. */
#define CONFIG_OPT_MODULE      0x800
#define CONFIG_MAX_MODULE_OPTS 32
_Static_assert(CONFIG_OPT_MODULE + DEVICE_MODULES_MAX * DEVICE_MODULE_MAX_OPTS <= CONFIG_OPT_EXTRA,
	       "module option values below the caller's");

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
		{ "console-device", required_argument, NULL, OPT_CONSOLE_DEVICE },
		{ "snapshot", required_argument, NULL, OPT_SNAPSHOT },
		{ "restore", required_argument, NULL, OPT_RESTORE },
		{ "no-seccomp", no_argument, NULL, OPT_NO_SECCOMP },
	};
	enum { NVM = sizeof(vm_opts) / sizeof(vm_opts[0]) };
	struct option opts[NVM + CONFIG_MAX_MODULE_OPTS + CONFIG_MAX_EXTRA + 1];
	size_t nopts = NVM;

	memcpy(opts, vm_opts, sizeof(vm_opts));
	for (unsigned i = 0; device_modules[i]; i++)
		for (const struct option *mo = device_modules[i]->opts; mo->name; mo++) {
			if (nopts == NVM + CONFIG_MAX_MODULE_OPTS || mo->flag || mo->val < 0 ||
			    mo->val >= DEVICE_MODULE_MAX_OPTS) {
				log_err("config", "option --%s cannot be added", mo->name);
				return -EINVAL;
			}
			opts[nopts] = *mo;
			opts[nopts++].val =
				CONFIG_OPT_MODULE + (int)i * DEVICE_MODULE_MAX_OPTS + mo->val;
		}
	size_t nbase = nopts;
	for (const struct option *xo = extra ? extra->opts : NULL; xo && xo->name; xo++) {
		if (nopts == nbase + CONFIG_MAX_EXTRA || xo->flag || xo->val < CONFIG_OPT_EXTRA) {
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
	for (const struct device_module *const *dm = device_modules; *dm; dm++)
		if ((*dm)->defaults)
			(*dm)->defaults(c);
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
		case OPT_SNAPSHOT: c->snapshot_dir = optarg; break;
		case OPT_RESTORE: c->restore_dir = optarg; break;
		case OPT_NO_SECCOMP: c->no_seccomp = true; break;
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
			if (o >= CONFIG_OPT_MODULE && o < CONFIG_OPT_EXTRA) {
				unsigned mi =
					(unsigned)(o - CONFIG_OPT_MODULE) / DEVICE_MODULE_MAX_OPTS;
				const struct device_module *dm = device_modules[mi];
				if (dm->parse(c, (o - CONFIG_OPT_MODULE) % DEVICE_MODULE_MAX_OPTS,
					      optarg) < 0)
					return -EINVAL;
				break;
			}
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
	if (c->snapshot_dir && c->restore_dir) {
		log_err("config", "--snapshot and --restore exclude each other");
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
