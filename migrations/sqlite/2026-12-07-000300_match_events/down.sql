DROP TABLE match_events;
