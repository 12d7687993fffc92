# Plain Python: no ORM import here, so these modules are testable without a database.
