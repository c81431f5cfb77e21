/* A template's key and name, and where the cache is (see template.h). */
#include "template.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "husk/path.h"

uint64_t tpl_hash(uint64_t h, const void *p, size_t len)
{
	const unsigned char *b = p;
	for (size_t i = 0; i < len; i++) {
		h ^= b[i];
		h *= 0x100000001b3ULL; /* the 64-bit FNV prime */
	}
	return h;
}

int tpl_key_name(const struct tpl_key *k, char *out, size_t n)
{
	const char *v = k->version ? k->version : "";
	char head[320];

	/* the text of template.h, in pieces: the version has no length limit */
	int m = snprintf(head, sizeof(head),
			 "husk-template 1\nkernel %016" PRIx64 "\ninitrd %016" PRIx64
			 "\nversion %zu ",
			 k->kernel_hash, k->initrd_hash, strlen(v));
	uint64_t h = tpl_hash(TPL_HASH_INIT, head, (size_t)m);
	h = tpl_hash(h, v, strlen(v));
	m = snprintf(head, sizeof(head),
		     "\nvcpus %" PRIu32 "\nram %" PRIu64 "\ncmdline %016" PRIx64
		     "\nlayout %016" PRIx64 "\n",
		     k->vcpus, k->ram_bytes, k->cmdline_hash, k->layout_hash);
	h = tpl_hash(h, head, (size_t)m);
	if (n <= 16) {
		if (n)
			out[0] = '\0';
		return -ENAMETOOLONG;
	}
	snprintf(out, n, "%016" PRIx64, h);
	return 0;
}

bool tpl_name_valid(const char *name)
{
	size_t len = name ? strlen(name) : 0;
	if (len == 0 || len > TPL_NAME_MAX)
		return false;
	for (size_t i = 0; i < len; i++) {
		char c = name[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '_' || c == '-'))
			return false;
	}
	return true;
}

/* mkdir -p: the missing parents 0755, the directory itself 0700. */
static int tpl_mkdirs(char *path, struct husk_err *e)
{
	struct stat st;

	for (char *s = strchr(path + 1, '/'); s; s = strchr(s + 1, '/')) {
		*s = '\0';
		int r = mkdir(path, 0755) < 0 && errno != EEXIST ? -errno : 0;
		*s = '/';
		if (r < 0)
			return husk_err_set(e, -r, "template directory %s: %s", path, strerror(-r));
	}
	if (mkdir(path, 0700) < 0 && errno != EEXIST)
		return husk_err_set(e, errno, "template directory %s: %s", path, strerror(errno));
	if (stat(path, &st) < 0)
		return husk_err_set(e, errno, "template directory %s: %s", path, strerror(errno));
	if (!S_ISDIR(st.st_mode))
		return husk_err_set(e, ENOTDIR, "template directory %s: not a directory", path);
	return 0;
}

int tpl_cache_dir(char *out, size_t n, const char *option, struct husk_err *e)
{
	const char *env = getenv(TPL_DIR_ENV);
	const char *dir = option && option[0] ? option : env && env[0] ? env : TPL_DEFAULT_DIR;
	char cwd[4096];
	int r;

	if (dir[0] == '/') {
		r = path_fmt(e, out, n, "%s", dir);
	} else if (!getcwd(cwd, sizeof(cwd))) {
		r = husk_err_set(e, errno, "template directory %s: the current directory: %s", dir,
				 strerror(errno));
	} else {
		r = path_fmt(e, out, n, "%s/%s", cwd, dir);
	}
	if (r < 0)
		return husk_err_wrap(e, "template directory");
	/* "a/b/" and "/" alike: no trailing slash but the root's */
	for (size_t len = strlen(out); len > 1 && out[len - 1] == '/'; len--)
		out[len - 1] = '\0';
	return tpl_mkdirs(out, e);
}
