/*
 * picture-cpu.c - CPU per picture processed: picture_clean of a phone-sized
 * JPEG (3000x4000 as shown: stored 4000x3000 with EXIF orientation 6, as
 * a phone writes a portrait shot) plus its 320, 640 and 1280 WebP variants.
 *
 *   picture-cpu [ROUNDS [DIR]]     (5 rounds, a fresh dir under /tmp)
 *
 * One line per round and a summary, CPU from getrusage (user + system):
 * libvips runs one worker thread (picture_init), so CPU ~ wall time.
 * The files stay in DIR for a look; a fresh /tmp dir is removed at the end.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <vips/vips.h>

#include "err.h"
#include "picture.h"

static double cpu_ms(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1e3 +
		(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e3;
}

static double wall_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/*
 * Stored 4000x3000 sRGB, orientation 6, some EXIF. The content is a
 * fractal surface (dimension 2.6: the 1/f spectrum of natural scenes)
 * tinted per band, plus a little sensor-like noise, so the JPEG has a
 * phone photo's size and detail rather than a flat colour's.
 */
static int make_fixture(const char *path)
{
	VipsImage *f = NULL, *sum = NULL, *u = NULL, *o = NULL,
		  *bands[3] = { NULL, NULL, NULL };
	int i, rc = -1;

	if (vips_fractsurf(&f, 4000, 3000, 2.6, NULL))
		goto out;
	for (i = 0; i < 3; i++) {
		VipsImage *s = NULL, *t = NULL;
		int failed;

		failed = vips_linear1(f, &s, 1.6 - 0.3 * i, 110.0 + 15 * i, NULL) ||
			vips_gaussnoise(&t, 4000, 3000, "sigma", 4.0, "mean", 0.0,
					"seed", 11 + i, NULL) ||
			vips_add(s, t, &bands[i], NULL);
		if (s)
			g_object_unref(s);
		if (t)
			g_object_unref(t);
		if (failed)
			goto out;
	}
	if (vips_bandjoin(bands, &sum, 3, NULL) ||
	    vips_cast(sum, &u, VIPS_FORMAT_UCHAR, NULL) ||
	    vips_copy(u, &o, "interpretation", VIPS_INTERPRETATION_sRGB, NULL))
		goto out;
	vips_image_set_int(o, VIPS_META_ORIENTATION, 6);
	vips_image_set_string(o, "exif-ifd0-Make", "BenchCam");
	vips_image_set_string(o, "exif-ifd0-Model", "Phone 3000");
	if (vips_jpegsave(o, path, "Q", 90, NULL))
		goto out;
	rc = 0;
out:
	for (i = 0; i < 3; i++)
		if (bands[i])
			g_object_unref(bands[i]);
	if (f)
		g_object_unref(f);
	if (sum)
		g_object_unref(sum);
	if (u)
		g_object_unref(u);
	if (o)
		g_object_unref(o);
	return rc;
}

static long file_size(const char *path)
{
	struct stat st;

	return stat(path, &st) ? -1 : (long)st.st_size;
}

int main(int argc, char **argv)
{
	static const int widths[] = { 320, 640, 1280 };
	char dir[256] = "/tmp/bookpics-picture-cpu.XXXXXX", in[300], clean[300],
	     var[320], err[ERR_LEN];
	double sum_clean = 0, sum_total = 0, min_total = 1e12, sum_wall = 0;
	int rounds = argc > 1 ? atoi(argv[1]) : 5, r, i, made_dir = 0;
	const char *type = NULL;

	if (rounds < 1)
		rounds = 1;
	if (argc > 2)
		snprintf(dir, sizeof(dir), "%s", argv[2]);
	else if (mkdtemp(dir))
		made_dir = 1;
	else {
		perror("picture-cpu: mkdtemp");
		return 1;
	}
	if (picture_init(err)) {
		fprintf(stderr, "picture-cpu: %s\n", err);
		return 1;
	}
	snprintf(in, sizeof(in), "%s/phone.jpg", dir);
	snprintf(clean, sizeof(clean), "%s/phone.clean", dir);
	if (make_fixture(in)) {
		fprintf(stderr, "picture-cpu: fixture: %s\n", vips_error_buffer());
		return 1;
	}
	printf("picture-cpu: input %s, %ld bytes, 4000x3000 stored, orientation 6\n",
	       in, file_size(in));
	for (r = 0; r < rounds; r++) {
		double c0 = cpu_ms(), w0 = wall_ms(), c1, cv[3], total;

		if (picture_clean(in, clean, &type, err)) {
			fprintf(stderr, "picture-cpu: %s\n", err);
			return 1;
		}
		c1 = cpu_ms();
		for (i = 0; i < 3; i++) {
			double c = cpu_ms();

			snprintf(var, sizeof(var), "%s/phone.%d", dir, widths[i]);
			if (picture_variant(clean, widths[i], var, err)) {
				fprintf(stderr, "picture-cpu: %s\n", err);
				return 1;
			}
			cv[i] = cpu_ms() - c;
		}
		total = cpu_ms() - c0;
		sum_wall += wall_ms() - w0;
		sum_clean += c1 - c0;
		sum_total += total;
		if (total < min_total)
			min_total = total;
		printf("round %d: clean %.0f ms, 320 %.0f ms, 640 %.0f ms, 1280 %.0f ms, "
		       "total %.0f ms cpu\n", r + 1, c1 - c0, cv[0], cv[1], cv[2], total);
	}
	printf("clean %s %ld bytes; variants 320 %ld, 640 %ld, 1280 %ld bytes\n", type,
	       file_size(clean),
	       (snprintf(var, sizeof(var), "%s/phone.320", dir), file_size(var)),
	       (snprintf(var, sizeof(var), "%s/phone.640", dir), file_size(var)),
	       (snprintf(var, sizeof(var), "%s/phone.1280", dir), file_size(var)));
	printf("picture-cpu: %d rounds: clean %.0f ms, clean + 3 variants %.0f ms cpu "
	       "(min %.0f), %.0f ms wall per picture\n", rounds, sum_clean / rounds,
	       sum_total / rounds, min_total, sum_wall / rounds);
	if (made_dir) {
		unlink(in);
		unlink(clean);
		for (i = 0; i < 3; i++) {
			snprintf(var, sizeof(var), "%s/phone.%d", dir, widths[i]);
			unlink(var);
		}
		rmdir(dir);
	}
	return 0;
}
