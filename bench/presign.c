/*
 * presign.c - print COUNT distinct signed Twilio webhooks, one per line as
 * "SIGNATURE BODY", for wrk (bench/ingest.lua): wrk cannot compute an
 * HMAC per request cheaply, so the signing is done here, ahead of time.
 *
 *   presign URL AUTH_TOKEN COUNT PREFIX > webhooks.txt
 *
 * Each body has the fields Twilio sends with an SMS and MessageSid
 * PREFIX<n>: distinct, so every one is stored (a repeated sid is not).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "form.h"
#include "twsig.h"

int main(int argc, char **argv)
{
	char sig[TW_SIG_LEN], err[ERR_LEN], sid[96], body[2048];
	struct form f;
	long i, count;

	if (argc != 5) {
		fputs("usage: presign URL AUTH_TOKEN COUNT PREFIX\n", stderr);
		return 2;
	}
	count = atol(argv[3]);
	for (i = 0; i < count; i++) {
		snprintf(sid, sizeof(sid), "%s%ld", argv[4], i);
		snprintf(body, sizeof(body),
			 "ToCountry=US&ToState=CA&SmsMessageSid=%s&NumMedia=0&ToCity=&FromZip=94105"
			 "&SmsSid=%s&FromState=CA&SmsStatus=received&FromCity=SAN+FRANCISCO"
			 "&Body=Ingest+%ld%%3A+The+Left+Hand+of+Darkness&FromCountry=US"
			 "&To=%%2B18005551212&ToZip=&NumSegments=1&MessageSid=%s&AccountSid=ACbench"
			 "&From=%%2B14155550100&ApiVersion=2010-04-01", sid, sid, i, sid);
		if (form_parse(&f, body, strlen(body), err) ||
		    tw_sign(argv[1], &f, argv[2], sig, err)) {
			fprintf(stderr, "presign: %s\n", err);
			return 1;
		}
		form_free(&f);
		printf("%s %s\n", sig, body);
	}
	return 0;
}
