/* backup.h - bookpics-admin backup / restore: store, conf and media of a $VAR. */
#ifndef BP_BACKUP_H
#define BP_BACKUP_H

#include <stdio.h>

#include "store.h"

/*
 * Back var up into dir (created mode 0700; an existing non-empty dir is
 * refused), while the site runs: dir/bookpics.conf (with its secrets, mode
 * 0600), dir/db (store_backup: Berkeley DB's hot backup of s, which is
 * var's open store), dir/media (the media cache, copied: Twilio may have
 * deleted the originals), and dir/BACKUP saying what and when. Every
 * change committed before the call is in it. One line per part to say
 * (may be NULL). Returns 0, or -1 with err (dir then holds a partial copy:
 * remove it).
 */
int backup_create(struct store *s, const char *var, const char *dir, FILE *say, char *err);

/*
 * Create newvar (which must not exist, or be an empty directory) from the
 * backup in dir: the conf, the store (then Berkeley DB's catastrophic
 * recovery on the copy, and store_open's schema check) and the media. The
 * restored site accepts the old tokens and Twilio signatures (same
 * token_secret and auth token). Returns 0, or -1 with err.
 */
int backup_restore(const char *dir, const char *newvar, FILE *say, char *err);

#endif
