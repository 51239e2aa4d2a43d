/* probe.h - is a loopback port free, does something answer on it. */
#ifndef BP_PROBE_H
#define BP_PROBE_H

/*
 * Can a listener bind 127.0.0.1:port (SO_REUSEADDR, as lighttpd and the
 * relay bind it)? Returns 0 if so, or -1 with err filled naming the port
 * ("port 8081 is in use (bind 127.0.0.1:8081: address already in use)").
 * Only a hint given before the children start: the port may be taken
 * between this check and their bind, which their exit then reports.
 */
int probe_port_free(int port, char *err);

/* Does a TCP connect to 127.0.0.1:port succeed within 500 ms? 1 or 0. */
int probe_tcp(int port);

/*
 * Does an HTTP server on 127.0.0.1:port answer "GET path" with a status
 * line (any status: 503 is an answer) within 2 s? 1 or 0.
 */
int probe_http(int port, const char *path);

#endif
