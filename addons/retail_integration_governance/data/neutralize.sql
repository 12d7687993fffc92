-- a neutralized copy accepts no channel traffic: every webhook endpoint
-- answers 503 and stores nothing (Accept Traffic on an endpoint undoes it)
UPDATE retail_webhook_endpoint
   SET neutralized = true
 WHERE neutralized IS NOT TRUE;
