-- 0005: the CAP file of an application version, kept once (see the SQLite
-- migration). LONGBLOB: a CAP file may pass 64 KB, which is also why a
-- payload carrying it in hex could not fit MariaDB's TEXT.
ALTER TABLE app_versions ADD COLUMN IF NOT EXISTS cap LONGBLOB;
