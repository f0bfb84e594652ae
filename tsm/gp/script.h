/*
 * The agent script format: ETSI TS 102 226 expanded remote command and
 * response structures, as GP Amendment B (RAM over HTTP) carries them in
 * HTTP bodies. Only the definite-length templates are supported:
 *
 *   command script   AA len { 22 len C-APDU }...
 *   response script  AB len { 80 01 executed } { 23 len R-APDU }...
 *                    [ 90 01 bad format ]
 *
 * Decoding never allocates: the spans point into the caller's bytes and
 * fill a caller-supplied array (GP_ERR_SPACE when it is too small).
 * On error the writer of an encoder holds a partial script: reset it.
 */
#ifndef GP_SCRIPT_H
#define GP_SCRIPT_H

#include <stddef.h>
#include <stdint.h>

#include "gp/buf.h"
#include "gp/tlv.h"

/* TS 102 226 5.2.1 / 5.2.2 and TS 101 220 7.2 tag values. */
#define GP_SCRIPT_CMD		0xAA	/* command scripting, definite */
#define GP_SCRIPT_RSP		0xAB	/* response scripting, definite */
#define GP_SCRIPT_CMD_INDEF	0xAE	/* indefinite forms: refused */
#define GP_SCRIPT_RSP_INDEF	0xAF
#define GP_SCRIPT_CAPDU		0x22
#define GP_SCRIPT_RAPDU		0x23
#define GP_SCRIPT_IMMEDIATE	0x81	/* immediate action */
#define GP_SCRIPT_ERROR_ACTION	0x82
#define GP_SCRIPT_CHAINING	0x83
#define GP_SCRIPT_EXECUTED	0x80	/* number of executed commands */
#define GP_SCRIPT_BAD_FORMAT	0x90

/* Bad format values (TS 102 226 5.2.2). */
#define GP_SCRIPT_BAD_TAG	0x01	/* unknown tag found */
#define GP_SCRIPT_BAD_LENGTH	0x02	/* wrong length found */
#define GP_SCRIPT_NO_LENGTH	0x03	/* length not found */

/* Every APDU must parse as an ISO 7816-4 C-APDU (gp_apdu_parse). */
int	gp_script_encode(const struct gp_span *apdus, size_t n,
	    struct gp_wr *);
/*
 * Fills apdus[0..*n) with the C-APDUs of a command script. Script
 * chaining (83) is informational over HTTP and skipped; immediate and
 * error actions (81, 82) ask for proactive UICC behaviour an agent cannot
 * give, so they fail the whole script with GP_ERR_UNSUPPORTED rather than
 * letting it run without them. Indefinite length: GP_ERR_UNSUPPORTED.
 */
int	gp_script_decode(const uint8_t *, size_t, struct gp_span *apdus,
	    size_t cap, size_t *n);

struct gp_script_rsp {
	struct gp_span	*rapdus;	/* caller's array of cap entries */
	size_t		 cap;
	size_t		 n;		/* R-APDUs (data ‖ SW) */
	unsigned	 executed;	/* number of executed commands */
	int		 bad_format;	/* -1 absent, else the 90 value */
};

/* Writes AB { 80 executed, 23 R-APDU..., [90 bad_format] } from *rsp. */
int	gp_script_rsp_encode(const struct gp_script_rsp *, struct gp_wr *);
/* rsp->rapdus and rsp->cap set by the caller; the rest is filled in. */
int	gp_script_rsp_decode(const uint8_t *, size_t, struct gp_script_rsp *);

#endif
