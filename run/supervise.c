/* supervise.c - start, watch, restart and stop lighttpd and the relay (see supervise.h). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "dbwatch.h"
#include "err.h"
#include "probe.h"
#include "runlog.h"
#include "supervise.h"

#define SUP_TICK_MS 100
#define SUP_STOP_MS 5000	/* then SIGKILL */
#define SUP_BACKOFF_MIN 100
#define SUP_BACKOFF_MAX 5000
#define SUP_STABLE_MS 30000	/* up this long: the next failure starts at 0.1 s again */
#define SUP_READY_STABLE_MS 250	/* or answering this long: it was not a crash loop */
#define SUP_TAIL_LINES 3
#define SUP_CHECK_MS 10000	/* a failchk longer than this is a stall: recover */
#define SUP_RECOVER_MS 60000	/* a recovery longer than this is killed, tried again */
#define SUP_RECOVER_RETRY_MS 2000	/* after a failed recovery (a full disk, say) */
/*
 * A poll of at most SUP_TICK_MS (50 ms in the stop and job loops) that
 * returns this much later than it was asked to means that this process
 * did not run in between: it was stopped (SIGSTOP, a ^Z of its session)
 * or its host was frozen (a VM paused or live-migrated), and so was the
 * failchk child most likely. A loaded host delays a wakeup by
 * milliseconds, not seconds, so a check child stuck while this process
 * runs is still a stall. Only the poll is measured, not the loop's work
 * (a probe of a slow lighttpd may take 2.5 s and more, and is no freeze):
 * the loop waits in the poll nearly all the time, a freeze lands there.
 */
#define SUP_FROZEN_MS 2000

enum { SUP_RELAY, SUP_LIGHTTPD, SUP_HOOKS, SUP_NCHILD };

struct sup_child {
	const char *name;
	char log[PATH_MAX];	/* its stdout and stderr */
	char pidfile[PATH_MAX];
	char port_arg[16];
	pid_t pid;		/* 0: not running; also its process group */
	int ready;		/* answered since its start */
	long long ready_at;	/* ms, when it first answered; 0: not yet */
	long long started;	/* ms */
	long long down_since;	/* ms, 0 while up */
	long long restart_at;	/* ms, 0: none due */
	int backoff_ms;
	off_t log_off;		/* the log's size at its start: its lines follow */
};

struct sup {
	const struct sup_config *cfg;
	struct sup_child c[SUP_NCHILD];
	char dbhome[PATH_MAX];
	pid_t check_pid;	/* the failchk child (dbwatch_check_start), 0: none */
	long long check_deadline;
	int check_killed;	/* it stalled past SUP_CHECK_MS and was killed */
	long long recover_at;	/* ms, 0: no recovery due (one failed: again then) */
	int sfd;		/* signalfd: TERM, INT, HUP, CHLD */
	int starting;		/* 1 until both answered */
	int announced;		/* "running" printed */
	long long start_deadline;
	long long next_failchk;
	int fatal;
	int stop_signal;
	int stopping;		/* in sup_stop_all: exits are expected */
	long long lost_ms;	/* time this process was frozen: sup_now leaves it out */
};

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/*
 * The supervisor's clock: the monotonic clock without the time this
 * process was frozen (sup_signals measures it). Every deadline and
 * duration is on it, so a freeze moves them all forward by its length:
 * after a SIGSTOP of 12 s the check child that had 10 s still has what
 * was left of them, as do start_deadline, next_failchk, the restart
 * back-offs and the stop and recovery bounds. A site frozen whole did not
 * stall; without this the first tick after the thaw saw every deadline
 * past and recovered a healthy site, dropping every WebSocket client.
 */
static long long sup_now(const struct sup *s)
{
	return now_ms() - s->lost_ms;
}

/* "status=exited code=1" or "status=killed signal=9" for a wait status. */
static void sup_status(int st, char *buf, size_t len)
{
	if (WIFEXITED(st))
		snprintf(buf, len, "status=exited code=%d", WEXITSTATUS(st));
	else if (WIFSIGNALED(st))
		snprintf(buf, len, "status=killed signal=%d", WTERMSIG(st));
	else
		snprintf(buf, len, "status=unknown raw=%d", st);
}

/*
 * The last lines a child wrote to its log since it started, logged one
 * per line: that is where lighttpd says "can't bind" or "unknown config
 * key" and the relay "ERROR on binding".
 */
static void sup_log_tail(const struct sup_child *c, const char *level)
{
	char buf[4096], *lines[SUP_TAIL_LINES], *p;
	struct stat st;
	ssize_t n;
	off_t from;
	int fd, i, k = 0;

	if ((fd = open(c->log, O_RDONLY | O_CLOEXEC)) < 0)
		return;
	if (fstat(fd, &st) || st.st_size <= c->log_off)
		goto out;
	from = st.st_size - (off_t)sizeof(buf) + 1;
	if (from < c->log_off)
		from = c->log_off;
	if ((n = pread(fd, buf, sizeof(buf) - 1, from)) <= 0)
		goto out;
	buf[n] = '\0';
	/* the last SUP_TAIL_LINES non-empty lines, oldest first */
	for (p = buf + n; p > buf && k < SUP_TAIL_LINES;) {
		while (p > buf && (p[-1] == '\n' || p[-1] == '\r'))
			*--p = '\0';
		while (p > buf && p[-1] != '\n')
			p--;
		if (*p)
			lines[k++] = p;
	}
	for (i = k - 1; i >= 0; i--)
		runlog(level, "event=log child=%s file=%s line=\"%s\"", c->name, c->log, lines[i]);
out:
	close(fd);
}

static void sup_write_pid(const struct sup_child *c)
{
	FILE *f = fopen(c->pidfile, "w");

	if (!f) {
		runlog("warn", "event=pidfile file=%s error=\"%s\"", c->pidfile, strerror(errno));
		return;
	}
	fprintf(f, "%ld\n", (long)c->pid);
	fclose(f);
}

/* In the child, before exec: default signals, own process group, log as output. */
static void sup_exec(const struct sup_child *c, char *const argv[], int logfd)
{
	sigset_t none;
	int devnull;

	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	signal(SIGPIPE, SIG_DFL);	/* ignored dispositions survive exec */
	setpgid(0, 0);
	if ((devnull = open("/dev/null", O_RDONLY)) >= 0) {
		dup2(devnull, 0);
		close(devnull);
	}
	dup2(logfd, 1);
	dup2(logfd, 2);
	execvp(argv[0], argv);
	dprintf(2, "bookpics-run: exec %s: %s\n", argv[0], strerror(errno));
	(void)c;
	_exit(127);
}

static int sup_spawn(struct sup *s, struct sup_child *c, char *err)
{
	const struct sup_config *cfg = s->cfg;
	char relay[PATH_MAX], hooks[PATH_MAX];
	char *relay_argv[] = { relay, (char *)"--port", c->port_arg, (char *)"--var",
			       (char *)cfg->var, (char *)"--log", c->log, NULL };
	/* always started: it idles while hook_url is empty, so setting it needs no restart */
	char *hooks_argv[] = { hooks, (char *)"--var", (char *)cfg->var, (char *)"--log",
			       c->log, NULL };
	char *httpd_argv[] = { (char *)cfg->lighttpd, (char *)"-D", (char *)"-f",
			       (char *)cfg->lighttpd_conf, NULL };
	struct stat st;
	pid_t pid;
	int fd;

	snprintf(relay, sizeof(relay), "%s/bookpics-relay", cfg->bin);
	snprintf(hooks, sizeof(hooks), "%s/bookpics-hooks", cfg->bin);
	if ((fd = open(c->log, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644)) < 0)
		return err_set(err, "open %s: %s", c->log, strerror(errno));
	c->log_off = fstat(fd, &st) ? 0 : st.st_size;
	if ((pid = fork()) < 0) {
		close(fd);
		return err_set(err, "fork: %s", strerror(errno));
	}
	if (pid == 0)
		sup_exec(c, c == &s->c[SUP_RELAY] ? relay_argv :
			    c == &s->c[SUP_HOOKS] ? hooks_argv : httpd_argv, fd);
	close(fd);
	setpgid(pid, pid);	/* also here: no window where a kill misses it */
	c->pid = pid;
	c->ready = 0;
	c->ready_at = 0;
	c->started = sup_now(s);
	c->restart_at = 0;
	sup_write_pid(c);
	runlog("info", "event=start child=%s pid=%ld", c->name, (long)pid);
	return 0;
}

/*
 * Send sig to every process whose parent is this one and that is not one
 * of the two children: FastCGI programs whose lighttpd died were
 * reparented here (PR_SET_CHILD_SUBREAPER). Returns how many were sent it.
 */
static int sup_kill_orphans(struct sup *s, int sig)
{
	char path[64], buf[512], *p;
	struct dirent *d;
	DIR *dir;
	pid_t self = getpid(), pid;
	long ppid;
	ssize_t n;
	int fd, count = 0;

	if (!(dir = opendir("/proc")))
		return 0;
	while ((d = readdir(dir))) {
		pid = (pid_t)atol(d->d_name);
		if (pid <= 0 || pid == s->c[SUP_RELAY].pid || pid == s->c[SUP_LIGHTTPD].pid ||
		    pid == s->check_pid)
			continue;
		snprintf(path, sizeof(path), "/proc/%ld/stat", (long)pid);
		if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
			continue;
		n = read(fd, buf, sizeof(buf) - 1);
		close(fd);
		if (n <= 0)
			continue;
		buf[n] = '\0';
		/* "pid (comm) state ppid ...": comm may hold spaces and ')' */
		if (!(p = strrchr(buf, ')')) || sscanf(p + 1, " %*c %ld", &ppid) != 1)
			continue;
		if (ppid == (long)self && !kill(pid, sig)) {
			runlog("warn", "event=orphan pid=%ld signal=%d", (long)pid, sig);
			count++;
		}
	}
	closedir(dir);
	return count;
}

/* A child exited (reaped already): log it and decide what follows. */
static void sup_exited(struct sup *s, struct sup_child *c, int st)
{
	char status[64];
	long long now = sup_now(s), up = now - c->started;
	pid_t pgid = c->pid;

	sup_status(st, status, sizeof(status));
	c->pid = 0;
	c->ready = 0;
	/*
	 * Whatever it left goes too: its group, and lighttpd's FastCGI
	 * programs (their own groups, reparented here). Stopping, they had
	 * lighttpd's TERM and sup_stop_all's deadline; dead, they hold the
	 * sockets the next lighttpd needs.
	 */
	if (s->stopping) {
		runlog("info", "event=exit child=%s pid=%ld %s", c->name, (long)pgid, status);
		kill(-pgid, SIGTERM);
		return;
	}
	kill(-pgid, SIGKILL);
	if (c == &s->c[SUP_LIGHTTPD])
		sup_kill_orphans(s, SIGKILL);
	/*
	 * Only the first start is all or nothing: a child killed while the
	 * site starts again after a recovery is restarted like any other
	 * (tests/t1110 killed the relay there and the supervisor gave up).
	 * The site serves without hooks (they wait in the store): only
	 * restarted, ever.
	 */
	if (s->starting && !s->announced && c != &s->c[SUP_HOOKS]) {
		runlog("error", "event=start_failed child=%s %s", c->name, status);
		sup_log_tail(c, "error");
		s->fatal = 1;
		return;
	}
	/*
	 * A child that answered for a while started fine and was killed or
	 * crashed later: restart it at once. Backing off is for one that dies
	 * before it answers (tests/t1110: 10 kills of lighttpd in 20 s had it
	 * down 5 s at a time).
	 */
	if (up >= SUP_STABLE_MS || (c->ready_at && now - c->ready_at >= SUP_READY_STABLE_MS))
		c->backoff_ms = SUP_BACKOFF_MIN;
	c->restart_at = now + c->backoff_ms;
	c->down_since = now;
	runlog("warn", "event=restart child=%s %s uptime_ms=%lld backoff_ms=%d",
	       c->name, status, up, c->backoff_ms);
	sup_log_tail(c, "warn");
	c->backoff_ms = c->backoff_ms * 2 > SUP_BACKOFF_MAX ? SUP_BACKOFF_MAX : c->backoff_ms * 2;
}

static void sup_check_done(struct sup *s, int st);

/* Reap every child that exited; returns 1 while some child remains, 0 when none. */
static int sup_reap(struct sup *s)
{
	pid_t pid;
	int st, i;

	for (;;) {
		pid = waitpid(-1, &st, WNOHANG);
		if (pid < 0)
			return errno == ECHILD ? 0 : 1;
		if (pid == 0)
			return 1;
		if (pid == s->check_pid) {
			sup_check_done(s, st);
			continue;
		}
		for (i = 0; i < SUP_NCHILD; i++)
			if (s->c[i].pid == pid)
				break;
		if (i < SUP_NCHILD)
			sup_exited(s, &s->c[i], st);
	}
}

/* Forward HUP (logs) to both children, reopen our own log. */
static void sup_hangup(struct sup *s)
{
	char err[ERR_LEN];
	int i;

	if (runlog_reopen(err))
		runlog("error", "event=reopen error=\"%s\"", err);
	/* lighttpd 1.4: SIGHUP re-opens its log files (SIGUSR1 reloads) */
	for (i = 0; i < SUP_NCHILD; i++)
		if (s->c[i].pid)
			kill(s->c[i].pid, SIGHUP);
	runlog("info", "event=reopen");
}

/* Read pending signals: 1 if TERM or INT came (s->stop_signal set). */
static int sup_signals(struct sup *s, int wait_ms)
{
	struct signalfd_siginfo si;
	struct pollfd p = { .fd = s->sfd, .events = POLLIN };
	long long t0 = now_ms(), late;
	int r = poll(&p, 1, wait_ms);

	/* late by seconds: this process was not scheduled (SUP_FROZEN_MS) */
	if ((late = now_ms() - t0 - wait_ms) > SUP_FROZEN_MS) {
		s->lost_ms += late;
		runlog("info", "event=resumed lost_ms=%lld", late);
	}
	if (r != 1)
		return 0;
	while (read(s->sfd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
		if (si.ssi_signo == SIGTERM || si.ssi_signo == SIGINT) {
			if (!s->stop_signal)
				s->stop_signal = (int)si.ssi_signo;
		} else if (si.ssi_signo == SIGHUP) {
			sup_hangup(s);
		}
	}
	return s->stop_signal != 0;
}

/*
 * Stop both children and everything they left: SIGTERM to each group,
 * then SIGKILL to all after grace_ms. Returns when this process has no
 * child at all.
 */
static void sup_stop_all(struct sup *s, int grace_ms)
{
	long long t0 = sup_now(s), deadline = t0 + grace_ms;
	int i, killed = 0, orphans_termed = 0;

	s->stopping = 1;
	for (i = 0; i < SUP_NCHILD; i++) {
		s->c[i].restart_at = 0;
		if (s->c[i].pid)
			kill(s->c[i].pid, SIGTERM);
	}
	while (sup_reap(s)) {
		if (sup_now(s) >= deadline) {
			if (killed) {
				runlog("error", "event=stop_incomplete reason=\"children left "
				       "after SIGKILL\"");
				break;
			}
			for (i = 0; i < SUP_NCHILD; i++)
				if (s->c[i].pid) {
					runlog("warn", "event=kill child=%s pid=%ld signal=9",
					       s->c[i].name, (long)s->c[i].pid);
					kill(-s->c[i].pid, SIGKILL);
				}
			sup_kill_orphans(s, SIGKILL);
			if (s->check_pid)
				kill(s->check_pid, SIGKILL);
			killed = 1;
			deadline = sup_now(s) + 2000;
		} else if (!orphans_termed && !s->c[SUP_LIGHTTPD].pid && !s->c[SUP_RELAY].pid) {
			/* both gone, something of theirs is not: TERM, KILL at the deadline */
			sup_kill_orphans(s, SIGTERM);
			orphans_termed = 1;
		}
		sup_signals(s, 50);
	}
	s->stopping = 0;
	runlog("info", "event=stopped ms=%lld", sup_now(s) - t0);
}

/* Start both; the caller waits for their answers. 0, or -1 logged. */
static int sup_start_all(struct sup *s)
{
	char err[ERR_LEN];
	int i;

	for (i = 0; i < SUP_NCHILD; i++) {
		if (sup_spawn(s, &s->c[i], err)) {
			runlog("error", "event=start_failed child=%s reason=\"%s\"", s->c[i].name, err);
			return -1;
		}
	}
	s->starting = 1;
	s->start_deadline = sup_now(s) + s->cfg->start_ms;
	return 0;
}

static int sup_probe(struct sup *s, struct sup_child *c)
{
	if (c == &s->c[SUP_RELAY])
		return probe_tcp(s->cfg->relay_port);
	if (c == &s->c[SUP_HOOKS])
		return 1;	/* it serves nothing: running is ready */
	return probe_http(s->cfg->port, "/api/health");
}

/*
 * Wait for job (a dbwatch child) at most ms, reading signals meanwhile
 * (nothing else runs: the site is stopped or not started). Returns 0 with
 * *st its wait status; -1 when it was killed for its time or for a stop
 * signal (reaped either way).
 */
static int sup_wait_job(struct sup *s, pid_t job, int ms, int *st)
{
	long long deadline = sup_now(s) + ms;
	pid_t r;

	for (;;) {
		r = waitpid(job, st, WNOHANG);
		if (r == job)
			return 0;
		if (r < 0)
			return -1;
		if (s->stop_signal || sup_now(s) >= deadline) {
			kill(job, SIGKILL);
			waitpid(job, st, 0);
			return -1;
		}
		sup_signals(s, 50);
	}
}

/*
 * Recover the environment in a child bounded by SUP_RECOVER_MS: 0, or -1
 * logged (a full disk fails it: the caller tries again later).
 */
static int sup_recover_job(struct sup *s)
{
	char err[ERR_LEN];
	long long t0 = sup_now(s);
	pid_t job;
	int st;

	if ((job = dbwatch_recover_start(s->dbhome, s->cfg->var, err)) < 0) {
		runlog("error", "event=recover_failed reason=\"%s\"", err);
		return -1;
	}
	if (sup_wait_job(s, job, SUP_RECOVER_MS, &st)) {
		if (!s->stop_signal)
			runlog("error", "event=recover_failed reason=\"no end within %d ms: "
			       "killed\"", SUP_RECOVER_MS);
		return -1;
	}
	if (dbwatch_recover_result(st, err)) {
		runlog("error", "event=recover_failed reason=\"%s\"", err);
		return -1;
	}
	runlog("info", "event=recover step=done ms=%lld", sup_now(s) - t0);
	return 0;
}

/*
 * A process died inside Berkeley DB (DB_RUNRECOVERY) or failchk stalled:
 * the others may wait on its mutex for ever. Stop them all, recover,
 * start over. A recovery that fails leaves the site stopped and is tried
 * again every SUP_RECOVER_RETRY_MS (recover_at), with no one involved.
 */
static void sup_recover(struct sup *s)
{
	if (s->c[SUP_RELAY].pid || s->c[SUP_LIGHTTPD].pid) {
		runlog("error", "event=recover step=stop");
		sup_stop_all(s, 2000);	/* a stalled process ignores TERM: KILL soon */
	}
	if (s->stop_signal)
		return;
	if (sup_recover_job(s)) {
		s->recover_at = sup_now(s) + SUP_RECOVER_RETRY_MS;
		return;
	}
	s->recover_at = 0;
	if (sup_start_all(s))
		s->fatal = 1;
}

/* The failchk child ended (reaped): what it found, what follows. */
static void sup_check_done(struct sup *s, int st)
{
	char err[ERR_LEN];
	int r, killed = s->check_killed;

	s->check_pid = 0;
	s->check_killed = 0;
	if (s->stopping)
		return;
	r = dbwatch_check_result(st, err);
	if (killed)
		runlog("error", "event=failchk result=stalled reason=\"no answer within %d ms\"",
		       SUP_CHECK_MS);
	else if (r < 0)
		runlog("warn", "event=failchk error=\"%s\"", err);
	else if (r > 0)
		runlog("error", "event=failchk result=runrecovery");
	if (killed || r > 0)
		sup_recover(s);
}

/* Start a failchk (dbwatch_check_start) unless one runs; it is reaped by sup_reap. */
static void sup_failchk(struct sup *s)
{
	char err[ERR_LEN];
	pid_t pid;

	if (s->check_pid)
		return;
	if ((pid = dbwatch_check_start(s->dbhome, err)) < 0) {
		runlog("warn", "event=failchk error=\"%s\"", err);
		return;
	}
	s->check_pid = pid;
	s->check_deadline = sup_now(s) + SUP_CHECK_MS;
}

/* One pass of the loop after signals and reaping: restarts, answers, failchk. */
static void sup_tick(struct sup *s)
{
	char err[ERR_LEN];
	long long now = sup_now(s);
	struct sup_child *c;
	int i, ready = 0;

	for (i = 0; i < SUP_NCHILD; i++) {
		c = &s->c[i];
		if (!c->pid && c->restart_at && now >= c->restart_at &&
		    sup_spawn(s, c, err)) {
			runlog("error", "event=restart_failed child=%s reason=\"%s\"", c->name, err);
			c->restart_at = now + c->backoff_ms;
		}
		if (c->pid && !c->ready && sup_probe(s, c)) {
			c->ready = 1;
			c->ready_at = sup_now(s);
			if (c->down_since)
				runlog("info", "event=ready child=%s pid=%ld down_ms=%lld",
				       c->name, (long)c->pid, sup_now(s) - c->down_since);
			else
				runlog("info", "event=ready child=%s pid=%ld start_ms=%lld",
				       c->name, (long)c->pid, sup_now(s) - c->started);
			c->down_since = 0;
		}
		ready += c->ready || i == SUP_HOOKS;	/* the site runs without it */
	}
	if (s->starting && ready == SUP_NCHILD) {
		s->starting = 0;
		runlog("info", "event=running url=http://127.0.0.1:%d/ pid=%ld",
		       s->cfg->port, (long)getpid());
		if (!s->announced)
			printf("bookpics is running on http://127.0.0.1:%d/ (data in %s; "
			       "Ctrl-C stops it)\n", s->cfg->port, s->cfg->var);
		fflush(stdout);
		s->announced = 1;
	} else if (s->starting && sup_now(s) > s->start_deadline) {
		for (i = 0; i < SUP_NCHILD; i++)
			if (!s->c[i].ready && i != SUP_HOOKS) {
				runlog("error", "event=start_failed child=%s reason=\"no answer "
				       "within %d ms\"", s->c[i].name, s->cfg->start_ms);
				sup_log_tail(&s->c[i], "error");
			}
		s->fatal = 1;
	}
	if (s->check_pid && !s->check_killed && now >= s->check_deadline) {
		kill(s->check_pid, SIGKILL);	/* reaped by sup_reap: sup_check_done recovers */
		s->check_killed = 1;
	}
	if (s->recover_at && now >= s->recover_at)
		sup_recover(s);
	if (!s->starting && !s->recover_at && now >= s->next_failchk) {
		s->next_failchk = now + s->cfg->failchk_ms;
		sup_failchk(s);
	}
}

/* Block the signals we read from a signalfd. -1 with err on failure. */
static int sup_signal_setup(struct sup *s, char *err)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGCHLD);
	if (sigprocmask(SIG_BLOCK, &set, NULL))
		return err_set(err, "sigprocmask: %s", strerror(errno));
	if ((s->sfd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC)) < 0)
		return err_set(err, "signalfd: %s", strerror(errno));
	signal(SIGPIPE, SIG_IGN);
	return 0;
}

static void sup_child_init(struct sup *s, int i, const char *name, int port)
{
	struct sup_child *c = &s->c[i];

	c->name = name;
	snprintf(c->log, sizeof(c->log), "%s/log/%s.log", s->cfg->var, name);
	snprintf(c->pidfile, sizeof(c->pidfile), "%s/run/%s.pid", s->cfg->var, name);
	snprintf(c->port_arg, sizeof(c->port_arg), "%d", port);
	c->backoff_ms = SUP_BACKOFF_MIN;
}

/*
 * Check the store before anything starts (a failchk child, bounded); run
 * recovery first if it says so or stalls. 0, or -1 logged.
 */
static int sup_db_open(struct sup *s)
{
	char err[ERR_LEN] = "";
	pid_t job;
	int st, r;

	if ((job = dbwatch_check_start(s->dbhome, err)) < 0) {
		runlog("error", "event=start_failed child=store reason=\"%s\"", err);
		return -1;
	}
	if (sup_wait_job(s, job, SUP_CHECK_MS, &st)) {
		if (s->stop_signal)
			return -1;
		r = 1;
		err_set(err, "failchk: no answer within %d ms", SUP_CHECK_MS);
	} else if ((r = dbwatch_check_result(st, err)) < 0) {
		runlog("error", "event=start_failed child=store reason=\"%s\"", err);
		return -1;
	}
	if (r == 0)
		return 0;
	runlog("warn", "event=recover reason=\"%s\"", r > 0 && !*err ? "DB_RUNRECOVERY" : err);
	if (sup_recover_job(s)) {
		runlog("error", "event=start_failed child=store reason=\"recovery failed\"");
		return -1;
	}
	return 0;
}

int sup_run(const struct sup_config *cfg)
{
	static struct sup sup;	/* PATH_MAX buffers: not on the stack */
	struct sup *s = &sup;
	char err[ERR_LEN];
	int ret = 1;

	memset(s, 0, sizeof(*s));
	s->cfg = cfg;
	s->sfd = -1;
	snprintf(s->dbhome, sizeof(s->dbhome), "%s/db", cfg->var);
	sup_child_init(s, SUP_RELAY, "relay", cfg->relay_port);
	sup_child_init(s, SUP_LIGHTTPD, "lighttpd", cfg->port);
	sup_child_init(s, SUP_HOOKS, "hooks", 0);
	if (prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) || sup_signal_setup(s, err)) {
		if (!*err)
			err_set(err, "prctl PR_SET_CHILD_SUBREAPER: %s", strerror(errno));
		runlog("error", "event=start_failed reason=\"%s\"", err);
		goto out;
	}
	if (probe_port_free(cfg->relay_port, err)) {
		runlog("error", "event=start_failed child=relay reason=\"%s\"", err);
		goto out;
	}
	if (probe_port_free(cfg->port, err)) {
		runlog("error", "event=start_failed child=lighttpd reason=\"%s\"", err);
		goto out;
	}
	if (sup_db_open(s))
		goto out;
	s->next_failchk = sup_now(s) + cfg->failchk_ms;
	if (sup_start_all(s))
		s->fatal = 1;
	while (!s->fatal) {
		if (sup_signals(s, SUP_TICK_MS))
			break;
		sup_reap(s);
		if (s->fatal)
			break;
		sup_tick(s);
	}
	if (s->stop_signal)
		runlog("info", "event=stop signal=%d", s->stop_signal);
	sup_stop_all(s, SUP_STOP_MS);
	ret = s->fatal && !s->stop_signal ? 1 : 0;
out:
	if (s->sfd >= 0)
		close(s->sfd);
	return ret;
}
