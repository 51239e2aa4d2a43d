/* supervise.h - bookpics-run's supervisor: lighttpd, the relay and bookpics-hooks as children, kept alive. */
#ifndef BP_SUPERVISE_H
#define BP_SUPERVISE_H

struct sup_config {
	const char *var;		/* the data directory, absolute */
	const char *bin;		/* where bookpics-relay is */
	const char *lighttpd;		/* the program (found on PATH without a /) */
	const char *lighttpd_conf;	/* a filled-in lighttpd.conf */
	int port;			/* lighttpd's, on 127.0.0.1 */
	int relay_port;
	int failchk_ms;			/* how often DB_ENV->failchk runs */
	int start_ms;			/* both must answer within this */
};

/*
 * Run the site until SIGTERM or SIGINT, in the calling process (which
 * becomes a child subreaper: FastCGI programs orphaned by lighttpd's death
 * come back to it to be killed and reaped). Needs $VAR/log (the log is
 * $VAR/log/run.log, opened here), $VAR/run (pid files) and the store in
 * $VAR/db. Starts the relay and `lighttpd -D`, each in its own process
 * group, and prints "bookpics is running on URL" to stdout only once both
 * answer. Either one exiting before that, a port in use or no answer
 * within start_ms is fatal. After that, a child that dies is restarted (backoff 0.1 s
 * doubling to 5 s, back to 0.1 s once it stayed up 30 s); lighttpd's
 * process group and every orphan are killed first. SIGHUP reopens the log
 * and is passed on to both. failchk reporting DB_RUNRECOVERY, or giving no
 * answer within 10 s, stops both, recovers the environment and starts them
 * again. Time this process did not run (stopped, its host frozen) counts
 * towards no deadline: logged as event=resumed, nothing is recovered.
 *
 * Returns the process's exit status: 0 when stopped by a signal, with no
 * child left (SIGKILL after 5 s); 1 after a fatal error, which was logged
 * naming its cause (the child's exit and its last log lines).
 */
int sup_run(const struct sup_config *cfg);

#endif
