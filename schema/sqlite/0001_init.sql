-- 0001 init: the issuer's card base (SQLite dialect).
-- No key value is ever stored here: key versions and KCVs only.
CREATE TABLE issuers (
	id		INTEGER PRIMARY KEY,
	name		TEXT NOT NULL UNIQUE,
	iin		TEXT,
	created		INTEGER NOT NULL
);
CREATE TABLE products (
	id		INTEGER PRIMARY KEY,
	name		TEXT NOT NULL UNIQUE,
	issuer_id	INTEGER REFERENCES issuers(id),
	gp_version	TEXT,
	jc_version	TEXT,
	scp		INTEGER,
	scp_i		INTEGER,
	diversification	TEXT,
	key_versions	TEXT,
	memory		INTEGER,
	created		INTEGER NOT NULL
);
CREATE TABLE batches (
	id		INTEGER PRIMARY KEY,
	name		TEXT NOT NULL UNIQUE,
	product_id	INTEGER REFERENCES products(id),
	created		INTEGER NOT NULL
);
CREATE TABLE data_keys (
	id		INTEGER PRIMARY KEY,
	kek_id		TEXT NOT NULL,
	wrapped		BLOB NOT NULL,
	created		INTEGER NOT NULL
);
CREATE TABLE cardholders (
	id		INTEGER PRIMARY KEY,
	dek_id		INTEGER NOT NULL REFERENCES data_keys(id),
	name_enc	BLOB,
	email_enc	BLOB,
	phone_enc	BLOB,
	created		INTEGER NOT NULL
);
CREATE TABLE cards (
	id		INTEGER PRIMARY KEY,
	csn		TEXT NOT NULL UNIQUE,
	cplc		BLOB,
	iin		TEXT,
	cin		TEXT,
	kdd		TEXT,
	product_id	INTEGER NOT NULL REFERENCES products(id),
	batch_id	INTEGER REFERENCES batches(id),
	transport_kv	INTEGER,
	state		TEXT NOT NULL DEFAULT 'manufactured',
	location	TEXT,
	holder_id	INTEGER REFERENCES cardholders(id),
	gp_state	TEXT,
	replaced_by	INTEGER REFERENCES cards(id),
	last_contact	INTEGER,
	free_memory	INTEGER,
	errors		INTEGER NOT NULL DEFAULT 0,
	updated		INTEGER NOT NULL
);
CREATE TABLE card_keys (
	card_id		INTEGER NOT NULL REFERENCES cards(id),
	key_version	INTEGER NOT NULL,
	key_id		INTEGER NOT NULL,
	key_type	TEXT NOT NULL,
	kcv		TEXT,
	PRIMARY KEY (card_id, key_version, key_id)
);
CREATE TABLE card_history (
	id		INTEGER PRIMARY KEY,
	card_id		INTEGER NOT NULL REFERENCES cards(id),
	from_state	TEXT NOT NULL,
	to_state	TEXT NOT NULL,
	location	TEXT,
	actor		TEXT NOT NULL,
	reason		TEXT,
	at		INTEGER NOT NULL
);
CREATE INDEX card_history_card ON card_history(card_id, id);
CREATE TABLE providers (
	id		INTEGER PRIMARY KEY,
	name		TEXT NOT NULL UNIQUE,
	created		INTEGER NOT NULL
);
CREATE TABLE provider_aid_ranges (
	provider_id	INTEGER NOT NULL REFERENCES providers(id),
	aid_prefix	TEXT NOT NULL,
	PRIMARY KEY (provider_id, aid_prefix)
);
CREATE TABLE applications (
	id		INTEGER PRIMARY KEY,
	provider_id	INTEGER NOT NULL REFERENCES providers(id),
	name		TEXT NOT NULL,
	package_aid	TEXT NOT NULL,
	UNIQUE (provider_id, name)
);
CREATE TABLE app_versions (
	id		INTEGER PRIMARY KEY,
	app_id		INTEGER NOT NULL REFERENCES applications(id),
	version		TEXT NOT NULL,
	cap_sha256	TEXT NOT NULL,
	cap_size	INTEGER NOT NULL,
	signature	BLOB,
	approval	TEXT NOT NULL DEFAULT 'submitted',
	created		INTEGER NOT NULL,
	UNIQUE (app_id, version)
);
CREATE TABLE app_instances (
	id		INTEGER PRIMARY KEY,
	card_id		INTEGER NOT NULL REFERENCES cards(id),
	version_id	INTEGER NOT NULL REFERENCES app_versions(id),
	instance_aid	TEXT NOT NULL,
	gp_state	TEXT NOT NULL,
	updated		INTEGER NOT NULL,
	UNIQUE (card_id, instance_aid)
);
CREATE TABLE operations (
	id		INTEGER PRIMARY KEY,
	kind		TEXT NOT NULL,
	card_id		INTEGER NOT NULL REFERENCES cards(id),
	payload		TEXT,
	idem_key	TEXT NOT NULL UNIQUE,
	state		TEXT NOT NULL DEFAULT 'queued',
	attempts	INTEGER NOT NULL DEFAULT 0,
	result		TEXT,
	created		INTEGER NOT NULL,
	updated		INTEGER NOT NULL
);
CREATE INDEX operations_card ON operations(card_id, state);
CREATE TABLE sessions (
	id		TEXT PRIMARY KEY,
	card_id		INTEGER REFERENCES cards(id),
	agent_id	INTEGER,
	state		TEXT NOT NULL,
	created		INTEGER NOT NULL,
	updated		INTEGER NOT NULL
);
CREATE TABLE agents (
	id		INTEGER PRIMARY KEY,
	kind		TEXT NOT NULL,
	cert_sha256	TEXT UNIQUE,
	created		INTEGER NOT NULL
);
CREATE TABLE devices (
	id		INTEGER PRIMARY KEY,
	agent_id	INTEGER NOT NULL REFERENCES agents(id),
	label		TEXT,
	created		INTEGER NOT NULL
);
CREATE TABLE audit_log (
	seq		INTEGER PRIMARY KEY,
	at		INTEGER NOT NULL,
	actor		TEXT NOT NULL,
	action		TEXT NOT NULL,
	object		TEXT NOT NULL,
	detail		TEXT NOT NULL,
	alg		TEXT NOT NULL,
	prev_hash	BLOB NOT NULL,
	hash		BLOB NOT NULL
);
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;
CREATE TABLE audit_head (
	id		INTEGER PRIMARY KEY CHECK (id = 1),
	seq		INTEGER NOT NULL,
	hash		BLOB NOT NULL
);
INSERT INTO audit_head (id, seq, hash) VALUES (1, 0, zeroblob(32));
CREATE TABLE outbox (
	id		INTEGER PRIMARY KEY,
	topic		TEXT NOT NULL,
	payload		TEXT NOT NULL,
	state		TEXT NOT NULL DEFAULT 'pending',
	attempts	INTEGER NOT NULL DEFAULT 0,
	created		INTEGER NOT NULL
);
