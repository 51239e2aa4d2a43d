/* fuzz-form.c - form_parse on any body; every pair it keeps is NUL-free text. */
#include <assert.h>

#include "err.h"
#include "form.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct form f = { 0 };
	char err[ERR_LEN];
	size_t i;

	if (form_parse(&f, (const char *)data, size, err) == 0) {
		for (i = 0; i < f.n; i++)
			assert(f.pairs[i].name && f.pairs[i].value);
		if (f.n)
			assert(form_get(&f, f.pairs[0].name) == f.pairs[0].value);
	} else {
		assert(f.n == 0 && err[0]);
	}
	form_free(&f);
	form_free(&f);
	return 0;
}
