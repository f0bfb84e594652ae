/*
 * The agent script format: ETSI TS 102 226 expanded remote command and
 * response structures, as GP Amendment B (RAM over HTTP) carries them in
 * HTTP bodies. Only the definite-length templates are supported:
 *
 *   command script   AA len { 22 len C-APDU [ DF20 len R-APDU ] }...
 *   response script  AB len { 80 01 executed } { 23 len R-APDU }...
 *                    [ 90 01 bad format ]
 *   (a count over 255, for a script of more than 255 commands, takes two
 *   bytes: 80 02 hi lo, 90 02 hi lo; our extension of TS 102 226's one
 *   byte, sent only to an agent that announced it: docs/protocol/agent.md)
 *
 * DF 20 (private tag, this project's extension) follows the C-APDU it
 * applies to and holds the exact R-APDU (data ‖ SW1 SW2) that command
 * must return: the agent stops the script right after a command whose
 * R-APDU differs. The TSM uses it to pre-compute a whole authenticated
 * SCP03 script while never letting EXTERNAL AUTHENTICATE reach a card
 * whose INITIALIZE UPDATE answer was not the predicted one.
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
#define GP_SCRIPT_CMDS_MAX	0xFFFF	/* the largest two-byte count */
#define GP_SCRIPT_BAD_FORMAT	0x90
#define GP_SCRIPT_EXPECT	0xDF20	/* expected R-APDU (extension) */

/* An expected R-APDU: SW1 SW2 and up to 256 bytes of data. */
#define GP_SCRIPT_EXPECT_MIN	2
#define GP_SCRIPT_EXPECT_MAX	258

/* Bad format values (TS 102 226 5.2.2). */
#define GP_SCRIPT_BAD_TAG	0x01	/* unknown tag found */
#define GP_SCRIPT_BAD_LENGTH	0x02	/* wrong length found */
#define GP_SCRIPT_NO_LENGTH	0x03	/* length not found */

/* Every APDU must parse as an ISO 7816-4 C-APDU (gp_apdu_parse). */
int	gp_script_encode(const struct gp_span *apdus, size_t n,
	    struct gp_wr *);
/*
 * The same with expectations: expect (NULL: none at all) holds n spans,
 * expect[i].len == 0 meaning none for command i; otherwise expect[i].p
 * must be set and the length within GP_SCRIPT_EXPECT_MIN..MAX
 * (GP_ERR_INVAL), so an expectation is never dropped silently.
 */
int	gp_script_encode_x(const struct gp_span *apdus,
	    const struct gp_span *expect, size_t n, struct gp_wr *);
/*
 * Fills apdus[0..*n) with the C-APDUs of a command script. Script
 * chaining (83) is informational over HTTP and skipped; immediate and
 * error actions (81, 82) ask for proactive UICC behaviour an agent cannot
 * give, so they fail the whole script with GP_ERR_UNSUPPORTED rather than
 * letting it run without them. Indefinite length: GP_ERR_UNSUPPORTED.
 * For the same reason an expected R-APDU (DF 20) is GP_ERR_UNSUPPORTED
 * here: a caller that cannot check it must not run the script.
 */
int	gp_script_decode(const uint8_t *, size_t, struct gp_span *apdus,
	    size_t cap, size_t *n);
/*
 * gp_script_decode that also accepts DF 20: expect[i] is the expected
 * R-APDU of apdus[i], {NULL, 0} when it has none. Both arrays have cap
 * entries. A DF 20 that does not directly follow a C-APDU (first in the
 * script, after 83, or a second one for the same command) or whose
 * length is outside GP_SCRIPT_EXPECT_MIN..MAX is GP_ERR_FORMAT.
 */
int	gp_script_decode_x(const uint8_t *, size_t, struct gp_span *apdus,
	    struct gp_span *expect, size_t cap, size_t *n);

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
