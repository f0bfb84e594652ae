/*
 * Internal to the import files (import.c, import_read.c): the state of
 * one import run.
 */
#ifndef TSM_STORE_IMPORT_INT_H
#define TSM_STORE_IMPORT_INT_H

#include <openssl/evp.h>

#include "store/store_int.h"

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
};

void	tsm_import_bad(struct tsm_import *, uint64_t line, const char *);
int	tsm_import_row_add(struct tsm_import *, uint64_t line,
	    const struct tsm_import_row *);
int	tsm_import_finish(struct tsm_import *, int);

#endif
