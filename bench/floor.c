/*
 * floor.c - the bare write loop: the least a WebSocket fan-out server can
 * do, as a floor for `make bench`. One thread, epoll; WebSocket clients are
 * upgraded and then only written to; a POST on the same port is answered
 * 201 and its body sent as one text frame to every client, one write() per
 * client, the frame built once. No rooms, no store, no backpressure: a
 * socket that does not take the whole frame is shut down.
 *
 *   floor PORT        (ws://127.0.0.1:PORT/anything, POST http://127.0.0.1:PORT/pub)
 *
 * wsload drives it like nchan (--pub-kind nchan). Stops on SIGTERM.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/sha.h>

#define HDR_MAX 8192
#define BODY_MAX 65536

struct conn {
	int fd;
	int ws;			/* upgraded: in the client list */
	size_t idx;		/* its slot in the client list */
	char *buf;		/* request bytes so far (HTTP only) */
	size_t len;
};

static struct conn **clients;
static size_t nclients, capclients;
static volatile sig_atomic_t stopping;

static void on_term(int sig)
{
	(void)sig;
	stopping = 1;
}

static void conn_close(int ep, struct conn *c)
{
	if (c->ws) {
		clients[c->idx] = clients[--nclients];
		clients[c->idx]->idx = c->idx;
	}
	epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
	close(c->fd);
	free(c->buf);
	free(c);
}

/*
 * Send the frame to every client. One that does not take it whole is shut
 * down; epoll then reports it and readable() closes it (closing it here could
 * free a connection that has an event waiting in this loop iteration).
 */
static void broadcast(const char *body, size_t len)
{
	unsigned char hdr[10];
	size_t h = 2, i;
	char *frame;

	hdr[0] = 0x81;
	if (len < 126) {
		hdr[1] = (unsigned char)len;
	} else if (len < 65536) {
		hdr[1] = 126;
		hdr[2] = (unsigned char)(len >> 8);
		hdr[3] = (unsigned char)len;
		h = 4;
	} else {
		return;
	}
	frame = malloc(h + len);
	if (!frame)
		return;
	memcpy(frame, hdr, h);
	memcpy(frame + h, body, len);
	for (i = 0; i < nclients; i++)
		if (send(clients[i]->fd, frame, h + len, MSG_NOSIGNAL | MSG_DONTWAIT) != (ssize_t)(h + len))
			shutdown(clients[i]->fd, SHUT_RDWR);
	free(frame);
}

/* A complete request in c->buf: upgrade it or publish its body. 0, or -1 close. */
static int handle(int ep, struct conn *c)
{
	char *end = strstr(c->buf, "\r\n\r\n"), *k, *cl, resp[256], cat[128];
	unsigned char sha[SHA_DIGEST_LENGTH];
	char acc[32];
	size_t hl, blen;
	int n;

	if (!end)
		return c->len > HDR_MAX ? -1 : 0;
	hl = (size_t)(end - c->buf) + 4;
	if (!strncmp(c->buf, "GET ", 4)) {
		k = strcasestr(c->buf, "\r\nSec-WebSocket-Key:");
		if (!k) {	/* plain GET (run.sh asks if we are up) */
			send(c->fd, "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n", 45, MSG_NOSIGNAL);
			return -1;
		}
		k += 20;
		while (*k == ' ')
			k++;
		n = snprintf(cat, sizeof(cat), "%.*s258EAFA5-E914-47DA-95CA-C5AB0DC85B11",
			     (int)strcspn(k, "\r\n "), k);
		if (n <= 0 || (size_t)n >= sizeof(cat))
			return -1;
		SHA1((unsigned char *)cat, (size_t)n, sha);
		EVP_EncodeBlock((unsigned char *)acc, sha, sizeof(sha));
		n = snprintf(resp, sizeof(resp), "HTTP/1.1 101 Switching Protocols\r\n"
			     "Upgrade: websocket\r\nConnection: Upgrade\r\n"
			     "Sec-WebSocket-Accept: %s\r\n\r\n", acc);
		if (send(c->fd, resp, (size_t)n, MSG_NOSIGNAL) != n)
			return -1;
		free(c->buf);
		c->buf = NULL;
		c->len = 0;
		if (nclients == capclients) {
			capclients = capclients ? capclients * 2 : 1024;
			clients = realloc(clients, capclients * sizeof(*clients));
			if (!clients)
				abort();
		}
		c->ws = 1;
		c->idx = nclients;
		clients[nclients++] = c;
		return 0;
	}
	cl = strcasestr(c->buf, "\r\nContent-Length:");
	blen = cl ? strtoul(cl + 17, NULL, 10) : 0;
	if (blen > BODY_MAX)
		return -1;
	if (c->len < hl + blen)
		return 0;
	broadcast(c->buf + hl, blen);
	n = snprintf(resp, sizeof(resp), "HTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n");
	if (send(c->fd, resp, (size_t)n, MSG_NOSIGNAL) != n)
		return -1;
	memmove(c->buf, c->buf + hl + blen, c->len - hl - blen);
	c->len -= hl + blen;
	c->buf[c->len] = '\0';
	return c->len ? handle(ep, c) : 0;
}

static void readable(int ep, struct conn *c)
{
	char tmp[16384], *p;
	ssize_t n = recv(c->fd, tmp, sizeof(tmp), 0);

	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		conn_close(ep, c);
		return;
	}
	if (c->ws)
		return;	/* client frames (pongs, close) are not looked at */
	p = realloc(c->buf, c->len + (size_t)n + 1);
	if (!p)
		abort();
	c->buf = p;
	memcpy(c->buf + c->len, tmp, (size_t)n);
	c->len += (size_t)n;
	c->buf[c->len] = '\0';
	if (handle(ep, c))
		conn_close(ep, c);
}

int main(int argc, char **argv)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	struct epoll_event ev, evs[256];
	struct sigaction act;
	struct rlimit rl;
	int lfd, ep, one = 1, n, i;

	if (argc != 2) {
		fputs("usage: floor PORT\n", stderr);
		return 2;
	}
	if (!getrlimit(RLIMIT_NOFILE, &rl)) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	memset(&act, 0, sizeof(act));
	act.sa_handler = on_term;
	sigaction(SIGTERM, &act, NULL);
	sigaction(SIGINT, &act, NULL);
	signal(SIGPIPE, SIG_IGN);
	sa.sin_port = htons((unsigned short)atoi(argv[1]));
	inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
	lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (lfd < 0 || bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) || listen(lfd, 4096)) {
		perror("floor: listen");
		return 1;
	}
	ep = epoll_create1(EPOLL_CLOEXEC);
	ev.events = EPOLLIN;
	ev.data.ptr = NULL;
	epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &ev);
	while (!stopping) {
		n = epoll_wait(ep, evs, 256, 1000);
		for (i = 0; i < n; i++) {
			struct conn *c = evs[i].data.ptr;
			int fd;

			if (c) {
				readable(ep, c);
				continue;
			}
			while ((fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC)) >= 0) {
				c = calloc(1, sizeof(*c));
				if (!c)
					abort();
				c->fd = fd;
				setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
				ev.events = EPOLLIN;
				ev.data.ptr = c;
				epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
			}
		}
	}
	return 0;
}
