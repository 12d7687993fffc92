from . import settlement, square, square_client, square_scheme, tickets
