// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <stdlib.h>
#include "cookie_index.h"
#include "grow.h"

int cookie_index_resize(struct cookie_index *ci, __u32 n)
{
	struct cookie_index b = { .slots = malloc((size_t)n * sizeof(*b.slots)), .nslots = n };

	if (!b.slots)
		return -ENOMEM;
	advise_huge(b.slots, (size_t)n * sizeof(*b.slots));
	for (__u32 i = 0; i < n; i++)
		b.slots[i].idx = COOKIE_INDEX_NIL;
	for (__u32 i = 0; ci->slots && i < ci->nslots; i++)
		if (ci->slots[i].idx != COOKIE_INDEX_NIL)
			cookie_index_put(&b, ci->slots[i].cookie, ci->slots[i].idx);
	free(ci->slots);
	*ci = b;
	return 0;
}

void cookie_index_free(struct cookie_index *ci)
{
	free(ci->slots);
	ci->slots = NULL;
	ci->nslots = 0;
}
