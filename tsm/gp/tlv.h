/*
 * Strict BER-TLV (ISO 7816-4 / X.690 definite form) as GlobalPlatform uses
 * it: parse, walk, find, iterate and encode.
 *
 * Parsing never allocates: a gp_tlv points into the caller's bytes.
 *
 * What is accepted (and why):
 * - Tags of 1 to 4 bytes, held big endian in a uint32_t (9F7F = 0x9F7F).
 *   Tag numbers below 31 in the multi-byte form (EMV's 9F02) are accepted
 *   because ISO 7816 and EMV use them; a first subsequent byte of 80 (a
 *   leading zero group, X.690 8.1.2.4.2 c) and a first byte of 00 (ISO
 *   padding, which GP responses never contain) are rejected.
 * - Lengths in short form and in long form 81, 82, 83, 84. Long forms
 *   that are not minimal (81 05, 82 00 10) are accepted, as BER allows
 *   them and cards send them; 80 (indefinite) and 85..FF are rejected.
 * - A length running past its buffer is GP_ERR_TRUNC, never clamped.
 * Encoding always writes the minimal length form.
 */
#ifndef GP_TLV_H
#define GP_TLV_H

#include <stddef.h>
#include <stdint.h>

#include "gp/buf.h"

#define GP_TLV_DEPTH_MAX	16	/* nesting levels a walk descends */
#define GP_TLV_TAG_MAX		4	/* bytes in a tag */
#define GP_TLV_LEN_MAX		4	/* bytes after 8x in a long length */

/*
 * A byte range inside parsed input. p == NULL: the element is absent;
 * p != NULL with len 0: present and empty.
 */
struct gp_span {
	const uint8_t	*p;
	size_t		 len;
};

struct gp_tlv {
	uint32_t	 tag;
	const uint8_t	*v;	/* value */
	size_t		 len;	/* value length */
	const uint8_t	*raw;	/* the whole encoding, tag first */
	size_t		 rawlen;
};

/* 1 when the tag's first byte has the constructed bit (20). */
int	gp_tlv_constructed(uint32_t tag);
/* Number of bytes of a well-formed tag, 0 when tag is not one. */
size_t	gp_tlv_tag_size(uint32_t tag);

/* Reads one TLV; on error the reader has not moved. */
int	gp_tlv_read(struct gp_rd *, struct gp_tlv *);
/* The buffer holds exactly one TLV and its tag is tag. */
int	gp_tlv_parse_one(const uint8_t *, size_t, uint32_t tag,
	    struct gp_tlv *);

/*
 * Walks a sequence of TLVs. With GP_TLV_RECURSE the values of constructed
 * tags are walked as sequences too, up to GP_TLV_DEPTH_MAX levels
 * (GP_ERR_DEPTH beyond). visit (may be NULL) sees every TLV with its depth
 * (1 at the top); a non-zero return stops the walk and is returned.
 */
#define GP_TLV_RECURSE	0x01
typedef int (*gp_tlv_visit)(void *arg, const struct gp_tlv *, int depth);
int	gp_tlv_walk(const uint8_t *, size_t, int flags, gp_tlv_visit,
	    void *arg);
/* gp_tlv_walk without a visitor: 0 when the whole sequence is well formed. */
int	gp_tlv_check(const uint8_t *, size_t, int flags);

/* Iterator over one sequence (no descent). */
struct gp_tlv_it {
	struct gp_rd	 rd;
};
void	gp_tlv_it_init(struct gp_tlv_it *, const uint8_t *, size_t);
/* 1 with *t filled, 0 at the end of the sequence, < 0 on malformed input. */
int	gp_tlv_next(struct gp_tlv_it *, struct gp_tlv *);

/*
 * First TLV with tag in a sequence; GP_ERR_NOTFOUND when absent. The
 * sequence is checked up to the match (not after it).
 */
int	gp_tlv_find(const uint8_t *, size_t, uint32_t tag, struct gp_tlv *);
/*
 * Follows a path of tags (66, 73, 60): each step is a find in the value of
 * the previous one. At most GP_TLV_DEPTH_MAX steps.
 */
int	gp_tlv_find_path(const uint8_t *, size_t, const uint32_t *path,
	    size_t npath, struct gp_tlv *);

/* Encoding; every function fails whole (nothing written) on error. */
int	gp_tlv_put_tag(struct gp_wr *, uint32_t tag);
int	gp_tlv_put_len(struct gp_wr *, size_t len);
int	gp_tlv_put(struct gp_wr *, uint32_t tag, const void *v, size_t len);
/*
 * Constructed values: open writes the tag and a one-byte length
 * placeholder and returns a mark; the caller writes the children; close
 * patches the length, moving the children when the length needs more
 * bytes (so the result is minimal).
 */
int	gp_tlv_open(struct gp_wr *, uint32_t tag, size_t *mark);
int	gp_tlv_close(struct gp_wr *, size_t mark);

#endif
