/* test-form.c - form decoding: '+', %XX, malformed '%', empty and repeated keys. */
#include "err.h"
#include "form.h"
#include "unit.h"

static struct form parse(const char *body)
{
	struct form f;
	char err[ERR_LEN];

	if (form_parse(&f, body, strlen(body), err))
		memset(&f, 0, sizeof(f));
	return f;
}

int main(void)
{
	struct form f;
	char err[ERR_LEN];

	f = parse("Body=Hello+world%21&From=%2B14155550100");
	CHECK(f.n == 2, "two pairs");
	CHECK_STR(form_get(&f, "Body"), "Hello world!", "'+' is a space, %21 is '!'");
	CHECK_STR(form_get(&f, "From"), "+14155550100", "%2B is '+'");
	form_free(&f);

	f = parse("a=100%&b=%zz&c=%4&d=%e2%80%a6");
	CHECK_STR(form_get(&f, "a"), "100%", "a trailing '%' stays literal");
	CHECK_STR(form_get(&f, "b"), "%zz", "'%' before non-hex stays literal");
	CHECK_STR(form_get(&f, "c"), "%4", "'%' with one hex digit stays literal");
	CHECK_STR(form_get(&f, "d"), "\xe2\x80\xa6", "multi-byte UTF-8 decodes");
	form_free(&f);

	f = parse("&&a=&=x&b&&c=1=2&");
	CHECK(f.n == 4, "empty pieces are skipped");
	CHECK_STR(form_get(&f, "a"), "", "empty value");
	CHECK_STR(form_get(&f, ""), "x", "empty name");
	CHECK_STR(form_get(&f, "b"), "", "a name without '=' has an empty value");
	CHECK_STR(form_get(&f, "c"), "1=2", "the value keeps later '='");
	form_free(&f);

	f = parse("Digits=5678&Digits=1234&Digits=1234");
	CHECK(f.n == 3, "repeated names are all kept");
	CHECK_STR(f.pairs[0].value, "5678", "in the order received");
	CHECK_STR(form_get(&f, "Digits"), "5678", "form_get gives the first");
	CHECK(form_get(&f, "digits") == NULL, "names are case-sensitive");
	form_free(&f);

	f = parse("");
	CHECK(f.n == 0, "an empty body has no pairs");
	form_free(&f);

	CHECK(form_parse(&f, "a=x%00y", 7, err) == -1, "a decoded NUL is refused");
	CHECK_STR(err, "form: a field holds a NUL byte (%00)", "with a clear error");
	CHECK(f.n == 0 && f.pairs == NULL, "and the form is left empty");
	form_free(&f);

	CHECK(form_parse(&f, "a=1&b=2junk", 7, err) == 0 && f.n == 2 &&
	      !strcmp(form_get(&f, "b"), "2"), "only len bytes are read");
	form_free(&f);
	form_free(&f);
	CHECK(1, "form_free twice is safe");
	return unit_done();
}
