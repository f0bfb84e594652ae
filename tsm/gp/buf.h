/*
 * Bounded reader and capped writer: the only way libgp touches bytes it did
 * not produce itself (rules in tsm/gp/README.md).
 *
 * A gp_rd never reads past its end: every read either succeeds whole or
 * returns GP_ERR_TRUNC and leaves the cursor where it was.
 *
 * A gp_wr writes into caller memory (fixed) or into a heap block that grows
 * up to a hard maximum (dynamic). A write that does not fit fails whole with
 * GP_ERR_SPACE. Dynamic buffers are wiped before they are freed or moved,
 * so they may hold key material.
 */
#ifndef GP_BUF_H
#define GP_BUF_H

#include <stddef.h>
#include <stdint.h>

struct gp_rd {
	const uint8_t	*p;
	size_t		 len;
	size_t		 off;
};

void	gp_rd_init(struct gp_rd *, const uint8_t *, size_t);
size_t	gp_rd_left(const struct gp_rd *);
const uint8_t *gp_rd_ptr(const struct gp_rd *);
int	gp_rd_u8(struct gp_rd *, uint8_t *);
int	gp_rd_u16(struct gp_rd *, uint16_t *);	/* big endian */
int	gp_rd_u24(struct gp_rd *, uint32_t *);	/* big endian */
int	gp_rd_bytes(struct gp_rd *, size_t, const uint8_t **);
int	gp_rd_copy(struct gp_rd *, void *, size_t);
int	gp_rd_skip(struct gp_rd *, size_t);
/* Reads a 1-byte length then that many bytes. */
int	gp_rd_lv(struct gp_rd *, const uint8_t **, size_t *);

struct gp_wr {
	uint8_t		*p;
	size_t		 len;
	size_t		 cap;	/* bytes allocated / available */
	size_t		 max;	/* hard limit (== cap for fixed buffers) */
	int		 dyn;	/* 1 when p is owned and may grow */
};

void	gp_wr_init(struct gp_wr *, uint8_t *, size_t);
void	gp_wr_init_dyn(struct gp_wr *, size_t max);
void	gp_wr_free(struct gp_wr *);
void	gp_wr_reset(struct gp_wr *);	/* wipes, keeps storage */
int	gp_wr_reserve(struct gp_wr *, size_t);
int	gp_wr_u8(struct gp_wr *, uint8_t);
int	gp_wr_u16(struct gp_wr *, uint16_t);
int	gp_wr_put(struct gp_wr *, const void *, size_t);
int	gp_wr_lv(struct gp_wr *, const void *, size_t);	/* len <= 255 */
/* Hands the dynamic storage to the caller (who frees it); w becomes empty.
 * NULL for a fixed writer. gp_wr_put may copy from inside w itself. */
uint8_t *gp_wr_steal(struct gp_wr *, size_t *len);

/* Wipes memory in a way the compiler may not elide. */
void	gp_wipe(void *, size_t);
/* Constant-time comparison: 0 when equal. */
int	gp_ct_memcmp(const void *, const void *, size_t);

/* Hex helpers for tools and tests: upper-case output, strict input. */
int	gp_hex_decode(const char *, uint8_t *, size_t cap, size_t *outlen);
void	gp_hex_encode(const uint8_t *, size_t, char *out);	/* out: 2n+1 */

#endif
