-- 0001 init: the issuer's card base (MariaDB dialect, InnoDB, Galera-safe:
-- every table has a primary key).
-- No key value is ever stored here: key versions and KCVs only.
CREATE TABLE issuers (
	id		BIGINT AUTO_INCREMENT PRIMARY KEY,
	name		VARCHAR(190) NOT NULL UNIQUE,
	iin		VARCHAR(32),
	created		BIGINT NOT NULL
) ENGINE=InnoDB;
CREATE TABLE products (
	id		BIGINT AUTO_INCREMENT PRIMARY KEY,
	name		VARCHAR(190) NOT NULL UNIQUE,
	issuer_id	BIGINT REFERENCES issuers(id),
	gp_version	VARCHAR(16),
	jc_version	VARCHAR(16),
	scp		INT,
	scp_i		INT,
	diversification	VARCHAR(16),
	key_versions	VARCHAR(190),
	memory		BIGINT,
	created		BIGINT NOT NULL
) ENGINE=InnoDB;
CREATE TABLE batches (
	id		BIGINT AUTO_INCREMENT PRIMARY KEY,
	name		VARCHAR(190) NOT NULL UNIQUE,
	product_id	BIGINT,
	created		BIGINT NOT NULL
) ENGINE=InnoDB;
CREATE TABLE data_keys (
	id		BIGINT AUTO_INCREMENT PRIMARY KEY,
	kek_id		VARCHAR(190) NOT NULL,
	wrapped		VARBINARY(255) NOT NULL,
	created		BIGINT NOT NULL
) ENGINE=InnoDB;
CREATE TABLE cardholders (
	id		BIGINT AUTO_INCREMENT PRIMARY KEY,
	dek_id		BIGINT NOT NULL,
	name_enc	VARBINARY(1024),
	email_enc	VARBINARY(1024),
	phone_enc	VARBINARY(1024),
	created		BIGINT NOT NULL
) ENGINE=InnoDB;
CREATE TABLE cards (
	id		BIGINT AUTO_INCREMENT PRIMARY KEY,
	csn		VARCHAR(64) NOT NULL,
	cplc		VARBINARY(64),
	iin		VARCHAR(32),
	cin		VARCHAR(32),
	kdd		VARCHAR(64),
	product_id	BIGINT NOT NULL,
	batch_id	BIGINT,
	transport_kv	INT,
	state		VARCHAR(16) NOT NULL DEFAULT 'manufactured',
	location	VARCHAR(190),
	holder_id	BIGINT,
	gp_state	VARCHAR(16),
	replaced_by	BIGINT,
	last_contact	BIGINT,
	free_memory	BIGINT,
	errors		INT NOT NULL DEFAULT 0,
	updated		BIGINT NOT NULL,
	UNIQUE KEY cards_csn (csn)
) ENGINE=InnoDB;
CREATE TABLE card_keys (
	card_id		BIGINT NOT NULL,
	key_version	INT NOT NULL,
	key_id		INT NOT NULL,
	key_type	VARCHAR(16) NOT NULL,
	kcv		VARCHAR(16),
	PRIMARY KEY (card_id, key_version, key_id)
) ENGINE=InnoDB;
CREATE TABLE card_history (
	id		BIGINT AUTO_INCREMENT PRIMARY KEY,
	card_id		BIGINT NOT NULL,
	from_state	VARCHAR(16) NOT NULL,
	to_state	VARCHAR(16) NOT NULL,
	location	VARCHAR(190),
	actor		VARCHAR(190) NOT NULL,
	reason		VARCHAR(512),
	at		BIGINT NOT NULL,
	KEY card_history_card (card_id, id)
) ENGINE=InnoDB;
CREATE TABLE providers (
	id		BIGINT AUTO_INCREMENT PRIMARY KEY,
	name		VARCHAR(190) NOT NULL UNIQUE,
	created		BIGINT NOT NULL
) ENGINE=InnoDB;
CREATE TABLE provider_aid_ranges (
	provider_id	BIGINT NOT NULL,
	aid_prefix	VARCHAR(32) NOT NULL,
	PRIMARY KEY (provider_id, aid_prefix)
) ENGINE=InnoDB;
CREATE TABLE applications (
	id		BIGINT AUTO_INCREMENT PRIMARY KEY,
	provider_id	BIGINT NOT NULL,
	name		VARCHAR(190) NOT NULL,
	package_aid	VARCHAR(32) NOT NULL,
	UNIQUE KEY (provider_id, name)
) ENGINE=InnoDB;
CREATE TABLE app_versions (
	id		BIGINT AUTO_INCREMENT PRIMARY KEY,
	app_id		BIGINT NOT NULL,
	version		VARCHAR(64) NOT NULL,
	cap_sha256	CHAR(64) NOT NULL,
	cap_size	BIGINT NOT NULL,
	signature	BLOB,
	approval	VARCHAR(16) NOT NULL DEFAULT 'submitted',
	created		BIGINT NOT NULL,
	UNIQUE KEY (app_id, version)
) ENGINE=InnoDB;
CREATE TABLE app_instances (
	id		BIGINT AUTO_INCREMENT PRIMARY KEY,
	card_id		BIGINT NOT NULL,
	version_id	BIGINT NOT NULL,
	instance_aid	VARCHAR(32) NOT NULL,
	gp_state	VARCHAR(16) NOT NULL,
	updated		BIGINT NOT NULL,
	UNIQUE KEY (card_id, instance_aid)
) ENGINE=InnoDB;
CREATE TABLE operations (
	id		BIGINT AUTO_INCREMENT PRIMARY KEY,
	kind		VARCHAR(32) NOT NULL,
	card_id		BIGINT NOT NULL,
	payload		TEXT,
	idem_key	VARCHAR(190) NOT NULL UNIQUE,
	state		VARCHAR(16) NOT NULL DEFAULT 'queued',
	attempts	INT NOT NULL DEFAULT 0,
	result		TEXT,
	created		BIGINT NOT NULL,
	updated		BIGINT NOT NULL,
	KEY operations_card (card_id, state)
) ENGINE=InnoDB;
CREATE TABLE sessions (
	id		VARCHAR(64) PRIMARY KEY,
	card_id		BIGINT,
	agent_id	BIGINT,
	state		VARCHAR(16) NOT NULL,
	created		BIGINT NOT NULL,
	updated		BIGINT NOT NULL
) ENGINE=InnoDB;
CREATE TABLE agents (
	id		BIGINT AUTO_INCREMENT PRIMARY KEY,
	kind		VARCHAR(16) NOT NULL,
	cert_sha256	CHAR(64) UNIQUE,
	created		BIGINT NOT NULL
) ENGINE=InnoDB;
CREATE TABLE devices (
	id		BIGINT AUTO_INCREMENT PRIMARY KEY,
	agent_id	BIGINT NOT NULL,
	label		VARCHAR(190),
	created		BIGINT NOT NULL
) ENGINE=InnoDB;
CREATE TABLE audit_log (
	seq		BIGINT PRIMARY KEY,
	at		BIGINT NOT NULL,
	actor		VARCHAR(190) NOT NULL,
	action		VARCHAR(64) NOT NULL,
	object		VARCHAR(190) NOT NULL,
	detail		TEXT NOT NULL,
	alg		VARCHAR(32) NOT NULL,
	prev_hash	VARBINARY(64) NOT NULL,
	hash		VARBINARY(64) NOT NULL
) ENGINE=InnoDB;
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log FOR EACH ROW
SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'audit_log is append-only';
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log FOR EACH ROW
SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'audit_log is append-only';
CREATE TABLE audit_head (
	id		INT PRIMARY KEY,
	seq		BIGINT NOT NULL,
	hash		VARBINARY(64) NOT NULL
) ENGINE=InnoDB;
INSERT INTO audit_head (id, seq, hash) VALUES (1, 0, REPEAT(X'00', 32));
CREATE TABLE outbox (
	id		BIGINT AUTO_INCREMENT PRIMARY KEY,
	topic		VARCHAR(64) NOT NULL,
	payload		TEXT NOT NULL,
	state		VARCHAR(16) NOT NULL DEFAULT 'pending',
	attempts	INT NOT NULL DEFAULT 0,
	created		BIGINT NOT NULL
) ENGINE=InnoDB;
