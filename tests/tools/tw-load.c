/*
 * tw-load.c - post signed Twilio webhooks from several processes at once.
 *
 *   tw-load [-l] [-t SECONDS] [-p MS] URL AUTH_TOKEN CLIENTS COUNT PREFIX [RETRIES]
 *
 * Each of CLIENTS processes posts COUNT webhooks over one keep-alive
 * connection, MessageSid and Body = PREFIX-<client>-<n>, and prints one
 * line "SID STATUS" per answer (STATUS 0: no answer). With RETRIES > 0 a
 * webhook not answered 200 is sent again, as Twilio does, up to RETRIES
 * times. Used by the concurrency and crash tests and by the benchmarks.
 *
 *   -l          "SID STATUS MS": each attempt's time, connect to answer
 *               (or to the failure), in milliseconds
 *   -t SECONDS  give up on an attempt after SECONDS (default 30): STATUS 0
 *   -p MS       pause MS milliseconds after each webhook (a paced load
 *               that lasts a known time, for the fault tests)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>

#include "err.h"
#include "form.h"
#include "twsig.h"

static long opt_timeout = 30;
static int opt_latency, opt_pause_ms;

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static size_t discard(char *p, size_t size, size_t n, void *u)
{
	(void)p, (void)u;
	return size * n;
}

static long post(CURL *c, const char *url, const char *token, const char *body)
{
	char sig[TW_SIG_LEN], err[ERR_LEN], header[64];
	struct curl_slist *h = NULL;
	struct form f;
	long status = 0;

	if (form_parse(&f, body, strlen(body), err) || tw_sign(url, &f, token, sig, err)) {
		fprintf(stderr, "tw-load: %s\n", err);
		exit(1);
	}
	form_free(&f);
	snprintf(header, sizeof(header), "X-Twilio-Signature: %s", sig);
	h = curl_slist_append(h, header);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
	curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, discard);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, opt_timeout);
	if (curl_easy_perform(c) == CURLE_OK)
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
	curl_slist_free_all(h);
	return status;
}

static void client(const char *url, const char *token, int id, int count,
		   const char *prefix, int retries)
{
	char sid[96], body[512];
	CURL *c = curl_easy_init();
	int i, t;
	long long t0;
	long status;

	for (i = 1; i <= count; i++) {
		snprintf(sid, sizeof(sid), "%s%dx%d", prefix, id, i);
		snprintf(body, sizeof(body),
			 "MessageSid=%s&AccountSid=AC1&From=%%2B1415555%04d&To=%%2B18005551212"
			 "&Body=%s&NumMedia=0", sid, id, sid);
		for (t = 0; t <= retries; t++) {
			t0 = now_ms();
			status = post(c, url, token, body);
			if (opt_latency)
				printf("%s %ld %lld\n", sid, status, now_ms() - t0);
			else
				printf("%s %ld\n", sid, status);
			fflush(stdout);
			if (status == 200)
				break;
			usleep(100000);
		}
		if (opt_pause_ms)
			usleep((useconds_t)opt_pause_ms * 1000);
	}
	curl_easy_cleanup(c);
}

int main(int argc, char **argv)
{
	int clients, count, retries, i, status, opt, failed = 0;

	while ((opt = getopt(argc, argv, "+lt:p:")) != -1) {
		if (opt == 'l')
			opt_latency = 1;
		else if (opt == 't')
			opt_timeout = atol(optarg);
		else if (opt == 'p')
			opt_pause_ms = atoi(optarg);
		else
			argc = 0;
	}
	argc -= optind - 1;
	argv += optind - 1;
	if (argc < 6 || opt_timeout <= 0 || opt_pause_ms < 0) {
		fputs("usage: tw-load [-l] [-t SECONDS] [-p MS] URL AUTH_TOKEN CLIENTS COUNT PREFIX "
		      "[RETRIES]\n", stderr);
		return 2;
	}
	clients = atoi(argv[3]);
	count = atoi(argv[4]);
	retries = argc > 6 ? atoi(argv[6]) : 0;
	curl_global_init(CURL_GLOBAL_DEFAULT);
	setvbuf(stdout, NULL, _IOLBF, 0);
	for (i = 0; i < clients; i++) {
		if (fork() == 0) {
			client(argv[1], argv[2], i, count, argv[5], retries);
			_exit(0);
		}
	}
	while (wait(&status) > 0)
		if (!WIFEXITED(status) || WEXITSTATUS(status))
			failed = 1;
	curl_global_cleanup();
	return failed;
}
