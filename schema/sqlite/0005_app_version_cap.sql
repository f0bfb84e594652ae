-- 0005: the CAP file of an application version, kept once. Install
-- operations name it by version and SHA-256 instead of carrying it in
-- hex in every operation row (3.7 KB for the demo applet, hundreds of KB
-- for a large one, per card). Versions registered before keep NULL until
-- tsmctl registers their file again; their queued installs still carry
-- the hex.
ALTER TABLE app_versions ADD COLUMN cap BLOB;
