/* A caller that speaks runc's bootstrap contract (shared/PROTOCOL.md), for
 * the benchmarks: encodes the netlink message as runc's Go side does, starts
 * PROGRAM with the init pipe, reads the pid JSON, reaps stage 0 and the two
 * stages that CLONE_PARENT made our children. Prints, per run, the time to
 * the pid JSON (namespace set-up) and to the last reap (total), in ns.
 *
 * usage: driver RUNS CLONE_FLAGS_HEX NS_PATHS UID_MAP GID_MAP -- PROGRAM [ARGS...]
 * (empty strings leave an attribute out) */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static unsigned char msg[65536];
static size_t len;

static void put(const void *p, size_t n) { memcpy(msg + len, p, n); len += n; }

static void attr(uint16_t type, const void *value, size_t n, int nul) {
	uint16_t l = 4 + n + (nul ? 1 : 0), t = type;
	put(&l, 2); put(&t, 2); put(value, n);
	if (nul) put("", 1);
	while (len % 4) put("", 1);
}

static long long now(void) {
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

int main(int argc, char **argv) {
	if (argc < 8 || strcmp(argv[6], "--")) {
		fprintf(stderr, "usage: driver RUNS CLONE_FLAGS_HEX NS_PATHS UID_MAP GID_MAP -- PROGRAM [ARGS...]\n");
		return 2;
	}
	int runs = atoi(argv[1]);
	uint32_t flags = strtoul(argv[2], NULL, 16), one = 1;
	len = 16;
	attr(27281, &flags, 4, 0);
	if (*argv[3]) attr(27282, argv[3], strlen(argv[3]), 1);
	if (flags & 0x10000000) {
		if (*argv[4]) attr(27283, argv[4], strlen(argv[4]), 1);
		if (*argv[5]) attr(27284, argv[5], strlen(argv[5]), 1);
		attr(27285, &one, 4, 0);
	}
	uint32_t total = len; uint16_t type = 62000, f = 1; uint32_t zero = 0;
	memcpy(msg, &total, 4); memcpy(msg + 4, &type, 2); memcpy(msg + 6, &f, 2);
	memcpy(msg + 8, &zero, 4); memcpy(msg + 12, &zero, 4);
	setenv("_LIBCONTAINER_INITPIPE", "3", 1);
	for (int i = 0; i < runs; i++) {
		int sv[2];
		if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv)) return perror("socketpair"), 1;
		long long t0 = now();
		pid_t p = fork();
		if (p == 0) {
			dup2(sv[1], 3);
			execv(argv[7], argv + 7);
			_exit(127);
		}
		close(sv[1]);
		if (write(sv[0], msg, len) != (ssize_t)len) return perror("write"), 1;
		char buf[256]; size_t got = 0;
		while (got < sizeof buf - 1) {
			ssize_t n = read(sv[0], buf + got, sizeof buf - 1 - got);
			if (n <= 0) break;
			got += n;
			if (buf[got - 1] == '\n') break;
		}
		long long t1 = now();
		buf[got] = 0;
		/* runc 1.1 sends a NUL byte before the JSON. */
		char *j = buf; while (j < buf + got && *j == 0) j++;
		int s1 = 0, s2 = 0;
		char *a = strstr(j, "\"stage1_pid\":"), *b = strstr(j, "\"stage2_pid\":");
		if (a) s1 = atoi(a + 13);
		if (b) s2 = atoi(b + 13);
		int st, bad = 0;
		waitpid(p, &st, 0);
		if (!WIFEXITED(st) || WEXITSTATUS(st)) bad = 1;
		if (s1) waitpid(s1, &st, __WALL);
		if (s2) { waitpid(s2, &st, __WALL); if (!WIFEXITED(st) || WEXITSTATUS(st)) bad = 1; }
		while (waitpid(-1, &st, WNOHANG | __WALL) > 0) ;
		long long t2 = now();
		close(sv[0]);
		if (bad || !s2) { fprintf(stderr, "driver: run %d failed\n", i); return 1; }
		printf("%lld %lld\n", t1 - t0, t2 - t0);
	}
	return 0;
}
