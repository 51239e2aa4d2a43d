/* relay.h - the bookpics WebSocket protocol for libwebsockets (docs/PROTOCOL.md). */
#ifndef BP_RELAY_H
#define BP_RELAY_H

#include <sys/types.h>

#include <libwebsockets.h>

/*
 * What main() hands the protocol through lws_context_creation_info.user.
 * The protocol opens $VAR's store and FIFO when lws initializes it
 * (PROTOCOL_INIT); if that fails it logs why, sets failed, and main() must
 * stop: a relay that cannot read the store must not accept connections.
 */
struct relay_config {
	const char *var;	/* the data directory, kept by the caller */
	int ping_secs;		/* keepalive (below); 0: 30 */
	int hangup_secs;	/* 0: 45 */
	int failed;		/* set by the protocol on a fatal error */
	pid_t replicator;	/* a group's site: bookpics-replicator (spawn.h), 0: none */
};

/*
 * { the relay's protocol, terminator }: pass as info.protocols. It is the
 * first (default) protocol, so a client that names no subprotocol gets it;
 * it also answers plain HTTP requests (404) and reads the FIFO.
 */
extern const struct lws_protocols relay_protocols[];

/*
 * Keepalive: the protocol pings a connection it has heard nothing from
 * (no frame, no pong) for ping_secs, and hangs up (no close frame: the
 * peer is not answering) once it has been silent for hangup_secs; lighttpd
 * drops idle tunnels at 60 s by default, ours is configured longer, but
 * clients may sit behind others. It is checked from the protocol's 1 s
 * tick in its pass over every connection, so give lws no validity timers
 * of its own (info.retry_and_idle_policy with secs_since_valid_hangup 0):
 * lws 4.1 keeps those in one sorted list, an O(N) insert per connection.
 */

/*
 * Stopping: ask every connection to close with 1001 ("going away", so
 * clients reconnect at once rather than guess from a dropped socket) after
 * what is already queued for it. Returns how many connections are still
 * open; service the context and call again until 0 (or give up: a client
 * that does not read never takes its close frame).
 */
int relay_going_away(struct lws_context *ctx);

#endif
