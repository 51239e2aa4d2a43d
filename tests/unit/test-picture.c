/* test-picture.c - picture_clean/picture_variant on fixtures this test makes itself. */
#include <dirent.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <vips/vips.h>

#include "err.h"
#include "picture.h"
#include "unit.h"

static char dir[] = "/tmp/bookpics-test-picture.XXXXXX";

/* A growable byte buffer for fixtures. */
struct bytes {
	unsigned char *p;
	size_t len;
};

static void put(struct bytes *b, const void *data, size_t len)
{
	b->p = realloc(b->p, b->len + len);
	if (!b->p)
		abort();
	memcpy(b->p + b->len, data, len);
	b->len += len;
}

static void put_le16(struct bytes *b, unsigned v)
{
	unsigned char c[2] = { v & 0xff, (v >> 8) & 0xff };

	put(b, c, 2);
}

static void put_le32(struct bytes *b, uint32_t v)
{
	unsigned char c[4] = { v & 0xff, (v >> 8) & 0xff, (v >> 16) & 0xff, v >> 24 };

	put(b, c, 4);
}

static void put_be16(struct bytes *b, unsigned v)
{
	unsigned char c[2] = { (v >> 8) & 0xff, v & 0xff };

	put(b, c, 2);
}

static void put_be32(struct bytes *b, uint32_t v)
{
	unsigned char c[4] = { v >> 24, (v >> 16) & 0xff, (v >> 8) & 0xff, v & 0xff };

	put(b, c, 4);
}

static void path_of(char *buf, size_t len, const char *name)
{
	snprintf(buf, len, "%s/%s", dir, name);
}

static void write_fixture(const char *name, const void *data, size_t len)
{
	char path[512];
	FILE *f;

	path_of(path, sizeof(path), name);
	f = fopen(path, "wb");
	if (!f || fwrite(data, 1, len, f) != len || fclose(f))
		abort();
}

static unsigned char *slurp(const char *name, size_t *len)
{
	char path[512];
	gchar *data = NULL;
	gsize n = 0;

	path_of(path, sizeof(path), name);
	if (!g_file_get_contents(path, &data, &n, NULL))
		return NULL;
	*len = n;
	return (unsigned char *)data;
}

static int exists(const char *name)
{
	char path[512];
	struct stat st;

	path_of(path, sizeof(path), name);
	return stat(path, &st) == 0;
}

/* Files in the scratch dir whose name starts with prefix (temp files too). */
static int count_prefix(const char *prefix)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;

	while (d && (e = readdir(d)))
		if (!strncmp(e->d_name, prefix, strlen(prefix)))
			n++;
	if (d)
		closedir(d);
	return n;
}

/*
 * An EXIF block as a phone writes it: IFD0 with Make, Model, Orientation 6
 * and a GPS IFD pointer; the GPS IFD with latitude and longitude.
 * Little-endian TIFF, offsets from the "II" header.
 */
static void exif_tiff(struct bytes *b)
{
	static const uint32_t lat[] = { 48, 1, 51, 1, 2400, 100 };
	static const uint32_t lon[] = { 2, 1, 21, 1, 600, 100 };
	size_t i;

	put(b, "II", 2);
	put_le16(b, 42);
	put_le32(b, 8);
	/* IFD0 at 8: 4 entries, ends at 8 + 2 + 48 + 4 = 62 */
	put_le16(b, 4);
	put_le16(b, 0x010f), put_le16(b, 2), put_le32(b, 8), put_le32(b, 62);
	put_le16(b, 0x0110), put_le16(b, 2), put_le32(b, 9), put_le32(b, 70);
	put_le16(b, 0x0112), put_le16(b, 3), put_le32(b, 1), put_le32(b, 6);
	put_le16(b, 0x8825), put_le16(b, 4), put_le32(b, 1), put_le32(b, 80);
	put_le32(b, 0);
	put(b, "FakeCam", 8);		/* 62..70 */
	put(b, "PhoneX12", 9);		/* 70..79 */
	put(b, "", 1);			/* pad to 80 */
	/* GPS IFD at 80: 4 entries, ends at 134 */
	put_le16(b, 4);
	put_le16(b, 1), put_le16(b, 2), put_le32(b, 2), put(b, "N\0\0", 4);
	put_le16(b, 2), put_le16(b, 5), put_le32(b, 3), put_le32(b, 134);
	put_le16(b, 3), put_le16(b, 2), put_le32(b, 2), put(b, "E\0\0", 4);
	put_le16(b, 4), put_le16(b, 5), put_le32(b, 3), put_le32(b, 158);
	put_le32(b, 0);
	for (i = 0; i < 6; i++)
		put_le32(b, lat[i]);
	for (i = 0; i < 6; i++)
		put_le32(b, lon[i]);
}

/* w x h sRGB: top half red, bottom half blue (so rotation shows). */
static VipsImage *two_halves(int w, int h)
{
	unsigned char *px = malloc((size_t)w * h * 3);
	VipsImage *img;
	int x, y;

	for (y = 0; y < h; y++)
		for (x = 0; x < w; x++) {
			unsigned char *p = px + ((size_t)y * w + x) * 3;

			p[0] = y < h / 2 ? 230 : 10;
			p[1] = 10;
			p[2] = y < h / 2 ? 10 : 230;
		}
	img = vips_image_new_from_memory_copy(px, (size_t)w * h * 3, w, h, 3,
					      VIPS_FORMAT_UCHAR);
	free(px);
	return img;
}

static VipsImage *noise(int w, int h)
{
	VipsImage *n = NULL, *c = NULL, *j = NULL;
	VipsImage *bands[3];
	int i;

	for (i = 0; i < 3; i++) {
		bands[i] = NULL;
		if (vips_gaussnoise(&bands[i], w, h, "mean", 128.0, "sigma", 40.0,
				    "seed", 7 + i, NULL))
			abort();
	}
	if (vips_bandjoin(bands, &n, 3, NULL) ||
	    vips_cast(n, &c, VIPS_FORMAT_UCHAR, NULL) ||
	    vips_copy(c, &j, "interpretation", VIPS_INTERPRETATION_sRGB, NULL))
		abort();
	for (i = 0; i < 3; i++)
		g_object_unref(bands[i]);
	g_object_unref(n);
	g_object_unref(c);
	return j;
}

static void save_jpeg(VipsImage *img, struct bytes *out)
{
	void *buf;
	size_t len;

	if (vips_jpegsave_buffer(img, &buf, &len, "strip", TRUE, "Q", 90, NULL))
		abort();
	put(out, buf, len);
	g_free(buf);
}

static void save_png(VipsImage *img, struct bytes *out)
{
	void *buf;
	size_t len;

	if (vips_pngsave_buffer(img, &buf, &len, "strip", TRUE, NULL))
		abort();
	put(out, buf, len);
	g_free(buf);
}

/* One JPEG segment: FF marker, big-endian length, payload. */
static void jpeg_segment(struct bytes *b, unsigned marker, const void *data, size_t len)
{
	unsigned char m[2] = { 0xff, marker };

	put(b, m, 2);
	put_be16(b, (unsigned)len + 2);
	put(b, data, len);
}

/*
 * The markers of a JPEG as a string of hex bytes ("d8 e0 db ... d9"),
 * walking segments and skipping entropy-coded data; NULL if malformed.
 */
static char *jpeg_markers(const unsigned char *p, size_t len)
{
	static char list[4096];
	size_t i = 2, used;

	if (len < 4 || p[0] != 0xff || p[1] != 0xd8)
		return NULL;
	used = (size_t)snprintf(list, sizeof(list), "d8");
	while (i + 1 < len) {
		unsigned m;

		if (p[i] != 0xff)
			return NULL;
		while (i < len && p[i] == 0xff)
			i++;
		if (i >= len)
			return NULL;
		m = p[i++];
		used += (size_t)snprintf(list + used, sizeof(list) - used, " %02x", m);
		if (used >= sizeof(list))
			return NULL;
		if (m == 0xd9)
			return list;
		if ((m >= 0xd0 && m <= 0xd7) || m == 0x01)
			continue;
		if (i + 2 > len)
			return NULL;
		i += (size_t)p[i] << 8 | p[i + 1];
		if (m == 0xda) {
			/* entropy data: up to the next marker that is not a
			 * stuffed 00 nor a restart */
			while (i + 1 < len && !(p[i] == 0xff && p[i + 1] != 0 &&
						 !(p[i + 1] >= 0xd0 && p[i + 1] <= 0xd7)))
				i++;
		}
	}
	return NULL;
}

/* No APP1..APP15 (EXIF, XMP, ICC, IPTC, ...) and no COM. */
static int jpeg_no_metadata(const char *markers)
{
	const char *s;

	for (s = markers; s && *s; s += s[2] ? 3 : 2) {
		unsigned m = (unsigned)strtoul(s, NULL, 16);

		if ((m >= 0xe1 && m <= 0xef) || m == 0xfe)
			return 0;
	}
	return markers != NULL;
}

/* PNG's CRC-32 (ISO 3309, reflected 0xedb88320), bit by bit: fixtures are small. */
static uint32_t png_crc(const unsigned char *p, size_t len)
{
	uint32_t c = 0xffffffff;
	size_t i;
	int k;

	for (i = 0; i < len; i++) {
		c ^= p[i];
		for (k = 0; k < 8; k++)
			c = c & 1 ? 0xedb88320 ^ (c >> 1) : c >> 1;
	}
	return c ^ 0xffffffff;
}

static void png_chunk(struct bytes *b, const char *type, const void *data, size_t len)
{
	size_t start;

	put_be32(b, (uint32_t)len);
	start = b->len;
	put(b, type, 4);
	put(b, data, len);
	put_be32(b, png_crc(b->p + start, len + 4));
}

/* Chunk types of a PNG, "IHDR IDAT IEND"; NULL if malformed. */
static char *png_chunks(const unsigned char *p, size_t len)
{
	static char list[4096];
	size_t i = 8, used = 0;

	if (len < 8 || memcmp(p, "\211PNG\r\n\032\n", 8))
		return NULL;
	list[0] = '\0';
	while (i + 12 <= len) {
		uint32_t n = (uint32_t)p[i] << 24 | p[i + 1] << 16 | p[i + 2] << 8 | p[i + 3];

		used += (size_t)snprintf(list + used, sizeof(list) - used, "%s%.4s",
					 used ? " " : "", p + i + 4);
		if (used >= sizeof(list) || n > len - i - 12)
			return NULL;
		if (!memcmp(p + i + 4, "IEND", 4))
			return list;
		i += 12 + n;
	}
	return NULL;
}

/* Chunk fourccs of a WebP after "RIFF....WEBP"; NULL if not a WebP. */
static char *webp_chunks(const unsigned char *p, size_t len)
{
	static char list[1024];
	size_t i = 12, used = 0;

	if (len < 12 || memcmp(p, "RIFF", 4) || memcmp(p + 8, "WEBP", 4))
		return NULL;
	list[0] = '\0';
	while (i + 8 <= len) {
		uint32_t n = p[i + 4] | p[i + 5] << 8 | p[i + 6] << 16 | (uint32_t)p[i + 7] << 24;

		used += (size_t)snprintf(list + used, sizeof(list) - used, "%s%.4s",
					 used ? " " : "", p + i);
		if (used >= sizeof(list))
			return NULL;
		i += 8 + n + (n & 1);
	}
	return list;
}

static int has_bytes(const unsigned char *p, size_t len, const char *needle)
{
	return memmem(p, len, needle, strlen(needle)) != NULL;
}

static VipsImage *open_out(const char *name)
{
	char path[512];

	path_of(path, sizeof(path), name);
	return vips_image_new_from_file(path, NULL);
}

static int clean(const char *in, const char *out, const char **type, char *err)
{
	char ip[512], op[512];

	path_of(ip, sizeof(ip), in);
	path_of(op, sizeof(op), out);
	return picture_clean(ip, op, type, err);
}

static int variant(const char *in, int w, const char *out, char *err)
{
	char ip[512], op[512];

	path_of(ip, sizeof(ip), in);
	path_of(op, sizeof(op), out);
	return picture_variant(ip, w, op, err);
}

/* Pixel (x, y) band b of an output file. */
static double pixel(const char *name, int x, int y, int b)
{
	VipsImage *img = open_out(name);
	double *v = NULL, r = -1;
	int n = 0;

	if (img && !vips_getpoint(img, &v, &n, x, y, NULL) && b < n)
		r = v[b];
	g_free(v);
	if (img)
		g_object_unref(img);
	return r;
}

static int width_of(const char *name)
{
	VipsImage *img = open_out(name);
	int w = img ? vips_image_get_width(img) : -1;

	if (img)
		g_object_unref(img);
	return w;
}

static int height_of(const char *name)
{
	VipsImage *img = open_out(name);
	int h = img ? vips_image_get_height(img) : -1;

	if (img)
		g_object_unref(img);
	return h;
}

static void test_jpeg_exif(void)
{
	struct bytes plain = { 0 }, fix = { 0 }, exif = { 0 }, iptc = { 0 };
	static const char xmp[] = "http://ns.adobe.com/xap/1.0/\0"
		"<x:xmpmeta><exif:GPSLatitude>48,51.4N</exif:GPSLatitude></x:xmpmeta>";
	VipsImage *img = two_halves(300, 200), *in;
	char err[ERR_LEN] = "", *markers, *s = NULL;
	const char *type = NULL;
	unsigned char *out;
	size_t len = 0;
	int rc;

	save_jpeg(img, &plain);
	g_object_unref(img);
	put(&exif, "Exif\0", 6);
	exif_tiff(&exif);
	/* Photoshop 3.0 IRB 0x0404 holding an IPTC By-line */
	put(&iptc, "Photoshop 3.0\0008BIM\004\004\0\0\0\0\0\017\034\002\120\0\013Jane Sender", 40);
	put(&fix, plain.p, 2);
	jpeg_segment(&fix, 0xe1, exif.p, exif.len);
	jpeg_segment(&fix, 0xe1, xmp, sizeof(xmp) - 1);
	jpeg_segment(&fix, 0xed, iptc.p, iptc.len);
	jpeg_segment(&fix, 0xfe, "shot at 12 rue secret", 21);
	put(&fix, plain.p + 2, plain.len - 2);
	write_fixture("phone.jpg", fix.p, fix.len);

	/* the fixture really carries what the test claims */
	in = vips_image_new_from_buffer(fix.p, fix.len, "", NULL);
	CHECK(in && vips_image_get_width(in) == 300 && vips_image_get_height(in) == 200,
	      "jpeg fixture: stored 300x200");
	CHECK(in && !vips_image_get_string(in, "exif-ifd0-Make", (const char **)&s) &&
	      strstr(s, "FakeCam"), "jpeg fixture: exif make");
	CHECK(in && vips_image_get_typeof(in, "exif-ifd3-GPSLatitude"),
	      "jpeg fixture: exif gps latitude");
	CHECK(in && vips_image_get_orientation(in) == 6, "jpeg fixture: orientation 6");
	if (in)
		g_object_unref(in);
	vips_error_clear();
	markers = jpeg_markers(fix.p, fix.len);
	CHECK(markers && strstr(markers, "e1") && strstr(markers, "ed") && strstr(markers, "fe"),
	      "jpeg fixture: app1, app13 and com markers");

	rc = clean("phone.jpg", "phone.clean", &type, err);
	CHECK(rc == PICTURE_OK, "jpeg: cleaned");
	if (rc)
		printf("# %s\n", err);
	CHECK_STR(type, "image/jpeg", "jpeg: stays jpeg");
	out = slurp("phone.clean", &len);
	markers = out ? jpeg_markers(out, len) : NULL;
	printf("# clean jpeg markers: %s\n", markers ? markers : "(malformed)");
	CHECK(jpeg_no_metadata(markers), "jpeg: no app1..app15, no com");
	CHECK(out && !has_bytes(out, len, "FakeCam") && !has_bytes(out, len, "PhoneX12") &&
	      !has_bytes(out, len, "Exif") && !has_bytes(out, len, "xmpmeta") &&
	      !has_bytes(out, len, "Jane Sender") && !has_bytes(out, len, "secret"),
	      "jpeg: none of the metadata's bytes survive");
	CHECK(width_of("phone.clean") == 200 && height_of("phone.clean") == 300,
	      "jpeg: upright, 200x300 from stored 300x200 with orientation 6");
	/* orientation 6 = turn 90 degrees clockwise: the stored top (red)
	 * ends up on the right, the bottom (blue) on the left */
	CHECK(pixel("phone.clean", 170, 150, 0) > 180 && pixel("phone.clean", 170, 150, 2) < 60,
	      "jpeg: right half red");
	CHECK(pixel("phone.clean", 30, 150, 2) > 180 && pixel("phone.clean", 30, 150, 0) < 60,
	      "jpeg: left half blue");
	g_free(out);

	/* a variant of the clean jpeg: narrower than 320, kept at 200 */
	CHECK(variant("phone.clean", 320, "phone.320", err) == PICTURE_OK &&
	      width_of("phone.320") == 200 && height_of("phone.320") == 300,
	      "jpeg variant 320 of a 200 px picture: 200x300, not enlarged");
	free(plain.p);
	free(fix.p);
	free(exif.p);
	free(iptc.p);
}

static void test_png_chunks(void)
{
	struct bytes plain = { 0 }, fix = { 0 }, exif = { 0 };
	static const char text[] = "Comment\0GPS 48.8566 2.3522 secret";
	static const char itxt[] = "XML:com.adobe.xmp\0\0\0\0\0<x:xmpmeta>PhoneX12</x:xmpmeta>";
	VipsImage *img = two_halves(64, 48);
	char err[ERR_LEN] = "", *chunks;
	const char *type = NULL;
	unsigned char *out;
	size_t len = 0;
	int rc;

	save_png(img, &plain);
	g_object_unref(img);
	exif_tiff(&exif);
	/* after the signature and IHDR (8 + 25 bytes) */
	put(&fix, plain.p, 33);
	png_chunk(&fix, "tEXt", text, sizeof(text) - 1);
	png_chunk(&fix, "iTXt", itxt, sizeof(itxt) - 1);
	png_chunk(&fix, "eXIf", exif.p, exif.len);
	put(&fix, plain.p + 33, plain.len - 33);
	write_fixture("text.png", fix.p, fix.len);
	chunks = png_chunks(fix.p, fix.len);
	CHECK(chunks && strstr(chunks, "tEXt") && strstr(chunks, "iTXt") && strstr(chunks, "eXIf"),
	      "png fixture: tEXt, iTXt and eXIf chunks");

	rc = clean("text.png", "text.clean", &type, err);
	CHECK(rc == PICTURE_OK, "png: cleaned");
	if (rc)
		printf("# %s\n", err);
	CHECK_STR(type, "image/png", "png: stays png");
	out = slurp("text.clean", &len);
	chunks = out ? png_chunks(out, len) : NULL;
	printf("# clean png chunks: %s\n", chunks ? chunks : "(malformed)");
	CHECK(chunks && !strstr(chunks, "tEXt") && !strstr(chunks, "iTXt") &&
	      !strstr(chunks, "zTXt") && !strstr(chunks, "eXIf") && !strstr(chunks, "iCCP") &&
	      !strstr(chunks, "tIME"), "png: no text, exif, icc or time chunks");
	CHECK(out && !has_bytes(out, len, "secret") && !has_bytes(out, len, "PhoneX12") &&
	      !has_bytes(out, len, "FakeCam"), "png: none of the metadata's bytes survive");
	/* the eXIf chunk said orientation 6, as a phone's would */
	CHECK(width_of("text.clean") == 48 && height_of("text.clean") == 64,
	      "png: turned upright from its eXIf orientation, 48x64");
	g_free(out);
	free(plain.p);
	free(fix.p);
	free(exif.p);
}

static void test_cap_and_variants(void)
{
	struct bytes wide = { 0 }, small = { 0 };
	VipsImage *img = noise(3000, 1000), *s = noise(500, 400);
	static const int widths[] = { 320, 640, 1280 };
	char err[ERR_LEN] = "", name[32], what[96];
	const char *type = NULL;
	unsigned char *out;
	size_t len, i;

	save_png(img, &wide);
	save_jpeg(s, &small);
	g_object_unref(img);
	g_object_unref(s);
	write_fixture("wide.png", wide.p, wide.len);
	write_fixture("small.jpg", small.p, small.len);

	CHECK(clean("wide.png", "wide.clean", &type, err) == PICTURE_OK &&
	      width_of("wide.clean") == 2048 && height_of("wide.clean") == 683,
	      "3000x1000 capped to 2048x683");
	CHECK(clean("small.jpg", "small.clean", &type, err) == PICTURE_OK &&
	      width_of("small.clean") == 500 && height_of("small.clean") == 400,
	      "500x400 kept at 500x400 (never enlarged)");
	for (i = 0; i < 3; i++) {
		snprintf(name, sizeof(name), "wide.%d", widths[i]);
		snprintf(what, sizeof(what), "variant %d of 2048 wide: webp, %d wide",
			 widths[i], widths[i]);
		len = 0;
		out = NULL;
		if (variant("wide.clean", widths[i], name, err) == PICTURE_OK)
			out = slurp(name, &len);
		CHECK(out && webp_chunks(out, len) && width_of(name) == widths[i] &&
		      height_of(name) == (widths[i] * 1000 + 1500) / 3000, what);
		CHECK(out && !strstr(webp_chunks(out, len), "EXIF") &&
		      !strstr(webp_chunks(out, len), "XMP") &&
		      !strstr(webp_chunks(out, len), "ICCP"), "variant: no metadata chunks");
		g_free(out);

		snprintf(name, sizeof(name), "small.%d", widths[i]);
		snprintf(what, sizeof(what), "variant %d of 500 wide: webp, %d wide",
			 widths[i], widths[i] < 500 ? widths[i] : 500);
		len = 0;
		out = NULL;
		if (variant("small.clean", widths[i], name, err) == PICTURE_OK)
			out = slurp(name, &len);
		CHECK(out && webp_chunks(out, len) &&
		      width_of(name) == (widths[i] < 500 ? widths[i] : 500), what);
		g_free(out);
	}
	CHECK(variant("wide.clean", 0, "wide.0", err) == PICTURE_ERR_IO && !exists("wide.0"),
	      "variant width 0 refused, nothing written");
	free(wide.p);
	free(small.p);
}

static void test_webp(void)
{
	struct bytes exif = { 0 };
	VipsImage *img = two_halves(120, 80), *withexif = NULL;
	char err[ERR_LEN] = "", *chunks;
	const char *type = NULL;
	unsigned char *out;
	void *buf;
	size_t len;

	put(&exif, "Exif\0", 6);
	exif_tiff(&exif);
	if (vips_copy(img, &withexif, NULL))
		abort();
	vips_image_set_blob_copy(withexif, VIPS_META_EXIF_NAME, exif.p, exif.len);
	if (vips_webpsave_buffer(withexif, &buf, &len, NULL))
		abort();
	write_fixture("exif.webp", buf, len);
	chunks = webp_chunks(buf, len);
	CHECK(chunks && strstr(chunks, "EXIF"), "webp fixture: EXIF chunk");
	g_free(buf);
	CHECK(clean("exif.webp", "exif.clean", &type, err) == PICTURE_OK, "webp: cleaned");
	CHECK_STR(type, "image/webp", "webp: stays webp");
	out = slurp("exif.clean", &len);
	chunks = out ? webp_chunks(out, len) : NULL;
	printf("# clean webp chunks: %s\n", chunks ? chunks : "(malformed)");
	CHECK(chunks && !strstr(chunks, "EXIF") && !strstr(chunks, "XMP") &&
	      !has_bytes(out, len, "FakeCam"), "webp: no EXIF or XMP chunk");
	CHECK(width_of("exif.clean") == 80 && height_of("exif.clean") == 120,
	      "webp: turned upright from its exif orientation");
	g_free(out);
	g_object_unref(withexif);
	g_object_unref(img);
	free(exif.p);
}

/* A flat (200, 100, 50) JPEG tagged with Display P3, as iPhones tag theirs. */
static void test_icc(void)
{
	unsigned char px[32 * 24 * 3];
	VipsImage *img, *tagged = NULL;
	VipsBlob *p3 = NULL;
	char err[ERR_LEN] = "", *m;
	unsigned char *out;
	const void *data;
	void *buf;
	size_t len, i;

	for (i = 0; i < sizeof(px); i += 3)
		px[i] = 200, px[i + 1] = 100, px[i + 2] = 50;
	img = vips_image_new_from_memory_copy(px, sizeof(px), 32, 24, 3, VIPS_FORMAT_UCHAR);
	if (!img || vips_profile_load("p3", &p3, NULL) || !p3 || vips_copy(img, &tagged, NULL))
		abort();
	data = vips_blob_get(p3, &len);
	vips_image_set_blob_copy(tagged, VIPS_META_ICC_NAME, data, len);
	if (vips_jpegsave_buffer(tagged, &buf, &len, "Q", 95, NULL))
		abort();
	write_fixture("p3.jpg", buf, len);
	m = jpeg_markers(buf, len);
	CHECK(m && strstr(m, "e2"), "icc fixture: app2 icc profile");
	g_free(buf);
	CHECK(clean("p3.jpg", "p3.clean", NULL, err) == PICTURE_OK, "icc: cleaned");
	out = slurp("p3.clean", &len);
	m = out ? jpeg_markers(out, len) : NULL;
	CHECK(jpeg_no_metadata(m), "icc: no app2 (profile dropped)");
	printf("# p3 (200,100,50) as srgb: %.0f %.0f %.0f\n", pixel("p3.clean", 16, 12, 0),
	       pixel("p3.clean", 16, 12, 1), pixel("p3.clean", 16, 12, 2));
	/* P3's red is beyond sRGB's: the same numbers mean a redder colour */
	CHECK(pixel("p3.clean", 16, 12, 0) >= 210 && pixel("p3.clean", 16, 12, 2) <= 45,
	      "icc: colours converted from p3 to srgb, not just relabelled");
	g_free(out);
	vips_area_unref(VIPS_AREA(p3));
	g_object_unref(tagged);
	g_object_unref(img);
}

static void test_gif(void)
{
	VipsImage *frames = two_halves(40, 60), *anim = NULL;
	char err[ERR_LEN] = "";
	const char *type = NULL;
	void *buf;
	size_t len;

	/* two 40x30 pages: red, then blue */
	if (vips_copy(frames, &anim, NULL))
		abort();
	vips_image_set_int(anim, VIPS_META_PAGE_HEIGHT, 30);
	if (vips_gifsave_buffer(anim, &buf, &len, NULL))
		abort();
	write_fixture("anim.gif", buf, len);
	g_free(buf);
	CHECK(clean("anim.gif", "anim.clean", &type, err) == PICTURE_OK, "gif: cleaned");
	CHECK_STR(type, "image/png", "gif: becomes png");
	CHECK(width_of("anim.clean") == 40 && height_of("anim.clean") == 30,
	      "gif: one frame, 40x30");
	CHECK(pixel("anim.clean", 20, 25, 0) > 180 && pixel("anim.clean", 20, 25, 2) < 60,
	      "gif: the first (red) frame");
	g_object_unref(anim);
	g_object_unref(frames);
}

static void test_refused(void)
{
	struct bytes bomb = { 0 }, jbomb = { 0 }, rnd = { 0 }, heic = { 0 };
	static const unsigned char ihdr[] = { 0, 0, 0x4e, 0x20, 0, 0, 0x4e, 0x20, 8, 2, 0, 0, 0 };
	static const unsigned char idat[] = { 0x78, 0x01 };
	VipsImage *img = noise(400, 300);
	char err[ERR_LEN] = "", *m;
	const char *type = "untouched";
	unsigned char *sof;
	uint32_t seed = 12345;
	void *buf;
	size_t len, i;
	int rc;

	/* a PNG that says 20000x20000 and holds (almost) nothing: only a
	 * check before decoding can call it too large rather than broken */
	put(&bomb, "\211PNG\r\n\032\n", 8);
	png_chunk(&bomb, "IHDR", ihdr, sizeof(ihdr));
	png_chunk(&bomb, "IDAT", idat, sizeof(idat));
	png_chunk(&bomb, "IEND", "", 0);
	write_fixture("bomb.png", bomb.p, bomb.len);
	rc = clean("bomb.png", "bomb.clean", &type, err);
	printf("# %s\n", err);
	CHECK(rc == PICTURE_ERR_TOO_LARGE, "20000x20000 png: too large");
	CHECK(strstr(err, "20000x20000") != NULL, "too large: err names the size");
	CHECK(!exists("bomb.clean") && count_prefix("bomb.clean") == 0,
	      "too large: nothing written, no temporary left");
	CHECK_STR(type, "untouched", "too large: content type not set");

	/* a real JPEG whose SOF0 claims 10000x10000 */
	save_jpeg(img, &jbomb);
	sof = memmem(jbomb.p, jbomb.len, "\377\300", 2);
	if (!sof)
		abort();
	sof[5] = sof[7] = 0x27, sof[6] = sof[8] = 0x10;
	write_fixture("bomb.jpg", jbomb.p, jbomb.len);
	CHECK(clean("bomb.jpg", "bombj.clean", NULL, err) == PICTURE_ERR_TOO_LARGE &&
	      !exists("bombj.clean"), "10000x10000 jpeg header: too large, nothing written");

	/* the same JPEG's first half */
	if (vips_jpegsave_buffer(img, &buf, &len, "Q", 90, NULL))
		abort();
	write_fixture("cut.jpg", buf, len / 2);
	m = jpeg_markers(buf, len);
	CHECK(m != NULL, "truncation fixture: whole jpeg parses");
	g_free(buf);
	rc = clean("cut.jpg", "cut.clean", NULL, err);
	printf("# %s\n", err);
	CHECK(rc == PICTURE_ERR_DECODE, "truncated jpeg: cannot decode");
	CHECK(!exists("cut.clean") && count_prefix("cut.clean") == 0,
	      "truncated jpeg: nothing written, no temporary left");
	rc = variant("cut.jpg", 320, "cut.320", err);
	printf("# %s\n", err);
	CHECK(rc == PICTURE_ERR_DECODE && !exists("cut.320") && count_prefix("cut.320") == 0,
	      "truncated jpeg: no variant either");

	for (i = 0; i < 1000; i++) {
		unsigned char c;

		seed = seed * 1103515245 + 12345;
		c = (unsigned char)(seed >> 16);
		put(&rnd, &c, 1);
	}
	write_fixture("random.bin", rnd.p, rnd.len);
	CHECK(clean("random.bin", "random.clean", NULL, err) == PICTURE_ERR_DECODE &&
	      !exists("random.clean"), "random bytes: cannot decode, nothing written");

	/* an ISO BMFF box saying HEIC, then nothing a decoder can use */
	put(&heic, "\0\0\0\030ftypheic\0\0\0\0mif1heic", 24);
	put(&heic, rnd.p, 200);
	write_fixture("photo.heic", heic.p, heic.len);
	rc = clean("photo.heic", "heic.clean", NULL, err);
	printf("# %s\n", err);
	CHECK(rc == PICTURE_ERR_DECODE && !exists("heic.clean"),
	      "heic: not accepted, nothing written");

	/* a valid TIFF libvips could decode is still not an accepted type */
	if (vips_tiffsave_buffer(img, &buf, &len, NULL))
		abort();
	write_fixture("scan.tif", buf, len);
	g_free(buf);
	rc = clean("scan.tif", "tif.clean", NULL, err);
	printf("# %s\n", err);
	CHECK(rc == PICTURE_ERR_DECODE && !exists("tif.clean"), "tiff: not accepted");

	CHECK(clean("missing.jpg", "missing.clean", NULL, err) == PICTURE_ERR_IO &&
	      !exists("missing.clean"), "missing input: io error");
	CHECK(strstr(err, "open ") == err, "missing input: err names open");
	CHECK(clean("small.jpg", "no-such-dir/x.clean", NULL, err) == PICTURE_ERR_IO,
	      "unwritable output: io error");
	g_object_unref(img);
	free(bomb.p);
	free(jbomb.p);
	free(rnd.p);
	free(heic.p);
}

int main(void)
{
	char err[ERR_LEN] = "", cmd[128];

	if (!mkdtemp(dir))
		return 2;
	CHECK(picture_init(err) == 0, "picture_init");
	CHECK(picture_init(err) == 0, "picture_init again is harmless");
	test_jpeg_exif();
	test_png_chunks();
	test_cap_and_variants();
	test_webp();
	test_icc();
	test_gif();
	test_refused();
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	if (system(cmd) != 0)
		return 2;
	return unit_done();
}
