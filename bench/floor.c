/* The floor for S1 and S2: the namespace work those scenarios need, written
 * by hand with nothing else, so that "ratio to the floor" means "cost over
 * the necessary system calls".
 *
 *   floor create [-- PROGRAM [ARGS...]]
 *     One clone() into new user, pid, mount, uts, ipc and net namespaces:
 *     the child is already pid 1 of the new pid namespace. The parent, root
 *     outside, writes the child's uid_map and gid_map ("0 100000 65536"),
 *     then lets it go; the child drops its supplementary groups, becomes
 *     root of the namespace (setresgid, setresuid), makes "/" recursively
 *     private (as unshare, bwrap and nsexec's command line do, so that its
 *     mounts cannot propagate out), execs PROGRAM; the parent reaps it.
 *
 *   floor join PID [-- PROGRAM [ARGS...]]
 *     Opens PID's ipc, mnt, net, pid, uts and user namespace files (all
 *     before joining any: after the mount namespace /proc may be another),
 *     joins them, user last, becomes root of the joined user namespace
 *     (setgroups, setresgid, setresuid, as nsenter -U does), forks so that
 *     the child is inside the pid namespace, execs PROGRAM there and reaps it.
 *
 *   floor bootstrap [-- PROGRAM [ARGS...]]
 *     runc's bootstrap contract (shared/PROTOCOL.md), driven as nsexec is,
 *     by bench/driver.c: the netlink message from _LIBCONTAINER_INITPIPE
 *     (CLONE_FLAGS, NS_PATHS, UIDMAP, GIDMAP, SETGROUP); PROGRAM opened
 *     where the caller stands and copied into a sealed memfd (as nsexec
 *     does, the CVE-2019-5736 defence); stage 1 made with CLONE_PARENT,
 *     joining NS_PATHS (all opened first, non-user then user), unsharing
 *     the user namespace alone, asking stage 0 for the id maps, becoming
 *     root, unsharing the rest but the cgroup namespace; stage 2 made with
 *     CLONE_PARENT, its pid sent to stage 0, which writes the pid JSON and
 *     lets stage 2 go; stage 2 sets its session and ids, unshares the
 *     cgroup namespace, says it is done and executes PROGRAM from the
 *     sealed copy; stage 0 exits when it is done. The stages are named as
 *     runc names them. Nothing else: no log, no error detail, no
 *     clean-up of other stages on failure, no rootless mapping tools.
 *
 * PROGRAM defaults to /bin/true and gets the floor's environment. Exit
 * status: PROGRAM's (128+N when killed by signal N); 1 if a step fails.
 * Left out on purpose, because the scenarios do not ask for it: signal
 * forwarding, a re-exec from a sealed copy, setsid, error detail.
 *
 * Two builds of this one file, the same system calls in the same order:
 *   gcc -static -O2 floor.c                          glibc start-up, then main
 *   gcc -static -O2 -nostdlib -ffreestanding -fno-stack-protector
 *       -DFLOOR_NOLIBC floor.c                       x86_64 and aarch64 only
 * The second has no C library at all, so its cost is the system calls and
 * the kernel's exec; the difference between the two is libc's start-up
 * (on a virtual machine mostly CPUID instructions that trap to the host). */
#define _GNU_SOURCE
#include <fcntl.h>
#include <linux/sched.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#ifdef FLOOR_NOLIBC

/* Linux system call ABI. x86_64: number in rax, arguments in rdi rsi rdx
 * r10 r8 r9, `syscall` clobbers rcx and r11, result in rax. aarch64: number
 * in x8, arguments in x0..x5, `svc 0`, result in x0. A result in
 * -4095..-1 is -errno. */
static long raw_syscall(long n, long a, long b, long c, long d, long e, long f) {
#if defined(__x86_64__)
	register long r10 __asm__("r10") = d, r8 __asm__("r8") = e, r9 __asm__("r9") = f;
	long ret;
	__asm__ volatile("syscall"
			 : "=a"(ret)
			 : "a"(n), "D"(a), "S"(b), "d"(c), "r"(r10), "r"(r8), "r"(r9)
			 : "rcx", "r11", "memory");
	return ret;
#elif defined(__aarch64__)
	register long x8 __asm__("x8") = n, x0 __asm__("x0") = a, x1 __asm__("x1") = b, x2 __asm__("x2") = c,
		      x3 __asm__("x3") = d, x4 __asm__("x4") = e, x5 __asm__("x5") = f;
	__asm__ volatile("svc 0" : "+r"(x0) : "r"(x8), "r"(x1), "r"(x2), "r"(x3), "r"(x4), "r"(x5) : "memory");
	return x0;
#else
#error "FLOOR_NOLIBC: x86_64 and aarch64 only; build without it elsewhere"
#endif
}

static int floor_main(int argc, char **argv, char **envp);

/* The kernel's initial stack: argc, argv..., NULL, envp..., NULL. */
__attribute__((used, noreturn)) void floor_start(long *sp);
void floor_start(long *sp) {
	int argc = (int)sp[0];
	char **argv = (char **)(sp + 1);
	raw_syscall(SYS_exit_group, floor_main(argc, argv, argv + argc + 1), 0, 0, 0, 0, 0);
	for (;;) {
	}
}

#if defined(__x86_64__)
__asm__(".text\n.global _start\n_start:\n"
	"  xor %rbp, %rbp\n"     /* outermost frame */
	"  mov %rsp, %rdi\n"     /* the initial stack is the argument */
	"  and $-16, %rsp\n"     /* ABI alignment before the call */
	"  call floor_start\n"
	"  hlt\n");
#else
__asm__(".text\n.global _start\n_start:\n"
	"  mov x29, #0\n"        /* outermost frame */
	"  mov x0, sp\n"         /* the initial stack is the argument */
	"  bl floor_start\n"
	"  brk #0\n");
#endif

#else /* glibc */

#include <errno.h>
#include <unistd.h>

static long raw_syscall(long n, long a, long b, long c, long d, long e, long f) {
	long r = syscall(n, a, b, c, d, e, f);
	return r == -1 ? -errno : r;
}

static int floor_main(int argc, char **argv, char **envp);

int main(int argc, char **argv, char **envp) { return floor_main(argc, argv, envp); }

#endif

#define ID_RANGE "0 100000 65536\n"
#define NEW_NAMESPACES (CLONE_NEWUSER | CLONE_NEWPID | CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWNET)

static char bin_true[] = "/bin/true";
static char *default_program[] = {bin_true, 0};

static long call1(long n, long a) { return raw_syscall(n, a, 0, 0, 0, 0, 0); }
static long call3(long n, long a, long b, long c) { return raw_syscall(n, a, b, c, 0, 0, 0); }

static unsigned long length(const char *s) {
	unsigned long n = 0;
	while (s[n]) n++;
	return n;
}

static int same(const char *a, const char *b) {
	while (*a && *a == *b) a++, b++;
	return *a == *b;
}

static int fail(const char *step) {
	call3(SYS_write, 2, (long)"floor: ", 7);
	call3(SYS_write, 2, (long)step, (long)length(step));
	call3(SYS_write, 2, (long)" failed\n", 8);
	return 1;
}

/* "/proc/" PID "/" NAME into buf (64 bytes). */
static const char *proc_path(char *buf, const char *pid, const char *name) {
	char *w = buf;
	for (const char *s = "/proc/"; *s;) *w++ = *s++;
	for (const char *s = pid; *s && w < buf + 40;) *w++ = *s++;
	*w++ = '/';
	for (const char *s = name; *s && w < buf + 63;) *w++ = *s++;
	*w = 0;
	return buf;
}

static void format_pid(char *buf, long pid) {
	char digits[24];
	int n = 0;
	do digits[n++] = (char)('0' + pid % 10); while ((pid /= 10) > 0);
	while (n) *buf++ = digits[--n];
	*buf = 0;
}

/* Fork semantics: a raw clone without a stack runs the child on a copy of ours. */
static long clone_process(unsigned long namespaces) {
	return raw_syscall(SYS_clone, (long)(namespaces | SIGCHLD), 0, 0, 0, 0, 0);
}

static int status_of(long pid) {
	int st = 0;
	if (raw_syscall(SYS_wait4, pid, (long)&st, 0, 0, 0, 0) < 0) return 1;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

static int become_root(void) {
	return call3(SYS_setgroups, 0, 0, 0) || call3(SYS_setresgid, 0, 0, 0) || call3(SYS_setresuid, 0, 0, 0);
}

static int write_file(const char *path, const char *data) {
	long fd = call3(SYS_openat, AT_FDCWD, (long)path, O_WRONLY | O_CLOEXEC);
	if (fd < 0) return -1;
	long n = call3(SYS_write, fd, (long)data, (long)length(data));
	call1(SYS_close, fd);
	return n == (long)length(data) ? 0 : -1;
}

static void exec_program(char **program, char **envp) {
	call3(SYS_execve, (long)program[0], (long)program, (long)envp);
	fail("execve");
	call1(SYS_exit_group, 127);
}

static int create_and_run(char **program, char **envp) {
	int go[2];
	if (call3(SYS_pipe2, (long)go, O_CLOEXEC, 0)) return fail("pipe2");
	long pid = clone_process(NEW_NAMESPACES);
	if (pid < 0) return fail("clone");
	if (pid == 0) {
		char c;
		if (call3(SYS_read, go[0], (long)&c, 1) != 1) call1(SYS_exit_group, 1);
		if (become_root()) call1(SYS_exit_group, fail("becoming root"));
		if (raw_syscall(SYS_mount, 0, (long)"/", 0, MS_REC | MS_PRIVATE, 0, 0))
			call1(SYS_exit_group, fail("mount"));
		exec_program(program, envp);
	}
	char pid_text[24], path[64];
	format_pid(pid_text, pid);
	if (write_file(proc_path(path, pid_text, "uid_map"), ID_RANGE) ||
	    write_file(proc_path(path, pid_text, "gid_map"), ID_RANGE) ||
	    call3(SYS_write, go[1], (long)"g", 1) != 1) {
		call3(SYS_kill, pid, SIGKILL, 0);
		status_of(pid);
		return fail("writing the id maps");
	}
	return status_of(pid);
}

static int join_and_run(const char *target, char **program, char **envp) {
	static const char *const names[] = {"ns/ipc", "ns/mnt", "ns/net", "ns/pid", "ns/uts", "ns/user"};
	long fds[6];
	char path[64];
	for (int i = 0; i < 6; i++)
		if ((fds[i] = call3(SYS_openat, AT_FDCWD, (long)proc_path(path, target, names[i]), O_RDONLY | O_CLOEXEC)) < 0)
			return fail("open");
	for (int i = 0; i < 6; i++)
		if (call3(SYS_setns, fds[i], 0, 0)) return fail("setns");
	if (become_root()) return fail("becoming root");
	long pid = clone_process(0);
	if (pid < 0) return fail("fork");
	if (pid == 0) exec_program(program, envp);
	return status_of(pid);
}

/* ---- floor bootstrap ---- */

#define NL_CLONE_FLAGS 27281
#define NL_NS_PATHS 27282
#define NL_UIDMAP 27283
#define NL_GIDMAP 27284
#define NL_SETGROUP 27285

static unsigned char message[65536];

static long call2(long n, long a, long b) { return raw_syscall(n, a, b, 0, 0, 0, 0); }
static long call4(long n, long a, long b, long c, long d) { return raw_syscall(n, a, b, c, d, 0, 0); }

static int read_full(long fd, void *buf, unsigned long n) {
	unsigned char *p = buf;
	while (n) {
		long r = call3(SYS_read, fd, (long)p, (long)n);
		if (r <= 0) return -1;
		p += r, n -= (unsigned long)r;
	}
	return 0;
}

static long env_number(char **envp, const char *prefix) {
	unsigned long k = length(prefix);
	for (; *envp; envp++) {
		unsigned long i = 0;
		while (i < k && (*envp)[i] == prefix[i]) i++;
		if (i < k) continue;
		long v = 0;
		for (const char *d = *envp + k; *d >= '0' && *d <= '9'; d++) v = v * 10 + (*d - '0');
		return v;
	}
	return -1;
}

static void die_stage(const char *step) { call1(SYS_exit_group, fail(step)); }

static void name_stage(const char *name) { call2(SYS_prctl, PR_SET_NAME, (long)name); }

/* A sealed memfd copy of the file at path. */
static long sealed_copy(const char *path) {
	long in = call3(SYS_openat, AT_FDCWD, (long)path, O_RDONLY | O_CLOEXEC);
	if (in < 0) return -1;
	long out = call2(SYS_memfd_create, (long)"floor", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (out < 0) return -1;
	long n;
	while ((n = call4(SYS_sendfile, out, in, 0, 1 << 30)) > 0) {
	}
	call1(SYS_close, in);
	if (n < 0) return -1;
	if (call3(SYS_fcntl, out, F_ADD_SEALS, F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE)) return -1;
	return out;
}

static unsigned long ns_flag(const char *name, unsigned long n) {
	static const struct { const char *name; unsigned long flag; } table[] = {
		{"cgroup", CLONE_NEWCGROUP}, {"ipc", CLONE_NEWIPC}, {"mnt", CLONE_NEWNS}, {"net", CLONE_NEWNET},
		{"pid", CLONE_NEWPID}, {"time", 0x80}, {"user", CLONE_NEWUSER}, {"uts", CLONE_NEWUTS},
	};
	for (unsigned long i = 0; i < sizeof table / sizeof table[0]; i++)
		if (length(table[i].name) == n) {
			unsigned long j = 0;
			while (j < n && table[i].name[j] == name[j]) j++;
			if (j == n) return table[i].flag;
		}
	return 0;
}

/* NS_PATHS: "type:path,type:path"; opens every path, then joins the
 * non-user namespaces, then the user namespace. Edits the string in place. */
static void join_paths(char *paths) {
	long fds[8];
	unsigned long flags[8];
	int n = 0;
	for (char *entry = paths; *entry && n < 8;) {
		char *colon = entry;
		while (*colon && *colon != ':') colon++;
		char *end = colon;
		while (*end && *end != ',') end++;
		int last = !*end;
		*end = 0;
		flags[n] = ns_flag(entry, (unsigned long)(colon - entry));
		if (!*colon || !flags[n]) die_stage("NS_PATHS");
		if ((fds[n] = call3(SYS_openat, AT_FDCWD, (long)(colon + 1), O_RDONLY | O_CLOEXEC)) < 0) die_stage("open");
		n++;
		if (last) break;
		entry = end + 1;
	}
	for (int pass = 0; pass < 2; pass++)
		for (int i = 0; i < n; i++)
			if ((flags[i] == CLONE_NEWUSER) == (pass == 1) && call2(SYS_setns, fds[i], (long)flags[i]))
				die_stage("setns");
	for (int i = 0; i < n; i++) call1(SYS_close, fds[i]);
}

struct bootstrap {
	unsigned long flags;
	char *ns_paths, *uid_map, *gid_map;
	int setgroups;
	long sync;      /* stage 1 and 2's end of the socketpair */
	long payload;   /* the sealed copy */
};

static void stage2(struct bootstrap *b, char **program, char **envp) {
	char c;
	name_stage("runc:[2:INIT]");
	if (call3(SYS_read, b->sync, (long)&c, 1) != 1) die_stage("wait for stage 0");
	if (call1(SYS_setsid, 0) < 0) die_stage("setsid");
	if (call3(SYS_setresgid, 0, 0, 0) || call3(SYS_setresuid, 0, 0, 0)) die_stage("setresuid");
	if (b->setgroups && call2(SYS_setgroups, 0, 0)) die_stage("setgroups");
	if ((b->flags & CLONE_NEWCGROUP) && call1(SYS_unshare, CLONE_NEWCGROUP)) die_stage("unshare cgroup");
	if (call3(SYS_write, b->sync, (long)"d", 1) != 1) die_stage("write done");
	raw_syscall(SYS_execveat, b->payload, (long)"", (long)program, (long)envp, AT_EMPTY_PATH, 0);
	die_stage("execveat");
}

static void stage1(struct bootstrap *b, char **program, char **envp) {
	char c;
	name_stage("runc:[1:CHILD]");
	if (b->ns_paths) join_paths(b->ns_paths);
	if (b->flags & CLONE_NEWUSER) {
		if (call1(SYS_unshare, CLONE_NEWUSER)) die_stage("unshare user");
		if (call3(SYS_write, b->sync, (long)"m", 1) != 1 || call3(SYS_read, b->sync, (long)&c, 1) != 1)
			die_stage("id maps");
		if (call3(SYS_setresuid, 0, 0, 0)) die_stage("setresuid");
	}
	if (call1(SYS_unshare, (long)(b->flags & ~(unsigned long)(CLONE_NEWUSER | CLONE_NEWCGROUP))))
		die_stage("unshare");
	long pid = raw_syscall(SYS_clone, CLONE_PARENT | SIGCHLD, 0, 0, 0, 0, 0);
	if (pid < 0) die_stage("clone stage 2");
	if (pid == 0) stage2(b, program, envp);
	char msg[5] = {'p'};
	int p32 = (int)pid;
	for (int i = 0; i < 4; i++) msg[1 + i] = ((char *)&p32)[i];
	if (call3(SYS_write, b->sync, (long)msg, 5) != 5) die_stage("write stage 2's pid");
	call1(SYS_exit_group, 0);
}

static int bootstrap_and_run(char **program, char **envp) {
	name_stage("runc:[0:PARENT]");
	long pipe = env_number(envp, "_LIBCONTAINER_INITPIPE=");
	if (pipe < 0 || read_full(pipe, message, 16)) return fail("read of the message");
	unsigned int len = *(unsigned int *)message;
	if (len < 16 || len > sizeof message || read_full(pipe, message + 16, len - 16)) return fail("message length");
	struct bootstrap b = {0};
	for (unsigned int off = 16; off + 4 <= len;) {
		unsigned short alen = *(unsigned short *)(message + off), type = *(unsigned short *)(message + off + 2);
		unsigned char *value = message + off + 4;
		if (alen < 4 || off + alen > len) return fail("attribute");
		if (type == NL_CLONE_FLAGS) b.flags = *(unsigned int *)value;
		if (type == NL_NS_PATHS) b.ns_paths = (char *)value;
		if (type == NL_UIDMAP) b.uid_map = (char *)value;
		if (type == NL_GIDMAP) b.gid_map = (char *)value;
		if (type == NL_SETGROUP) b.setgroups = value[0] != 0;
		off += (alen + 3u) & ~3u;
	}
	if ((b.payload = sealed_copy(program[0])) < 0) return fail("sealed copy of the program");
	long sv[2];
	int pair[2];
	if (call4(SYS_socketpair, AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, (long)pair)) return fail("socketpair");
	sv[0] = pair[0], sv[1] = pair[1];
	b.sync = sv[1];
	long s1 = raw_syscall(SYS_clone, CLONE_PARENT | SIGCHLD, 0, 0, 0, 0, 0);
	if (s1 < 0) return fail("clone stage 1");
	if (s1 == 0) stage1(&b, program, envp);
	call1(SYS_close, sv[1]);
	char pid1[24], pid2[24], path[64], c;
	format_pid(pid1, s1);
	for (;;) {
		if (call3(SYS_read, sv[0], (long)&c, 1) != 1) return fail("read from stage 1");
		if (c == 'm') {
			if ((b.uid_map && write_file(proc_path(path, pid1, "uid_map"), b.uid_map)) ||
			    (b.gid_map && write_file(proc_path(path, pid1, "gid_map"), b.gid_map)))
				return fail("writing the id maps");
			if (call3(SYS_write, sv[0], (long)"a", 1) != 1) return fail("ack");
			continue;
		}
		if (c != 'p') return fail("unexpected message");
		int s2;
		if (read_full(sv[0], &s2, 4)) return fail("read of stage 2's pid");
		format_pid(pid2, s2);
		break;
	}
	char json[96], *w = json;
	for (const char *t = "{\"stage1_pid\":"; *t;) *w++ = *t++;
	for (const char *t = pid1; *t;) *w++ = *t++;
	for (const char *t = ",\"stage2_pid\":"; *t;) *w++ = *t++;
	for (const char *t = pid2; *t;) *w++ = *t++;
	*w++ = '}', *w++ = '\n';
	if (call3(SYS_write, pipe, (long)json, w - json) != w - json) return fail("write of the pid JSON");
	if (call3(SYS_write, sv[0], (long)"g", 1) != 1 || call3(SYS_read, sv[0], (long)&c, 1) != 1 || c != 'd')
		return fail("stage 2");
	return 0;
}

static char **program_after(int argc, char **argv, int first) {
	if (first >= argc) return default_program;
	if (!same(argv[first], "--") || first + 1 >= argc) return 0;
	return argv + first + 1;
}

static int floor_main(int argc, char **argv, char **envp) {
	char **program;
	if (argc >= 2 && same(argv[1], "create") && (program = program_after(argc, argv, 2)))
		return create_and_run(program, envp);
	if (argc >= 3 && same(argv[1], "join") && (program = program_after(argc, argv, 3)))
		return join_and_run(argv[2], program, envp);
	if (argc >= 2 && same(argv[1], "bootstrap") && (program = program_after(argc, argv, 2)))
		return bootstrap_and_run(program, envp);
	const char *usage = "usage: floor create|bootstrap [-- PROGRAM [ARGS...]] | floor join PID [-- PROGRAM [ARGS...]]\n";
	call3(SYS_write, 2, (long)usage, (long)length(usage));
	return 2;
}
