#include "gp/err.h"

const char *
gp_strerror(int err)
{
	switch (err) {
	case GP_OK: return "success";
	case GP_ERR_INVAL: return "invalid argument";
	case GP_ERR_TRUNC: return "input truncated";
	case GP_ERR_SPACE: return "output buffer too small";
	case GP_ERR_FORMAT: return "malformed input";
	case GP_ERR_CRYPTO: return "cryptographic operation failed";
	case GP_ERR_AUTH: return "MAC or cryptogram mismatch";
	case GP_ERR_NOMEM: return "out of memory";
	case GP_ERR_DEPTH: return "TLV nesting too deep";
	case GP_ERR_UNSUPPORTED: return "unsupported";
	case GP_ERR_NOTFOUND: return "element not found";
	case GP_ERR_STATE: return "operation not allowed in this state";
	case GP_ERR_IO: return "file could not be read";
	case GP_ERR_TOOLARGE: return "value exceeds protocol limit";
	}
	return "unknown libgp error";
}
