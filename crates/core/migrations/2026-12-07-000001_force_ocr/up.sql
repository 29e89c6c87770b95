-- A job that reads every PDF page, also those with text of their own (whose
-- earlier OCR layer the uploader does not trust): `ocr.skip_text` off for it.
ALTER TABLE jobs ADD COLUMN force_ocr BOOLEAN NOT NULL DEFAULT false;
