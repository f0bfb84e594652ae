/*
 * Parsers of the card data a host reads with GET DATA: CPLC (9F7F), card
 * recognition data (66), card capabilities (67), extended card resources
 * (FF21), key information (E0), IIN (42) and CIN (45).
 *
 * Each parser takes the response data (no SW), fills a plain struct whose
 * spans point into that input (keep it alive), and returns 0 or a negative
 * gp_err. The input must be exactly the one expected TLV: a trailing byte
 * or another outer tag is GP_ERR_FORMAT. Arrays have fixed capacities; a
 * response with more elements fails with GP_ERR_SPACE.
 */
#ifndef GP_CARDDATA_H
#define GP_CARDDATA_H

#include <stddef.h>
#include <stdint.h>

#include "gp/tlv.h"

/* CPLC: the 42-byte value of 9F7F, cut into its 18 fields (big endian). */
#define GP_CPLC_LEN	42
struct gp_cplc {
	uint8_t	ic_fabricator[2];
	uint8_t	ic_type[2];
	uint8_t	os_id[2];
	uint8_t	os_release_date[2];
	uint8_t	os_release_level[2];
	uint8_t	ic_fabrication_date[2];
	uint8_t	ic_serial[4];
	uint8_t	ic_batch_id[2];
	uint8_t	module_fabricator[2];
	uint8_t	module_packaging_date[2];
	uint8_t	icc_manufacturer[2];
	uint8_t	ic_embedding_date[2];
	uint8_t	pre_personalizer[2];
	uint8_t	pre_perso_equipment_date[2];
	uint8_t	pre_perso_equipment_id[4];
	uint8_t	personalizer[2];
	uint8_t	personalization_date[2];
	uint8_t	perso_equipment_id[4];
};

/* Input: 9F7F 2A followed by exactly 42 bytes. */
int	gp_cplc_parse(const uint8_t *, size_t, struct gp_cplc *);

/*
 * Card recognition data: 66 { 73 { 06 ..., 60 {06 version}, 63 ...,
 * 64 {06 scp}..., 65 {06 card config}, 66 {06 chip} } }. A bare 73 is
 * accepted too. Unknown tags inside 73 are ignored.
 */
#define GP_CRD_SCP_MAX	8
struct gp_crd_scp {
	uint8_t		 id;	/* byte after 1.2.840.114283.4, as is */
	uint32_t	 i;	/* remaining bytes as one base-128 arc */
	int		 has_i;
};

struct gp_card_data {
	/* Arcs after 1.2.840.114283.2 (encoded OID bytes): 02 01 01 = 2.1.1. */
	struct gp_span	 gp_version;
	struct gp_crd_scp scp[GP_CRD_SCP_MAX];
	size_t		 nscp;
	struct gp_span	 card_config_oid;	/* whole OID, encoded */
	struct gp_span	 chip_oid;		/* whole OID, encoded */
};

int	gp_card_data_parse(const uint8_t *, size_t, struct gp_card_data *);

/*
 * Encoded OID to dotted text (2A864886FC6B -> 1.2.840.114283). Strict:
 * no empty OID, no unterminated or non-minimal (leading 80) arc, no arc
 * above 2^32 - 1. GP_ERR_SPACE when out (cap bytes, NUL included) is short.
 */
int	gp_oid_to_str(const uint8_t *, size_t, char *out, size_t cap);
/* Same for a run of arcs without the first-byte 40*x+y rule (versions). */
int	gp_oid_arcs_to_str(const uint8_t *, size_t, char *out, size_t cap);

/*
 * Card capabilities: 67 { A0 { 80 id, 81 options, 82 key lengths }...,
 * 81..88 }. A 67 whose only content is another 67 (a real-card quirk)
 * is unwrapped once.
 */
#define GP_CAPS_SCP_MAX	8
struct gp_caps_scp {
	uint8_t		 id;
	int		 has_id;
	struct gp_span	 options;	/* supported i values, one per byte */
	struct gp_span	 key_lengths;
};

struct gp_card_caps {
	struct gp_caps_scp scp[GP_CAPS_SCP_MAX];
	size_t		 nscp;
	struct gp_span	 ssd_privileges;	/* 81 */
	struct gp_span	 app_privileges;	/* 82 */
	struct gp_span	 lfdb_hash_algs;	/* 83 */
	struct gp_span	 lfdb_enc_suites;	/* 84 */
	struct gp_span	 token_suites;		/* 85 */
	struct gp_span	 receipt_suites;	/* 86 */
	struct gp_span	 dap_suites;		/* 87 */
	struct gp_span	 key_params;		/* 88 */
};

int	gp_card_caps_parse(const uint8_t *, size_t, struct gp_card_caps *);

/* Extended card resources FF21: big-endian values of 1 to 4 bytes. */
struct gp_card_resources {
	uint32_t	 installed_apps;	/* 81 */
	uint32_t	 free_nvm;		/* 82 */
	uint32_t	 free_vm;		/* 83 */
	int		 has_installed_apps, has_free_nvm, has_free_vm;
};

int	gp_card_resources_parse(const uint8_t *, size_t,
	    struct gp_card_resources *);

/*
 * Key information template E0 with one C0 per key. Basic format: id,
 * version, then (type, length) pairs, length 00 meaning 256. Extended
 * format (third byte FF): components FF type len(2) (the FF may be
 * missing, as some cards send) while more than 4 bytes remain, then key
 * usage and key access as length-value. A zero-length C0 is skipped.
 */
#define GP_KEY_COMP_MAX	8
struct gp_key_comp {
	uint8_t		 type;
	uint32_t	 len;
};

struct gp_key_info {
	uint8_t		 id;
	uint8_t		 version;
	int		 extended;
	struct gp_key_comp comp[GP_KEY_COMP_MAX];
	size_t		 ncomp;
	struct gp_span	 usage;		/* extended format only */
	struct gp_span	 access;	/* extended format only */
};

/* *count is set also on error (keys fully read before it). */
int	gp_key_info_parse(const uint8_t *, size_t, struct gp_key_info *keys,
	    size_t cap, size_t *count);

/* Issuer identification number (42) and card image number (45). */
int	gp_iin_parse(const uint8_t *, size_t, struct gp_span *);
int	gp_cin_parse(const uint8_t *, size_t, struct gp_span *);

#endif
