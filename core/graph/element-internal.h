/* element-internal.h — what element.c (resolution) shares with keys.c (cache keys).
 * SPDX-License-Identifier: Apache-2.0 */
#ifndef RILL_ELEMENT_INTERNAL_H
#define RILL_ELEMENT_INTERNAL_H

#include "graph/element.h"

/* The parts of e's key dictionary that do not depend on its dependencies, as JSON members,
 * split around "dependencies" (head before, tail after); kc, when not NULL, caches the JSON of
 * shared environments and public data. sa: scratch memory, reset first. */
void element_key_parts(struct project *p, struct arena *sa, struct element *e, struct buf *head,
		       struct buf *tail, struct key_cache *kc);
/* SHA-256 of head + "dependencies":deps + tail into out (hex); debug prints the JSON. */
void element_hash_dict(struct buf *scratch, const struct buf *head, const char *deps,
		       const struct buf *tail, int debug, char out[65]);
/* Resolve list[0..n) on two threads where that pays; returns how many leading elements are
 * resolved (the caller resolves the rest in order, which reports the first error). */
size_t element_resolve_parallel(struct project *p, struct element *const *list, size_t n);

#endif
