/*
 * Private to the spec parser (spec.c, spec_process.c, spec_mount.c,
 * spec_hooks.c, spec_sysctl.c): typed reads of jansson values that name the
 * offending JSON path in their error ("process.args[0]: not a string"). All
 * of config.json is untrusted input.
 */
#ifndef HUSK_SPEC_INTERNAL_H
#define HUSK_SPEC_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "husk/error.h"
#include "husk/spec.h"

/* Longest JSON path we name in a message ("mounts[255].options[4095]"). */
#define SPEC_AT_MAX 96

/* The member KEY of OBJ, or NULL when it is absent or JSON null (both mean "not set"). */
const json_t *spec_json_get(const json_t *obj, const char *key);

/* J must be a string without NUL bytes; *out points into J. */
int spec_json_str(const json_t *j, const char *at, const char **out, struct husk_err *e);
/* Same, copied with malloc. */
int spec_json_strdup(const json_t *j, const char *at, char **out, struct husk_err *e);
int spec_json_bool(const json_t *j, const char *at, bool *out, struct husk_err *e);
/* J must be an integer in [min, max]. */
int spec_json_int(const json_t *j, const char *at, int64_t min, int64_t max, int64_t *out,
		  struct husk_err *e);
/* J must be an array of at most MAX elements. */
int spec_json_array(const json_t *j, const char *at, size_t max, struct husk_err *e);
int spec_json_object(const json_t *j, const char *at, struct husk_err *e);
int spec_nomem(struct husk_err *e);

/* spec_mount.c: the "mounts" array into s->mounts. */
int spec_mounts_parse(const json_t *mounts, struct spec *s, struct husk_err *e);
void spec_mounts_free(struct spec *s);

/* spec_sysctl.c: linux.sysctl's net.* entries into s->sysctls. */
int spec_sysctl_parse(const json_t *sysctl, struct spec *s, struct husk_err *e);
void spec_sysctl_free(struct spec *s);

#endif
