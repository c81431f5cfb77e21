/*
 * KVM tests: husk-vmm boots tiny hand-made guests (reset, triple fault) and
 * the husk guest kernel (vmlinux with 1 and 2 vCPUs, bzImage) into
 * husk-agent, and a distribution bzImage to its banner; bad input is refused.
 * Skipped (exit 77) only where /dev/kvm does not exist.
 */
#include <check.h>
#include <elf.h>
#include <fcntl.h>
#include <glob.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "vmm_run.h"

#define GUEST_DIR    HUSK_GUEST_DIR
#define BOOT_TIMEOUT 300

/* Write an ELF64 executable whose one segment, code, runs at 16 MiB. */
static void write_tiny_elf(const char *path, const uint8_t *code, size_t len)
{
	struct {
		Elf64_Ehdr eh;
		Elf64_Phdr ph;
		uint8_t code[64];
	} img;
	memset(&img, 0, sizeof(img));
	ck_assert_uint_le(len, sizeof(img.code));
	memcpy(img.eh.e_ident, ELFMAG, SELFMAG);
	img.eh.e_ident[EI_CLASS] = ELFCLASS64;
	img.eh.e_ident[EI_DATA] = ELFDATA2LSB;
	img.eh.e_ident[EI_VERSION] = EV_CURRENT;
	img.eh.e_type = ET_EXEC;
	img.eh.e_machine = EM_X86_64;
	img.eh.e_version = EV_CURRENT;
	img.eh.e_entry = 0x1000000;
	img.eh.e_phoff = offsetof(__typeof__(img), ph);
	img.eh.e_ehsize = sizeof(Elf64_Ehdr);
	img.eh.e_phentsize = sizeof(Elf64_Phdr);
	img.eh.e_phnum = 1;
	img.ph.p_type = PT_LOAD;
	img.ph.p_flags = PF_R | PF_X;
	img.ph.p_offset = offsetof(__typeof__(img), code);
	img.ph.p_vaddr = img.ph.p_paddr = 0x1000000;
	img.ph.p_filesz = img.ph.p_memsz = len;
	memcpy(img.code, code, len);
	FILE *f = fopen(path, "wb");
	ck_assert_ptr_nonnull(f);
	ck_assert_uint_eq(fwrite(&img, 1, sizeof(img), f), sizeof(img));
	fclose(f);
}

/* Run code as a tiny guest kernel with 64 MiB; the image is gone afterwards. */
static void run_tiny_guest(struct vmm_run *r, const uint8_t *code, size_t len)
{
	char path[] = "/tmp/husk-tiny-XXXXXX";
	int fd = mkstemp(path);
	ck_assert_int_ge(fd, 0);
	close(fd);
	write_tiny_elf(path, code, len);
	const char *args[] = { "--kernel", path, "--mem", "64M", NULL };
	vmm_run_args(r, args, 60);
	unlink(path);
}

START_TEST(tiny_guest_prints_and_resets)
{
	static const uint8_t code[] = {
		0x66, 0xba, 0xf8, 0x03, /* mov dx, 0x3f8 */
		0xb0, 'o',  0xee,	/* mov al, 'o'; out dx, al */
		0xb0, 'k',  0xee, 0xb0, '\n',
		0xee, 0xb0, 0xfe, 0xe6, 0x64, /* mov al, 0xfe; out 0x64, al: reset */
		0xf4, 0xeb, 0xfd,	      /* hlt; jmp hlt */
	};
	struct vmm_run r;
	run_tiny_guest(&r, code, sizeof(code));
	ck_assert_msg(r.status == 0, "status %d, stderr: %s", r.status, r.err);
	ck_assert_str_eq(r.out, "ok\n");
	vmm_run_free(&r);
}
END_TEST

START_TEST(triple_fault_is_reported_with_rip_and_code)
{
	/* ud2 with no IDT: #UD cannot be delivered, #DF neither: shutdown */
	static const uint8_t code[] = { 0x0f, 0x0b, 0xf4 };
	struct vmm_run r;
	run_tiny_guest(&r, code, sizeof(code));
	ck_assert_int_eq(r.status, 2);
	ck_assert_msg(strstr(r.err, "triple fault"), "stderr: %s", r.err);
	ck_assert_msg(strstr(r.err, "rip 0x1000000"), "stderr: %s", r.err);
	ck_assert_msg(strstr(r.err, "code 0f 0b f4"), "stderr: %s", r.err);
	ck_assert_msg(strstr(r.err, "(ud2)"), "stderr: %s", r.err);
	vmm_run_free(&r);
}
END_TEST

/* The agent's line: "husk-agent: ready kernel=R cpus=N uptime=S" */
static void check_agent_line(const struct vmm_run *r, int cpus)
{
	struct utsname host;
	char want[64], release[65] = "";

	ck_assert_msg(r->status == 0, "status %d\nstderr: %s\nconsole tail: %s", r->status, r->err,
		      strlen(r->out) > 2000 ? r->out + strlen(r->out) - 2000 : r->out);
	const char *line = strstr(r->out, "husk-agent: ready kernel=");
	ck_assert_msg(line != NULL, "no agent line on the console: %s", r->out);
	ck_assert_int_eq(sscanf(line, "husk-agent: ready kernel=%64s", release), 1);
	ck_assert_msg(strncmp(release, "6.1.", 4) == 0, "guest kernel %s", release);
	ck_assert_int_eq(uname(&host), 0);
	ck_assert_str_ne(release, host.release);
	snprintf(want, sizeof(want), " cpus=%d ", cpus);
	ck_assert_msg(strstr(line, want) != NULL, "want%s in: %.120s", want, line);
}

static void boot_husk_guest(const char *kernel, const char *cpus, const char *console)
{
	struct vmm_run r;
	char timings[160];
	char dir[] = "/tmp/husk-timings-XXXXXX";
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(timings, sizeof(timings), "%s/t.json", dir);
	const char *args[] = { "--kernel",
			       kernel,
			       "--initrd",
			       GUEST_DIR "/initramfs.cpio",
			       "--mem",
			       "128M",
			       "--cpus",
			       cpus,
			       "--cmdline",
			       "quiet",
			       "--timings",
			       timings,
			       "--console-device",
			       console,
			       NULL };
	vmm_run_args(&r, args, BOOT_TIMEOUT);
	check_agent_line(&r, atoi(cpus));

	char *t = slurp(timings);
	ck_assert_msg(strstr(t, "\"agent_ready_ms\":") && !strstr(t, "\"agent_ready_ms\":null"),
		      "timings: %s", t);
	ck_assert_msg(!strstr(t, "\"first_kvm_run_ms\":null"), "timings: %s", t);
	free(t);
	unlink(timings);
	rmdir(dir);
	vmm_run_free(&r);
}

START_TEST(vmlinux_boots_to_agent_1_vcpu)
{
	boot_husk_guest(GUEST_DIR "/vmlinux", "1", "virtio");
}
END_TEST

START_TEST(vmlinux_boots_to_agent_2_vcpus)
{
	boot_husk_guest(GUEST_DIR "/vmlinux", "2", "virtio");
}
END_TEST

START_TEST(bzimage_boots_to_agent)
{
	boot_husk_guest(GUEST_DIR "/bzImage", "1", "serial"); /* and the UART console */
}
END_TEST

START_TEST(distribution_bzimage_reaches_banner)
{
	glob_t g;
	ck_assert_msg(glob("/boot/vmlinuz-*-cloud-amd64", 0, NULL, &g) == 0,
		      "no Debian cloud kernel in /boot (package linux-image-cloud-amd64)");
	struct vmm_run r;
	const char *args[] = { "--kernel", g.gl_pathv[0], "--mem", "256M", NULL };
	vmm_start(&r, args);
	bool banner = vmm_wait_console(&r, "Linux version 6.1", BOOT_TIMEOUT);
	if (r.pid)
		kill(r.pid, SIGTERM);
	vmm_wait(&r, 30);
	ck_assert_msg(banner, "no banner; status %d stderr: %s console: %s", r.status, r.err,
		      r.out);
	ck_assert_int_eq(r.status, 128 + SIGTERM); /* SIGTERM ends the VM cleanly */
	vmm_run_free(&r);
	globfree(&g);
}
END_TEST

static void expect_refusal(const char *const *args, const char *message)
{
	struct vmm_run r;
	vmm_run_args(&r, args, 60);
	ck_assert_msg(r.status == 1, "status %d for %s", r.status, message);
	ck_assert_msg(strstr(r.err, message), "want '%s' in stderr: %s", message, r.err);
	ck_assert_str_eq(r.out, "");
	vmm_run_free(&r);
}

START_TEST(bad_images_are_refused)
{
	char junk[] = "/tmp/husk-junk-XXXXXX", trunc[] = "/tmp/husk-trunc-XXXXXX",
	     big[] = "/tmp/husk-big-XXXXXX";
	int fd = mkstemp(junk);
	char bytes[8192];
	for (size_t i = 0; i < sizeof(bytes); i++)
		bytes[i] = (char)(i * 131 + 7);
	ck_assert_int_eq(write(fd, bytes, sizeof(bytes)), (int)sizeof(bytes));
	close(fd);

	/* the real vmlinux cut to its first 8 KiB: headers point past the end */
	fd = mkstemp(trunc);
	FILE *v = fopen(GUEST_DIR "/vmlinux", "rb");
	ck_assert_ptr_nonnull(v);
	size_t n = fread(bytes, 1, sizeof(bytes), v);
	fclose(v);
	ck_assert_int_eq(write(fd, bytes, n), (int)n);
	close(fd);

	/* an initramfs bigger than the guest's RAM */
	fd = mkstemp(big);
	ck_assert_int_eq(ftruncate(fd, 80 << 20), 0);
	close(fd);

	expect_refusal((const char *const[]){ "--kernel", "/nonexistent/vmlinux", NULL },
		       "cannot open kernel");
	expect_refusal((const char *const[]){ "--kernel", junk, NULL },
		       "is not a kernel husk-vmm can boot");
	expect_refusal((const char *const[]){ "--kernel", trunc, NULL },
		       "is not a kernel husk-vmm can boot");
	expect_refusal((const char *const[]){ "--kernel", "/dev/null", NULL },
		       "is not a regular file");
	expect_refusal((const char *const[]){ "--kernel", GUEST_DIR "/vmlinux", "--initrd", big,
					      "--mem", "64M", NULL },
		       "does not fit in guest RAM");
	expect_refusal((const char *const[]){ "--kernel", GUEST_DIR "/vmlinux", "--initrd",
					      "/nonexistent", NULL },
		       "cannot open initramfs");
	expect_refusal(
		(const char *const[]){ "--kernel", GUEST_DIR "/vmlinux", "--mem", "1T", NULL },
		"more than this host's");
	unlink(junk);
	unlink(trunc);
	unlink(big);
}
END_TEST

START_TEST(bad_options_are_refused)
{
	const char *k = GUEST_DIR "/vmlinux";
	expect_refusal((const char *const[]){ "--kernel", k, "--mem", "0", NULL }, "--mem");
	expect_refusal((const char *const[]){ "--kernel", k, "--mem", "64Q", NULL }, "--mem");
	expect_refusal((const char *const[]){ "--kernel", k, "--cpus", "0", NULL }, "--cpus");
	expect_refusal((const char *const[]){ "--kernel", k, "--cpus", "100000", NULL }, "--cpus");
	expect_refusal((const char *const[]){ "--mem", "128M", NULL }, "--kernel is required");
	expect_refusal((const char *const[]){ "--kernel", k, "--bogus", NULL }, "unknown option");
	expect_refusal(
		(const char *const[]){ "--kernel", k, "--kvm-device", "/nonexistent/kvm", NULL },
		"does not exist");
}
END_TEST

int main(void)
{
	if (!kvm_present())
		return 77;
	Suite *s = suite_create("kvm");
	TCase *quick = tcase_create("quick");
	tcase_set_timeout(quick, 120);
	tcase_add_test(quick, tiny_guest_prints_and_resets);
	tcase_add_test(quick, triple_fault_is_reported_with_rip_and_code);
	tcase_add_test(quick, bad_images_are_refused);
	tcase_add_test(quick, bad_options_are_refused);
	suite_add_tcase(s, quick);

	TCase *boot = tcase_create("boot");
	tcase_set_timeout(boot, BOOT_TIMEOUT + 60);
	tcase_add_test(boot, vmlinux_boots_to_agent_1_vcpu);
	tcase_add_test(boot, vmlinux_boots_to_agent_2_vcpus);
	tcase_add_test(boot, bzimage_boots_to_agent);
	tcase_add_test(boot, distribution_bzimage_reaches_banner);
	suite_add_tcase(s, boot);

	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_VERBOSE);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
