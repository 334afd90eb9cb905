/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The one contract between the BPF programs and user space: records that
 * cross the ring buffer (fw_event) and the iter/tcp seq file (fw_scan_rec),
 * plus the BPF-side counters. Fixed-width fields only, so both compilers lay
 * the structs out identically; user space checks every size, family and
 * state number before using it (user/event.c).
 */
#ifndef FINWATCH_H
#define FINWATCH_H

#ifndef __VMLINUX_H__
#include <linux/types.h>   /* user space; BPF gets the types from vmlinux.h */
#endif

#define FW_COMM_LEN 16
#define FW_MAX_PORTS 8
#define FW_MAX_NETNS 16

/* Kernel TCP state numbers (include/net/tcp_states.h); stable UAPI-ish ABI. */
#define FW_TCP_ESTABLISHED 1
#define FW_TCP_FIN_WAIT1 4
#define FW_TCP_FIN_WAIT2 5
#define FW_TCP_TIME_WAIT 6
#define FW_TCP_CLOSE 7
#define FW_TCP_CLOSE_WAIT 8
#define FW_TCP_LAST_ACK 9
#define FW_TCP_LISTEN 10
#define FW_TCP_MAX_STATE 12

#define FW_AF_INET 2
#define FW_AF_INET6 10

/* fw_event.flags */
#define FW_EVF_ORPHANED 0x01   /* SOCK_DEAD: the app close()d it, no fd left */
#define FW_EVF_FIN_RCVD 0x02   /* SOCK_DONE: the peer's FIN was processed */
#define FW_EVF_CLOSER 0x04     /* pid/tid/comm hold the process that closed */

/* fw_event.ns_in_old when the socket predates the monitor. */
#define FW_NS_UNKNOWN (~0ULL)

/* One TCP state transition (tp_btf/inet_sock_set_state). */
struct fw_event {
	__u64 ts_ns;        /* bpf_ktime_get_ns(): CLOCK_MONOTONIC */
	__u64 cookie;       /* socket cookie; a timewait successor keeps it */
	__u64 ns_in_old;    /* time spent in oldstate, or FW_NS_UNKNOWN */
	__u32 netns;        /* network namespace inode */
	__u32 pid;          /* tgid of the closing process (FW_EVF_CLOSER) */
	__u32 tid;
	__s32 sk_err;       /* 0, 104 ECONNRESET (RST), 103 ECONNABORTED (kill) */
	__u8 saddr[16];     /* IPv4 uses the first 4 bytes */
	__u8 daddr[16];
	__u16 sport;        /* host byte order */
	__u16 dport;
	__u16 family;       /* FW_AF_INET or FW_AF_INET6 */
	__u8 oldstate;
	__u8 newstate;
	__u8 flags;         /* FW_EVF_* */
	__u8 _pad[7];
	char comm[FW_COMM_LEN];
	__u64 cgroup_id;    /* the socket's cgroup v2 (set when it was created); 0 unknown */
};

/* fw_scan_rec.kind */
#define FW_SCAN_FULL 1      /* a full socket in FIN_WAIT2 */
#define FW_SCAN_TW 2        /* a timewait socket, substate in .state */

/*
 * One socket seen by the iter/tcp scan. Jiffies are passed raw with the
 * iterator's own "now"; user space converts them with the kernel's HZ,
 * which it derives from fin_timeout_jiffies and the sysctl's seconds
 * (user/kernel_hz.c) instead of reading the kernel config.
 */
struct fw_scan_rec {
	__u64 cookie;
	__u64 now_ns;         /* bpf_ktime_get_ns() at the visit */
	__u64 now_jiffies;
	__u64 stamp_jiffies;  /* FULL: tcp rcv_tstamp (last ACK, >= FW2 entry)
	                       * TW: tw_timer.expires */
	__u32 netns;
	__u32 ino;            /* socket inode for /proc/PID/fd lookup, 0 if none */
	__u8 saddr[16];
	__u8 daddr[16];
	__u16 sport;
	__u16 dport;
	__u16 family;
	__u8 kind;            /* FW_SCAN_* */
	__u8 state;           /* FW_TCP_FIN_WAIT2 or FW_TCP_TIME_WAIT */
	__u8 flags;           /* FW_EVF_ORPHANED */
	__u8 _pad[3];
	__u32 uid;
	__u32 fin_timeout_jiffies; /* the netns's tcp_fin_timeout in jiffies */
	__u32 _pad2;
	__u64 cgroup_id;      /* FULL: the socket's cgroup v2; TW: 0 (timewait sockets have none) */
};

/*
 * A process holding a TCP socket in FIN_WAIT2 (iter/task_file): who holds a
 * held socket the scan found without a known closer. One kernel walk
 * instead of a readlink per open fd of every process.
 */
struct fw_owner_rec {
	__u64 cookie;
	__u32 tgid;
	__u32 fd;
	__u8 state;           /* FW_TCP_FIN_WAIT2 */
	__u8 _pad[7];
	char comm[FW_COMM_LEN];
};

/* Per-CPU counters in the "fw_stats" map, indexed by enum fw_stat. */
enum fw_stat {
	FW_STAT_EVENTS = 0,      /* records submitted to the ring buffer */
	FW_STAT_RB_DROPS,        /* ring buffer full: record lost */
	FW_STAT_STORAGE_FAILS,   /* watch: no closers slot could be looked up */
	FW_STAT_SEEN,            /* watch: transitions that passed the filters (once each);
	                          * trace counts none: there it is EVENTS + RB_DROPS */
	FW_STAT_HANDOFF_FULL,    /* handoffs map full: a timewait phase not followed */
	FW_STAT_CLOSER_MISSES,   /* watch: FIN_WAIT2 entry with no closers entry (entered
	                          * FIN_WAIT1 before the start, or its slot reused) */
	FW_STAT_HANDLED_OVERWRITES, /* a hit the main copy handled whose backup-copy check was
	                             * not seen before its slot was reused: it may have been
	                             * reported twice (upper bound) */
	FW_STAT_MAX,
};

#endif /* FINWATCH_H */
