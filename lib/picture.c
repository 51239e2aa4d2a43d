/* picture.c - clean pictures and WebP variants with libvips (see picture.h). */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <vips/vips.h>

#include "err.h"
#include "picture.h"

typedef int (*picture_loader)(void *buf, size_t len, VipsImage **out, ...);

/*
 * The accepted types: the loader libvips's sniffing names (by the bytes),
 * the loader we then call ourselves (so no other one can sneak in), and
 * what the clean picture is saved as.
 */
enum picture_save { SAVE_JPEG, SAVE_PNG, SAVE_WEBP };

static const struct picture_kind {
	const char *class_name;	/* what vips_foreign_find_load_buffer says */
	const char *nickname;
	picture_loader load;
	enum picture_save save;
} picture_kinds[] = {
	{ "VipsForeignLoadJpegBuffer", "jpegload_buffer", vips_jpegload_buffer, SAVE_JPEG },
	{ "VipsForeignLoadPngBuffer", "pngload_buffer", vips_pngload_buffer, SAVE_PNG },
	{ "VipsForeignLoadNsgifBuffer", "gifload_buffer", vips_gifload_buffer, SAVE_PNG },
	{ "VipsForeignLoadWebpBuffer", "webpload_buffer", vips_webpload_buffer, SAVE_WEBP },
};

static const char *const picture_types[] = {
	[SAVE_JPEG] = "image/jpeg",
	[SAVE_PNG] = "image/png",
	[SAVE_WEBP] = "image/webp",
};

/* Copy libvips's first error line into err after prefix, then clear it. */
static int picture_vips_err(char *err, const char *what, const char *path)
{
	char msg[ERR_LEN];
	const char *buf = vips_error_buffer();
	size_t n = strcspn(buf, "\n");

	if (n >= sizeof(msg))
		n = sizeof(msg) - 1;
	memcpy(msg, buf, n);
	msg[n] = '\0';
	vips_error_clear();
	return err_set(err, "%s %s: %s", what, path, n ? msg : "failed");
}

int picture_init(char *err)
{
	static int done;

	if (done)
		return 0;
	/* argv0 only helps libvips guess its install prefix; Debian's
	 * libvips has it compiled in. */
	if (VIPS_INIT("bookpics"))
		return picture_vips_err(err, "vips_init", "bookpics");
	vips_cache_set_max(0);
	vips_concurrency_set(1);
	/* Belt and braces with the type list: magick, PDF, SVG and
	 * friends refuse to run at all in this process. */
	vips_block_untrusted_set(TRUE);
	done = 1;
	return 0;
}

/*
 * Read path whole into *buf (g_malloc'd, *len bytes). The whole file in
 * memory keeps "cannot read" (IO) apart from "cannot decode", and the
 * loaders decode from memory. Over PICTURE_MAX_BYTES: too large.
 */
static int picture_read(const char *path, char **buf, size_t *len, char *err)
{
	struct stat st;
	char *data = NULL;
	size_t got = 0;
	int fd, rc = PICTURE_ERR_IO;

	*buf = NULL;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		err_set(err, "open %s: %s", path, strerror(errno));
		return PICTURE_ERR_IO;
	}
	if (fstat(fd, &st) < 0) {
		err_set(err, "fstat %s: %s", path, strerror(errno));
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		err_set(err, "read %s: not a regular file", path);
		goto out;
	}
	if (st.st_size > PICTURE_MAX_BYTES) {
		err_set(err, "read %s: %lld bytes, more than %d", path,
			(long long)st.st_size, PICTURE_MAX_BYTES);
		rc = PICTURE_ERR_TOO_LARGE;
		goto out;
	}
	data = g_malloc((size_t)st.st_size + 1);
	while (got < (size_t)st.st_size) {
		ssize_t n = read(fd, data + got, (size_t)st.st_size - got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			err_set(err, "read %s: %s", path, strerror(errno));
			goto out;
		}
		if (n == 0)
			break;
		got += (size_t)n;
	}
	*buf = data;
	*len = got;
	data = NULL;
	rc = 0;
out:
	g_free(data);
	close(fd);
	return rc;
}

/*
 * Write len bytes to out_path atomically: a temporary file next to it,
 * synced, then renamed over it. Readers (and a crash) see the old state or
 * the whole new file, never a part. On failure the temporary is removed.
 */
static int picture_write(const char *out_path, const void *data, size_t len,
			 char *err)
{
	char tmp[4096];
	size_t done = 0;
	int fd = -1, rc = PICTURE_ERR_IO;

	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.XXXXXX", out_path) >= sizeof(tmp)) {
		err_set(err, "write %s: path too long", out_path);
		return PICTURE_ERR_IO;
	}
	fd = mkstemp(tmp);
	if (fd < 0) {
		err_set(err, "mkstemp %s: %s", tmp, strerror(errno));
		return PICTURE_ERR_IO;
	}
	/* mkstemp makes 0600; a cache file is as readable as any other. */
	if (fchmod(fd, 0644) < 0) {
		err_set(err, "fchmod %s: %s", tmp, strerror(errno));
		goto out;
	}
	while (done < len) {
		ssize_t n = write(fd, (const char *)data + done, len - done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			err_set(err, "write %s: %s", tmp, strerror(errno));
			goto out;
		}
		done += (size_t)n;
	}
	if (fsync(fd) < 0) {
		err_set(err, "fsync %s: %s", tmp, strerror(errno));
		goto out;
	}
	if (close(fd) < 0) {
		fd = -1;
		err_set(err, "close %s: %s", tmp, strerror(errno));
		goto out;
	}
	fd = -1;
	if (rename(tmp, out_path) < 0) {
		err_set(err, "rename %s: %s", out_path, strerror(errno));
		goto out;
	}
	rc = 0;
out:
	if (fd >= 0)
		close(fd);
	if (rc)
		unlink(tmp);
	return rc;
}

/*
 * A copy of in without its metadata fields (EXIF and its exif-ifd* tags,
 * XMP, IPTC, ICC, comments, orientation, ...): only libvips's own
 * "vips-*" bookkeeping stays. Savers are told to strip too; this makes
 * sure there is nothing to leak even where a saver ignores that (below).
 */
static int picture_bare(VipsImage *in, VipsImage **out)
{
	gchar **fields;
	int i;

	if (vips_copy(in, out, NULL))
		return -1;
	fields = vips_image_get_fields(*out);
	for (i = 0; fields[i]; i++)
		if (strncmp(fields[i], "vips-", 5))
			vips_image_remove(*out, fields[i]);
	g_strfreev(fields);
	return 0;
}

static uint32_t picture_le32(const unsigned char *p)
{
	return p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24;
}

/*
 * Drop the ICCP, EXIF and XMP chunks from a WebP (RIFF) in place and clear
 * their VP8X flags. libvips 8.14.1's webpsave ignores "strip" and always
 * writes an EXIF chunk (rebuilt from the image: resolution at least), so
 * the container is filtered here; only chunk headers are read.
 */
static int picture_webp_strip(unsigned char *p, size_t *len)
{
	size_t in = 12, out = 12, vp8x = 0;

	if (*len < 12 || memcmp(p, "RIFF", 4) || memcmp(p + 8, "WEBP", 4))
		return -1;
	while (in + 8 <= *len) {
		uint32_t n = picture_le32(p + in + 4);
		size_t whole = 8 + (size_t)n + (n & 1);

		if (whole > *len - in)
			return -1;
		if (!memcmp(p + in, "ICCP", 4) || !memcmp(p + in, "EXIF", 4) ||
		    !memcmp(p + in, "XMP ", 4)) {
			in += whole;
			continue;
		}
		if (!memcmp(p + in, "VP8X", 4) && n >= 1)
			vp8x = out;
		memmove(p + out, p + in, whole);
		in += whole;
		out += whole;
	}
	if (in != *len)
		return -1;
	/* VP8X flags byte: ICC 0x20, EXIF 0x08, XMP 0x04 */
	if (vp8x)
		p[vp8x + 8] &= (unsigned char)~(0x20 | 0x08 | 0x04);
	p[4] = (out - 8) & 0xff;
	p[5] = ((out - 8) >> 8) & 0xff;
	p[6] = ((out - 8) >> 16) & 0xff;
	p[7] = ((out - 8) >> 24) & 0xff;
	*len = out;
	return 0;
}

/*
 * Recognise buf by its bytes and open it lazily (only the header is read
 * here): sequential access, failing on any decode error including
 * truncation. Checks the pixel count before a single pixel is decoded.
 */
static int picture_open(const char *path, char *buf, size_t len,
			const struct picture_kind **kind_out, VipsImage **out,
			char *err)
{
	const struct picture_kind *kind = NULL;
	const char *name = vips_foreign_find_load_buffer(buf, len);
	const char *nick = NULL;
	VipsImage *img = NULL;
	guint64 pixels;
	size_t i;

	*out = NULL;
	vips_error_clear();
	for (i = 0; name && i < sizeof(picture_kinds) / sizeof(picture_kinds[0]); i++)
		if (!strcmp(name, picture_kinds[i].class_name))
			kind = &picture_kinds[i];
	if (!kind) {
		if (name)
			nick = vips_nickname_find(g_type_from_name(name));
		vips_error_clear();
		err_set(err, "decode %s: not a jpeg, png, gif or webp image%s%s%s",
			path, nick ? " (" : "", nick ? nick : "", nick ? ")" : "");
		return PICTURE_ERR_DECODE;
	}
	if (kind->load(buf, len, &img, "access", VIPS_ACCESS_SEQUENTIAL,
		       "fail_on", VIPS_FAIL_ON_ERROR, NULL)) {
		picture_vips_err(err, kind->nickname, path);
		return PICTURE_ERR_DECODE;
	}
	pixels = (guint64)vips_image_get_width(img) * (guint64)vips_image_get_height(img);
	if (pixels > PICTURE_MAX_PIXELS) {
		err_set(err, "decode %s: %dx%d is more than %d pixels", path,
			vips_image_get_width(img), vips_image_get_height(img),
			PICTURE_MAX_PIXELS);
		g_object_unref(img);
		return PICTURE_ERR_TOO_LARGE;
	}
	*kind_out = kind;
	*out = img;
	return 0;
}

int picture_clean(const char *in_path, const char *out_path,
		  const char **content_type_out, char *err)
{
	const struct picture_kind *kind = NULL;
	VipsImage *img = NULL, *small = NULL, *srgb = NULL, *bare = NULL;
	char *buf = NULL;
	void *enc = NULL;
	size_t len = 0, enc_len = 0;
	int rc, failed;

	rc = picture_read(in_path, &buf, &len, err);
	if (rc)
		goto out;
	rc = picture_open(in_path, buf, len, &kind, &img, err);
	if (rc)
		goto out;
	/*
	 * vips_thumbnail_image shrinks only (VIPS_SIZE_DOWN) to the long-side
	 * cap at an exact output size and applies the EXIF orientation (it
	 * copies the small image to memory for the rotation, so sequential
	 * access holds). It leaves an embedded ICC profile attached rather
	 * than converting: done next, since the profile is then dropped.
	 */
	rc = PICTURE_ERR_DECODE;
	if (vips_thumbnail_image(img, &small, PICTURE_MAX_SIDE,
				 "height", PICTURE_MAX_SIDE,
				 "size", VIPS_SIZE_DOWN, NULL)) {
		picture_vips_err(err, "thumbnail", in_path);
		goto out;
	}
	/*
	 * Through the embedded profile to sRGB (a Display P3 photo keeps its
	 * colours). A profile libvips cannot use is ignored, as a browser
	 * would: a broken profile is no reason to lose the picture.
	 */
	if (vips_image_get_typeof(small, VIPS_META_ICC_NAME) &&
	    vips_icc_transform(small, &srgb, "srgb", "embedded", TRUE,
			       "intent", VIPS_INTENT_RELATIVE, NULL)) {
		vips_error_clear();
		srgb = NULL;
	}
	if (srgb) {
		/* converted */
	} else if (vips_image_get_interpretation(small) != VIPS_INTERPRETATION_sRGB ||
		   vips_image_get_format(small) != VIPS_FORMAT_UCHAR) {
		/* anything else not yet 8-bit sRGB (grey, CMYK, 16-bit PNG) */
		if (vips_colourspace(small, &srgb, VIPS_INTERPRETATION_sRGB, NULL)) {
			picture_vips_err(err, "colourspace", in_path);
			goto out;
		}
	} else {
		srgb = small;
		g_object_ref(srgb);
	}
	if (picture_bare(srgb, &bare)) {
		picture_vips_err(err, "copy", in_path);
		goto out;
	}
	/*
	 * Decoding happens here, lazily, so a truncated file fails here.
	 * strip drops EXIF, XMP, IPTC, ICC, comments and PNG text (8.14's
	 * name for what 8.15 calls keep=none).
	 */
	switch (kind->save) {
	case SAVE_JPEG:
		failed = vips_jpegsave_buffer(bare, &enc, &enc_len, "Q", 85,
					      "strip", TRUE,
					      "optimize_coding", TRUE, NULL);
		break;
	case SAVE_PNG:
		failed = vips_pngsave_buffer(bare, &enc, &enc_len,
					     "strip", TRUE, NULL);
		break;
	default:
		failed = vips_webpsave_buffer(bare, &enc, &enc_len, "Q", 85,
					      "strip", TRUE, NULL) ||
			picture_webp_strip(enc, &enc_len);
		break;
	}
	if (failed) {
		picture_vips_err(err, "decode", in_path);
		goto out;
	}
	rc = picture_write(out_path, enc, enc_len, err);
	if (!rc && content_type_out)
		*content_type_out = picture_types[kind->save];
out:
	g_free(enc);
	if (bare)
		g_object_unref(bare);
	if (srgb)
		g_object_unref(srgb);
	if (small)
		g_object_unref(small);
	if (img)
		g_object_unref(img);
	g_free(buf);
	return rc;
}

int picture_variant(const char *clean_path, int width, const char *out_path,
		    char *err)
{
	const struct picture_kind *kind = NULL;
	VipsImage *img = NULL, *small = NULL, *bare = NULL;
	char *buf = NULL;
	void *enc = NULL;
	size_t len = 0, enc_len = 0;
	int rc;

	if (width < 1 || width > PICTURE_MAX_SIDE) {
		err_set(err, "variant %s: width %d not in 1..%d", clean_path,
			width, PICTURE_MAX_SIDE);
		return PICTURE_ERR_IO;
	}
	rc = picture_read(clean_path, &buf, &len, err);
	if (rc)
		goto out;
	/* Same checks as for a texter's file: the header only, then closed. */
	rc = picture_open(clean_path, buf, len, &kind, &img, err);
	if (rc)
		goto out;
	g_object_unref(img);
	img = NULL;
	/*
	 * From the bytes rather than the opened image: vips_thumbnail_buffer
	 * shrinks on load (a JPEG decodes at 1/2, 1/4, 1/8 size), the bulk
	 * of the saving for a 320 px variant. Height is free: width rules.
	 * fail_on goes through option_string: 8.14.1 does not hand its own
	 * fail_on argument to the loader (a truncated file came out grey).
	 */
	rc = PICTURE_ERR_DECODE;
	if (vips_thumbnail_buffer(buf, len, &small, width,
				  "height", VIPS_MAX_COORD,
				  "size", VIPS_SIZE_DOWN,
				  "option_string", "fail_on=error", NULL)) {
		picture_vips_err(err, "thumbnail", clean_path);
		goto out;
	}
	if (picture_bare(small, &bare)) {
		picture_vips_err(err, "copy", clean_path);
		goto out;
	}
	/* decoding happens here, lazily: a truncated file fails here */
	if (vips_webpsave_buffer(bare, &enc, &enc_len, "Q", 80,
				 "strip", TRUE, NULL)) {
		picture_vips_err(err, "decode", clean_path);
		goto out;
	}
	if (picture_webp_strip(enc, &enc_len)) {
		err_set(err, "webpsave %s: output is not a webp", clean_path);
		goto out;
	}
	rc = picture_write(out_path, enc, enc_len, err);
out:
	g_free(enc);
	if (bare)
		g_object_unref(bare);
	if (small)
		g_object_unref(small);
	if (img)
		g_object_unref(img);
	g_free(buf);
	return rc;
}
