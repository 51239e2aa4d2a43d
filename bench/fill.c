/*
 * fill.c - append COUNT messages to a room straight through the store, for
 * the history benchmark (a room of 1,000,000 messages in seconds, not hours
 * of webhooks). Creates the room (public) if missing.
 *
 *   fill VAR ROOM COUNT
 *
 * Records are what the webhook stores for a text SMS (lib/msg.h). Upkeep
 * (checkpoint, log removal) runs every 50,000 messages so the log stays
 * small. Prints the room's last index at the end.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "app.h"
#include "err.h"
#include "msg.h"
#include "store.h"

int main(int argc, char **argv)
{
	struct app a;
	struct store_room room;
	char err[ERR_LEN], text[128];
	struct timespec t0, t1;
	uint64_t index = 0;
	char *rec;
	long i, count;

	if (argc != 4) {
		fputs("usage: fill VAR ROOM COUNT\n", stderr);
		return 2;
	}
	count = atol(argv[3]);
	memset(&a, 0, sizeof(a));
	if (app_ready(&a, argv[1], err) || store_room_add(a.store, argv[2], 1, err) < 0)
		goto fail;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (i = 0; i < count; i++) {
		snprintf(text, sizeof(text), "History %ld: The Left Hand of Darkness", i);
		rec = msg_record("sms:\xe2\x80\xa6" "0100", "text message", text, NULL, 0, NULL, err);
		if (!rec)
			goto fail;
		if (store_append(a.store, argv[2], NULL, rec, strlen(rec), &index, err) < 0) {
			free(rec);
			goto fail;
		}
		free(rec);
		if ((i + 1) % 50000 == 0 && store_maintain(a.store, err))
			goto fail;
	}
	if (store_maintain(a.store, err) || store_room_get(a.store, argv[2], &room, err) != 1)
		goto fail;
	clock_gettime(CLOCK_MONOTONIC, &t1);
	fprintf(stderr, "fill: %ld messages in %.1f s\n", count,
		(double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9);
	printf("%llu\n", (unsigned long long)room.last);
	app_close(&a);
	return 0;
fail:
	fprintf(stderr, "fill: %s\n", err);
	app_close(&a);
	return 1;
}
