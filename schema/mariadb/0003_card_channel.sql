-- 0003: what the card's ISD last answered INITIALIZE UPDATE with, after
-- the channel was authenticated: key version, protocol, i and sequence
-- counter. With SCP03 and a pseudo-random card challenge (i bit 10) the
-- next answer is predictable from it, and tsmd pre-computes the whole
-- authenticated script (docs/tsmd.md), for the agent that served it
-- (agent: only that agent's hint is honoured). No key value.
CREATE TABLE IF NOT EXISTS card_channel (
	card_id		BIGINT NOT NULL PRIMARY KEY,
	kvn		INT NOT NULL,
	scp		INT NOT NULL,
	scp_i		INT NOT NULL,
	seq		INT NOT NULL,
	agent		VARCHAR(64),
	updated		BIGINT NOT NULL
) ENGINE=InnoDB;
-- The session an operation is running for: a pre-computed script that
-- missed puts back only the operations it claimed.
ALTER TABLE operations ADD COLUMN IF NOT EXISTS session_id VARCHAR(64);
-- Cards by key diversification data: how a card whose CSN the store does
-- not know is found, and how tsmd checks that no two cards share a KDD
-- before pre-computing (their keys, and answers, would be the same).
CREATE INDEX IF NOT EXISTS cards_kdd ON cards(kdd);
