/*
 * The card registry as GET STATUS returns it, in both response formats,
 * with privilege and life cycle state names.
 *
 * Entries are written into a caller array (nothing is allocated) and
 * their spans point into the response data: keep it alive. On a
 * malformed entry a parser stops and returns the error, and *count still
 * tells how many entries were read before it (they are complete and
 * usable): a caller can report both.
 */
#ifndef GP_REGISTRY_H
#define GP_REGISTRY_H

#include <stddef.h>
#include <stdint.h>

#include "gp/tlv.h"

#define GP_REG_MODULES_MAX	16
#define GP_REG_IMPLICIT_MAX	16

struct gp_registry_entry {
	struct gp_span	 aid;			/* 4F, at most 16 bytes */
	uint8_t		 lifecycle;		/* first byte of 9F70 */
	int		 has_lifecycle;
	uint8_t		 privileges[3];		/* C5 */
	size_t		 privileges_len;	/* 0 (absent), 1 or 3 */
	struct gp_span	 elf_aid;		/* C4 */
	struct gp_span	 elf_version;		/* CE */
	struct gp_span	 sd_aid;		/* CC */
	struct gp_span	 modules[GP_REG_MODULES_MAX];	/* 84 */
	size_t		 nmodules;
	struct gp_span	 implicit[GP_REG_IMPLICIT_MAX];	/* CF */
	size_t		 nimplicit;
	int		 truncated;	/* more 84 or CF than the arrays hold */
};

/*
 * Tag format (GET STATUS P2 bit 02): a sequence of E3 entries with 4F,
 * 9F70 (1 or 2 bytes), C5 (1 or 3 bytes), C4, CE, CC, 84 repeated and
 * CF repeated; other tags (EA ...) are ignored; an entry with no or an
 * empty 4F is skipped. Another top-level tag, a truncated TLV or a bad
 * element is an error; a full array is GP_ERR_SPACE.
 */
int	gp_registry_parse(const uint8_t *, size_t,
	    struct gp_registry_entry *entries, size_t cap, size_t *count);
/*
 * Legacy format (P2 00). scope is the GET STATUS P1 (GP_STATUS_ISD, _APPS,
 * _ELF or _ELF_MODULES of cmd.h). Entries: AID length, AID, life cycle,
 * privileges (1 byte); for GP_STATUS_ELF_MODULES each entry is followed by a module
 * count and that many (length, AID). An entry with an empty AID is
 * skipped.
 */
int	gp_registry_parse_legacy(const uint8_t *, size_t, uint8_t scope,
	    struct gp_registry_entry *entries, size_t cap, size_t *count);

/* 1 for SW 6310: more data, send GET STATUS again with P2 bit 01 set. */
int	gp_registry_more(uint16_t sw);

/*
 * Privileges. Index 0..23 numbers the bits b8..b1 of byte 1, then of
 * byte 2, then of byte 3 (FORMAT.md parse.privileges names).
 */
#define GP_PRIV_BITS	24
const char *gp_privilege_name(size_t index);	/* NULL beyond 23 */
/* Names of the bits set in 1 or 3 privilege bytes, in bit order. */
int	gp_privileges_names(const uint8_t *, size_t, const char **names,
	    size_t cap, size_t *count);
/* Sets the bit called name in priv; GP_ERR_NOTFOUND for an unknown name. */
int	gp_privilege_set(uint8_t priv[3], const char *name);
/* 1 when bytes 2 and 3 are zero (the 1-byte encoding suffices), else 3. */
size_t	gp_privileges_len(const uint8_t priv[3]);

/* Life cycle states (GP Card Specification 11.1.1). */
enum gp_lc_kind {
	GP_LC_CARD,
	GP_LC_APP,
	GP_LC_SD,
	GP_LC_ELF,
};
/* "op_ready", "selectable", "locked", ...; NULL for an undefined state. */
const char *gp_lifecycle_name(enum gp_lc_kind, uint8_t state);

#endif
