/* picture.h - pictures made safe to show: upright, sRGB, capped, no metadata; WebP variants. */
#ifndef BP_PICTURE_H
#define BP_PICTURE_H

/*
 * A picture a texter sent is untrusted bytes. picture_clean() turns it into
 * the only version a browser ever gets; picture_variant() makes the small
 * WebP copies the wall's srcset lists. Both use libvips; this header does
 * not include it, so callers need no libvips flags (only the link does).
 *
 * Accepted types are JPEG, PNG, GIF and WebP, recognised by their bytes
 * (never by name or Content-Type). Everything else, including types
 * libvips could decode (HEIC/AVIF, TIFF, SVG, PDF, ...), is
 * PICTURE_ERR_DECODE: fewer decoders facing hostile files, and these four
 * are what every browser shows. Animated GIF and WebP keep their first frame.
 *
 * Results: 0 on success, or one of the negative codes below, with err
 * (ERR_LEN) filled naming what failed. On any failure nothing is created
 * at out_path (a file already there is left as it was) and no temporary
 * file is left behind: output is written to a temporary file in out_path's
 * directory and renamed over out_path only when complete and synced.
 */
enum picture_result {
	PICTURE_OK = 0,
	/* reading the input, writing the output, starting libvips, bad width */
	PICTURE_ERR_IO = -1,
	/* not an accepted image type, or its bytes do not decode (truncated) */
	PICTURE_ERR_DECODE = -2,
	/* over PICTURE_MAX_PIXELS (read from the header, before any pixel is
	 * decoded: decompression bombs) or over PICTURE_MAX_BYTES on disk */
	PICTURE_ERR_TOO_LARGE = -3,
};

#define PICTURE_MAX_PIXELS 50000000	/* 50 megapixels, width x height */
#define PICTURE_MAX_BYTES (64 * 1024 * 1024)
#define PICTURE_MAX_SIDE 2048	/* the clean picture's longest side */

/*
 * Start libvips, once per process, before any other picture_ call:
 * VIPS_INIT, no operation cache (a FastCGI process sees each picture once;
 * the cache would only hold memory), one worker thread (the host's cores
 * belong to the other processes), loaders not fuzzed for hostile input
 * blocked. Calling it again is harmless. Returns 0, or -1 with err filled.
 */
int picture_init(char *err);

/*
 * Clean the picture in in_path into out_path: decoded once, turned upright
 * from its EXIF orientation, converted to sRGB (through its ICC profile if
 * one is embedded), shrunk (never enlarged) to at most PICTURE_MAX_SIDE px
 * on its long side, and re-encoded with every metadata block dropped (EXIF
 * including GPS, XMP, IPTC, ICC, comments, PNG text chunks):
 *   JPEG -> JPEG (quality 85), PNG -> PNG, WebP -> WebP (quality 85),
 *   GIF -> PNG of its first frame (PNG keeps GIF's transparency and
 *   palette colours exactly; an animation would need every frame decoded,
 *   a bomb risk for a wall that shows stills).
 * A truncated or corrupt file is PICTURE_ERR_DECODE, never a half-grey
 * picture. *content_type_out (may be NULL) is set on success to a static
 * string: "image/jpeg", "image/png" or "image/webp".
 */
int picture_clean(const char *in_path, const char *out_path,
		  const char **content_type_out, char *err);

/*
 * Write a WebP (quality 80, no metadata) of clean_path, a picture made by
 * picture_clean(), at most width px wide, height in proportion, never
 * enlarged: a picture narrower than width keeps its size. width is 1 to
 * PICTURE_MAX_SIDE (the site uses 320, 640 and 1280). The input is checked
 * as in picture_clean() (accepted types, pixel limit, decode errors).
 */
int picture_variant(const char *clean_path, int width, const char *out_path,
		    char *err);

#endif
