-- no event leaves a copy of the database: every subscription is archived and
-- stopped (unarchiving one is not enough: it waits for Resume)
UPDATE retail_event_subscription
   SET active = false,
       state = 'stopped',
       state_reason = 'Neutralized copy of the database: nothing is sent.'
 WHERE active OR state != 'stopped';
