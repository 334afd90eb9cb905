// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Cgroup paths of the container runtimes -> container id and pod UID, and
 * pod names from a fake /var/log/pods tree. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <cmocka.h>
#include "workload.h"

#define ID "3f2a9c1b7d4e5f60718293a4b5c6d7e8f9a0b1c2d3e4f5061728394a5b6c7d8e"
#define ID2 "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
#define UID "6b1f0e2a-3c4d-4e5f-8a9b-0c1d2e3f4a5b"
#define UID_ "6b1f0e2a_3c4d_4e5f_8a9b_0c1d2e3f4a5b"

static void expect(const char *path, int ret, const char *runtime, const char *id, const char *uid)
{
	struct workload w;

	memset(&w, 0x55, sizeof(w));
	assert_int_equal(workload_from_cgroup_path(path, &w), ret);
	assert_string_equal(w.runtime, runtime);
	assert_string_equal(w.container_id, id);
	assert_string_equal(w.pod_uid, uid);
	assert_string_equal(w.pod_name, "");
}

static void test_kubernetes_systemd_driver(void **state)
{
	expect("/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod" UID_ ".slice/"
	       "cri-containerd-" ID ".scope", 0, "containerd", ID, UID);
	expect("/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod" UID_ ".slice/"
	       "crio-" ID ".scope", 0, "cri-o", ID, UID);
	/* Guaranteed QoS pods sit right under kubepods.slice. */
	expect("/kubepods.slice/kubepods-pod" UID_ ".slice/docker-" ID ".scope", 0, "docker", ID, UID);
	/* The pod's own slice (a process outside any container, or the pause). */
	expect("/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod" UID_ ".slice", 0, "", "", UID);
	/* conmon is CRI-O's monitor, not the container. */
	expect("/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod" UID_ ".slice/"
	       "crio-conmon-" ID ".scope", 0, "", "", UID);
}

static void test_kubernetes_cgroupfs_driver(void **state)
{
	expect("/kubepods/burstable/pod" UID "/" ID, 0, "", ID, UID);
	expect("/kubepods/pod" UID "/" ID, 0, "", ID, UID);
	expect("/kubepods/besteffort/pod" UID "/crio-" ID, 0, "cri-o", ID, UID);
}

/* The pod's and the container's own cgroups, for grouping. */
static void test_group_ends(void **state)
{
	const char *p = "/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod" UID_ ".slice/"
			"cri-containerd-" ID ".scope";
	const char *q = "/machine.slice/libpod-" ID ".scope/container";
	struct workload w;

	assert_int_equal(workload_from_cgroup_path(p, &w), 0);
	assert_int_equal(w.container_end, strlen(p));
	assert_int_equal(w.pod_end, strlen(p) - strlen("/cri-containerd-" ID ".scope"));
	assert_int_equal(workload_from_cgroup_path(q, &w), 0);
	assert_int_equal(w.container_end, strlen(q) - strlen("/container"));
	assert_int_equal(w.pod_end, 0);
	assert_int_equal(workload_from_cgroup_path("/kubepods/pod" UID "/" ID, &w), 0);
	assert_int_equal(w.pod_end, strlen("/kubepods/pod" UID));
}

static void test_plain_runtimes(void **state)
{
	expect("/system.slice/docker-" ID ".scope", 0, "docker", ID, "");
	expect("/docker/" ID, 0, "docker", ID, "");
	expect("/machine.slice/libpod-" ID ".scope", 0, "podman", ID, "");
	/* systemd inside the container adds a level below its scope. */
	expect("/machine.slice/libpod-" ID ".scope/container", 0, "podman", ID, "");
	expect("/user.slice/user-1000.slice/user@1000.service/user.slice/libpod-" ID ".scope", 0, "podman", ID, "");
	expect("/libpod_parent/libpod-" ID, 0, "podman", ID, "");
	expect("/system.slice/nerdctl-" ID ".scope", 0, "containerd", ID, "");
	/* Nested: the innermost container is the one that holds the socket. */
	expect("/system.slice/docker-" ID ".scope/kubepods/pod" UID "/" ID2, 0, "docker", ID2, UID);
}

static void test_not_a_workload(void **state)
{
	expect("/", -ENOENT, "", "", "");
	expect("", -ENOENT, "", "", "");
	expect("/system.slice/sshd.service", -ENOENT, "", "", "");
	expect("/user.slice/user-0.slice/session-3.scope", -ENOENT, "", "", "");
	/* Ids of the wrong length or case, a bare id outside a runtime's tree. */
	expect("/system.slice/docker-" ID "0.scope", -ENOENT, "", "", "");
	expect("/system.slice/docker-3F2A9C1B7D4E5F60718293A4B5C6D7E8F9A0B1C2D3E4F5061728394A5B6C7D8E.scope",
	       -ENOENT, "", "", "");
	expect("/ci/" ID, -ENOENT, "", "", "");
	expect("/kubepods/burstable/podnot-a-uid/" ID, 0, "", ID, "");
	expect("/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod1234.slice", -ENOENT, "", "", "");
	struct workload w;

	assert_int_equal(workload_from_cgroup_path(NULL, &w), -ENOENT);
}

static char pods[] = "/tmp/fwpods.XXXXXX";

static void mkpod(const char *name)
{
	char p[512];

	snprintf(p, sizeof(p), "%s/%s", pods, name);
	assert_int_equal(mkdir(p, 0755), 0);
}

static void test_pod_names(void **state)
{
	struct workload w;

	assert_non_null(mkdtemp(pods));
	mkpod("kube-system_coredns-5d78c9869d-abcde_11111111-2222-3333-4444-555555555555");
	mkpod("shop_frontend-7f9c_" UID);
	mkpod("weird_name_with_" UID);       /* three '_': not a pod directory */
	mkpod("noname__" UID);
	assert_int_equal(workload_from_cgroup_path("/kubepods/burstable/pod" UID "/" ID, &w), 0);
	assert_int_equal(workload_name_pod(pods, &w), 0);
	assert_string_equal(w.pod_namespace, "shop");
	assert_string_equal(w.pod_name, "frontend-7f9c");
	assert_string_equal(w.container_id, ID);
	/* A pod not (or no longer) on this node. */
	assert_int_equal(workload_from_cgroup_path("/kubepods/pod" "99999999-2222-3333-4444-555555555555/" ID, &w), 0);
	assert_int_equal(workload_name_pod(pods, &w), -ENOENT);
	assert_string_equal(w.pod_name, "");
	/* No pod UID: nothing to look up. */
	assert_int_equal(workload_from_cgroup_path("/docker/" ID, &w), 0);
	assert_int_equal(workload_name_pod(pods, &w), -ENOENT);
	/* No such directory (no /var/log/pods mounted). */
	assert_int_equal(workload_from_cgroup_path("/kubepods/pod" UID "/" ID, &w), 0);
	assert_int_equal(workload_name_pod("/nonexistent/var/log/pods", &w), -ENOENT);
	char cmd[600];

	snprintf(cmd, sizeof(cmd), "rm -rf %s", pods);
	assert_int_equal(system(cmd), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_kubernetes_systemd_driver),
		cmocka_unit_test(test_kubernetes_cgroupfs_driver),
		cmocka_unit_test(test_plain_runtimes),
		cmocka_unit_test(test_group_ends),
		cmocka_unit_test(test_not_a_workload),
		cmocka_unit_test(test_pod_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
