/*
 * Internal to tsm/store: the backend vtable, the value type statements
 * bind and return, and the import row parsers (exposed for tests and
 * fuzzers). Everything above the vtable is written once for both SQL
 * dialects; a backend only prepares, binds, steps and maps its errors.
 */
#ifndef TSM_STORE_INT_H
#define TSM_STORE_INT_H

#include <stddef.h>
#include <stdint.h>

#include "store/store.h"

enum tsm_vtype { TSM_V_NULL, TSM_V_INT, TSM_V_TEXT, TSM_V_BLOB };

struct tsm_val {
	enum tsm_vtype	 t;
	int64_t		 i;
	const void	*p;	/* TEXT is not NUL-terminated on return */
	size_t		 n;
};

typedef int (*tsm_row_fn)(void *, const struct tsm_val *, size_t);

struct tsm_store_migration {
	int		 version;
	const char	*name;
	const char	*sql;
};
extern const struct tsm_store_migration tsm_store_sqlite_migrations[];
extern const struct tsm_store_migration tsm_store_mariadb_migrations[];

enum tsm_dialect { TSM_DIALECT_SQLITE, TSM_DIALECT_MARIADB };

/*
 * Statements are static strings: a backend may cache its prepared form
 * keyed by the pointer. Errors are mapped: unique violation ->
 * TSM_STORE_ERR_EXISTS, busy/deadlock/lock wait -> TSM_STORE_ERR_RETRY,
 * anything else -> TSM_STORE_ERR_DB with the message in errmsg.
 */
struct tsm_store_backend {
	const char		*name;
	enum tsm_dialect	 dialect;
	const struct tsm_store_migration *migrations;
	int	(*open)(const char *url, const struct tsm_store_opts *,
		    void **, char *err, size_t);
	void	(*close)(void *);
	int	(*exec)(void *, const char *, const struct tsm_val *, size_t,
		    int64_t *changes, int64_t *last_id);
	int	(*query)(void *, const char *, const struct tsm_val *, size_t,
		    tsm_row_fn, void *);
	int	(*begin)(void *);
	int	(*commit)(void *);
	int	(*rollback)(void *);
	int	(*script)(void *, const char *);	/* migration text */
	int	(*disk_bytes)(void *, int64_t *);
	const char *(*errmsg)(void *);
	const char *(*default_kek_path)(void *);	/* NULL: none */
};

extern const struct tsm_store_backend tsm_store_sqlite;
#ifdef TSM_HAVE_MARIADB
extern const struct tsm_store_backend tsm_store_mariadb;
#endif

struct tsm_store {
	const struct tsm_store_backend	*be;
	void				*db;
	struct tsm_audit_hasher		 hasher;
	struct tsm_kek			 kek;
	int				 kek_set;
	char				 kek_path[4096];
	int				 in_tx;
	uint8_t				 dek[32];	/* wiped on close */
	uint8_t				 kek_key[32];	/* file KEK, wiped */
	int				 kek_loaded;
	int64_t				 dek_id;	/* 0: not loaded */
	char				 err[256];
};

/* Personal field envelope (crypt.c). */
#define TSM_FIELD_OVERHEAD	(1 + 12 + 16)
int	tsm_crypt_dek(struct tsm_store *, int64_t id);	/* 0: current */
int	tsm_crypt_field(struct tsm_store *, const char *aad, const char *,
	    uint8_t *out, size_t cap, size_t *outlen);
int	tsm_decrypt_field(struct tsm_store *, const char *aad,
	    const uint8_t *, size_t, char *out, size_t cap);

/* Value constructors. */
struct tsm_val	tsm_v_int(int64_t);
struct tsm_val	tsm_v_text(const char *);	/* NULL or "" -> NULL */
struct tsm_val	tsm_v_blob(const void *, size_t);
/* Copies a TEXT/BLOB column into dst (NUL-terminated, truncating). */
void	tsm_v_copy(const struct tsm_val *, char *dst, size_t);
int64_t	tsm_now_ms(void);

/* Runs fn in a transaction, retrying transient failures with backoff. */
typedef int (*tsm_tx_fn)(struct tsm_store *, void *);
int	tsm_store_tx(struct tsm_store *, tsm_tx_fn, void *);

/* Audit append inside the caller's transaction (audit.c). */
int	tsm_audit_append_tx(struct tsm_store *, const char *actor,
	    const char *action, const char *object, const char *detail);
/* Canonical record bytes the chain hashes (audit.c). */
int	tsm_audit_record(int64_t seq, int64_t at, const char *actor,
	    const char *action, const char *object, const char *detail,
	    uint8_t **out, size_t *outlen);

/* Card row loading shared by card.c and import.c. */
int	tsm_card_load_tx(struct tsm_store *, const char *csn, int for_update,
	    struct tsm_card *);

/*
 * Shared with the MariaDB event-loop path (mariadb_async.c), which runs
 * the same statements step by step: the card row (parsed by tsm_card_row,
 * which returns 1 on a row), a transition's update and history row, and
 * the audit append (head locked, record inserted, head moved).
 */
extern const char tsm_sql_card_get[];
extern const char tsm_sql_card_get_lock[];
extern const char tsm_sql_card_update[];
extern const char tsm_sql_history_add[];
extern const char tsm_sql_audit_head_lock[];
extern const char tsm_sql_audit_insert[];
extern const char tsm_sql_audit_update_head[];
int	tsm_card_row(void *, const struct tsm_val *, size_t);
/* link = H(prev || record(seq, at, actor, action, object, detail)) */
int	tsm_audit_link(const struct tsm_audit_hasher *, int64_t seq,
	    int64_t at, const uint8_t prev[32], const char *actor,
	    const char *action, const char *object, const char *detail,
	    uint8_t link[32]);
void	tsm_audit_default(struct tsm_audit_hasher *);

/* ---- import rows (rows.c, csv.c, json.c) ------------------------------ */
struct tsm_import_row {
	char	csn[TSM_CSN_MAX + 1];
	char	iin[33];
	char	cin[33];
	char	kdd[65];
	char	product[TSM_NAME_MAX + 1];
	char	batch[TSM_NAME_MAX + 1];
	int	tkv;			/* -1: absent */
};

enum tsm_field {
	TSM_F_CSN, TSM_F_IIN, TSM_F_CIN, TSM_F_KDD, TSM_F_PRODUCT,
	TSM_F_BATCH, TSM_F_TKV, TSM_F_COUNT
};

#define TSM_LINE_MAX	4096	/* longest CSV line / JSON object */

/* Validates and normalises one field (hex upper-cased). */
int	tsm_row_set(struct tsm_import_row *, enum tsm_field, const char *,
	    size_t, char *why, size_t);
int	tsm_row_field_parse(const char *, size_t, enum tsm_field *);
int	tsm_row_complete(const struct tsm_import_row *, char *why, size_t);

struct tsm_csv_cols {
	int	map[16];	/* column index -> enum tsm_field or -1 */
	int	ncols;
};
int	tsm_csv_header(const char *, size_t, struct tsm_csv_cols *, char *,
	    size_t);
int	tsm_csv_row(const struct tsm_csv_cols *, const char *, size_t,
	    struct tsm_import_row *, char *why, size_t);
int	tsm_json_row(const char *, size_t, struct tsm_import_row *, char *,
	    size_t);

/*
 * Splits a stream holding a JSON array of objects (or objects one after
 * another, JSON Lines) into single objects without holding the file.
 */
struct tsm_json_split {
	char		 buf[TSM_LINE_MAX];
	size_t		 len;
	int		 depth;
	int		 in_str;
	int		 esc;
	int		 started;	/* saw the opening '[' or an object */
	int		 ended;		/* saw the closing ']' */
	int		 need_sep;	/* array: ',' or ']' comes next */
	uint64_t	 count;		/* objects begun */
	uint64_t	 line;		/* current line (1-based) */
	uint64_t	 obj_line;	/* line where the object began */
};
void	tsm_json_split_init(struct tsm_json_split *);
/*
 * Feeds one byte. Returns 1 when buf holds a complete object, 0 to go on,
 * or TSM_STORE_ERR_FORMAT/TOOLARGE with why filled.
 */
int	tsm_json_split_byte(struct tsm_json_split *, int, char *why, size_t);
/* At end of input: 0, or FORMAT when an object or the array is open. */
int	tsm_json_split_end(struct tsm_json_split *, char *why, size_t);

#endif
