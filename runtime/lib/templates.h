/*
 * husk's side of the VM templates (client/template.h holds the cache): whether
 * a create boots cold or from a template, and where the templates are
 * (--no-templates, --template-dir, the annotation io.husk.template), as
 * husk-vmm is told; and what `husk templates ls` and `rm` do. Failures are
 * reported through g and returned as a negative errno.
 */
#ifndef HUSK_RUNTIME_TEMPLATES_H
#define HUSK_RUNTIME_TEMPLATES_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "husk/error.h"
#include "state.h"

/* The annotation that makes one container boot cold: "io.husk.template": "cold". */
#define HUSK_TEMPLATE_ANNOTATION "io.husk.template"

/*
 * config.json's "annotations" (NULL or an object): *cold when the
 * annotation says "cold"; any other value of it is refused.
 */
int husk_template_annotation(const json_t *annotations, bool *cold, struct husk_err *e);

/*
 * For husk-vmm's command line: 1 with the cache directory in dir (made if
 * missing) when this container may use a template, 0 when it boots cold
 * (--no-templates, or cold).
 */
int husk_template_dir(const struct husk_global *g, bool cold, char *dir, size_t n,
		      struct husk_err *e);

/*
 * The templates of the cache, a new array in *out: {"key", "bytes" (on
 * disk), "created" (RFC 3339), "age" (seconds)}, by key.
 */
int husk_templates_list(const struct husk_global *g, json_t **out);

/*
 * Remove the templates named (each one that is not there is said, and
 * the result is then -ENOENT, the others removed all the same), or all.
 */
int husk_templates_rm(const struct husk_global *g, char *const *keys, size_t n, bool all);

#endif
