// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <stdlib.h>
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
