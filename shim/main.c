/* husk-vmm: boot a Linux guest in a KVM micro-VM. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "boot/boot.h"
#include "config.h"
#include "kvm/flavour.h"
#include "seccomp/seccomp.h"
#include "shim_options.h"
#include "spec_run.h"
#include "timing.h"
#include "vmm.h"

#ifndef HUSK_VERSION
#define HUSK_VERSION "0.0.0"
#endif

static void write_timings(const struct vmm_config *cfg, const struct timing *t)
{
	char line[512];
	int n = timing_json(t, line, sizeof(line));
	if (n < 0)
		return;
	if (!strcmp(cfg->timings, "-")) {
		fputs(line, stderr);
		return;
	}
	FILE *f = fopen(cfg->timings, "we");
	if (!f) {
		fprintf(stderr, "husk-vmm: timings: cannot write %s: %s\n", cfg->timings,
			strerror(errno));
		return;
	}
	fputs(line, f);
	fclose(f);
}

int main(int argc, char **argv)
{
	struct timing t;
	struct vmm_config cfg;
	struct shim_options opts;

	timing_init(&t);
	timing_mark(&t, TIMING_PROCESS_START);

	if (shim_options_parse(&opts, &cfg, argc, argv) < 0) {
		fprintf(stderr, "Try 'husk-vmm --help'.\n");
		exit(1);
	}
	if (cfg.help) {
		shim_options_usage(stdout);
		exit(0);
	}
	if (cfg.version) {
		printf("husk-vmm %s\n", HUSK_VERSION);
		exit(0);
	}

	if (cfg.print_cmdline) {
		struct cmdline cl;
		if (boot_build_cmdline(&cl, &cfg, flavour_detect(cfg.flavour, "/sys"), NULL) < 0)
			exit(1);
		printf("%s\n", cl.buf);
		exit(0);
	}

	/* each thread installs its class's filter once its set-up is done (seccomp.h) */
	if (!cfg.no_seccomp && sc_enable() < 0)
		exit(1);
	int status;
	if (cfg.snapshot_dir && opts.spec) {
		fprintf(stderr, "husk-vmm: --snapshot saves a VM with no container: not with "
				"--spec\nTry 'husk-vmm --help'.\n");
		exit(1);
	}
	if (cfg.snapshot_dir)
		status = vmm_snapshot(&cfg, VMM_SNAPSHOT_READY_MS, &t);
	else
		status = opts.spec ? spec_run_vm(&cfg, &opts, &t) : vmm_run(&cfg, &t);
	if (cfg.timings)
		write_timings(&cfg, &t);
	exit(status < 0 ? 1 : status);
}
