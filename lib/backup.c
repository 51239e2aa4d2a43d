/* backup.c - hot backup and restore of a $VAR (store, conf, media cache). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "backup.h"
#include "err.h"
#include "fifo.h"
#include "version.h"

#define PATH_LEN 4096

/* Is path missing or an empty directory? Then make it (mode 0700). 0/-1. */
static int fresh_dir(const char *path, const char *what, char *err)
{
	struct dirent *e;
	DIR *d = opendir(path);

	if (!d && errno != ENOENT)
		return err_set(err, "%s %s: %s", what, path, strerror(errno));
	if (d) {
		while ((e = readdir(d)))
			if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) {
				closedir(d);
				return err_set(err, "%s %s is not empty: refusing to write into it",
					       what, path);
			}
		closedir(d);
	}
	if (mkdir(path, 0700) && errno != EEXIST)
		return err_set(err, "mkdir %s: %s", path, strerror(errno));
	if (chmod(path, 0700))
		return err_set(err, "chmod %s: %s", path, strerror(errno));
	return 0;
}

/* Copy file src to dst (created, mode), fsync'd. 0/-1. */
static int copy_file(const char *src, const char *dst, mode_t mode, char *err)
{
	char buf[65536];
	int in = -1, out = -1, ret = -1;
	ssize_t n;

	in = open(src, O_RDONLY | O_CLOEXEC);
	if (in < 0) {
		err_set(err, "open %s: %s", src, strerror(errno));
		goto out;
	}
	out = open(dst, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
	if (out < 0) {
		err_set(err, "create %s: %s", dst, strerror(errno));
		goto out;
	}
	while ((n = read(in, buf, sizeof(buf))) > 0)
		if (write(out, buf, (size_t)n) != n) {
			err_set(err, "write %s: %s", dst, strerror(errno));
			goto out;
		}
	if (n < 0) {
		err_set(err, "read %s: %s", src, strerror(errno));
		goto out;
	}
	if (fsync(out)) {
		err_set(err, "fsync %s: %s", dst, strerror(errno));
		goto out;
	}
	ret = 0;
out:
	if (in >= 0)
		close(in);
	if (out >= 0)
		close(out);
	return ret;
}

/*
 * Copy the regular files of tree src into dst (made), recursively,
 * skipping directories named skip (the media cache's tmp: locks and
 * partial fetches). *files counts the files. 0/-1.
 */
static int copy_tree(const char *src, const char *dst, const char *skip, long *files, char *err)
{
	char from[PATH_LEN], to[PATH_LEN];
	struct dirent *e;
	struct stat st;
	int ret = 0;
	DIR *d;

	if (mkdir(dst, 0700) && errno != EEXIST)
		return err_set(err, "mkdir %s: %s", dst, strerror(errno));
	d = opendir(src);
	if (!d)
		return errno == ENOENT ? 0 : err_set(err, "opendir %s: %s", src, strerror(errno));
	while (!ret && (e = readdir(d))) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		snprintf(from, sizeof(from), "%s/%s", src, e->d_name);
		snprintf(to, sizeof(to), "%s/%s", dst, e->d_name);
		if (lstat(from, &st))
			continue;	/* gone meanwhile: a cache may drop files */
		if (S_ISDIR(st.st_mode) && strcmp(e->d_name, skip))
			ret = copy_tree(from, to, skip, files, err);
		else if (S_ISREG(st.st_mode) && !(ret = copy_file(from, to, 0600, err)))
			(*files)++;
	}
	closedir(d);
	return ret;
}

static void say_line(FILE *say, const char *fmt, const char *a, long n)
{
	if (say) {
		fprintf(say, fmt, a, n);
		fflush(say);
	}
}

int backup_create(struct store *s, const char *var, const char *dir, FILE *say, char *err)
{
	char from[PATH_LEN], to[PATH_LEN], when[32];
	long files = 0;
	time_t now = time(NULL);
	FILE *f;

	if (fresh_dir(dir, "backup directory", err))
		return -1;
	snprintf(from, sizeof(from), "%s/bookpics.conf", var);
	snprintf(to, sizeof(to), "%s/bookpics.conf", dir);
	if (copy_file(from, to, 0600, err))
		return -1;
	say_line(say, "conf: %s (secrets: keep it private)\n", to, 0);
	snprintf(to, sizeof(to), "%s/db", dir);
	if (store_backup(s, to, err))
		return -1;
	say_line(say, "store: %s\n", to, 0);
	snprintf(from, sizeof(from), "%s/media", var);
	snprintf(to, sizeof(to), "%s/media", dir);
	if (copy_tree(from, to, "tmp", &files, err))
		return -1;
	say_line(say, "media: %s (%ld files)\n", to, files);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", gmtime(&now));
	snprintf(to, sizeof(to), "%s/BACKUP", dir);
	f = fopen(to, "w");
	if (!f)
		return err_set(err, "create %s: %s", to, strerror(errno));
	fprintf(f, "bookpics backup\nversion %s\nschema %d\ntime %s\nmedia files %ld\n",
		version_text, STORE_SCHEMA, when, files);
	if (ferror(f) | fclose(f))
		return err_set(err, "write %s: failed", to);
	return 0;
}

int backup_restore(const char *dir, const char *newvar, FILE *say, char *err)
{
	char from[PATH_LEN], to[PATH_LEN];
	long files = 0;
	struct store *s;
	struct stat st;

	snprintf(from, sizeof(from), "%s/BACKUP", dir);
	if (stat(from, &st))
		return err_set(err, "%s: not a bookpics backup (no BACKUP file)", dir);
	if (fresh_dir(newvar, "restore target", err))
		return -1;
	snprintf(from, sizeof(from), "%s/bookpics.conf", dir);
	snprintf(to, sizeof(to), "%s/bookpics.conf", newvar);
	if (copy_file(from, to, 0600, err))
		return -1;
	snprintf(from, sizeof(from), "%s/db", dir);
	snprintf(to, sizeof(to), "%s/db", newvar);
	files = 0;
	if (copy_tree(from, to, "", &files, err) || store_recover(to, err))
		return -1;
	s = store_open(to, err);	/* the schema: refused if newer, upgraded if older */
	if (!s)
		return -1;
	store_close(s);
	say_line(say, "store: %s (recovered)\n", to, 0);
	snprintf(from, sizeof(from), "%s/media", dir);
	snprintf(to, sizeof(to), "%s/media", newvar);
	files = 0;
	if (copy_tree(from, to, "", &files, err))
		return -1;
	say_line(say, "media: %s (%ld files)\n", to, files);
	return fifo_create(newvar, err);
}
