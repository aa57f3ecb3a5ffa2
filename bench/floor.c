/* The floor: only the syscalls a namespace set-up needs, written by hand.
 *   floor create  - user (root mapped to 0:100000:65536) + pid + mnt + uts + ipc + net, run /bin/true
 *   floor join PID - join PID's user, pid, mnt, uts, ipc, net namespaces, run /bin/true
 * Exits with /bin/true's status. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static char *const argv_true[] = {"/bin/true", NULL};
static char *const envp[] = {NULL};

static int run_true(void) {
	pid_t p = fork();
	if (p == 0) { execve("/bin/true", argv_true, envp); _exit(127); }
	int st;
	waitpid(p, &st, 0);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

static void write_file(const char *path, const char *data) {
	int fd = open(path, O_WRONLY);
	if (fd < 0 || write(fd, data, strlen(data)) < 0) _exit(1);
	close(fd);
}

int main(int argc, char **argv) {
	if (argc >= 2 && !strcmp(argv[1], "create")) {
		int go[2], ready[2];
		if (pipe(go) || pipe(ready)) return 1;
		pid_t p = fork();
		if (p == 0) {
			char c;
			if (unshare(CLONE_NEWUSER | CLONE_NEWPID | CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWNET)) _exit(1);
			if (write(ready[1], "r", 1) != 1 || read(go[0], &c, 1) != 1) _exit(1);
			if (setresuid(0, 0, 0) || setresgid(0, 0, 0)) _exit(1);
			_exit(run_true());
		}
		char c, path[64];
		if (read(ready[0], &c, 1) != 1) return 1;
		snprintf(path, sizeof path, "/proc/%d/uid_map", p);
		write_file(path, "0 100000 65536\n");
		snprintf(path, sizeof path, "/proc/%d/gid_map", p);
		write_file(path, "0 100000 65536\n");
		if (write(go[1], "g", 1) != 1) return 1;
		int st;
		waitpid(p, &st, 0);
		return WIFEXITED(st) ? WEXITSTATUS(st) : 1;
	}
	if (argc >= 3 && !strcmp(argv[1], "join")) {
		static const char *names[] = {"pid", "mnt", "uts", "ipc", "net", "user"};
		int fds[6];
		char path[64];
		for (int i = 0; i < 6; i++) {
			snprintf(path, sizeof path, "/proc/%s/ns/%s", argv[2], names[i]);
			if ((fds[i] = open(path, O_RDONLY | O_CLOEXEC)) < 0) return 1;
		}
		for (int i = 0; i < 6; i++)
			if (setns(fds[i], 0)) return 1;
		return run_true();
	}
	fprintf(stderr, "usage: floor create | floor join PID\n");
	return 2;
}
