"""UI factories (``create_*``) shared by the pages."""
