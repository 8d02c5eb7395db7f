DROP TABLE registration_steps;
DROP TABLE registrations;
DROP TABLE registration_offices;
