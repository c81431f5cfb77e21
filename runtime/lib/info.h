/*
 * What husk state, list, spec and features print, as JSON for the CLI to
 * write: a container's state as the OCI runtime spec words it, every
 * container under the root, a starting config.json as runc spec writes
 * one, and what this runtime supports. Failures are reported through g
 * and returned as a negative errno.
 */
#ifndef HUSK_RUNTIME_INFO_H
#define HUSK_RUNTIME_INFO_H

#include <stdbool.h>

#include <jansson.h>

#include "state.h"

#define HUSK_OCI_VERSION "1.0.2"

/*
 * The state of container id (ociVersion, id, status, pid, bundle, created
 * and the bundle's string annotations), a new reference in *out.
 */
int husk_state(const struct husk_global *g, const char *id, json_t **out);

/*
 * The same for st, as the hooks get it on their stdin: status as given
 * ("creating" during create's hooks), NULL for the container's own. A
 * "stopped" container's pid is 0.
 */
json_t *husk_state_json(const struct husk_state *st, const char *status);

/* The state of every container under the root (what cannot be read left out). */
json_t *husk_list(const struct husk_global *g);

/*
 * Write bundle/config.json (NULL bundle: the current directory), refusing
 * to overwrite one; rootless: a user namespace mapping the caller to root
 * (the network namespace stays, unlike runc's: see info.c).
 */
int husk_spec(const struct husk_global *g, const char *bundle, bool rootless);

/* The features document (runtime-spec features.md). */
json_t *husk_features(void);

#endif
