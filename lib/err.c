/* err.c - error buffer setter shared by every module. */
#include <stdarg.h>
#include <stdio.h>

#include "err.h"

int err_set(char *err, const char *fmt, ...)
{
	va_list ap;

	if (!err)
		return -1;
	va_start(ap, fmt);
	vsnprintf(err, ERR_LEN, fmt, ap);
	va_end(ap);
	return -1;
}
