DROP TABLE digest_items;
DROP TABLE subscriptions;
DROP TABLE listings;
