/*
 * Store error names. The numbers are stable (store.h).
 */
#include "store/store.h"

const char *
tsm_store_strerror(int e)
{
	switch (e) {
	case TSM_STORE_OK:		return "success";
	case TSM_STORE_ERR_INVAL:	return "invalid argument";
	case TSM_STORE_ERR_NOMEM:	return "out of memory";
	case TSM_STORE_ERR_URL:		return "malformed or unknown store URL";
	case TSM_STORE_ERR_UNSUPPORTED:	return "backend not in this build";
	case TSM_STORE_ERR_CONNECT:	return "cannot reach the database";
	case TSM_STORE_ERR_DB:		return "database error";
	case TSM_STORE_ERR_BUSY:	return "database busy after retries";
	case TSM_STORE_ERR_NOTFOUND:	return "not found";
	case TSM_STORE_ERR_EXISTS:	return "already exists";
	case TSM_STORE_ERR_TRANSITION:	return "illegal lifecycle transition";
	case TSM_STORE_ERR_SCHEMA:	return "schema version mismatch";
	case TSM_STORE_ERR_DESTRUCTIVE:	return "destructive migration refused";
	case TSM_STORE_ERR_IO:		return "file I/O error";
	case TSM_STORE_ERR_FORMAT:	return "malformed input";
	case TSM_STORE_ERR_CRYPTO:	return "cryptographic failure";
	case TSM_STORE_ERR_TAMPER:	return "audit chain broken";
	case TSM_STORE_ERR_RETRY:	return "transient conflict";
	case TSM_STORE_ERR_ROWS:	return "import has bad rows";
	case TSM_STORE_ERR_TOOLARGE:	return "value too large";
	default:			return "unknown store error";
	}
}
