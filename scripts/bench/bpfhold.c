// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * bpfhold: load a BPF object, attach every program, print "ready" with the
 * program ids, and keep them attached until SIGINT/SIGTERM or a timeout.
 * The links belong to this process: nothing is pinned, so nothing outlives
 * it (scripts/bench.sh uses it for the empty floor program).
 *
 *   bpfhold OBJECT.bpf.o [MAX_SECONDS (default 3600)]
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

static volatile sig_atomic_t stop;

static void on_sig(int sig)
{
	(void)sig;
	stop = 1;
}

int main(int argc, char **argv)
{
	struct bpf_object *obj;
	struct bpf_program *p;
	struct bpf_link *links[16];
	int n = 0;
	long max_s = 3600;

	if (argc < 2 || argc > 3) {
		fprintf(stderr, "usage: bpfhold OBJECT.bpf.o [MAX_SECONDS]\n");
		return 2;
	}
	if (argc == 3)
		max_s = strtol(argv[2], NULL, 10);
	if (max_s <= 0 || max_s > 86400) {
		fprintf(stderr, "bpfhold: bad MAX_SECONDS '%s'\n", argv[2]);
		return 2;
	}
	obj = bpf_object__open_file(argv[1], NULL);
	if (!obj) {
		fprintf(stderr, "bpfhold: open %s: %s\n", argv[1], strerror(errno));
		return 1;
	}
	if (bpf_object__load(obj)) {
		fprintf(stderr, "bpfhold: load %s: %s\n", argv[1], strerror(errno));
		return 1;
	}
	signal(SIGINT, on_sig);
	signal(SIGTERM, on_sig);
	bpf_object__for_each_program(p, obj) {
		if (n == 16)
			break;
		links[n] = bpf_program__attach(p);
		if (!links[n]) {
			fprintf(stderr, "bpfhold: attach %s: %s\n", bpf_program__name(p), strerror(errno));
			return 1;
		}
		n++;
	}
	printf("ready");
	bpf_object__for_each_program(p, obj) {
		struct bpf_prog_info info = {};
		__u32 len = sizeof(info);

		if (!bpf_obj_get_info_by_fd(bpf_program__fd(p), &info, &len))
			printf(" %s=%u", bpf_program__name(p), info.id);
	}
	printf("\n");
	fflush(stdout);
	for (long i = 0; i < max_s * 10 && !stop; i++)
		usleep(100000);
	for (int i = 0; i < n; i++)
		bpf_link__destroy(links[i]);
	bpf_object__close(obj);
	return 0;
}
