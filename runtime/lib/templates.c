/* husk's side of the VM templates (see templates.h). */
#include "templates.h"

#include <errno.h>
#include <limits.h>
#include <string.h>
#include <time.h>

#include "template.h"

int husk_template_annotation(const json_t *annotations, bool *cold, struct husk_err *e)
{
	const json_t *v = json_object_get(annotations, HUSK_TEMPLATE_ANNOTATION);

	*cold = false;
	if (!v)
		return 0;
	if (!json_is_string(v) || strcmp(json_string_value(v), "cold"))
		return husk_err_set(e, EINVAL,
				    "annotation " HUSK_TEMPLATE_ANNOTATION
				    ": \"cold\" is its one value (a boot without a template)");
	*cold = true;
	return 0;
}

int husk_template_dir(const struct husk_global *g, bool cold, char *dir, size_t n,
		      struct husk_err *e)
{
	if (g->no_templates || cold)
		return 0;
	if (tpl_cache_dir(dir, n, g->template_dir, e) < 0)
		return husk_err_wrap(e, "templates (or --no-templates)");
	return 1;
}

static int husk_templates_one(void *ctx, const struct tpl_entry *t)
{
	json_t *all = ctx;
	char created[40];
	struct tm tm;
	time_t now = time(NULL);

	gmtime_r(&t->mtime, &tm);
	strftime(created, sizeof(created), "%Y-%m-%dT%H:%M:%SZ", &tm);
	json_t *j = json_pack("{s:s,s:I,s:s,s:I}", "key", t->name, "bytes", (json_int_t)t->bytes,
			      "created", created, "age",
			      (json_int_t)(now > t->mtime ? now - t->mtime : 0));
	return j && json_array_append_new(all, j) == 0 ? 0 : -ENOMEM;
}

int husk_templates_list(const struct husk_global *g, json_t **out)
{
	struct husk_err e = { 0 };
	char cache[PATH_MAX];
	json_t *all = json_array();
	int r = all ? tpl_cache_dir(cache, sizeof(cache), g->template_dir, &e) : -ENOMEM;

	if (r == 0 && (r = tpl_list(cache, husk_templates_one, all, &e)) == -ENOMEM)
		husk_err_set(&e, ENOMEM, "out of memory");
	if (r < 0) {
		husk_report(g, "templates ls: %s", all ? e.msg : "out of memory");
		json_decref(all);
		return r;
	}
	*out = all;
	return 0;
}

int husk_templates_rm(const struct husk_global *g, char *const *keys, size_t n, bool all)
{
	struct husk_err e = { 0 };
	char cache[PATH_MAX];
	unsigned removed;
	int r = tpl_cache_dir(cache, sizeof(cache), g->template_dir, &e);

	if (r == 0 && all)
		r = tpl_remove_all(cache, &removed, &e);
	if (r < 0) {
		husk_report(g, "templates rm: %s", e.msg);
		return r;
	}
	for (size_t i = 0; i < n && !all; i++) {
		struct husk_err one = { 0 };
		int s = tpl_remove(cache, keys[i], &one);
		if (s < 0) {
			husk_report(g, "templates rm: %s", one.msg);
			if (r == 0 || s != -ENOENT)
				r = s;
		}
	}
	return r;
}
