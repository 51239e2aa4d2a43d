/* spawn.h - a group's site: the relay's replicator (bookpics-replicator), started and watched. */
#ifndef BP_SPAWN_H
#define BP_SPAWN_H

#include <sys/types.h>

/*
 * If var's configuration makes this a group's site, start
 * bookpics-replicator (next to this program, /proc/self/exe) for var, as
 * this process's child; it ends when this process does. Returns its pid,
 * 0 (not a group's site, or no configuration yet: nothing to start), or
 * -1 with err.
 */
pid_t spawn_replicator(const char *var, char *err);

/* 1 when pid has exited (reaped; err says how), 0 while it runs. */
int spawn_exited(pid_t pid, char *err);

/* Stop pid (SIGTERM, SIGKILL after timeout_ms) and reap it. Never fails. */
void spawn_stop(pid_t pid, int timeout_ms);

#endif
