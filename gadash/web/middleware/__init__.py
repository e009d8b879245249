"""What every request passes before and after its view: callback checks (``callbacks``),
rate limits, security headers and the page-speed rewrites."""
