/*
 * fcgi-hello.c - the trivial FastCGI responder: reads the request body and
 * answers 200 "ok". Run by lighttpd beside bookpics' webhook program in
 * `make bench`, it is the ceiling signed webhooks per second are held to.
 */
#include <stdio.h>
#include <stdlib.h>

#include <fcgiapp.h>

int main(void)
{
	FCGX_Request r;
	char buf[8192];
	long want, got;
	const char *cl;

	if (FCGX_Init() || FCGX_InitRequest(&r, 0, 0))
		return 1;
	while (FCGX_Accept_r(&r) >= 0) {
		/* read the body as a real handler would, then answer */
		cl = FCGX_GetParam("CONTENT_LENGTH", r.envp);
		want = cl ? atol(cl) : 0;
		while (want > 0) {
			got = FCGX_GetStr(buf, want > (long)sizeof(buf) ? (int)sizeof(buf) : (int)want, r.in);
			if (got <= 0)
				break;
			want -= got;
		}
		FCGX_PutS("Status: 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 3\r\n\r\nok\n", r.out);
		FCGX_Finish_r(&r);
	}
	return 0;
}
