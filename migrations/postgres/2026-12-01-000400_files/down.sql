DROP TABLE access_requests;
DROP TABLE achievement_confidential;
DROP TABLE required_purposes;
DROP TABLE attachments;
DROP TABLE files;
