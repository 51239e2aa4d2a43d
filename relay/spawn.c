/* spawn.c - a group's site: the relay's replicator (bookpics-replicator), started and watched. */
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "conf.h"
#include "err.h"
#include "group.h"
#include "spawn.h"

extern char **environ;

pid_t spawn_replicator(const char *var, char *err)
{
	static struct conf c;	/* PATH_MAX buffers: not on the stack */
	static char name[] = "bookpics-replicator", var_opt[] = "--var", parent_opt[] = "--parent";
	char exe[PATH_MAX], parent[24], *slash;
	char *argv[] = { name, var_opt, (char *)var, parent_opt, parent, NULL };
	struct group_conf g;
	ssize_t n;
	pid_t pid;
	int ret;

	/* no configuration yet, or a bad one: the relay's own open says what is wrong */
	if (conf_load(&c, var, err) || group_conf_from(&g, &c, err) <= 0)
		return 0;
	if ((n = readlink("/proc/self/exe", exe, sizeof(exe) - 1)) < 0)
		return err_set(err, "readlink /proc/self/exe: %s", strerror(errno));
	exe[n] = '\0';
	if (!(slash = strrchr(exe, '/')) ||
	    (size_t)(slash - exe) + sizeof("/bookpics-replicator") > sizeof(exe))
		return err_set(err, "spawn replicator: no directory in %s", exe);
	strcpy(slash, "/bookpics-replicator");
	snprintf(parent, sizeof(parent), "%ld", (long)getpid());
	if ((ret = posix_spawn(&pid, exe, NULL, NULL, argv, environ)))
		return err_set(err, "posix_spawn %s: %s", exe, strerror(ret));
	return pid;
}

int spawn_exited(pid_t pid, char *err)
{
	int status;

	if (waitpid(pid, &status, WNOHANG) != pid)
		return 0;
	if (WIFSIGNALED(status))
		err_set(err, "the replicator (pid %ld) was killed by signal %d", (long)pid,
			WTERMSIG(status));
	else
		err_set(err, "the replicator (pid %ld) exited with %d", (long)pid,
			WEXITSTATUS(status));
	return 1;
}

void spawn_stop(pid_t pid, int timeout_ms)
{
	struct timespec pause = { 0, 20 * 1000000 };
	int waited, status;

	if (pid <= 0 || kill(pid, SIGTERM))
		return;
	for (waited = 0; waited < timeout_ms; waited += 20) {
		if (waitpid(pid, &status, WNOHANG) == pid)
			return;
		nanosleep(&pause, NULL);
	}
	kill(pid, SIGKILL);
	waitpid(pid, &status, 0);
}
