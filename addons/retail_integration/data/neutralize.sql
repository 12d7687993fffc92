-- a copy of the database exchanges nothing with the real channels: every
-- active backend is paused (it keeps its backlog; Activate resumes it)
UPDATE retail_backend
   SET state = 'paused'
 WHERE state = 'active';

-- the production jobs copied with the data would call the channels: cancelled
UPDATE queue_job
   SET state = 'cancelled'
 WHERE state IN ('wait_dependencies', 'pending', 'enqueued', 'started')
   AND channel LIKE 'root.retail%';
