/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* The one growing array: room for element n of arr, whose capacity is cap
 * (any unsigned or int lvalue), doubling from first. 0, or -ENOMEM with
 * arr and cap unchanged. */
#ifndef FW_GROW_H
#define FW_GROW_H

#include <stddef.h>

int grow_array(void *arrp, size_t elem_size, size_t *cap, size_t first);

#define GROW(arr, n, cap, first)                                                   \
	((size_t)(n) < (size_t)(cap) ? 0 : ({                                       \
		size_t c_ = (size_t)(cap);                                          \
		int r_ = grow_array(&(arr), sizeof(*(arr)), &c_, (first));          \
		if (!r_)                                                            \
			(cap) = (__typeof__(cap))c_;                                \
		r_;                                                                 \
	}))

/* Asks for transparent huge pages for a large randomly read table. */
void advise_huge(void *p, size_t len);

#endif
