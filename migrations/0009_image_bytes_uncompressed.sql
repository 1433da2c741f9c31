-- Image bytes are PNG, JPEG or WebP, already compressed: PostgreSQL's TOAST compression
-- spent CPU on every stored image to save nothing. Stored out of line, uncompressed.
ALTER TABLE task_images ALTER COLUMN bytes SET STORAGE EXTERNAL;
