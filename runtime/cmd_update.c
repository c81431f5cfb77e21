/* update [--resources FILE|-] [--memory ...] ID: its options, then the library's update.h. */
#include "husk.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "husk/spec.h"
#include "update.h"

enum { UPD_MEMORY = 1, UPD_PIDS, UPD_QUOTA, UPD_PERIOD, UPD_SHARES, UPD_RESOURCES };

/* A number with an optional k/m/g suffix, as runc's --memory takes it. */
static int upd_number(const char *s, bool suffix, int64_t *out)
{
	char *end;
	errno = 0;
	long long v = strtoll(s, &end, 10);
	if (errno || end == s || v < -1)
		return -EINVAL;
	int shift = 0;
	if (suffix && *end) {
		const char *units = "kmg";
		const char *u = strchr(units, *end | 0x20);
		if (!u || end[1 + (end[1] == 'b' || end[1] == 'B')] != '\0')
			return -EINVAL;
		shift = 10 * (int)(u - units + 1);
	} else if (*end) {
		return -EINVAL;
	}
	if (v > 0 && (v >> (62 - shift)) != 0)
		return -ERANGE;
	*out = v > 0 ? v << shift : v;
	return 0;
}

int cmd_update(const struct husk_global *g, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "resources", required_argument, NULL, UPD_RESOURCES },
		{ "memory", required_argument, NULL, UPD_MEMORY },
		{ "pids-limit", required_argument, NULL, UPD_PIDS },
		{ "cpu-quota", required_argument, NULL, UPD_QUOTA },
		{ "cpu-period", required_argument, NULL, UPD_PERIOD },
		{ "cpu-share", required_argument, NULL, UPD_SHARES },
		{ NULL, 0, NULL, 0 },
	};
	struct spec_resources res = { .memory_limit = -1, .pids_limit = -1, .cpu_quota = -1 };
	const char *file = NULL;
	int64_t v = 0;
	int o;

	optind = 1;
	while ((o = cmd_getopt(g, argc, argv, "r:", opts)) != -1) {
		if (o == 'r' || o == UPD_RESOURCES) {
			file = optarg;
			continue;
		}
		if (o == '?' || upd_number(optarg, o == UPD_MEMORY, &v) < 0) {
			if (o != '?')
				husk_report(g, "update: --%s: not a number: \"%s\"", opts[o].name,
					    optarg);
			return 1;
		}
		switch (o) {
		case UPD_MEMORY: res.memory_limit = v; break;
		case UPD_PIDS: res.pids_limit = v; break;
		case UPD_QUOTA: res.cpu_quota = v; break;
		case UPD_PERIOD: res.cpu_period = v > 0 ? (uint64_t)v : 0; break;
		case UPD_SHARES: res.cpu_shares = v > 0 ? (uint64_t)v : 0; break;
		}
	}
	if (optind != argc - 1) {
		husk_report(g, "update: exactly one container id, please");
		return 1;
	}
	return husk_update(g, argv[optind], file, &res) == 0 ? 0 : 1;
}
