DROP TABLE connection_messages;
DROP TABLE connections;
ALTER TABLE listings DROP COLUMN first_matched_at;
