-- a neutralized copy answers no API client: every key is revoked (a new key
-- generated on the copy works, for testing against it)
UPDATE retail_api_key
   SET state = 'revoked', revoked_at = now() at time zone 'UTC'
 WHERE state = 'active';
