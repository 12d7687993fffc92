from . import retail_pos_accept_difference
