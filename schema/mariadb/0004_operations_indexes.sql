-- 0004: an operation is found by its card (few rows per card); the state
-- left the card index so that a state change no longer moves its entry.
-- MariaDB has no partial index: operations_state (0002) stays for the
-- dispatcher.
ALTER TABLE operations DROP INDEX operations_card,
	ADD INDEX operations_card (card_id);
