-- Visits recorded against the built-in sandbox are tests, not people: they
-- stay marked so that an export never passes one off as a real check.
ALTER TABLE visits ADD COLUMN sandbox INTEGER NOT NULL DEFAULT 0;
