from odoo.exceptions import UserError


class RetailDataError(UserError):
    """Bad data from or for a channel, which a person must fix.

    Says how the exceptions inbox files it: its ``kind``, the ``key`` that
    makes two occurrences the same problem (fifty orders failing on one
    unknown SKU are one problem), and extra field ``vals`` for the record.
    """

    def __init__(self, message, *, kind="data", key=None, vals=None):
        super().__init__(message)
        self.kind = kind
        self.key = key
        self.vals = vals or {}
