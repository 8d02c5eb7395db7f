DROP TABLE integrity_records;
