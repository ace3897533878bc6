/* SPDX-License-Identifier: MIT */
/*
 * The "mock" provider (isolation level none): it runs nothing. It still
 * clones one tiny child into the sandbox cgroup, exactly like every other
 * provider, so that the whole lifecycle (slot, cgroup, limits, start and exit
 * events, counters, result, cleanup) is exercised; the child writes the
 * profile's [mock] stdout and stderr texts, waits [mock] duration, and ends
 * the way the profile asks:
 *
 *   fail unset  exits with [mock] exit_code
 *   "spawn"     nothing is started: spawn fails (sbx exits 125 and says that
 *               it is the mock's simulated failure)
 *   "timeout"   never ends by itself: the run's timeout kills it (SIGTERM,
 *               exit 124, timed_out). A profile without a timeout gets one:
 *               [mock] duration, or 1 s, so that the run still ends timed out
 *   "crash"     dies of SIGSEGV (exit 139; no core file: RLIMIT_CORE 0)
 *   "oom"       with a memory limit of at most 1 GiB: touches memory until
 *               the kernel's OOM killer of the sandbox cgroup kills it
 *               (SIGKILL, exit 137, oom_killed from the cgroup's accounting);
 *               without such a limit, or if it survives limit + 64 MiB: kills
 *               itself with SIGKILL (exit 137, oom_killed false)
 *
 * No randomness anywhere: the same profile gives the same output, status and
 * (up to scheduling) duration. The command line is not executed; it shows up
 * only where sbx records it for every provider.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "provider.h"
#include "util/util.h"

#define MOCK_DEFAULT_TIMEOUT_MS 1000
#define MOCK_OOM_MAX_LIMIT (1ull << 30)		/* real OOM only below this limit */
#define MOCK_OOM_SLACK (64ull << 20)		/* touched beyond the limit at most */

enum mock_fail { MOCK_OK = 0, MOCK_SPAWN, MOCK_TIMEOUT, MOCK_CRASH, MOCK_OOM, MOCK_BAD };

static enum mock_fail mock_fail_of(const char *s)
{
	if (!s || !*s || !strcmp(s, "none"))
		return MOCK_OK;
	if (!strcmp(s, "spawn"))
		return MOCK_SPAWN;
	if (!strcmp(s, "timeout"))
		return MOCK_TIMEOUT;
	if (!strcmp(s, "crash"))
		return MOCK_CRASH;
	if (!strcmp(s, "oom"))
		return MOCK_OOM;
	return MOCK_BAD;
}

static int mock_probe(char *why, size_t len)
{
	(void)why;
	(void)len;
	return 0;
}

/* The mock needs no state; prepare only validates and, for fail = "timeout"
 * without a profile timeout, gives the run one (see the file comment). The
 * profile sbx_run drives is its own copy for this run (run_cmd.c), and the
 * change happens before the start event and before the run loop reads it. */
static int mock_prepare(const struct sbx_spawn *s, void **ret_state, char *why, size_t len)
{
	const struct sbx_profile *p = s->profile;
	enum mock_fail f = mock_fail_of(p->mock.fail);

	*ret_state = NULL;
	if (f == MOCK_BAD)
		return sbx_fail(why, len, -EINVAL, "unknown [mock] fail mode '%s'", p->mock.fail);
	if (p->mock.exit_code < 0 || p->mock.exit_code > 255)
		return sbx_fail(why, len, -EINVAL, "[mock] exit_code %d out of range (0 to 255)",
				p->mock.exit_code);
	if (f == MOCK_TIMEOUT && !p->timeout_ms)
		((struct sbx_profile *)p)->timeout_ms = p->mock.duration_ms ? p->mock.duration_ms
									    : MOCK_DEFAULT_TIMEOUT_MS;
	return 0;
}

static void write_all(int fd, const char *s)
{
	size_t n = s ? strlen(s) : 0;

	while (n) {
		ssize_t w = write(fd, s, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return;	/* a closed pipe is the reader's business */
		s += w;
		n -= (size_t)w;
	}
}

static void sleep_ms(uint64_t ms)
{
	struct timespec ts = { (time_t)(ms / 1000), (long)(ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

static __attribute__((noreturn)) void die_of(int sig)
{
	struct sigaction sa = { .sa_handler = SIG_DFL };
	sigset_t set;

	sigaction(sig, &sa, NULL);
	sigemptyset(&set);
	sigaddset(&set, sig);
	sigprocmask(SIG_UNBLOCK, &set, NULL);
	raise(sig);
	_exit(128 + sig);
}

/* Touches memory in 1 MiB steps until the cgroup's OOM killer strikes. */
static void exhaust_memory(uint64_t limit)
{
	const size_t step = 1u << 20;

	for (uint64_t used = 0; used < limit + MOCK_OOM_SLACK; used += step) {
		char *m = mmap(NULL, step, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

		if (m == MAP_FAILED)
			return;
		for (size_t i = 0; i < step; i += 4096)
			((volatile char *)m)[i] = 1;
	}
}

/* The child: never returns. */
static int mock_child(const struct sbx_spawn *s, void *arg)
{
	const struct sbx_profile *p = s->profile;
	struct rlimit core = { 0, 0 };

	(void)arg;
	prctl(PR_SET_NAME, "sbx-mock", 0, 0, 0);
	setrlimit(RLIMIT_CORE, &core);
	/* it "started": from here on it is the workload */
	sbx_child_close_report();
	write_all(STDOUT_FILENO, p->mock.stdout_text);
	write_all(STDERR_FILENO, p->mock.stderr_text);
	switch (mock_fail_of(p->mock.fail)) {
	case MOCK_TIMEOUT:
		for (;;)
			pause();	/* until the run's timeout kills it */
	case MOCK_CRASH:
		sleep_ms(p->mock.duration_ms);
		die_of(SIGSEGV);
	case MOCK_OOM:
		sleep_ms(p->mock.duration_ms);
		if (p->memory_bytes && p->memory_bytes <= MOCK_OOM_MAX_LIMIT)
			exhaust_memory(p->memory_bytes);
		die_of(SIGKILL);
	default:
		sleep_ms(p->mock.duration_ms);
		_exit(p->mock.exit_code & 0xff);
	}
}

static int mock_spawn(void *state, const struct sbx_spawn *s, struct sbx_child *ret,
		      char *why, size_t len)
{
	(void)state;
	if (mock_fail_of(s->profile->mock.fail) == MOCK_SPAWN)
		return sbx_fail(why, len, -ECHILD,
				"simulated spawn failure (mock provider, [mock] fail = \"spawn\"); "
				"nothing was started");
	return sbx_clone_into_cgroup(s, mock_child, NULL, ret, why, len);
}

static int mock_signal(void *state, struct sbx_child *c, int sig)
{
	(void)state;
	return sbx_child_signal(c, sig);
}

static int mock_wait(void *state, struct sbx_child *c, int *ret_status)
{
	(void)state;
	return sbx_child_wait(c, ret_status);
}

static void mock_cleanup(void *state)
{
	(void)state;
}

const struct sbx_provider sbx_provider_mock = {
	.name = "mock",
	.dns_names = true,
	.level = SBX_ISO_NONE,
	.summary = "runs nothing: a scripted, deterministic result for tests (NOT isolated)",
	.tty = true,
	.probe = mock_probe,
	.prepare = mock_prepare,
	.spawn = mock_spawn,
	.signal = mock_signal,
	.wait = mock_wait,
	.cleanup = mock_cleanup,
};
