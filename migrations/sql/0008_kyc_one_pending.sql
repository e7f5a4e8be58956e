-- At most one KYC submission per user waits for review. The API checks the user's status before it
-- submits, but two concurrent submissions both pass that check; this index makes the second insert
-- fail (the API answers 409 kyc_pending) instead of queueing the user twice.
CREATE UNIQUE INDEX kyc_submissions_one_pending_idx ON kyc_submissions (user_id) WHERE status = 'pending';
