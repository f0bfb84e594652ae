/*
 * The known-answer vector runner (tsmctl vectors): file reader and the
 * per-kind checkers. The format is ../shared/vectors/FORMAT.md.
 *
 * A checker returns VEC_PASS, VEC_FAIL or VEC_SKIP and, for a failure,
 * writes one line saying what differed into why (vec_fail does that).
 */
#ifndef TSMCTL_VEC_H
#define TSMCTL_VEC_H

#include <stddef.h>
#include <stdint.h>

enum { VEC_PASS = 0, VEC_FAIL = 1, VEC_SKIP = 2 };

struct vec_kv {
	char	*k;
	char	*v;
};

struct vec {
	const char	*path;		/* the .vec file */
	char		 dir[4096];	/* its directory, for relative files */
	char		*name;
	int		 line;		/* where [name] stands */
	struct vec_kv	*kv;
	size_t		 nkv;
	char		 why[512];
};

/* Value of key, or NULL when the vector does not have it. */
const char *vec_get(const struct vec *, const char *key);
int	vec_has(const struct vec *, const char *key);
/* Decodes a hex value into out; -1 (and why set) when absent or bad. */
int	vec_hex(struct vec *, const char *key, uint8_t *out, size_t cap,
	    size_t *n);
/* Like vec_hex but allocates; caller frees. */
int	vec_hex_alloc(struct vec *, const char *key, uint8_t **out, size_t *n);
/* Decimal integer; def when absent; -1 on a malformed value. */
long	vec_int(struct vec *, const char *key, long def);
/* Records a failure reason and returns VEC_FAIL. */
int	vec_fail(struct vec *, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));
/* Compares got with the hex expectation under key (if present). */
int	vec_expect(struct vec *, const char *key, const uint8_t *got, size_t n);
/* Compares a string result with the value under key (if present). */
int	vec_expect_str(struct vec *, const char *key, const char *got);
/* Resolves a path relative to the vector's file. */
void	vec_path(const struct vec *, const char *rel, char *out, size_t cap);

/* Checkers, one per kind (see the table in vectors.c). */
int	vec_check_kdf_scp03(struct vec *);
int	vec_check_kdf_scp02(struct vec *);
int	vec_check_kcv(struct vec *);
int	vec_check_diversify(struct vec *);
int	vec_check_keyenc_scp02(struct vec *);
int	vec_check_keyenc_scp03(struct vec *);
int	vec_check_session_scp02(struct vec *);
int	vec_check_session_scp03(struct vec *);
int	vec_check_wrap_scp02(struct vec *);
int	vec_check_wrap_scp03(struct vec *);
int	vec_check_storedata_keys(struct vec *);
int	vec_check_cap(struct vec *);
int	vec_check_token_data(struct vec *);
int	vec_check_token_dm(struct vec *);
int	vec_check_parse_cplc(struct vec *);
int	vec_check_parse_card_data(struct vec *);
int	vec_check_parse_card_capabilities(struct vec *);
int	vec_check_parse_card_resources(struct vec *);
int	vec_check_parse_key_info(struct vec *);
int	vec_check_parse_registry(struct vec *);
int	vec_check_parse_privileges(struct vec *);
int	vec_check_build_sd_params(struct vec *);
int	vec_check_build_uicc_params(struct vec *);
int	vec_check_build_sim_params(struct vec *);

#endif
