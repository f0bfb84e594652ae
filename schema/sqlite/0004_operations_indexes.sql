-- 0004: fewer index pages written when an operation changes state.
-- Both indexes of 0001/0002 held the state, so every state change of a
-- session (queued -> running -> done) moved two index entries. An
-- operation is found by its card (few rows per card, read in id order)
-- or, for the dispatcher, among the queued ones oldest first: a partial
-- index holds only those, and loses its entry once, when work starts.
DROP INDEX operations_card;
CREATE INDEX operations_card ON operations(card_id);
DROP INDEX operations_state;
CREATE INDEX operations_queued ON operations(id) WHERE state = 'queued';
