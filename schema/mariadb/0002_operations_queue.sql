-- 0002: the dispatcher picks queued operations oldest first.
CREATE INDEX operations_state ON operations(state, id);
