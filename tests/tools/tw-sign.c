/* tw-sign.c - print Twilio's X-Twilio-Signature of URL and a form body (tests). */
#include <stdio.h>
#include <string.h>

#include "err.h"
#include "form.h"
#include "twsig.h"

int main(int argc, char **argv)
{
	char sig[TW_SIG_LEN], err[ERR_LEN];
	struct form f;

	if (argc != 4) {
		fputs("usage: tw-sign URL AUTH_TOKEN FORM_BODY\n", stderr);
		return 2;
	}
	if (form_parse(&f, argv[3], strlen(argv[3]), err) ||
	    tw_sign(argv[1], &f, argv[2], sig, err)) {
		fprintf(stderr, "tw-sign: %s\n", err);
		return 1;
	}
	printf("%s\n", sig);
	form_free(&f);
	return 0;
}
