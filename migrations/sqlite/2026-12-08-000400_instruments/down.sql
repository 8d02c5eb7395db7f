DROP TABLE instrument_bookings;
DROP TABLE instruments;
