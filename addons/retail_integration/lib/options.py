"""Reading the suite's numeric odoo.conf options."""


def positive_int(value, default):
    """``value`` (an option's text) as a number above 0; ``default`` when it
    is missing, not a whole number, or not above 0."""
    try:
        number = int(value)
    except (TypeError, ValueError):
        return default
    return number if number > 0 else default
