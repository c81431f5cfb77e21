/* DIR/state: the writer and the checking reader (snap_file.h). */
#include "snapshot/snap_file.h"

#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

#include "husk/cleanup.h"
#include "husk/path.h"
#include "snapshot/snap_io.h"

static uint64_t snap_padded(uint64_t len)
{
	return (len + SNAP_SECTION_ALIGN - 1) & ~(uint64_t)(SNAP_SECTION_ALIGN - 1);
}

/* 1-31 printable ASCII characters, the rest of the field NULs. */
static int snap_name_ok(const char *name, size_t size)
{
	size_t n = strnlen(name, size);

	if (n == 0 || n == size)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (name[i] <= ' ' || name[i] > '~')
			return 0;
	for (size_t i = n; i < size; i++)
		if (name[i])
			return 0;
	return 1;
}

/* Remember the first failure for the commit; this call's own code all the same. */
static int __attribute__((format(printf, 3, 4)))
snap_put_fail(struct snap_writer *w, int code, const char *fmt, ...)
{
	char msg[HUSK_ERR_MSG_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	husk_err_set(&w->err, code, "%s", msg);
	return -code;
}

void snap_writer_init(struct snap_writer *w)
{
	memset(w, 0, sizeof(*w));
	w->size = SNAP_HEADER_SIZE;
}

int snap_put(struct snap_writer *w, const char *name, const void *blob, size_t len)
{
	char field[SNAP_NAME_SIZE] = { 0 };

	if (strlen(name) >= SNAP_NAME_SIZE)
		return snap_put_fail(w, EINVAL, "snapshot section name %.40s... too long", name);
	memcpy(field, name, strlen(name));
	if (!snap_name_ok(field, sizeof(field)))
		return snap_put_fail(w, EINVAL, "snapshot section name \"%s\" is not printable",
				     name);
	for (unsigned i = 0; i < w->count; i++)
		if (strcmp(w->secs[i].name, name) == 0)
			return snap_put_fail(w, EINVAL, "snapshot section %s saved twice", name);
	if (w->count >= SNAP_MAX_SECTIONS)
		return snap_put_fail(w, EFBIG, "snapshot: more than %u sections",
				     SNAP_MAX_SECTIONS);
	if (len > SNAP_STATE_MAX ||
	    w->size + SNAP_SECTION_HDR_SIZE + snap_padded(len) > SNAP_STATE_MAX)
		return snap_put_fail(
			w, EFBIG, "snapshot section %s: %zu bytes, the state file's limit is %llu",
			name, len, (unsigned long long)SNAP_STATE_MAX);
	if (w->count == w->cap) {
		unsigned cap = w->cap ? 2 * w->cap : 16;
		struct snap_wsection *s = realloc(w->secs, cap * sizeof(*s));
		if (!s)
			return snap_put_fail(w, ENOMEM, "snapshot: out of memory");
		w->secs = s;
		w->cap = cap;
	}
	void *copy = malloc(len ? len : 1);
	if (!copy)
		return snap_put_fail(w, ENOMEM, "snapshot section %s: out of memory", name);
	if (len)
		memcpy(copy, blob, len);
	struct snap_wsection *s = &w->secs[w->count++];
	memcpy(s->name, field, sizeof(field));
	s->data = copy;
	s->len = (uint32_t)len;
	w->size += SNAP_SECTION_HDR_SIZE + snap_padded(len);
	return 0;
}

/* The whole state file in memory, h completed. */
static uint8_t *snap_writer_build(struct snap_writer *w, struct snap_header *h)
{
	uint8_t *buf = calloc(1, w->size);
	if (!buf)
		return NULL;
	uint64_t pos = SNAP_HEADER_SIZE;
	for (unsigned i = 0; i < w->count; i++) {
		const struct snap_wsection *s = &w->secs[i];
		uint32_t len = htole32(s->len);
		uint32_t crc = htole32((uint32_t)crc32(0, s->data, s->len));
		memcpy(buf + pos, s->name, SNAP_NAME_SIZE);
		memcpy(buf + pos + SNAP_NAME_SIZE, &len, 4);
		memcpy(buf + pos + SNAP_NAME_SIZE + 4, &crc, 4);
		memcpy(buf + pos + SNAP_SECTION_HDR_SIZE, s->data, s->len);
		pos += SNAP_SECTION_HDR_SIZE + snap_padded(s->len);
	}
	h->section_count = w->count;
	h->state_size = w->size;
	h->sections_crc =
		(uint32_t)crc32(0, buf + SNAP_HEADER_SIZE, (uInt)(w->size - SNAP_HEADER_SIZE));
	if (h->created == 0)
		h->created = (uint64_t)time(NULL);
	snap_header_encode(h, buf);
	return buf;
}

int snap_writer_commit(struct snap_writer *w, const char *dir, struct snap_header *h,
		       struct husk_err *e)
{
	char path[PATH_MAX];
	struct snap_out out;
	int err;

	if (w->err.code)
		return husk_err_set(e, w->err.code, "%s", w->err.msg);
	if (!memchr(h->arch, '\0', sizeof(h->arch)) ||
	    !memchr(h->flavour, '\0', sizeof(h->flavour)) ||
	    !memchr(h->husk_version, '\0', sizeof(h->husk_version)))
		return husk_err_set(e, EINVAL, "snapshot header: a name is not terminated");
	err = path_fmt(e, path, sizeof(path), "%s/" SNAP_STATE_FILE, dir);
	if (err)
		return err;
	if (mkdir(dir, 0700) < 0 && errno != EEXIST)
		return husk_err_set(e, errno, "cannot make %s: %s", dir, strerror(errno));

	cleanup_free uint8_t *buf = snap_writer_build(w, h);
	if (!buf)
		return husk_err_set(e, ENOMEM, "%s: out of memory", path);
	err = snap_out_open(&out, path, e);
	if (err)
		return err;
	err = snap_out_pwrite(&out, buf, w->size, 0, e);
	if (err) {
		snap_out_abort(&out);
		return err;
	}
	return snap_out_commit(&out, e);
}

void snap_writer_free(struct snap_writer *w)
{
	for (unsigned i = 0; i < w->count; i++)
		free(w->secs[i].data);
	free(w->secs);
	snap_writer_init(w);
}

static int snap_section_cmp(const void *a, const void *b)
{
	const struct snap_section *x = a, *y = b;
	return strcmp(x->name, y->name);
}

/* Walk the sections from the header on: bounds, names, CRCs; r->secs in file order. */
static int snap_reader_walk(struct snap_reader *r, const char *what, struct husk_err *e)
{
	const uint8_t *b = r->buf;
	uint64_t pos = SNAP_HEADER_SIZE;

	for (unsigned i = 0; i < r->h.section_count; i++) {
		struct snap_section *s = &r->secs[i];
		uint32_t len, crc;

		if (r->size - pos < SNAP_SECTION_HDR_SIZE)
			return husk_err_set(e, EINVAL,
					    "%s: truncated (section %u of %u runs past the end)",
					    what, i + 1, r->h.section_count);
		if (!snap_name_ok((const char *)b + pos, SNAP_NAME_SIZE))
			return husk_err_set(e, EINVAL, "%s: section %u has a corrupt name", what,
					    i + 1);
		s->name = (const char *)b + pos;
		memcpy(&len, b + pos + SNAP_NAME_SIZE, 4);
		memcpy(&crc, b + pos + SNAP_NAME_SIZE + 4, 4);
		s->len = le32toh(len);
		pos += SNAP_SECTION_HDR_SIZE;
		if (snap_padded(s->len) > r->size - pos)
			return husk_err_set(e, EINVAL,
					    "%s: section %s: %u bytes run past the end of the file",
					    what, s->name, s->len);
		s->data = b + pos;
		if ((uint32_t)crc32(0, s->data, s->len) != le32toh(crc))
			return husk_err_set(e, EINVAL, "%s: section %s: checksum mismatch", what,
					    s->name);
		pos += snap_padded(s->len);
	}
	if (pos != r->size)
		return husk_err_set(e, EINVAL, "%s: %llu bytes after the last section", what,
				    (unsigned long long)(r->size - pos));
	uint32_t all = (uint32_t)crc32(0, b + SNAP_HEADER_SIZE, (uInt)(r->size - SNAP_HEADER_SIZE));
	if (all != r->h.sections_crc)
		return husk_err_set(e, EINVAL, "%s: sections checksum mismatch", what);
	return 0;
}

static int snap_reader_check(struct snap_reader *r, const char *what, struct husk_err *e)
{
	int err = snap_header_decode(r->buf, r->size, &r->h, what, e);
	if (err)
		return err;
	if (r->size != r->h.state_size)
		return husk_err_set(e, EINVAL, "%s: %s (%zu bytes, the header says %llu)", what,
				    r->size < r->h.state_size ? "truncated" : "trailing bytes",
				    r->size, (unsigned long long)r->h.state_size);
	/* section_count <= SNAP_MAX_SECTIONS: snap_header_decode checked */
	r->secs = calloc(r->h.section_count ? r->h.section_count : 1, sizeof(*r->secs));
	if (!r->secs)
		return husk_err_set(e, ENOMEM, "%s: out of memory", what);
	err = snap_reader_walk(r, what, e);
	if (err)
		return err;
	r->count = r->h.section_count;
	qsort(r->secs, r->count, sizeof(*r->secs), snap_section_cmp);
	for (unsigned i = 1; i < r->count; i++)
		if (strcmp(r->secs[i - 1].name, r->secs[i].name) == 0)
			return husk_err_set(e, EINVAL, "%s: section %s appears twice", what,
					    r->secs[i].name);
	return 0;
}

int snap_reader_parse(struct snap_reader *r, void *buf, size_t len, const char *what,
		      struct husk_err *e)
{
	memset(r, 0, sizeof(*r));
	r->buf = buf;
	r->size = len;
	int err = snap_reader_check(r, what, e);
	if (err)
		snap_reader_close(r);
	return err;
}

int snap_reader_open(struct snap_reader *r, const char *dir, struct husk_err *e)
{
	char path[PATH_MAX];
	struct stat st = { 0 };

	memset(r, 0, sizeof(*r));
	cleanup_close int fd = snap_state_open(dir, path, sizeof(path), &st, e);
	if (fd < 0)
		return fd;
	if ((uint64_t)st.st_size > SNAP_STATE_MAX)
		return husk_err_set(e, EFBIG, "%s: state of %llu bytes, the limit is %llu", dir,
				    (unsigned long long)st.st_size,
				    (unsigned long long)SNAP_STATE_MAX);
	size_t size = (size_t)st.st_size;
	uint8_t *buf = malloc(size ? size : 1);
	if (!buf)
		return husk_err_set(e, ENOMEM, "%s: out of memory", path);
	/* one byte more than fstat said: a file that grows meanwhile is refused, not cut */
	ssize_t n = snap_pread_full(fd, buf, size, 0);
	uint8_t extra;
	if (n >= 0 && (size_t)n == size && snap_pread_full(fd, &extra, 1, size) != 0)
		n = -EAGAIN;
	if (n < 0) {
		free(buf);
		return husk_err_set(e, (int)-n, "%s: %s", path,
				    n == -EAGAIN ? "changed while read" : strerror((int)-n));
	}
	return snap_reader_parse(r, buf, (size_t)n, dir, e);
}

const void *snap_get(const struct snap_reader *r, const char *name, size_t *len)
{
	struct snap_section key = { .name = name };
	const struct snap_section *s;

	if (!r->count)
		return NULL;
	s = bsearch(&key, r->secs, r->count, sizeof(*s), snap_section_cmp);
	if (!s)
		return NULL;
	if (len)
		*len = s->len;
	return s->data;
}

void snap_reader_close(struct snap_reader *r)
{
	free(r->secs);
	free(r->buf);
	memset(r, 0, sizeof(*r));
}
