/*
 * Shared by the store suite's files: a fresh, migrated store per test on
 * whichever backend the URL template (argv[1], "%s" = database name)
 * names, and small helpers.
 */
#ifndef STORE_SUITE_H
#define STORE_SUITE_H

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>

#include <cmocka.h>

#include "store/store_int.h"

extern const char *suite_template;
extern const char *suite_dir;	/* scratch directory for files */

/* URL of a new database named after the test; *s opened and migrated. */
void	suite_url(char *, size_t);
void	suite_open(const char *url, struct tsm_store **);
struct tsm_store *suite_fresh(char *url, size_t);
/* A product and n cards CSN prefix+i, imported through the CSV path. */
void	suite_cards(struct tsm_store *, const char *prefix, int n);
void	suite_write(const char *path, const char *text);
int64_t	suite_count(struct tsm_store *, const char *sql);
int64_t	suite_holder(struct tsm_store *);
void	suite_raw(struct tsm_store *, const char *sql);
void	suite_move(struct tsm_store *, const char *csn, enum tsm_card_state,
	    const char *loc, int64_t holder);

extern const struct CMUnitTest suite_lifecycle[];
extern const size_t suite_lifecycle_n;
extern const struct CMUnitTest suite_import[];
extern const size_t suite_import_n;
extern const struct CMUnitTest suite_audit[];
extern const size_t suite_audit_n;
extern const struct CMUnitTest suite_concurrency[];
extern const size_t suite_concurrency_n;
extern const struct CMUnitTest suite_channel[];
extern const size_t suite_channel_n;
extern const struct CMUnitTest suite_versions[];
extern const size_t suite_versions_n;
/* MariaDB only: the event-loop API and reconnects (suite_mariadb.c). */
extern const struct CMUnitTest suite_mariadb[];
extern const size_t suite_mariadb_n;

#endif
