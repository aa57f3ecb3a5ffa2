/* A caller for the benchmarks: starts PROGRAM the way runc's Go side starts
 * `runc init` (shared/PROTOCOL.md), or plainly, and times it from its own
 * clock so that the runner's spawn cost stays out of every measurement.
 *
 *   driver [--clone-flags HEX] [--ns-paths STR] [--uid-map STR] [--gid-map STR]
 *          [--setgroups] [--iterations N] [--timeout SECS] [--show-pipe]
 *          -- PROGRAM [ARGS...]
 *   driver --plain [--iterations N] [--timeout SECS] -- PROGRAM [ARGS...]
 *
 * Bootstrap (the default): a SOCK_STREAM socketpair end becomes fd 3 of
 * PROGRAM with _LIBCONTAINER_INITPIPE=3; the netlink message is encoded as
 * runc's Go side encodes it (u32 and bool attributes 8 bytes, strings with
 * their NUL, padding to 4). The driver then reads the pid JSON, skipping
 * NUL bytes before it (runc 1.1 writes one "\0" as soon as it starts, to say
 * it is past its initial set-up), and reaps stage 0 and the two stages that
 * CLONE_PARENT made its own children, until waitpid(-1) says ECHILD.
 *
 * Plain (--plain): fork, exec, reap the whole tree. The driver is a child
 * subreaper in both modes, so "reaped" always means every process the run
 * created, however it was reparented.
 *
 * With --iterations N the driver runs N times and prints one line per run:
 *   bootstrap: setup_ns=T1 total_ns=T2   (T1: fork to the pid JSON,
 *                                          T2: fork to the last reap)
 *   plain:     total_ns=T2
 * each followed by faults=F: the page faults (minor and major) of every
 * process the run created, as wait4 reports them for the ones it reaps
 * (each with the processes it reaped itself).
 * and sends PROGRAM's stdout to /dev/null so that only these lines appear.
 * Without it the driver runs once, prints nothing and leaves stdout alone.
 * A "\n" (backslash, n) in a map string is a newline, for shell use.
 * Exit status: 0 when every run's stage 0 and payload exit 0; 1 otherwise;
 * 124 on timeout (default 30 s per run; the processes it knows are killed).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define INIT_MSG 62000
#define CLONE_FLAGS_ATTR 27281
#define NS_PATHS_ATTR 27282
#define UIDMAP_ATTR 27283
#define GIDMAP_ATTR 27284
#define SETGROUP_ATTR 27285
#define NLM_F_REQUEST 1
#define INIT_PIPE_FD 3

struct options {
	int plain, setgroups, iterations, timed, timeout, show_pipe;
	uint32_t clone_flags;
	const char *ns_paths, *uid_map, *gid_map;
	char **program;
};

static unsigned char message[65536];
static size_t message_len;

static void die(const char *what) {
	fprintf(stderr, "driver: %s: %s\n", what, strerror(errno));
	exit(1);
}

static void usage(void) {
	fputs("usage: driver [--plain] [--clone-flags HEX] [--ns-paths STR] [--uid-map STR] [--gid-map STR]\n"
	      "              [--setgroups] [--iterations N] [--timeout SECS] [--show-pipe] -- PROGRAM [ARGS...]\n",
	      stderr);
	exit(2);
}

static void append(const void *data, size_t n) {
	if (n > sizeof message - message_len) {
		fprintf(stderr, "driver: bootstrap message exceeds %zu bytes\n", sizeof message);
		exit(2);
	}
	memcpy(message + message_len, data, n);
	message_len += n;
}

/* nla_len counts header and value, not the padding that follows. */
static void append_attr(uint16_t type, const void *value, size_t n) {
	if (n > 0xffff - 4) {
		fprintf(stderr, "driver: attribute %u too long\n", type);
		exit(2);
	}
	uint16_t header[2] = {(uint16_t)(4 + n), type};
	static const unsigned char zeros[4];
	append(header, sizeof header);
	append(value, n);
	append(zeros, (4 - n % 4) % 4);
}

static void append_u32(uint16_t type, uint32_t value) { append_attr(type, &value, 4); }

/* A runc Bytemsg: the string and one NUL. */
static void append_string(uint16_t type, const char *s) { append_attr(type, s, strlen(s) + 1); }

static char *unescape_newlines(const char *s) {
	char *out = strdup(s), *w = out;
	if (!out) die("strdup");
	for (; *s; s++) {
		if (s[0] == '\\' && s[1] == 'n') {
			*w++ = '\n';
			s++;
		} else {
			*w++ = *s;
		}
	}
	*w = 0;
	return out;
}

static void encode_bootstrap_message(const struct options *o) {
	struct {
		uint32_t len;
		uint16_t type, flags;
		uint32_t seq, pid;
	} header = {0, INIT_MSG, NLM_F_REQUEST, 1, 0};
	message_len = sizeof header;
	append_u32(CLONE_FLAGS_ATTR, o->clone_flags);
	if (o->ns_paths) append_string(NS_PATHS_ATTR, o->ns_paths);
	if (o->uid_map) append_string(UIDMAP_ATTR, o->uid_map);
	if (o->gid_map) append_string(GIDMAP_ATTR, o->gid_map);
	if (o->setgroups) append_u32(SETGROUP_ATTR, 1);
	header.len = (uint32_t)message_len;
	memcpy(message, &header, sizeof header);
}

static const char *value_of(int argc, char **argv, int *i) {
	if (*i + 1 >= argc) usage();
	return argv[++*i];
}

static struct options parse_options(int argc, char **argv) {
	struct options o = {.iterations = 1, .timeout = 30};
	int i;
	for (i = 1; i < argc && strcmp(argv[i], "--"); i++) {
		const char *a = argv[i];
		if (!strcmp(a, "--plain")) o.plain = 1;
		else if (!strcmp(a, "--setgroups")) o.setgroups = 1;
		else if (!strcmp(a, "--show-pipe")) o.show_pipe = 1;
		else if (!strcmp(a, "--clone-flags")) o.clone_flags = (uint32_t)strtoul(value_of(argc, argv, &i), NULL, 16);
		else if (!strcmp(a, "--ns-paths")) o.ns_paths = value_of(argc, argv, &i);
		else if (!strcmp(a, "--uid-map")) o.uid_map = unescape_newlines(value_of(argc, argv, &i));
		else if (!strcmp(a, "--gid-map")) o.gid_map = unescape_newlines(value_of(argc, argv, &i));
		else if (!strcmp(a, "--timeout")) o.timeout = atoi(value_of(argc, argv, &i));
		else if (!strcmp(a, "--iterations")) {
			o.iterations = atoi(value_of(argc, argv, &i));
			o.timed = 1;
		} else usage();
	}
	if (i + 1 >= argc || o.iterations < 1) usage();
	o.program = argv + i + 1;
	return o;
}

static long long now_ns(void) {
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static volatile sig_atomic_t timed_out;
static void on_alarm(int sig) { (void)sig; timed_out = 1; }

/* The processes of the current run, so a timeout can kill them. */
static pid_t known[3];

static void kill_known_and_exit(void) {
	for (int i = 0; i < 3; i++)
		if (known[i] > 0) kill(known[i], SIGKILL);
	for (int tries = 0; tries < 200; tries++) {
		pid_t p = waitpid(-1, NULL, __WALL | WNOHANG);
		if (p < 0 && errno != EINTR) break;
		if (p == 0) usleep(5000);
	}
	fprintf(stderr, "driver: timed out, killed the run\n");
	exit(124);
}

/* Opened once, before any clock starts: the child only dup2s it. */
static int dev_null = -1;

static void start_program(const struct options *o, int pipe_end) {
	if (o->timed && dup2(dev_null, 1) < 0) _exit(127);
	if (!o->plain) {
		/* dup2 onto itself would keep CLOEXEC: clear it instead. */
		if (pipe_end == INIT_PIPE_FD) {
			if (fcntl(pipe_end, F_SETFD, 0) < 0) _exit(127);
		} else if (dup2(pipe_end, INIT_PIPE_FD) < 0) {
			_exit(127);
		}
	}
	execvp(o->program[0], o->program);
	fprintf(stderr, "driver: exec %s: %s\n", o->program[0], strerror(errno));
	_exit(127);
}

/* Reads up to the end of the pid JSON line; returns its length, 0 at EOF. */
static size_t read_pid_json(int fd, char *buf, size_t size, const struct options *o) {
	size_t got = 0, nuls = 0;
	while (got < size - 1) {
		ssize_t n = read(fd, buf + got, size - 1 - got);
		if (n < 0 && errno == EINTR && timed_out) kill_known_and_exit();
		if (n < 0 && errno == EINTR) continue;
		if (n <= 0) break;
		got += (size_t)n;
		while (nuls < got && buf[nuls] == 0) nuls++;
		if (got > nuls && buf[got - 1] == '\n') break;
	}
	if (o->show_pipe) {
		fprintf(stderr, "driver: init pipe gave %zu byte(s): ", got);
		for (size_t i = 0; i < got; i++)
			fprintf(stderr, buf[i] >= 32 && buf[i] < 127 ? "%c" : "\\x%02x", (unsigned char)buf[i]);
		fputc('\n', stderr);
	}
	memmove(buf, buf + nuls, got - nuls);
	buf[got - nuls] = 0;
	return got - nuls;
}

static int json_int(const char *json, const char *key) {
	const char *p = strstr(json, key);
	return p ? atoi(p + strlen(key)) : 0;
}

static int exited_zero(int status) { return WIFEXITED(status) && WEXITSTATUS(status) == 0; }

static void describe(const char *who, int status) {
	if (WIFEXITED(status))
		fprintf(stderr, "driver: %s exited %d\n", who, WEXITSTATUS(status));
	else
		fprintf(stderr, "driver: %s killed by signal %d\n", who, WTERMSIG(status));
}

/* One run; returns 0 when stage 0 (or the plain program) and the payload exit 0. */
static int run_once(const struct options *o) {
	int sv[2] = {-1, -1};
	if (!o->plain && socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv)) die("socketpair");
	memset(known, 0, sizeof known);
	alarm((unsigned)o->timeout);

	long long t0 = now_ns(), t_json = 0;
	pid_t child = fork();
	if (child < 0) die("fork");
	if (child == 0) start_program(o, sv[1]);
	known[0] = child;

	int stage2 = 0, ok = 1;
	if (!o->plain) {
		close(sv[1]);
		size_t off = 0;
		while (off < message_len) {
			/* MSG_NOSIGNAL: a program that died early is a failed run, not a SIGPIPE. */
			ssize_t n = send(sv[0], message + off, message_len - off, MSG_NOSIGNAL);
			if (n < 0 && errno == EINTR && timed_out) kill_known_and_exit();
			if (n < 0 && errno == EINTR) continue;
			if (n < 0) {
				fprintf(stderr, "driver: writing the bootstrap message: %s\n", strerror(errno));
				ok = 0;
				break;
			}
			off += (size_t)n;
		}
		char json[512];
		if (ok && read_pid_json(sv[0], json, sizeof json, o)) {
			t_json = now_ns();
			known[1] = json_int(json, "\"stage1_pid\":");
			known[2] = stage2 = json_int(json, "\"stage2_pid\":");
			if (!known[1] || !stage2) {
				fprintf(stderr, "driver: unexpected pid JSON: %s", json);
				ok = 0;
			}
		} else if (ok) {
			fprintf(stderr, "driver: no pid JSON on the init pipe\n");
			ok = 0;
		}
	}

	long faults = 0;
	for (;;) {
		int status;
		struct rusage ru;
		pid_t p = wait4(-1, &status, __WALL, &ru);
		if (p > 0) faults += ru.ru_minflt + ru.ru_majflt; /* the process and what it reaped */
		if (p < 0 && errno == EINTR && timed_out) kill_known_and_exit();
		if (p < 0 && errno == EINTR) continue;
		if (p < 0) break; /* ECHILD: the whole tree is reaped */
		if (p == child && !exited_zero(status)) {
			describe(o->plain ? "program" : "stage 0", status);
			ok = 0;
		}
		if (p == stage2 && !exited_zero(status)) {
			describe("payload (stage 2)", status);
			ok = 0;
		}
	}
	long long t_end = now_ns();
	alarm(0);
	if (!o->plain) close(sv[0]);

	if (ok && o->timed) {
		if (o->plain)
			printf("total_ns=%lld faults=%ld\n", t_end - t0, faults);
		else
			printf("setup_ns=%lld total_ns=%lld faults=%ld\n", t_json - t0, t_end - t0, faults);
	}
	return ok ? 0 : 1;
}

int main(int argc, char **argv) {
	struct options o = parse_options(argc, argv);
	if (prctl(PR_SET_CHILD_SUBREAPER, 1)) die("PR_SET_CHILD_SUBREAPER");
	struct sigaction sa = {.sa_handler = on_alarm}; /* no SA_RESTART: a timeout interrupts the wait */
	sigaction(SIGALRM, &sa, NULL);
	if (o.timed && (dev_null = open("/dev/null", O_WRONLY | O_CLOEXEC)) < 0) die("/dev/null");
	if (!o.plain) {
		encode_bootstrap_message(&o);
		if (setenv("_LIBCONTAINER_INITPIPE", "3", 1)) die("setenv");
	}
	for (int i = 0; i < o.iterations; i++) {
		if (run_once(&o)) {
			fprintf(stderr, "driver: run %d of %d failed\n", i + 1, o.iterations);
			return 1;
		}
		fflush(stdout);
	}
	return 0;
}
