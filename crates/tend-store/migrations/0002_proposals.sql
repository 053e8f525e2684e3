-- What became of a run's proposal (its branch of changes): waiting for review, applied to the
-- user's checkout, or discarded. NULL for runs that proposed nothing.
ALTER TABLE runs ADD COLUMN proposal TEXT CHECK (proposal IN ('pending', 'applied', 'discarded'));
CREATE INDEX runs_by_proposal ON runs (proposal) WHERE proposal IS NOT NULL;
