ALTER TABLE jobs DROP COLUMN force_ocr;
