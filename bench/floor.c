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
#include <sys/mount.h>
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
	const char *usage = "usage: floor create [-- PROGRAM [ARGS...]] | floor join PID [-- PROGRAM [ARGS...]]\n";
	call3(SYS_write, 2, (long)usage, (long)length(usage));
	return 2;
}
