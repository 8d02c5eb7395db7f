DROP TABLE listing_vectors;
