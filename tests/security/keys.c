// SPDX-License-Identifier: MIT
/*
 * The caller's kernel keyrings and a sandbox (tests/security/test_keyrings.sh).
 *   keys plant CMD [ARG]...: join a new session keyring, add the user key
 *     "sbx-test-secret" to it, exec CMD (sbx run ...) with that keyring;
 *   keys probe: in the sandbox, print "session ok|ERRNO" (the session
 *     keyring's id could be read) and "secret ok|ERRNO" (the caller's key
 *     was found and read; "secret leaked VALUE" when the value came back).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/keyctl.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

static const char *ename(int e)
{
	switch (e) {
	case EPERM: return "EPERM";
	case EACCES: return "EACCES";
	case ENOKEY: return "ENOKEY";
	case ENOSYS: return "ENOSYS";
	default: return strerror(e);
	}
}

static int probe(void)
{
	char buf[64] = "";
	long id, n;

	id = syscall(SYS_keyctl, KEYCTL_GET_KEYRING_ID, KEY_SPEC_SESSION_KEYRING, 0);
	printf("session %s\n", id < 0 ? ename(errno) : "ok");
	id = syscall(SYS_keyctl, KEYCTL_SEARCH, KEY_SPEC_SESSION_KEYRING, "user",
		     "sbx-test-secret", 0);
	if (id < 0) {
		printf("secret %s\n", ename(errno));
		return 0;
	}
	n = syscall(SYS_keyctl, KEYCTL_READ, id, buf, sizeof(buf) - 1);
	if (n < 0)
		printf("secret %s\n", ename(errno));
	else
		printf("secret leaked %.*s\n", (int)n, buf);
	return 0;
}

int main(int argc, char **argv)
{
	static const char value[] = "caller-key-value";

	if (argc >= 2 && !strcmp(argv[1], "probe"))
		return probe();
	if (argc < 3 || strcmp(argv[1], "plant")) {
		fprintf(stderr, "usage: keys plant CMD [ARG]... | keys probe\n");
		return 2;
	}
	if (syscall(SYS_keyctl, KEYCTL_JOIN_SESSION_KEYRING, "sbx-test") < 0 ||
	    syscall(SYS_add_key, "user", "sbx-test-secret", value, sizeof(value) - 1,
		    KEY_SPEC_SESSION_KEYRING) < 0) {
		perror("keys: plant");
		return 77;
	}
	execvp(argv[2], argv + 2);
	perror("keys: exec");
	return 127;
}
