/*
 * wsload.c - WebSocket fan-out load client: N raw-socket clients, M published
 * messages, one machine-readable summary line.
 *
 *   wsload --ws ws://127.0.0.1:PORT/ws [--ws URL]... --clients N --msgs M
 *          --pub-kind twilio|nchan|api --pub URL [--auth SECRET]
 *          [--hello] [--subscribe TEXT] [--tokens FILE]
 *          [--server PID]... [--label TEXT] [--mode fanout|catchup] ...
 *
 * With several --ws (the sites of a group), client i connects to the
 * (i mod count)th URL: one summary over every site's clients.
 *
 * The clients are a minimal RFC 6455 client on non-blocking sockets and one
 * epoll per thread (1 or 2 threads): a random Sec-WebSocket-Key checked
 * against Sec-WebSocket-Accept, masked client frames, unmasked server
 * frames, pongs for pings. No library, no per-message allocation, so the
 * client stays cheap at 10,000 connections and never limits the server.
 *
 * Each published message carries "bp.SEQ.NS" (NS: CLOCK_REALTIME at the
 * moment of publishing) as its body; a client finds that tag in any text
 * frame (bookpics' JSON chatMessage or nchan's raw body), so one parser
 * measures both systems. Per round it reports receipts, missing (of
 * clients x msgs), duplicates and out-of-order receipts, publish-to-receipt
 * latency, server CPU time per delivered message (utime+stime of every
 * process under the --server pids, from /proc) and the server's resident
 * memory per idle connection (VmRSS with the clients connected minus before).
 *
 * --mode catchup: connect every client (--tokens: chat members), close them
 * all, publish M messages, reconnect all at once, and time until each client
 * has its M; the latency fields are then per-client completion times.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <openssl/evp.h>
#include <openssl/sha.h>

#include "err.h"
#include "form.h"
#include "twsig.h"

#define MAX_THREADS 2
#define READ_BUF (256 * 1024)
#define MAX_FRAME (16 * 1024 * 1024)
#define MAX_INFLIGHT 512	/* handshakes under way at once, per thread */
#define MAX_TRIES 5		/* connection attempts per client and phase */
#define ERRORS_SHOWN 5
#define MAX_SERVERS 16
#define MAX_URLS 8		/* --ws repeated: the sites of a group */

enum mode { MODE_FANOUT, MODE_CATCHUP };
enum pub_kind { PUB_TWILIO, PUB_NCHAN, PUB_API };
enum cstate { C_IDLE, C_CONNECTING, C_HANDSHAKE, C_OPEN, C_RETRY, C_FAILED, C_CLOSED };
enum cmd { CMD_NONE, CMD_CONNECT, CMD_CLOSE, CMD_QUIT };

/* Options, read once in main and then shared read-only. */
static struct {
	enum mode mode;
	enum pub_kind pub_kind;
	const char *label;
	struct {
		char host[64];
		int port;
		char path[2048];	/* path and query of the WebSocket URL */
	} url[MAX_URLS];	/* client i connects to url[i % nurls] */
	int nurls;
	const char *pub_url;
	const char *sign_url;	/* Twilio: the URL the signature covers */
	const char *auth;	/* Twilio auth token, or Bearer token (api) */
	const char *subscribe;	/* sent after the first server frame */
	int hello;		/* ready at the first frame, not at 101 */
	char **tokens;		/* per client, appended as token= */
	long clients, msgs, rounds;
	double rate;		/* connections per second; 0 = all at once */
	double reconnect_rate;	/* catchup: of the reconnection storm */
	long interval_ms;	/* between publishes */
	int threads;
	double quiet_s;		/* a round ends this long after the last receipt */
	double timeout_s;	/* hard limit per phase */
	double settle_s;
	double gap_s;		/* catchup: between closing and publishing */
	pid_t servers[MAX_SERVERS];
	int nservers;
	int verbose;
} opt = {
	.label = "wsload",
	.clients = 10, .msgs = 5, .rounds = 1, .rate = 2000, .interval_ms = 100,
	.threads = 1, .quiet_s = 5, .timeout_s = 60, .settle_s = 1, .gap_s = 2,
};

struct client {
	int fd;
	int id;
	unsigned char state;
	unsigned char ready;	/* counted in the worker's ready */
	unsigned char tries;
	unsigned char want_out;	/* EPOLLOUT registered */
	char accept[29];	/* expected Sec-WebSocket-Accept */
	unsigned char *in;	/* bytes of an incomplete frame or header */
	size_t in_len, in_cap;
	unsigned char *frag;	/* a fragmented message being assembled */
	size_t frag_len;
	unsigned char *out;	/* bytes the socket did not take yet */
	size_t out_len;
	uint64_t *seen;		/* bitmap of sequence numbers received */
	int64_t max_seq;
	long got;		/* tagged receipts in this connect phase */
	int64_t retry_at;
};

struct worker {
	pthread_t th;
	int index;
	int ep;
	struct client **mine;
	size_t nmine;
	size_t started;		/* clients started in this connect phase */
	size_t inflight;
	int64_t t_connect;
	double rate;		/* of this connect phase, per thread */
	atomic_uint seen_cmd;
	uint64_t rng;
	atomic_long ready, failed, dropped, retries;
	atomic_long receipts, dups, ooo, other, errors, stray;
	uint32_t *lat;		/* microseconds; fanout: per receipt, catchup: per client */
	size_t lat_cap;
	atomic_size_t nlat;
	unsigned char buf[READ_BUF];
};

static struct client *clients;
static struct worker workers[MAX_THREADS];
static atomic_uint cmd_seq;
static atomic_int cmd_kind;
static atomic_llong catchup_t0;	/* ns, CLOCK_REALTIME */
static atomic_int errors_shown;
static _Atomic double cur_rate;	/* connections per second now; 0 = at once */
static long total_msgs;		/* rounds * msgs: bitmap size */

static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

static void die(const char *fmt, ...)
{
	va_list ap;

	fputs("wsload: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

static int64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static double secs_since(int64_t t0)
{
	return (double)(now_ns() - t0) / 1e9;
}

static void sleep_s(double s)
{
	struct timespec ts;

	if (s <= 0)
		return;
	ts.tv_sec = (time_t)s;
	ts.tv_nsec = (long)((s - (double)ts.tv_sec) * 1e9);
	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

static uint64_t xorshift(uint64_t *s)
{
	uint64_t x = *s;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	return *s = x;
}

/* ---- the server's processes: CPU time and resident memory from /proc ---- */

struct proc_sample {
	long long cpu_us;	/* utime + stime of every process */
	long long rss_kb;	/* sum of VmRSS */
	int n;
};

/* ppid and utime+stime (ticks) of pid from /proc/PID/stat: 0 or -1. */
static int proc_stat(pid_t pid, pid_t *ppid, long long *ticks, char *comm, size_t commlen)
{
	char path[64], buf[1024], *p, *q;
	unsigned long long ut = 0, st = 0;
	long long pp = 0;
	ssize_t n;
	int fd, field;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	p = strchr(buf, '(');
	q = strrchr(buf, ')');	/* the name may hold spaces and parentheses */
	if (!p || !q || q < p)
		return -1;
	if (comm) {
		snprintf(comm, commlen, "%.*s", (int)(q - p - 1), p + 1);
	}
	/* after ")": field 3 state, 4 ppid, ..., 14 utime, 15 stime */
	p = q + 2;
	for (field = 3; field <= 15 && *p; field++) {
		if (field == 4)
			pp = strtoll(p, NULL, 10);
		else if (field == 14)
			ut = strtoull(p, NULL, 10);
		else if (field == 15)
			st = strtoull(p, NULL, 10);
		p = strchr(p, ' ');
		if (!p)
			break;
		p++;
	}
	*ppid = (pid_t)pp;
	*ticks = (long long)(ut + st);
	return 0;
}

static long long proc_rss_kb(pid_t pid)
{
	char path[64], line[256];
	long long kb = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	f = fopen(path, "r");
	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, "VmRSS:", 6)) {
			kb = strtoll(line + 6, NULL, 10);
			break;
		}
	fclose(f);
	return kb;
}

/*
 * Sum CPU and RSS over the --server pids and all their descendants (so the
 * FastCGI children lighttpd spawns and nginx's workers count too). With
 * show, print one comment line per process to stderr.
 */
static struct proc_sample sample_servers(int show, const char *when)
{
	struct proc_sample s = { 0, 0, 0 };
	static pid_t *pids, *ppids;
	static size_t cap;
	pid_t set[1024];
	size_t n = 0, i, nset = 0, k;
	long tick = sysconf(_SC_CLK_TCK);
	struct dirent *de;
	long long ticks;
	char comm[64];
	DIR *d;
	int added;

	if (!opt.nservers)
		return s;
	d = opendir("/proc");
	if (!d)
		return s;
	while ((de = readdir(d))) {
		pid_t pid, pp;

		if (!isdigit((unsigned char)de->d_name[0]))
			continue;
		pid = (pid_t)atoi(de->d_name);
		if (proc_stat(pid, &pp, &ticks, NULL, 0))
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 1024;
			pids = realloc(pids, cap * sizeof(*pids));
			ppids = realloc(ppids, cap * sizeof(*ppids));
			if (!pids || !ppids)
				die("out of memory");
		}
		pids[n] = pid;
		ppids[n] = pp;
		n++;
	}
	closedir(d);
	for (i = 0; i < (size_t)opt.nservers; i++)
		set[nset++] = opt.servers[i];
	do {	/* descendants: repeat until nothing new */
		added = 0;
		for (i = 0; i < n; i++) {
			int in = 0, parent_in = 0;

			for (k = 0; k < nset; k++) {
				if (set[k] == pids[i])
					in = 1;
				if (set[k] == ppids[i])
					parent_in = 1;
			}
			if (!in && parent_in && nset < sizeof(set) / sizeof(set[0])) {
				set[nset++] = pids[i];
				added = 1;
			}
		}
	} while (added);
	for (k = 0; k < nset; k++) {
		pid_t pp;
		long long rss;

		if (proc_stat(set[k], &pp, &ticks, comm, sizeof(comm)))
			continue;
		rss = proc_rss_kb(set[k]);
		s.cpu_us += ticks * 1000000 / tick;
		s.rss_kb += rss;
		s.n++;
		if (show)
			fprintf(stderr, "# %s: pid %d %-16s cpu %.2f s rss %lld kB\n", when,
				(int)set[k], comm, (double)ticks / (double)tick, rss);
	}
	return s;
}

static double client_cpu_s(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
	       (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

/* ---- one client connection ---- */

static void set_events(struct worker *w, struct client *c, int want_out)
{
	struct epoll_event ev = { .events = EPOLLIN | (want_out ? EPOLLOUT : 0),
				  .data.ptr = c };

	if (c->want_out == want_out)
		return;
	c->want_out = (unsigned char)want_out;
	epoll_ctl(w->ep, EPOLL_CTL_MOD, c->fd, &ev);
}

/* Send what is pending, then buf (either may be empty). 0, or -1 broken. */
static int send_bytes(struct worker *w, struct client *c, const void *buf, size_t len)
{
	ssize_t n;
	unsigned char *p;

	if (c->out_len) {
		p = realloc(c->out, c->out_len + len);
		if (!p)
			die("out of memory");
		c->out = p;
		if (len)
			memcpy(c->out + c->out_len, buf, len);
		c->out_len += len;
		buf = c->out;
		len = c->out_len;
	}
	n = len ? send(c->fd, buf, len, MSG_NOSIGNAL) : 0;
	if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK)
		return -1;
	if (n < 0)
		n = 0;
	if ((size_t)n < len) {
		if (buf != c->out) {
			p = malloc(len - (size_t)n);
			if (!p)
				die("out of memory");
			memcpy(p, (const unsigned char *)buf + n, len - (size_t)n);
			free(c->out);
			c->out = p;
		} else {
			memmove(c->out, c->out + n, len - (size_t)n);
		}
		c->out_len = len - (size_t)n;
		set_events(w, c, 1);
	} else {
		c->out_len = 0;
		if (c->state != C_CONNECTING)
			set_events(w, c, 0);
	}
	return 0;
}

/* A masked client frame (RFC 6455 5.3): opcode, payload. */
static int send_frame(struct worker *w, struct client *c, int opcode,
		      const void *payload, size_t len)
{
	unsigned char small[256], *f = small;
	const unsigned char *pl = payload;
	size_t h = 2, i;
	uint64_t r = xorshift(&w->rng);
	unsigned char mask[4] = { (unsigned char)r, (unsigned char)(r >> 8),
				  (unsigned char)(r >> 16), (unsigned char)(r >> 24) };
	int ret;

	if (len + 14 > sizeof(small)) {
		f = malloc(len + 14);
		if (!f)
			die("out of memory");
	}
	f[0] = (unsigned char)(0x80 | opcode);
	if (len < 126) {
		f[1] = (unsigned char)(0x80 | len);
	} else if (len < 65536) {
		f[1] = 0x80 | 126;
		f[2] = (unsigned char)(len >> 8);
		f[3] = (unsigned char)len;
		h = 4;
	} else {
		f[1] = 0x80 | 127;
		for (i = 0; i < 8; i++)
			f[2 + i] = (unsigned char)((uint64_t)len >> (56 - 8 * i));
		h = 10;
	}
	memcpy(f + h, mask, 4);
	for (i = 0; i < len; i++)
		f[h + 4 + i] = pl[i] ^ mask[i & 3];
	ret = send_bytes(w, c, f, h + 4 + len);
	if (f != small)
		free(f);
	return ret;
}

static void show_error(struct client *c, const char *what, const void *text, size_t len)
{
	if (atomic_fetch_add(&errors_shown, 1) < ERRORS_SHOWN)
		fprintf(stderr, "# client %d: %s: %.*s\n", c->id, what,
			(int)(len > 300 ? 300 : len), (const char *)text);
}

/* Forget the socket; retry while connecting, else count the loss. */
static void client_drop(struct worker *w, struct client *c, const char *why)
{
	int was_ready = c->ready, connecting = c->state == C_CONNECTING ||
		c->state == C_HANDSHAKE || (c->state == C_OPEN && !c->ready);

	if (c->fd >= 0) {
		epoll_ctl(w->ep, EPOLL_CTL_DEL, c->fd, NULL);
		close(c->fd);
		c->fd = -1;
	}
	if (c->state == C_CONNECTING || c->state == C_HANDSHAKE)
		w->inflight--;
	free(c->in);
	free(c->frag);
	free(c->out);
	c->in = c->frag = c->out = NULL;
	c->in_len = c->in_cap = c->frag_len = c->out_len = 0;
	c->want_out = 0;
	if (was_ready) {
		c->ready = 0;
		atomic_fetch_sub(&w->ready, 1);
	}
	if (connecting && c->tries < MAX_TRIES) {
		c->state = C_RETRY;
		c->retry_at = now_ns() + (int64_t)c->tries * 200000000;
		atomic_fetch_add(&w->retries, 1);
		if (opt.verbose)
			fprintf(stderr, "# client %d: %s (retrying)\n", c->id, why);
		return;
	}
	if (connecting) {
		atomic_fetch_add(&w->failed, 1);
		show_error(c, "gave up", why, strlen(why));
	} else if (was_ready) {
		atomic_fetch_add(&w->dropped, 1);
		show_error(c, "dropped", why, strlen(why));
	}
	c->state = C_FAILED;
}

static void client_start(struct worker *w, struct client *c)
{
	const int u = c->id % opt.nurls;
	struct sockaddr_in sa = { .sin_family = AF_INET,
				  .sin_port = htons((uint16_t)opt.url[u].port) };
	struct epoll_event ev = { .events = EPOLLIN | EPOLLOUT, .data.ptr = c };
	int one = 1;

	c->tries++;
	c->state = C_CONNECTING;
	c->want_out = 1;
	w->inflight++;
	inet_pton(AF_INET, opt.url[u].host, &sa.sin_addr);
	c->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (c->fd < 0) {
		if (errno == EMFILE || errno == ENFILE)
			die("socket: %s (raise the open-files limit: ulimit -n)", strerror(errno));
		client_drop(w, c, strerror(errno));
		return;
	}
	setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (connect(c->fd, (struct sockaddr *)&sa, sizeof(sa)) && errno != EINPROGRESS) {
		client_drop(w, c, strerror(errno));
		return;
	}
	if (epoll_ctl(w->ep, EPOLL_CTL_ADD, c->fd, &ev))
		die("epoll_ctl: %s", strerror(errno));
}

/* Connected: send the upgrade request with a fresh random key. */
static void client_handshake(struct worker *w, struct client *c)
{
	unsigned char key[16], sha[SHA_DIGEST_LENGTH];
	char key64[25], cat[64], req[4096];
	static const char guid[] = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
	int err = 0, n;
	socklen_t el = sizeof(err);
	const int u = c->id % opt.nurls;

	if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &el) || err) {
		client_drop(w, c, strerror(err ? err : errno));
		return;
	}
	if (getrandom(key, sizeof(key), 0) != (ssize_t)sizeof(key))
		die("getrandom: %s", strerror(errno));
	EVP_EncodeBlock((unsigned char *)key64, key, sizeof(key));
	snprintf(cat, sizeof(cat), "%s%s", key64, guid);
	SHA1((const unsigned char *)cat, strlen(cat), sha);
	EVP_EncodeBlock((unsigned char *)c->accept, sha, sizeof(sha));
	n = snprintf(req, sizeof(req),
		     "GET %s%s%s HTTP/1.1\r\nHost: %s:%d\r\nUpgrade: websocket\r\n"
		     "Connection: Upgrade\r\nSec-WebSocket-Key: %s\r\n"
		     "Sec-WebSocket-Version: 13\r\n\r\n",
		     opt.url[u].path,
		     opt.tokens ? (strchr(opt.url[u].path, '?') ? "&token=" : "?token=") : "",
		     opt.tokens ? opt.tokens[c->id] : "", opt.url[u].host, opt.url[u].port, key64);
	if (n <= 0 || (size_t)n >= sizeof(req))
		die("request too long");
	c->state = C_HANDSHAKE;
	c->want_out = 1;
	if (send_bytes(w, c, req, (size_t)n))
		client_drop(w, c, "send failed");
}

static void mark_ready(struct worker *w, struct client *c)
{
	if (c->ready)
		return;
	c->ready = 1;
	atomic_fetch_add(&w->ready, 1);
}

/* "bp.SEQ.NS" anywhere in a text message: 1 with seq and ns, else 0. */
static int find_tag(const unsigned char *p, size_t len, int64_t *seq, int64_t *ns)
{
	const unsigned char *t = memmem(p, len, "bp.", 3), *end = p + len;
	int64_t a = 0, b = 0;

	if (!t)
		return 0;
	t += 3;
	if (t >= end || !isdigit(*t))
		return 0;
	while (t < end && isdigit(*t))
		a = a * 10 + (*t++ - '0');
	if (t >= end || *t != '.')
		return 0;
	t++;
	if (t >= end || !isdigit(*t))
		return 0;
	while (t < end && isdigit(*t))
		b = b * 10 + (*t++ - '0');
	*seq = a;
	*ns = b;
	return 1;
}

static void on_message(struct worker *w, struct client *c, const unsigned char *p, size_t len)
{
	int64_t seq, ns, now;
	size_t k;

	if (!c->ready) {
		/* bookpics: the first frame is hello; then ask for the room */
		mark_ready(w, c);
		atomic_fetch_add(&w->other, 1);
		if (opt.subscribe && send_frame(w, c, 0x1, opt.subscribe, strlen(opt.subscribe)))
			client_drop(w, c, "send failed");
		return;
	}
	if (!find_tag(p, len, &seq, &ns)) {
		if (memmem(p, len, "\"type\":\"error\"", 14)) {
			atomic_fetch_add(&w->errors, 1);
			show_error(c, "error frame", p, len);
		} else {
			atomic_fetch_add(&w->other, 1);
		}
		return;
	}
	if (seq < 0 || seq >= total_msgs) {
		atomic_fetch_add(&w->stray, 1);
		return;
	}
	if (c->seen[seq / 64] & (UINT64_C(1) << (seq % 64))) {
		atomic_fetch_add(&w->dups, 1);
		return;
	}
	c->seen[seq / 64] |= UINT64_C(1) << (seq % 64);
	if (seq < c->max_seq)
		atomic_fetch_add(&w->ooo, 1);
	else
		c->max_seq = seq;
	c->got++;
	now = now_ns();
	if (opt.mode == MODE_FANOUT) {
		k = atomic_load_explicit(&w->nlat, memory_order_relaxed);
		if (k < w->lat_cap) {
			w->lat[k] = (uint32_t)((now - ns) / 1000 > 0 ? (now - ns) / 1000 : 0);
			atomic_store_explicit(&w->nlat, k + 1, memory_order_release);
		}
	} else if (c->got == opt.msgs) {
		k = atomic_load_explicit(&w->nlat, memory_order_relaxed);
		if (k < w->lat_cap) {
			w->lat[k] = (uint32_t)((now - atomic_load(&catchup_t0)) / 1000);
			atomic_store_explicit(&w->nlat, k + 1, memory_order_release);
		}
	}
	/* counted last: main reads receipts, then the latencies */
	atomic_fetch_add_explicit(&w->receipts, 1, memory_order_release);
}

/* One complete frame. Returns 0, or -1 when the connection is done. */
static int on_frame(struct worker *w, struct client *c, int fin, int opcode,
		    const unsigned char *p, size_t len)
{
	unsigned char *q;

	switch (opcode) {
	case 0x0:	/* continuation */
		if (!c->frag)
			return client_drop(w, c, "continuation without a start"), -1;
		q = realloc(c->frag, c->frag_len + len + 1);
		if (!q)
			die("out of memory");
		c->frag = q;
		memcpy(c->frag + c->frag_len, p, len);
		c->frag_len += len;
		if (fin) {
			on_message(w, c, c->frag, c->frag_len);
			free(c->frag);
			c->frag = NULL;
			c->frag_len = 0;
		}
		return c->fd < 0 ? -1 : 0;
	case 0x1:
	case 0x2:
		if (!fin) {
			free(c->frag);
			c->frag = malloc(len + 1);
			if (!c->frag)
				die("out of memory");
			memcpy(c->frag, p, len);
			c->frag_len = len;
			return 0;
		}
		on_message(w, c, p, len);
		return c->fd < 0 ? -1 : 0;
	case 0x8:	/* close: echo the code, then hang up */
		show_error(c, "close frame from the server", len > 2 ? p + 2 : p, len > 2 ? len - 2 : 0);
		send_frame(w, c, 0x8, p, len >= 2 ? 2 : 0);
		client_drop(w, c, "closed by the server");
		return -1;
	case 0x9:	/* ping */
		if (send_frame(w, c, 0xA, p, len))
			return client_drop(w, c, "send failed"), -1;
		return 0;
	case 0xA:
		return 0;
	default:
		client_drop(w, c, "unknown opcode");
		return -1;
	}
}

/* Keep the len bytes at p (an incomplete frame or header) for the next read. */
static void keep(struct client *c, const unsigned char *p, size_t len)
{
	unsigned char *q;

	if (!len) {
		c->in_len = 0;
		if (c->in_cap > 65536) {	/* a big frame passed: give it back */
			free(c->in);
			c->in = NULL;
			c->in_cap = 0;
		}
		return;
	}
	if (c->in && p >= c->in && p < c->in + c->in_cap) {
		memmove(c->in, p, len);
	} else {
		if (c->in_cap < len) {
			q = realloc(c->in, len + 4096);
			if (!q)
				die("out of memory");
			c->in = q;
			c->in_cap = len + 4096;
		}
		memcpy(c->in, p, len);
	}
	c->in_len = len;
}

/* Parse frames from p; keep an incomplete tail in c->in. -1: dropped. */
static int parse_frames(struct worker *w, struct client *c, unsigned char *p, size_t len)
{
	size_t h, i;
	uint64_t plen;
	unsigned char *pl;
	int masked;

	while (len >= 2) {
		masked = p[1] & 0x80;
		plen = p[1] & 0x7f;
		h = 2;
		if (plen == 126) {
			if (len < 4)
				break;
			plen = (uint64_t)p[2] << 8 | p[3];
			h = 4;
		} else if (plen == 127) {
			if (len < 10)
				break;
			plen = 0;
			for (i = 0; i < 8; i++)
				plen = plen << 8 | p[2 + i];
			h = 10;
		}
		if (plen > MAX_FRAME)
			return client_drop(w, c, "frame too large"), -1;
		if (masked)
			h += 4;
		if (len < h + plen)
			break;
		pl = p + h;
		if (masked)	/* servers must not mask; unmask anyway */
			for (i = 0; i < plen; i++)
				pl[i] ^= p[h - 4 + (i & 3)];
		if (on_frame(w, c, p[0] & 0x80, p[0] & 0x0f, pl, (size_t)plen))
			return -1;
		p += h + plen;
		len -= h + (size_t)plen;
	}
	keep(c, p, len);
	return 0;
}

/* The upgrade answer: 101 and the right accept key, or the client is dropped. */
static int parse_handshake(struct worker *w, struct client *c, unsigned char **pp, size_t *len)
{
	unsigned char *p = *pp, *end;
	const char *a;
	size_t hl;

	end = memmem(p, *len, "\r\n\r\n", 4);
	if (!end) {
		if (*len > 16384)
			return client_drop(w, c, "handshake answer too long"), -1;
		return 1;	/* need more */
	}
	hl = (size_t)(end - p) + 4;
	p[hl - 1] = '\0';	/* the last '\n': we are past it */
	if (strncmp((char *)p, "HTTP/1.1 101", 12)) {
		char line[128];

		snprintf(line, sizeof(line), "%.*s", (int)strcspn((char *)p, "\r\n"), (char *)p);
		client_drop(w, c, line);
		return -1;
	}
	a = strcasestr((char *)p, "\r\nSec-WebSocket-Accept:");
	if (!a)
		return client_drop(w, c, "no Sec-WebSocket-Accept"), -1;
	a += 23;
	while (*a == ' ')
		a++;
	if (strncmp(a, c->accept, 28))
		return client_drop(w, c, "wrong Sec-WebSocket-Accept"), -1;
	c->state = C_OPEN;
	w->inflight--;
	if (!opt.hello)
		mark_ready(w, c);
	*pp = p + hl;
	*len -= hl;
	return 0;
}

static void client_readable(struct worker *w, struct client *c)
{
	unsigned char *p;
	size_t len;
	ssize_t n;
	int r;

	if (c->in_len) {
		/* an incomplete frame waits: read behind it */
		if (c->in_cap - c->in_len < 65536) {
			p = realloc(c->in, c->in_len + 65536);
			if (!p)
				die("out of memory");
			c->in = p;
			c->in_cap = c->in_len + 65536;
		}
		n = recv(c->fd, c->in + c->in_len, c->in_cap - c->in_len, 0);
		p = c->in;
		len = c->in_len + (size_t)(n > 0 ? n : 0);
	} else {
		n = recv(c->fd, w->buf, sizeof(w->buf), 0);
		p = w->buf;
		len = (size_t)(n > 0 ? n : 0);
	}
	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
		return;
	if (n <= 0) {
		client_drop(w, c, n ? strerror(errno) : "connection closed");
		return;
	}
	if (c->state == C_HANDSHAKE) {
		r = parse_handshake(w, c, &p, &len);
		if (r < 0)
			return;
		if (r > 0) {
			keep(c, p, len);
			return;
		}
	}
	parse_frames(w, c, p, len);
}

/* ---- the worker threads ---- */

static void worker_close_all(struct worker *w)
{
	size_t i;

	for (i = 0; i < w->nmine; i++) {
		struct client *c = w->mine[i];

		if (c->fd >= 0) {
			if (c->state == C_OPEN)
				send_frame(w, c, 0x8, "\x03\xe8", 2);	/* 1000 */
			epoll_ctl(w->ep, EPOLL_CTL_DEL, c->fd, NULL);
			close(c->fd);
			c->fd = -1;
		}
		if (c->state == C_CONNECTING || c->state == C_HANDSHAKE)
			w->inflight--;
		free(c->in);
		free(c->frag);
		free(c->out);
		c->in = c->frag = c->out = NULL;
		c->in_len = c->in_cap = c->frag_len = c->out_len = 0;
		c->ready = 0;
		c->state = C_CLOSED;
	}
	atomic_store(&w->ready, 0);
}

static void *worker_run(void *arg)
{
	struct worker *w = arg;
	struct epoll_event evs[256];
	int connecting = 0, n, i, timeout;
	size_t k, due;
	int64_t now;

	for (;;) {
		unsigned seq = atomic_load(&cmd_seq);

		if (seq != w->seen_cmd) {
			int kind = atomic_load(&cmd_kind);

			if (kind == CMD_QUIT) {
				worker_close_all(w);
				w->seen_cmd = seq;
				return NULL;
			}
			if (kind == CMD_CLOSE) {
				worker_close_all(w);
				connecting = 0;
			} else if (kind == CMD_CONNECT) {
				for (k = 0; k < w->nmine; k++) {
					w->mine[k]->tries = 0;
					w->mine[k]->got = 0;
					if (w->mine[k]->state != C_OPEN)
						w->mine[k]->state = C_IDLE;
				}
				atomic_store(&w->failed, 0);
				w->started = 0;
				w->t_connect = now_ns();
				w->rate = atomic_load(&cur_rate) / opt.threads;
				connecting = 1;
			}
			w->seen_cmd = seq;
		}
		timeout = 20;
		if (connecting) {
			now = now_ns();
			due = w->rate > 0 ?
				(size_t)(w->rate * (double)(now - w->t_connect) / 1e9) + 1 :
				w->nmine;
			if (due > w->nmine)
				due = w->nmine;
			while (w->started < due && w->inflight < MAX_INFLIGHT) {
				struct client *c = w->mine[w->started++];

				if (c->state == C_IDLE)
					client_start(w, c);
			}
			connecting = w->started < w->nmine;
			for (k = 0; k < w->started; k++) {
				struct client *c = w->mine[k];

				if (c->state == C_RETRY) {
					connecting = 1;
					if (now >= c->retry_at && w->inflight < MAX_INFLIGHT)
						client_start(w, c);
				}
			}
			if (connecting)
				timeout = 1;
		}
		n = epoll_wait(w->ep, evs, 256, timeout);
		for (i = 0; i < n; i++) {
			struct client *c = evs[i].data.ptr;

			if (c->fd < 0)
				continue;
			if (c->state == C_CONNECTING) {
				if (evs[i].events & (EPOLLOUT | EPOLLERR | EPOLLHUP))
					client_handshake(w, c);
				continue;
			}
			if ((evs[i].events & EPOLLOUT) && c->out_len) {
				if (send_bytes(w, c, NULL, 0)) {
					client_drop(w, c, "send failed");
					continue;
				}
			}
			if (evs[i].events & (EPOLLIN | EPOLLERR | EPOLLHUP))
				client_readable(w, c);
		}
	}
}

/* Tell every worker cmd, and wait until each has taken it. */
static void command(enum cmd kind)
{
	unsigned seq;
	int i, all;

	atomic_store(&cmd_kind, kind);
	seq = atomic_fetch_add(&cmd_seq, 1) + 1;
	do {
		all = 1;
		for (i = 0; i < opt.threads; i++)
			if (atomic_load(&workers[i].seen_cmd) != seq)
				all = 0;
		if (!all)
			sleep_s(0.001);
	} while (!all);
}

static long sum(size_t off)
{
	long s = 0;
	int i;

	for (i = 0; i < opt.threads; i++)
		s += atomic_load((atomic_long *)((char *)&workers[i] + off));
	return s;
}
#define SUM(field) sum(offsetof(struct worker, field))

/* ---- publishing ---- */

static CURL *curl;
static char run_id[17];

static size_t discard(char *p, size_t size, size_t n, void *u)
{
	(void)p, (void)u;
	return size * n;
}

/* Publish message seq; returns the HTTP status (0: no answer). */
static long publish(long seq)
{
	char body[2048], tag[64], sid[80], err[ERR_LEN], sig[TW_SIG_LEN], hdr[256];
	struct curl_slist *h = NULL;
	struct form f;
	long status = 0;

	snprintf(tag, sizeof(tag), "bp.%ld.%" PRId64, seq, now_ns());
	switch (opt.pub_kind) {
	case PUB_TWILIO:
		/* the fields Twilio sends with an SMS, so signing costs what it will */
		snprintf(sid, sizeof(sid), "SMbench%s%ld", run_id, seq);
		snprintf(body, sizeof(body),
			 "ToCountry=US&ToState=CA&SmsMessageSid=%s&NumMedia=0&ToCity=&FromZip=94105"
			 "&SmsSid=%s&FromState=CA&SmsStatus=received&FromCity=SAN+FRANCISCO&Body=%s"
			 "&FromCountry=US&To=%%2B18005551212&ToZip=&NumSegments=1&MessageSid=%s"
			 "&AccountSid=ACbench&From=%%2B14155550100&ApiVersion=2010-04-01",
			 sid, sid, tag, sid);
		if (form_parse(&f, body, strlen(body), err) ||
		    tw_sign(opt.sign_url, &f, opt.auth ? opt.auth : "", sig, err))
			die("%s", err);
		form_free(&f);
		snprintf(hdr, sizeof(hdr), "X-Twilio-Signature: %s", sig);
		h = curl_slist_append(h, hdr);
		h = curl_slist_append(h, "Content-Type: application/x-www-form-urlencoded");
		break;
	case PUB_NCHAN:
		snprintf(body, sizeof(body), "%s", tag);
		h = curl_slist_append(h, "Content-Type: text/plain");
		break;
	case PUB_API:
		snprintf(body, sizeof(body),
			 "{\"chatMessage\":\"%s\",\"messageType\":\"text message\"}", tag);
		snprintf(hdr, sizeof(hdr), "Authorization: Bearer %s", opt.auth ? opt.auth : "");
		h = curl_slist_append(h, hdr);
		h = curl_slist_append(h, "Content-Type: application/json");
		break;
	}
	curl_easy_setopt(curl, CURLOPT_URL, opt.pub_url);
	curl_easy_setopt(curl, CURLOPT_HTTPHEADER, h);
	curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, discard);
	curl_easy_setopt(curl, CURLOPT_TIMEOUT, 10L);
	if (curl_easy_perform(curl) == CURLE_OK)
		curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
	curl_slist_free_all(h);
	return status;
}

/* Publish msgs messages from first, one per interval. Returns failures. */
static long publish_all(long first, long n, long interval_ms)
{
	int64_t t0 = now_ns();
	long i, st, fails = 0;

	for (i = 0; i < n; i++) {
		double at = (double)(i * interval_ms) / 1000.0;

		sleep_s(at - secs_since(t0));
		st = publish(first + i);
		if (st < 200 || st > 299) {
			fails++;
			if (fails <= 3)
				fprintf(stderr, "# publish %ld: HTTP %ld\n", first + i, st);
		}
	}
	return fails;
}

/* ---- results ---- */

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

struct lat_stats {
	double p50, p99, max;	/* ms */
};

/* Percentiles of every latency recorded since marks[] (per worker). */
static struct lat_stats latencies(const size_t *marks)
{
	struct lat_stats s = { 0, 0, 0 };
	size_t n = 0, k, i, a, b;
	uint32_t *all;
	int t;

	for (t = 0; t < opt.threads; t++)
		n += atomic_load_explicit(&workers[t].nlat, memory_order_acquire) - marks[t];
	if (!n)
		return s;
	all = malloc(n * sizeof(*all));
	if (!all)
		die("out of memory");
	for (k = 0, t = 0; t < opt.threads; t++) {
		a = marks[t];
		b = atomic_load_explicit(&workers[t].nlat, memory_order_acquire);
		for (i = a; i < b; i++)
			all[k++] = workers[t].lat[i];
	}
	qsort(all, n, sizeof(*all), cmp_u32);
	s.p50 = all[(n - 1) / 2] / 1000.0;
	s.p99 = all[(size_t)((double)(n - 1) * 0.99)] / 1000.0;
	s.max = all[n - 1] / 1000.0;
	free(all);
	return s;
}

static void lat_marks(size_t *marks)
{
	int t;

	for (t = 0; t < opt.threads; t++)
		marks[t] = atomic_load_explicit(&workers[t].nlat, memory_order_acquire);
}

/*
 * Wait until want receipts arrived since base, or quiet_s passed without
 * one (after not_before), or timeout_s. Returns the receipts seen.
 */
static long wait_receipts(long base, long want, int64_t not_before)
{
	int64_t t0 = now_ns(), last_change = now_ns();
	long got = SUM(receipts) - base, prev = got;

	while (got < want) {
		sleep_s(0.005);
		got = SUM(receipts) - base;
		if (got != prev) {
			prev = got;
			last_change = now_ns();
		}
		if (now_ns() > not_before && secs_since(last_change) > opt.quiet_s)
			break;
		if (secs_since(t0) > opt.timeout_s)
			break;
	}
	return got;
}

/* Connect every client at rate per second; wait for all ready or given up. */
static double connect_all(double rate)
{
	int64_t t0 = now_ns();
	long ready, failed;

	atomic_store(&cur_rate, rate);
	command(CMD_CONNECT);
	for (;;) {
		ready = SUM(ready);
		failed = SUM(failed);
		if (ready + failed >= opt.clients)
			break;
		if (secs_since(t0) > opt.timeout_s + (rate > 0 ? (double)opt.clients / rate : 0)) {
			fprintf(stderr, "# connect: timed out with %ld ready, %ld failed\n", ready, failed);
			break;
		}
		sleep_s(0.01);
	}
	fprintf(stderr, "# connected %ld/%ld in %.2f s (%ld failed, %ld retries)\n",
		SUM(ready), opt.clients, secs_since(t0), SUM(failed), SUM(retries));
	return secs_since(t0);
}

static void print_line(const char *suffix, long expected, long receipts, long dups,
		       long ooo, struct lat_stats ls, long long cpu_us, double rss_per_conn,
		       double cpu_per_conn, double client_cpu, long pub_fail, double connect_s,
		       double total_s)
{
	printf("%s%s clients=%ld msgs=%ld receipts=%ld missing=%ld dup=%ld ooo=%ld"
	       " p50_ms=%.1f p99_ms=%.1f max_ms=%.1f cpu_us_per_msg=%.2f"
	       " rss_kb_per_conn=%.2f cpu_us_per_conn=%.1f client_cpu_us_per_msg=%.2f"
	       " connected=%ld failed=%ld dropped=%ld errors=%ld pub_fail=%ld"
	       " connect_s=%.2f total_s=%.2f\n",
	       opt.label, suffix, opt.clients, expected / (opt.clients ? opt.clients : 1),
	       receipts, expected - receipts > 0 ? expected - receipts : 0, dups, ooo,
	       ls.p50, ls.p99, ls.max, receipts ? (double)cpu_us / (double)receipts : 0.0,
	       rss_per_conn, cpu_per_conn, receipts ? client_cpu * 1e6 / (double)receipts : 0.0,
	       SUM(ready), SUM(failed), SUM(dropped), SUM(errors), pub_fail, connect_s, total_s);
	fflush(stdout);
}

static int run_fanout(void)
{
	struct proc_sample s0, s1, c0, c1, r0, r1;
	long base, got, dups0, ooo0, fails, tot_got = 0, tot_dup = 0, tot_ooo = 0, tot_fail = 0;
	size_t marks[MAX_THREADS], all_marks[MAX_THREADS];
	double conn_s, rss_per_conn, cpu_per_conn, cc0, cc1, tot_cc = 0;
	long long tot_cpu = 0;
	int64_t t0, t_start;
	long r;
	char suffix[32];

	s0 = sample_servers(opt.verbose, "idle");
	c0 = s0;
	conn_s = connect_all(opt.rate);
	sleep_s(opt.settle_s);	/* let the server finish with the handshakes */
	s1 = sample_servers(1, "connected");
	c1 = s1;
	rss_per_conn = SUM(ready) ? (double)(s1.rss_kb - s0.rss_kb) / (double)SUM(ready) : 0;
	cpu_per_conn = SUM(ready) ? (double)(c1.cpu_us - c0.cpu_us) / (double)SUM(ready) : 0;
	lat_marks(all_marks);
	t_start = now_ns();
	for (r = 0; r < opt.rounds; r++) {
		base = SUM(receipts);
		dups0 = SUM(dups);
		ooo0 = SUM(ooo);
		lat_marks(marks);
		r0 = sample_servers(0, "");
		cc0 = client_cpu_s();
		t0 = now_ns();
		fails = publish_all(r * opt.msgs, opt.msgs, opt.interval_ms);
		got = wait_receipts(base, opt.clients * opt.msgs, now_ns());
		r1 = sample_servers(0, "");
		cc1 = client_cpu_s();
		tot_got += got;
		tot_dup += SUM(dups) - dups0;
		tot_ooo += SUM(ooo) - ooo0;
		tot_cpu += r1.cpu_us - r0.cpu_us;
		tot_cc += cc1 - cc0;
		tot_fail += fails;
		if (opt.rounds > 1) {
			snprintf(suffix, sizeof(suffix), " round=%ld", r + 1);
			print_line(suffix, opt.clients * opt.msgs, got, SUM(dups) - dups0,
				   SUM(ooo) - ooo0, latencies(marks), r1.cpu_us - r0.cpu_us,
				   rss_per_conn, cpu_per_conn, cc1 - cc0, fails, conn_s,
				   secs_since(t0));
		}
	}
	sample_servers(1, "after");
	print_line("", opt.clients * opt.msgs * opt.rounds, tot_got, tot_dup, tot_ooo,
		   latencies(all_marks), tot_cpu, rss_per_conn, cpu_per_conn, tot_cc,
		   tot_fail, conn_s, secs_since(t_start));
	return 0;
}

static int run_catchup(void)
{
	struct proc_sample s0, s1, c0, c1;
	size_t marks[MAX_THREADS];
	double conn_s, rss_per_conn, cc0, cc1;
	long fails, got, base, dups0, ooo0;
	int64_t t0;

	s0 = sample_servers(opt.verbose, "idle");
	connect_all(opt.rate);
	sleep_s(opt.settle_s);
	s1 = sample_servers(1, "connected");
	rss_per_conn = SUM(ready) ? (double)(s1.rss_kb - s0.rss_kb) / (double)SUM(ready) : 0;
	command(CMD_CLOSE);
	fprintf(stderr, "# closed every client; publishing %ld messages\n", opt.msgs);
	sleep_s(opt.gap_s);	/* the server notices the closes */
	fails = publish_all(0, opt.msgs, opt.interval_ms);
	sleep_s(opt.settle_s);
	base = SUM(receipts);
	dups0 = SUM(dups);
	ooo0 = SUM(ooo);
	lat_marks(marks);
	c0 = sample_servers(0, "");
	cc0 = client_cpu_s();
	t0 = now_ns();
	atomic_store(&catchup_t0, t0);
	atomic_store(&cur_rate, opt.reconnect_rate);
	command(CMD_CONNECT);
	got = wait_receipts(base, opt.clients * opt.msgs, now_ns());
	c1 = sample_servers(1, "caught up");
	cc1 = client_cpu_s();
	conn_s = secs_since(t0);
	print_line("", opt.clients * opt.msgs, got, SUM(dups) - dups0, SUM(ooo) - ooo0,
		   latencies(marks), c1.cpu_us - c0.cpu_us, rss_per_conn, 0, cc1 - cc0,
		   fails, conn_s, conn_s);
	return 0;
}

/* ---- set-up ---- */

/* One more --ws URL: ws://IPV4:PORT/PATH. */
static void parse_ws_url(const char *url)
{
	const char *p = url, *slash, *colon;
	char *host, *path;
	int *port;

	if (opt.nurls == MAX_URLS)
		die("--ws: at most %d URLs", MAX_URLS);
	host = opt.url[opt.nurls].host;
	port = &opt.url[opt.nurls].port;
	path = opt.url[opt.nurls].path;
	opt.nurls++;
	if (strncmp(p, "ws://", 5))
		die("--ws: only ws:// URLs: %s", url);
	p += 5;
	slash = strchr(p, '/');
	if (!slash)
		slash = p + strlen(p);
	colon = memchr(p, ':', (size_t)(slash - p));
	if (!colon || (size_t)(colon - p) >= sizeof(opt.url[0].host))
		die("--ws: need host:port: %s", url);
	snprintf(host, sizeof(opt.url[0].host), "%.*s", (int)(colon - p), p);
	*port = atoi(colon + 1);
	snprintf(path, sizeof(opt.url[0].path), "%s", *slash ? slash : "/");
	{
		struct in_addr a;

		if (inet_pton(AF_INET, host, &a) != 1)
			die("--ws: the host must be an IPv4 address: %s", host);
	}
}

static char **read_tokens(const char *file, long need)
{
	char **v = calloc((size_t)need, sizeof(*v)), line[4096];
	FILE *f = fopen(file, "r");
	long n = 0;

	if (!f)
		die("%s: %s", file, strerror(errno));
	if (!v)
		die("out of memory");
	while (n < need && fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\r\n")] = '\0';
		if (!line[0])
			continue;
		v[n] = strdup(line);
		if (!v[n++])
			die("out of memory");
	}
	fclose(f);
	if (n < need)
		die("%s: %ld tokens for %ld clients", file, n, need);
	return v;
}

static void raise_nofile(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl))
		return;
	rl.rlim_cur = rl.rlim_max;
	setrlimit(RLIMIT_NOFILE, &rl);
	getrlimit(RLIMIT_NOFILE, &rl);
	if ((long long)rl.rlim_cur < (long long)opt.clients + 64)
		die("%ld clients need %ld open files, the limit is %llu: raise it "
		    "(ulimit -n, or prlimit as root)", opt.clients, opt.clients + 64,
		    (unsigned long long)rl.rlim_cur);
}

static const char usage[] =
"usage: wsload --ws ws://IP:PORT/PATH --pub URL --pub-kind twilio|nchan|api [options]\n"
"  --ws URL           repeated: client i connects to the (i mod count)th (a group's sites)\n"
"  --clients N        WebSocket clients (10)\n"
"  --msgs M           messages published per round (5)\n"
"  --rounds R         rounds, one summary line each when R > 1 (1)\n"
"  --rate R           new connections per second, 0 = all at once (2000)\n"
"  --reconnect-rate R catchup: of the reconnection, 0 = all at once (0)\n"
"  --interval-ms I    between publishes (100)\n"
"  --threads 1|2      client threads (1)\n"
"  --hello            a client is ready at its first frame (bookpics' hello)\n"
"  --subscribe TEXT   frame to send after the first frame\n"
"  --tokens FILE      one token per line; client i connects with ?token=line i\n"
"  --auth SECRET      Twilio auth token (twilio) or Bearer token (api)\n"
"  --sign-url URL     the URL Twilio signs (default: --pub)\n"
"  --server PID       a server process; its descendants count too (repeatable)\n"
"  --label TEXT       first words of the summary line\n"
"  --mode fanout|catchup\n"
"  --quiet S          a round ends S s after the last receipt (5)\n"
"  --timeout S        hard limit per phase (60)\n"
"  --settle S         pause after connecting (1)\n"
"  --gap S            catchup: pause between closing and publishing (2)\n"
"  -v                 tell more on stderr\n"
"or: wsload --sample --server PID...   print the servers' cpu_us= rss_kb= procs=\n";

int main(int argc, char **argv)
{
	const char *ws = NULL, *tokens = NULL;
	unsigned char rnd[8];
	int sample = 0;
	long i;
	int t;

	for (i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;

#define ARG(name) (!strcmp(a, name) && v && (i++, 1))
		if (ARG("--ws")) parse_ws_url(ws = v);
		else if (ARG("--clients")) opt.clients = atol(v);
		else if (ARG("--msgs")) opt.msgs = atol(v);
		else if (ARG("--rounds")) opt.rounds = atol(v);
		else if (ARG("--rate")) opt.rate = atof(v);
		else if (ARG("--reconnect-rate")) opt.reconnect_rate = atof(v);
		else if (ARG("--interval-ms")) opt.interval_ms = atol(v);
		else if (ARG("--threads")) opt.threads = atoi(v);
		else if (ARG("--subscribe")) opt.subscribe = v;
		else if (ARG("--tokens")) tokens = v;
		else if (ARG("--auth")) opt.auth = v;
		else if (ARG("--pub")) opt.pub_url = v;
		else if (ARG("--sign-url")) opt.sign_url = v;
		else if (ARG("--label")) opt.label = v;
		else if (ARG("--quiet")) opt.quiet_s = atof(v);
		else if (ARG("--timeout")) opt.timeout_s = atof(v);
		else if (ARG("--settle")) opt.settle_s = atof(v);
		else if (ARG("--gap")) opt.gap_s = atof(v);
		else if (ARG("--server")) {
			if (opt.nservers == MAX_SERVERS)
				die("too many --server");
			opt.servers[opt.nservers++] = (pid_t)atoi(v);
		} else if (ARG("--pub-kind")) {
			if (!strcmp(v, "twilio")) opt.pub_kind = PUB_TWILIO;
			else if (!strcmp(v, "nchan")) opt.pub_kind = PUB_NCHAN;
			else if (!strcmp(v, "api")) opt.pub_kind = PUB_API;
			else die("--pub-kind: twilio, nchan or api");
		} else if (ARG("--mode")) {
			if (!strcmp(v, "fanout")) opt.mode = MODE_FANOUT;
			else if (!strcmp(v, "catchup")) opt.mode = MODE_CATCHUP;
			else die("--mode: fanout or catchup");
		} else if (!strcmp(a, "--hello")) opt.hello = 1;
		else if (!strcmp(a, "--sample")) sample = 1;
		else if (!strcmp(a, "-v")) opt.verbose = 1;
		else {
			fputs(usage, stderr);
			return 2;
		}
#undef ARG
	}
	if (sample) {	/* for run.sh: the server's CPU and memory now */
		struct proc_sample ps = sample_servers(opt.verbose, "now");

		printf("cpu_us=%lld rss_kb=%lld procs=%d\n", ps.cpu_us, ps.rss_kb, ps.n);
		return 0;
	}
	if (!ws || !opt.pub_url || opt.clients < 1 || opt.msgs < 1 || opt.rounds < 1 ||
	    opt.threads < 1 || opt.threads > MAX_THREADS) {
		fputs(usage, stderr);
		return 2;
	}
	if (opt.subscribe)
		opt.hello = 1;
	if (!opt.sign_url)
		opt.sign_url = opt.pub_url;
	raise_nofile();
	if (tokens)
		opt.tokens = read_tokens(tokens, opt.clients);
	signal(SIGPIPE, SIG_IGN);
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd))
		die("getrandom: %s", strerror(errno));
	for (t = 0; t < 8; t++)
		snprintf(run_id + 2 * t, 3, "%02x", rnd[t]);
	curl_global_init(CURL_GLOBAL_DEFAULT);
	curl = curl_easy_init();
	if (!curl)
		die("curl_easy_init failed");

	total_msgs = opt.rounds * opt.msgs;
	clients = calloc((size_t)opt.clients, sizeof(*clients));
	if (!clients)
		die("out of memory");
	for (t = 0; t < opt.threads; t++) {
		struct worker *w = &workers[t];
		size_t per = (size_t)(opt.clients / opt.threads + 1);

		w->index = t;
		w->ep = epoll_create1(EPOLL_CLOEXEC);
		if (w->ep < 0)
			die("epoll_create1: %s", strerror(errno));
		w->mine = calloc(per, sizeof(*w->mine));
		w->lat_cap = opt.mode == MODE_FANOUT ? per * (size_t)total_msgs : per;
		w->lat = calloc(w->lat_cap, sizeof(*w->lat));
		if (!w->mine || !w->lat)
			die("out of memory");
		memcpy(&w->rng, rnd, sizeof(w->rng));
		w->rng ^= (uint64_t)(t + 1) * 0x9E3779B97F4A7C15ull;
		if (!w->rng)
			w->rng = 1;
	}
	for (i = 0; i < opt.clients; i++) {
		struct client *c = &clients[i];
		struct worker *w = &workers[i % opt.threads];

		c->fd = -1;
		c->id = (int)i;
		c->max_seq = -1;
		c->seen = calloc((size_t)(total_msgs + 63) / 64, sizeof(uint64_t));
		if (!c->seen)
			die("out of memory");
		w->mine[w->nmine++] = c;
	}
	for (t = 0; t < opt.threads; t++)
		if (pthread_create(&workers[t].th, NULL, worker_run, &workers[t]))
			die("pthread_create failed");

	if (opt.mode == MODE_FANOUT)
		run_fanout();
	else
		run_catchup();

	command(CMD_QUIT);
	for (t = 0; t < opt.threads; t++)
		pthread_join(workers[t].th, NULL);
	curl_easy_cleanup(curl);
	curl_global_cleanup();
	return 0;
}
