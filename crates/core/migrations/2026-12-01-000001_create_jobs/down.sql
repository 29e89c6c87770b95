DROP TABLE pages;
DROP TABLE uploads;
DROP TABLE jobs;
