DROP TABLE idempotent_requests;
DROP TABLE org_invitations;
ALTER TABLE login_throttle DROP COLUMN failed;
ALTER TABLE login_throttle DROP COLUMN pending;
