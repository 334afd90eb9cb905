// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>
#include "grow.h"

int grow_array(void *arrp, size_t elem_size, size_t *cap, size_t first)
{
	void **arr = arrp;
	size_t n = *cap ? *cap * 2 : first;
	void *p = realloc(*arr, n * elem_size);

	if (!p)
		return -ENOMEM;
	*arr = p;
	*cap = n;
	return 0;
}

/*
 * Large tables are read at random (a cookie per event): with 4 KiB pages
 * nearly every lookup also missed the TLB. Asking for transparent huge
 * pages (where the host allows them) is only advice; failure is harmless.
 */
void advise_huge(void *p, size_t len)
{
	uintptr_t a = ((uintptr_t)p + 4095) & ~(uintptr_t)4095;
	uintptr_t e = ((uintptr_t)p + len) & ~(uintptr_t)4095;

	if (len >= (2u << 20) && e > a)
		madvise((void *)a, e - a, MADV_HUGEPAGE);
}
