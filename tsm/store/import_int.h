/*
 * Internal to the import files (import.c, import_read.c): the state of
 * one import run.
 */
#ifndef TSM_STORE_IMPORT_INT_H
#define TSM_STORE_IMPORT_INT_H

#include <openssl/evp.h>

#include "store/store_int.h"

/*
 * Rows wait in a small buffer and go in TSM_IMPORT_BATCH at a time, as
 * one multi-row INSERT (one round trip instead of one per card).
 */
#define TSM_IMPORT_BATCH	64

struct tsm_import_pending {
	struct tsm_import_row	row;
	uint64_t		line;
	int64_t			product_id;
	int64_t			batch_id;
};

struct tsm_import {
	struct tsm_store		*s;
	const struct tsm_import_opts	*o;
	struct tsm_import_result	*res;
	const char			*name;
	EVP_MD_CTX			*md;
	uint64_t			 max_bad;
	int64_t				 now;
	int				 in_tx;
	int				 failed;
	uint64_t			 chunk_rows;
	char				 product[TSM_NAME_MAX + 1];
	int64_t				 product_id;
	char				 batch[TSM_NAME_MAX + 1];
	int64_t				 batch_id;
	char				 first_csn[TSM_CSN_MAX + 1];
	char				 last_csn[TSM_CSN_MAX + 1];
	struct tsm_import_pending	*pend;	/* TSM_IMPORT_BATCH */
	struct tsm_val			*vals;	/* 8 per pending row */
	int				 npend;
	int				 flush_err;	/* from a flush */
};

void	tsm_import_bad(struct tsm_import *, uint64_t line, const char *);
int	tsm_import_row_add(struct tsm_import *, uint64_t line,
	    const struct tsm_import_row *);
int	tsm_import_finish(struct tsm_import *, int);

#endif
