"""The one place that writes a queue_job row itself.

``Job.store()`` first looks the new uuid up, then creates the row through the
ORM and mail.thread: on the webhook accept path that was a quarter of a
request's time. ``store_new_job`` writes the same row with one INSERT of the
values queue_job itself would store (``Job._store_values``), converted by the
queue.job fields themselves, wherever storing a job is stock queue_job's; else
(a module extending ``queue.job``, ``trap_jobs`` in tests) it calls
``Job.store()``. A test compares the row with the one ``with_delay()`` writes,
column by column, so a queue_job release that changes its row fails it.
"""

from odoo.tools import SQL

from odoo.addons.queue_job.job import Job
from odoo.addons.queue_job.models.queue_job import QueueJob


def store_new_job(env, job):
    if is_stock_storage(env, job):
        _insert_row(env, job)
    else:
        job.store()


def is_stock_storage(env, job):
    jobs_class = type(env["queue.job"])
    return (
        jobs_class.__bases__[0] is QueueJob  # no module extends queue.job
        and jobs_class.create is QueueJob.create  # nor patches its create
        and getattr(job.store, "__func__", None) is Job.store  # trap_jobs
    )


def _insert_row(env, job):
    # The table's trigger tells the job runner, as for any new job.
    jobs = env["queue.job"]
    values = job._store_values(create=True)
    columns = [name for name in values if jobs._fields[name].column_type]
    env.cr.execute(
        SQL(
            "INSERT INTO queue_job (%s) VALUES %s",
            SQL(", ").join(map(SQL.identifier, columns)),
            tuple(
                jobs._fields[name].convert_to_column_insert(values[name], jobs, values)
                for name in columns
            ),
        )
    )
