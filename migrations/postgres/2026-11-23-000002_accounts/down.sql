DROP TABLE notifications;
DROP TABLE audit_log;
DROP TABLE login_throttle;
DROP TABLE email_tokens;
DROP TABLE refresh_tokens;
DROP TABLE users;
DROP TABLE organizations;
