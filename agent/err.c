/*
 * Error names for logs and, separately, sentences for the cardholder:
 * what happened and what to do, in words that assume nothing about cards.
 */
#include "agent.h"

const char *
agent_strerror(int err)
{
	switch (err) {
	case AGENT_OK:			return "success";
	case AGENT_ERR_INVAL:		return "invalid argument";
	case AGENT_ERR_NOMEM:		return "out of memory";
	case AGENT_ERR_CONFIG:		return "bad configuration";
	case AGENT_ERR_CONNECT:		return "server unreachable";
	case AGENT_ERR_TLS:		return "TLS handshake failed";
	case AGENT_ERR_LINK:		return "connection dropped";
	case AGENT_ERR_HTTP:		return "malformed HTTP response";
	case AGENT_ERR_TOOBIG:		return "response too large";
	case AGENT_ERR_REFUSED:		return "agent certificate refused";
	case AGENT_ERR_SESSION:		return "unknown or finished session";
	case AGENT_ERR_SERVER:		return "unexpected HTTP status";
	case AGENT_ERR_PROTOCOL:	return "protocol violation";
	case AGENT_ERR_NO_CARD:		return "no card";
	case AGENT_ERR_CARD_REMOVED:	return "card removed";
	case AGENT_ERR_CARD:		return "card link failed";
	case AGENT_ERR_TIMEOUT:		return "timed out waiting for a card";
	}
	return "unknown error";
}

const char *
agent_message(int err)
{
	switch (err) {
	case AGENT_OK:
		return "Your card is up to date.";
	case AGENT_ERR_CONNECT:
	case AGENT_ERR_LINK:
		return "We could not reach the card service. Check the "
		    "network connection, then hold your card to the reader "
		    "again.";
	case AGENT_ERR_TLS:
	case AGENT_ERR_REFUSED:
		return "This device is not allowed to update cards. Please "
		    "contact your card issuer.";
	case AGENT_ERR_CARD_REMOVED:
		return "The card was taken away too soon. Nothing is lost: "
		    "hold it to the reader again and keep it there until "
		    "we are done.";
	case AGENT_ERR_NO_CARD:
	case AGENT_ERR_TIMEOUT:
		return "No card was found. Place your card on the reader.";
	case AGENT_ERR_CARD:
		return "The card did not answer properly. Take it out, put "
		    "it back and try again.";
	case AGENT_ERR_CONFIG:
	case AGENT_ERR_INVAL:
	case AGENT_ERR_NOMEM:
		return "This device is not set up correctly. Please contact "
		    "its owner.";
	}
	return "The card service had a problem. Nothing was changed that "
	    "cannot be finished later: please try again in a few minutes.";
}
