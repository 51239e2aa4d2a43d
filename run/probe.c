/* probe.c - loopback port checks for the supervisor (see probe.h). */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "err.h"
#include "probe.h"

static void probe_addr(struct sockaddr_in *sa, int port)
{
	memset(sa, 0, sizeof(*sa));
	sa->sin_family = AF_INET;
	sa->sin_port = htons((unsigned short)port);
	sa->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
}

int probe_port_free(int port, char *err)
{
	struct sockaddr_in sa;
	int fd, one = 1, ret = -1;

	if ((fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
		return err_set(err, "socket: %s", strerror(errno));
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	probe_addr(&sa, port);
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)))
		err_set(err, "port %d is in use (bind 127.0.0.1:%d: %s)", port, port,
			strerror(errno));
	else
		ret = 0;
	close(fd);
	return ret;
}

/* A non-blocking connect bounded by ms; the connected descriptor or -1. */
static int probe_connect(int port, int ms)
{
	struct sockaddr_in sa;
	struct pollfd p;
	socklen_t len = sizeof(int);
	int fd, soerr = 0;

	if ((fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0)) < 0)
		return -1;
	probe_addr(&sa, port);
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) && errno != EINPROGRESS)
		goto fail;
	p.fd = fd;
	p.events = POLLOUT;
	if (poll(&p, 1, ms) != 1 ||
	    getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &len) || soerr)
		goto fail;
	return fd;
fail:
	close(fd);
	return -1;
}

int probe_tcp(int port)
{
	int fd = probe_connect(port, 500);

	if (fd < 0)
		return 0;
	close(fd);
	return 1;
}

int probe_http(int port, const char *path)
{
	char req[512], buf[16];
	struct pollfd p;
	size_t got = 0;
	ssize_t r;
	int fd, n, ok = 0;

	if ((fd = probe_connect(port, 500)) < 0)
		return 0;
	n = snprintf(req, sizeof(req), "GET %s HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n", path);
	if (n <= 0 || (size_t)n >= sizeof(req) || write(fd, req, (size_t)n) != n)
		goto out;
	p.fd = fd;
	p.events = POLLIN;
	while (got < 9 && poll(&p, 1, 2000) == 1) {
		r = read(fd, buf + got, 9 - got);
		if (r <= 0)
			break;
		got += (size_t)r;
	}
	ok = got == 9 && !memcmp(buf, "HTTP/1.", 7);
out:
	close(fd);
	return ok;
}
