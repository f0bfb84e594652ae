/*
 * libgp error codes. Every fallible libgp function returns 0 on success or
 * one of these negative values; gp_strerror() names them. The numbers are
 * stable: callers may log or store them.
 */
#ifndef GP_ERR_H
#define GP_ERR_H

enum gp_err {
	GP_OK = 0,
	GP_ERR_INVAL = -1,	/* caller passed an invalid argument */
	GP_ERR_TRUNC = -2,	/* input ends before a length says it does */
	GP_ERR_SPACE = -3,	/* output would exceed its capacity */
	GP_ERR_FORMAT = -4,	/* input is structurally malformed */
	GP_ERR_CRYPTO = -5,	/* the crypto library failed */
	GP_ERR_AUTH = -6,	/* a MAC or cryptogram does not verify */
	GP_ERR_NOMEM = -7,	/* allocation failed */
	GP_ERR_DEPTH = -8,	/* TLV nesting deeper than allowed */
	GP_ERR_UNSUPPORTED = -9, /* valid but not implemented/allowed */
	GP_ERR_NOTFOUND = -10,	/* a looked-up element is absent */
	GP_ERR_STATE = -11,	/* call not allowed in the object's state */
	GP_ERR_IO = -12,	/* a file could not be opened or read */
	GP_ERR_TOOLARGE = -13,	/* a value exceeds a protocol limit */
};

const char *gp_strerror(int err);

#endif
