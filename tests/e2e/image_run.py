#!/usr/bin/env python3
"""Runs a container image's entrypoint the way a Kubernetes pod would, without
a container runtime (podman run does not work on these machines): in a new
mount and PID namespace, chrooted into the image's unpacked root file system
(read-only), with /proc, /sys, a minimal /dev and exactly the host mounts,
capabilities and namespaces listed in deploy/runtime-needs.

  image_run.py [--needs FILE] [--pid host|private] [--quiet] ROOTFS ENTRYPOINT [ARGS...]
  image_run.py [--needs FILE] --cap-mask [ARGS...]
      prints the capability mask (hex, as in /proc/PID/status) kept for ARGS

--pid host (the default when runtime-needs says host-pid yes): /proc is the
host's procfs (a hostPID pod's view); private: a fresh procfs of the new PID
namespace (`unshare --mount-proc`). The network namespace is the caller's
(host-network). The capability bounding set is cut to the needed ones (plus
the `reap` ones when ARGS contain --reap-after), ambient capabilities are
cleared and no_new_privs is set (allowPrivilegeEscalation: false): uid 0 then
execs with exactly those capabilities. SIGINT, SIGTERM and SIGHUP are
forwarded to the entrypoint, whose exit status is returned (125: setup failed).
"""
import ctypes
import os
import signal
import subprocess
import sys

CLONE_NEWNS = 0x00020000
CLONE_NEWPID = 0x20000000
PR_CAPBSET_DROP = 24
PR_SET_NO_NEW_PRIVS = 38
PR_CAP_AMBIENT = 47
PR_CAP_AMBIENT_CLEAR_ALL = 4
# capability(7) numbers of the names runtime-needs may use.
CAPS = {"CHOWN": 0, "DAC_OVERRIDE": 1, "DAC_READ_SEARCH": 2, "KILL": 5, "SETPCAP": 8,
        "NET_BIND_SERVICE": 10, "NET_RAW": 13, "NET_ADMIN": 12, "IPC_LOCK": 14,
        "SYS_CHROOT": 18, "SYS_PTRACE": 19, "SYS_ADMIN": 21, "SYS_RESOURCE": 24,
        "PERFMON": 38, "BPF": 39, "CHECKPOINT_RESTORE": 40}

libc = ctypes.CDLL(None, use_errno=True)
# --quiet: no notes of its own on stderr (tests that count the entrypoint's
# stderr lines).
QUIET = [False]


def die(msg):
    sys.stderr.write("image_run: %s\n" % msg)
    os._exit(125)


def read_needs(path):
    needs = {"caps": [], "reap_caps": [], "mounts": [], "host-pid": "no"}
    with open(path) as f:
        for line in f:
            w = line.split("#", 1)[0].split()
            if not w:
                continue
            if w[0] == "cap":
                (needs["reap_caps"] if w[2:3] == ["reap"] else needs["caps"]).append(w[1])
            elif w[0] == "mount":
                needs["mounts"].append({"path": w[1], "ro": w[2] == "ro",
                                        "prop": w[3] if len(w) > 3 and w[3] != "-" else None,
                                        "optional": "optional" in w[4:]})
            else:
                needs[w[0]] = w[1:] if w[0] == "args" else w[1]
    return needs


def kept_caps(needs, args):
    keep = {CAPS[c] for c in needs["caps"]}
    if any(a == "--reap-after" or a.startswith("--reap-after=") for a in args):
        keep |= {CAPS[c] for c in needs["reap_caps"]}
    return keep


def sh(*cmd):
    r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if r.returncode != 0:
        die("%s: %s" % (" ".join(cmd), r.stdout.strip()))


def setup_and_exec(root, needs, pid_mode, argv):
    """In the child: PID 1 of the new PID namespace, in the new mount namespace."""
    sh("mount", "--make-rslave", "/")
    mounts = [m for m in needs["mounts"] if os.path.exists(m["path"]) or not m["optional"]]
    for m in needs["mounts"]:
        if m not in mounts and not QUIET[0]:
            sys.stderr.write("image_run: %s absent on this host, optional: not mounted\n" % m["path"])
    # Mount points, as the runtime creates them (the image has only its files).
    for d in ["proc", "sys", "dev"] + [m["path"].lstrip("/") for m in mounts
                                       if not m["path"].startswith("/sys/")]:
        os.makedirs(os.path.join(root, d), exist_ok=True)
    # readOnlyRootFilesystem: true
    sh("mount", "--bind", root, root)
    sh("mount", "-o", "remount,bind,ro", root)
    if pid_mode == "host":
        sh("mount", "--rbind", "/proc", root + "/proc")
    else:
        sh("mount", "-t", "proc", "-o", "nosuid,nodev,noexec", "proc", root + "/proc")
    sh("mount", "-t", "sysfs", "-o", "ro,nosuid,nodev,noexec", "sysfs", root + "/sys")
    sh("mount", "-t", "tmpfs", "-o", "nosuid,mode=755,size=64k", "tmpfs", root + "/dev")
    for name in ("null", "zero", "urandom"):
        st = os.stat("/dev/" + name)
        os.mknod(root + "/dev/" + name, 0o20666, st.st_rdev)
    for m in mounts:
        target = root + m["path"]
        sh("mount", "--rbind", m["path"], target)
        if m["ro"]:
            sh("mount", "-o", "remount,bind,ro", target)
        if m["prop"]:
            sh("mount", "--make-" + m["prop"], target)
    keep = kept_caps(needs, argv[1:])
    with open("/proc/sys/kernel/cap_last_cap") as f:
        last = int(f.read())
    os.chroot(root)
    os.chdir("/")
    for cap in range(last + 1):
        if cap not in keep and libc.prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0:
            die("PR_CAPBSET_DROP %d: %s" % (cap, os.strerror(ctypes.get_errno())))
    libc.prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0)
    if libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
        die("PR_SET_NO_NEW_PRIVS: %s" % os.strerror(ctypes.get_errno()))
    try:
        os.execv(argv[0], argv)
    except OSError as e:
        die("exec %s in the image: %s" % (argv[0], e))


def main():
    args = sys.argv[1:]
    here = os.path.dirname(os.path.abspath(__file__))
    needs_file = os.path.join(here, "..", "..", "deploy", "runtime-needs")
    pid_mode = None
    while args and args[0].startswith("--"):
        if args[0] == "--needs":
            needs_file, args = args[1], args[2:]
        elif args[0] == "--pid":
            pid_mode, args = args[1], args[2:]
        elif args[0] == "--quiet":
            QUIET[0], args = True, args[1:]
        elif args[0] == "--cap-mask":
            print("%016x" % sum(1 << c for c in kept_caps(read_needs(needs_file), args[1:])))
            return
        else:
            die("unknown option %s" % args[0])
    if len(args) < 2:
        die("usage: image_run.py [--needs FILE] [--pid host|private] ROOTFS ENTRYPOINT [ARGS...]")
    root, argv = os.path.abspath(args[0]), args[1:]
    needs = read_needs(needs_file)
    if pid_mode is None:
        pid_mode = "host" if needs["host-pid"] == "yes" else "private"
    if libc.unshare(CLONE_NEWNS | CLONE_NEWPID) != 0:
        die("unshare: %s" % os.strerror(ctypes.get_errno()))
    child = os.fork()
    if child == 0:
        try:
            setup_and_exec(root, needs, pid_mode, argv)
        except Exception as e:  # noqa: BLE001 - any setup error is exit 125
            die("setup: %s" % e)
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, lambda s, _f: os.kill(child, s))
    while True:
        try:
            _, status = os.waitpid(child, 0)
            break
        except InterruptedError:
            continue
    if os.WIFSIGNALED(status):
        sys.exit(128 + os.WTERMSIG(status))
    sys.exit(os.WEXITSTATUS(status))


if __name__ == "__main__":
    main()
