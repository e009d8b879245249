"""Everything that imports Flask or Dash: the app factory (``app``), the request context,
sign-in, middleware, routes, components, figures and pages."""
